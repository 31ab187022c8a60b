// Test harness for the integration tests: real duetd and duet processes on
// loopback, each duet with its own home. Waits on events (a line on a pipe,
// a process exit), never on sleeps.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/postgres/test_database.h"
#include "tests/temp_dir.h"

extern char** environ;

namespace duet::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// The environment a test's child runs with: this one without DUET_* (tests
// say what they mean), plus `extra`.
inline std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("DUET_", 0) != 0) env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// What exec wants: pointers into `strings`, then a null.
inline std::vector<char*> NullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Runs a program to completion with stdout and stderr captured in files.
inline RunResult RunProgram(const std::vector<std::string>& argv, const std::string& scratch,
                            const std::vector<std::string>& extra_env = {},
                            const std::string& input = {}) {
  static int counter = 0;
  const std::string out_path = scratch + "/out." + std::to_string(++counter);
  const std::string err_path = scratch + "/err." + std::to_string(counter);
  const std::string in_path = scratch + "/in." + std::to_string(counter);
  {
    std::ofstream in(in_path, std::ios::binary);
    in << input;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> arg_storage = argv;
  std::vector<char*> args = NullTerminated(arg_storage);
  std::vector<std::string> env_storage = ChildEnvironment(extra_env);
  std::vector<char*> env = NullTerminated(env_storage);
  pid_t pid = 0;
  RunResult result;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data()) != 0)
    throw std::runtime_error("cannot start " + argv[0]);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

// A duetd process. Start() waits for its "listening" line.
inline std::vector<std::string> Concat(std::vector<std::string> first, const std::vector<std::string>& second) {
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

// duetd's flags for a test relay's store at `db_path`: that SQLite file, or
// in the suite's second run a PostgreSQL database of its own, with the key
// beside where the file would be (unless the test names the key itself).
inline std::vector<std::string> RelayStoreArgs(const std::string& db_path, bool own_key = false) {
  auto postgres = TestPostgresFor(db_path);
  if (!postgres.ok()) throw std::runtime_error(postgres.error().message);
  if (postgres.value().empty()) return {"--db", db_path};
  if (own_key) return {"--store", postgres.value()};
  return {"--store", postgres.value(), "--key", db_path + ".key"};
}

class RelayProcess {
 public:
  RelayProcess(std::string db_path, std::string listen = "127.0.0.1:0",
               std::vector<std::string> extra_args = {})
      : db_path_(std::move(db_path)), listen_(std::move(listen)), extra_args_(std::move(extra_args)) {}
  // A sanitizer's report (the second stage of ./scripts/test) or an
  // exception nothing caught fails the test, whatever else it checked: a
  // relay that died that way might otherwise only show as a client that
  // cannot connect.
  ~RelayProcess() {
    Stop();
    const std::string log = ReadFile(db_path_ + ".log");
    bool crashed = false;
    for (const char* sign : {"Sanitizer", ": runtime error: ", "terminate called"})
      crashed = crashed || log.find(sign) != std::string::npos;
    EXPECT_FALSE(crashed) << "duetd (" << db_path_ << ") exited " << exit_code_ << " after it crashed:\n"
                          << log.substr(log.size() > 6000 ? log.size() - 6000 : 0);
  }

  // Runs the relay with extra environment from now on (e.g. libfaketime's).
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }

  void Start() {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    posix_spawn_file_actions_addopen(&actions, 2, (db_path_ + ".log").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<std::string> argv = {DUETD_PATH, "--listen", listen_};
    const bool own_store = std::find(extra_args_.begin(), extra_args_.end(), "--store") != extra_args_.end();
    // When the test names the store itself, db_path_ only places the log.
    if (!own_store) {
      const bool own_key = std::find(extra_args_.begin(), extra_args_.end(), "--key") != extra_args_.end();
      argv = Concat(argv, RelayStoreArgs(db_path_, own_key));
    }
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e) env_storage.push_back(*e);
    env_storage.insert(env_storage.end(), env_.begin(), env_.end());
    std::vector<char*> env;
    for (auto& e : env_storage) env.push_back(e.data());
    env.push_back(nullptr);
    if (posix_spawn(&pid_, DUETD_PATH, &actions, nullptr, args.data(), env.data()) != 0)
      throw std::runtime_error("cannot start duetd");
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    auto read_line = [fd = pipe_fds[0]] {
      std::string line;
      char c = 0;
      pollfd pfd{fd, POLLIN, 0};
      while (line.find('\n') == std::string::npos) {
        if (poll(&pfd, 1, 10000) <= 0) throw std::runtime_error("duetd did not start");
        if (read(fd, &c, 1) != 1) throw std::runtime_error("duetd exited at start");
        line.push_back(c);
      }
      return line;
    };
    const std::string line = read_line();
    // "duetd metrics on http://HOST:PORT/metrics" follows when asked for.
    if (std::find(extra_args_.begin(), extra_args_.end(), "--metrics") != extra_args_.end()) {
      const std::string metrics = read_line();
      const auto start = metrics.find("http://");
      if (start == std::string::npos) throw std::runtime_error("duetd did not say where its metrics are");
      metrics_address_ = metrics.substr(start + 7, metrics.find("/metrics") - start - 7);
    }
    close(pipe_fds[0]);
    first_line_ = line;
    // "duetd listening on HOST:PORT relay-key KEY"
    std::istringstream words(line);
    std::string w1, w2, w3, address, w5, key;
    words >> w1 >> w2 >> w3 >> address >> w5 >> key;
    address_ = address;
    key_ = key;
    listen_ = address;  // a restart comes back on the same port
  }

  pid_t pid() const { return pid_; }

  // SIGTERM (or `signal`), then waits; returns the exit code.
  int Stop(int signal = SIGTERM) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }

  const std::string& address() const { return address_; }
  const std::string& key() const { return key_; }
  const std::string& first_line() const { return first_line_; }
  // HOST:PORT of /metrics, when started with --metrics.
  const std::string& metrics_address() const { return metrics_address_; }
  std::uint16_t port() const {
    return static_cast<std::uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1)));
  }

 private:
  std::string db_path_;
  std::string listen_;
  pid_t pid_ = 0;
  int exit_code_ = -1;
  std::string address_;
  std::string key_;
  std::string first_line_;
  std::string metrics_address_;
  std::vector<std::string> env_;
  std::vector<std::string> extra_args_;
};

