// Runs a program on a pseudo-terminal, as a person at a keyboard would: it
// sees a terminal on stdin, stdout and stderr, and each step's text is typed
// once the step's prompt has appeared. For what duet does only for people
// (asking for a passphrase again, colours), which pipes never show.
#pragma once

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace duet::testing {

struct TerminalStep {
  std::string prompt;  // wait for this (after the previous step's prompt)
  std::string typed;   // then type this and Enter
};

inline RunResult RunOnTerminal(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                               const std::vector<TerminalStep>& steps,
                               std::chrono::seconds timeout = std::chrono::seconds(30)) {
  std::vector<std::string> env_storage = ChildEnvironment(extra_env);
  std::vector<char*> env = NullTerminated(env_storage);
  std::vector<std::string> arg_storage = argv;
  std::vector<char*> args = NullTerminated(arg_storage);

  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) {
    execve(args[0], args.data(), env.data());
    _exit(127);
  }
  RunResult result;
  std::size_t step = 0, searched = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  bool exited = false;
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      char buffer[4096];
      const ssize_t n = ::read(master, buffer, sizeof buffer);
      if (n > 0) result.out.append(buffer, static_cast<std::size_t>(n));
      else if (exited) break;  // EIO: the program is gone and all it wrote is read
    } else if (exited) {
      break;
    }
    while (step < steps.size()) {
      const std::size_t at = result.out.find(steps[step].prompt, searched);
      if (at == std::string::npos) break;
      searched = at + steps[step].prompt.size();
      const std::string line = steps[step].typed + "\n";
      if (::write(master, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        throw std::runtime_error("could not type on the terminal");
      ++step;
    }
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      if (!exited) ::waitpid(pid, &status, 0);
      ::close(master);
      throw std::runtime_error("the program on the terminal did not finish; it showed: " + result.out);
    }
  }
  ::close(master);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace duet::testing
