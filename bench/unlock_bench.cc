// What `duet unlock` buys (issue #13, item 9): the wall-clock time of one
// real `duet checkins` process on a device without a passphrase, on a
// passphrase-locked one given DUET_PASSPHRASE (argon2id runs every time),
// and on a locked one that `duet unlock` opened (the kernel keyring keeps
// the derived key). The unlocked figure should match the plain one; read
// the three side by side, as ratios, never as absolute times.
// Run: build/bench/duet_bench --benchmark_filter=Unlock
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace {

const char kPassphrase[] = "plum kettle orbit seven";

int Run(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string(*e).rfind("DUET_", 0) != 0) env_storage.emplace_back(*e);
  for (const auto& e : extra_env) env_storage.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", 0, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", 1, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", 1, 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

enum class Lock { kNone, kPassphraseEachTime, kUnlocked };

void BM_UnlockCheckins(benchmark::State& state, Lock lock) {
  const std::string home = (std::filesystem::temp_directory_path() /
                            ("duet-unlock-bench-" + std::to_string(::getpid()) + "-" + std::to_string(static_cast<int>(lock))))
                               .string();
  std::filesystem::remove_all(home);
  const std::string pass = std::string("DUET_PASSPHRASE=") + kPassphrase;
  std::vector<std::string> init = {DUET_PATH, "--home", home, "init", "--name", "Alice", "--relay", "127.0.0.1:9"};
  if (lock != Lock::kNone) init.push_back("--passphrase");
  bool ready = Run(init, {pass}) == 0;
  for (int i = 0; ready && i < 20; ++i)
    ready = Run({DUET_PATH, "--home", home, "checkin", "--private", "--mood", "3", "--note", "a note"}, {pass}) == 0;
  if (ready && lock == Lock::kUnlocked) ready = Run({DUET_PATH, "--home", home, "unlock", "--for", "1h"}, {pass}) == 0;
  if (!ready) {
    state.SkipWithError("could not set up the device (no kernel keyring?)");
    std::filesystem::remove_all(home);
    return;
  }
  const std::vector<std::string> env = lock == Lock::kPassphraseEachTime ? std::vector<std::string>{pass}
                                                                         : std::vector<std::string>{};
  for (auto _ : state)
    if (Run({DUET_PATH, "--home", home, "checkins"}, env) != 0) state.SkipWithError("duet checkins failed");
  if (lock == Lock::kUnlocked) Run({DUET_PATH, "--home", home, "lock"});
  std::filesystem::remove_all(home);
}
BENCHMARK_CAPTURE(BM_UnlockCheckins, no_passphrase, Lock::kNone)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_UnlockCheckins, passphrase_each_time, Lock::kPassphraseEachTime)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_UnlockCheckins, unlocked, Lock::kUnlocked)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
