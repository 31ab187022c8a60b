// How fast the relay's append-ordered log takes records, by rows per commit
// (the group-commit batch size), with synchronous=FULL as the relay runs.
// Run: build/bench/duet_bench --benchmark_filter=RelayStore
#include <benchmark/benchmark.h>

#include "crypto/crypto.h"
#include "storage/relay_store.h"
#include "tests/temp_dir.h"

namespace {

void BM_RelayStoreAppend(benchmark::State& state) {
  duet::testing::TempDir dir;
  auto store = duet::storage::RelayStore::Open(dir.File("bench.db"), true);
  if (!store.ok()) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }
  auto& s = *store.value();
  const int rows_per_commit = static_cast<int>(state.range(0));
  const std::string envelope(400, 'e');  // a padded check-in's size on the wire
  std::vector<std::string> couples;
  for (int i = 0; i < 64; ++i) couples.push_back(duet::crypto::RandomBytes(16));
  std::int64_t n = 0;
  for (auto _ : state) {
    if (!s.Begin().ok()) state.SkipWithError("begin failed");
    for (int i = 0; i < rows_per_commit; ++i, ++n) {
      bool appended = false;
      auto seq = s.Append(couples[n % couples.size()], duet::crypto::RandomBytes(16),
                          std::string(32, 'a'), envelope, &appended);
      if (!seq.ok()) state.SkipWithError(seq.error().message.c_str());
    }
    if (!s.Commit().ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_RelayStoreAppend)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
