// How fast the relay's append-ordered log takes records, by rows per commit
// (the group-commit batch size), with synchronous=FULL as the relay runs.
// Run: build/bench/duet_bench --benchmark_filter=RelayStore
#include <benchmark/benchmark.h>

#include "crypto/crypto.h"
#include "storage/relay_store.h"
#include "tests/temp_dir.h"

namespace {

// Random ids, or ids that start with the author's sequence number (as the
// client makes them), which keep each couple's index entries in order.
std::string RecordId(std::int64_t n, bool ordered) {
  std::string id = duet::crypto::RandomBytes(16);
  if (ordered)
    for (int i = 0; i < 8; ++i) id[i] = static_cast<char>((static_cast<std::uint64_t>(n) >> (56 - 8 * i)) & 0xff);
  return id;
}

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
      auto seq = s.Append(couples[n % couples.size()], RecordId(n, state.range(1) != 0),
                          std::string(32, 'a'), envelope, &appended);
      if (!seq.ok()) state.SkipWithError(seq.error().message.c_str());
    }
    if (!s.Commit().ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_RelayStoreAppend)
    ->ArgsProduct({{1, 10, 100}, {0, 1}})
    ->ArgNames({"rows_per_commit", "ordered_ids"})
    // Rates by the wall clock: a commit waits on fsync, which costs no CPU,
    // so a CPU-time rate would count the wait as free (issue #15).
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