// A long-running program (duet watch) whose standard output is read line by
// line as it comes, so a test waits on what it prints, never on a sleep.
class LiveProcess {
 public:
  LiveProcess(const std::vector<std::string>& argv, const std::string& stderr_path,
              const std::vector<std::string>& extra_env = {}) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<std::string> args_storage = argv;
    std::vector<char*> args;
    for (auto& a : args_storage) args.push_back(a.data());
    args.push_back(nullptr);
    // extra_env replaces what it names (a process reads the first PATH=).
    auto named_in_extra = [&](const std::string& entry) {
      for (const auto& extra : extra_env)
        if (entry.compare(0, extra.find('=') + 1, extra, 0, extra.find('=') + 1) == 0) return true;
      return false;
    };
    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::string(*e).rfind("DUET_", 0) != 0 && !named_in_extra(*e)) env_storage.push_back(*e);
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> env;
    for (auto& e : env_storage) env.push_back(e.data());
    env.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data()) != 0)
      throw std::runtime_error("cannot start " + argv[0]);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    fd_ = pipe_fds[0];
  }
  ~LiveProcess() {
    Stop();
    if (fd_ >= 0) close(fd_);
  }

  // True once a line containing `needle` was printed (since the last line
  // this returned for); false when the timeout passes or the program exits.
  bool WaitForLine(const std::string& needle,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto found = output_.find(needle, searched_);
      if (found != std::string::npos) {
        const auto line_end = output_.find('\n', found);
        if (line_end != std::string::npos) {
          searched_ = line_end + 1;
          return true;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
      char buffer[4096];
      const ssize_t n = read(fd_, buffer, sizeof buffer);
      if (n <= 0) return false;
      output_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  // True when the program exits by itself within `timeout` (Stop() then
  // returns its exit code without signalling it).
  bool ExitsWithin(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        char buffer[4096];
        ssize_t n = 0;
        while ((n = read(fd_, buffer, sizeof buffer)) > 0) output_.append(buffer, static_cast<std::size_t>(n));
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pid_ == 0;
  }

  // Sends `signal` and waits; returns the exit code.
  int Stop(int signal = SIGTERM) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    // What it printed while stopping.
    char buffer[4096];
    ssize_t n = 0;
    while ((n = read(fd_, buffer, sizeof buffer)) > 0) output_.append(buffer, static_cast<std::size_t>(n));
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }

  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = 0;
  int fd_ = -1;
  int exit_code_ = -1;
  std::string output_;
  std::size_t searched_ = 0;
};

// Environment that makes a process's wall clock run `offset` ahead (e.g.
// "+25h"), with Debian's libfaketime; monotonic clocks stay true so timers work.
inline std::vector<std::string> ClockAhead(const std::string& offset) {
  std::string library;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib", ec)) {
    const auto candidate = entry.path() / "faketime" / "libfaketimeMT.so.1";
    if (std::filesystem::exists(candidate, ec)) library = candidate.string();
  }
  if (library.empty()) throw std::runtime_error("libfaketime is missing: run ./scripts/deps");
  return {"LD_PRELOAD=" + library, "FAKETIME=" + offset, "DONT_FAKE_MONOTONIC=1"};
}

// The first line of a text, without its newline: an invite code, a JSON log line.
inline std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// Lines in a text, for "exactly one line" checks.
inline int LineCount(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

}  // namespace duet::testing
