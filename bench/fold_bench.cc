// How long the client's pure core takes on a couple's whole history: every
// duet command folds all records it holds, so this bounds how fast the CLI
// can answer. Years of daily use are a few thousand records.
// Run: build/bench/duet_bench --benchmark_filter='Fold|FreeTime'
#include <benchmark/benchmark.h>

#include "client/model/fold.h"
#include "client/model/free_time.h"
#include "crypto/crypto.h"

namespace {

constexpr std::int64_t kStart = 1798761600;  // 2027-01-01T00:00Z

// `n` records as two partners write them: check-ins, talks proposed and
// accepted, boundaries proposed and accepted, readiness and thanks.
std::vector<duet::model::OpenedRecord> History(int n) {
  using duet::model::OpenedRecord;
  std::vector<OpenedRecord> records;
  records.reserve(static_cast<std::size_t>(n));
  std::string last_talk, last_boundary;
  for (int i = 0; i < n; ++i) {
    OpenedRecord r;
    r.record_id = duet::crypto::RandomBytes(16);
    r.author_key = i % 2 ? "bob" : "alice";
    r.shared = true;
    r.relay_seq = static_cast<std::uint64_t>(i + 1);
    r.body.set_created_at_ms((kStart + i * 3600) * 1000);
    switch (i % 8) {
      case 0:
      case 1:
      case 2:
        r.body.mutable_checkin()->set_mood(static_cast<std::uint32_t>(1 + i % 5));
        r.body.mutable_checkin()->set_note("a short note about the day");
        break;
      case 3:
        r.body.mutable_talk_proposal()->add_options(kStart + i * 3600 + 86400);
        r.body.mutable_talk_proposal()->set_minutes(20);
        r.body.mutable_talk_proposal()->set_time_zone("Europe/Berlin");
        last_talk = r.record_id;
        break;
      case 4:
        r.body.mutable_talk_accept()->set_talk_id(last_talk);
        r.body.mutable_talk_accept()->set_option(1);
        break;
      case 5:
        r.body.mutable_boundary_proposal()->set_kind(duet::model::v1::BOUNDARY_KIND_GENERAL);
        r.body.mutable_boundary_proposal()->set_text("no phones at dinner");
        last_boundary = r.record_id;
        break;
      case 6:
        r.body.mutable_readiness()->set_state(duet::model::v1::READINESS_STATE_LATER);
        break;
      default:
        r.body.mutable_thanks()->set_text("thank you for the tea");
        break;
    }
    records.push_back(std::move(r));
  }
  return records;
}

void BM_Fold(benchmark::State& state) {
  duet::crypto::Init();
  const auto records = History(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(duet::model::Fold(records, "alice"));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Fold)->Arg(1000)->Arg(10000)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_FreeTime(benchmark::State& state) {
  duet::model::CoupleState s;
  s.windows.push_back({"w1", "alice", true, {0x1f, 18 * 60, 22 * 60}, "Europe/Berlin"});
  s.windows.push_back({"w2", "alice", true, {0x60, 10 * 60, 20 * 60}, "Europe/Berlin"});
  s.windows.push_back({"w3", "bob", false, {0x7f, 11 * 60, 18 * 60}, "America/New_York"});
  const std::int64_t days = state.range(0);
  for (auto _ : state)
    benchmark::DoNotOptimize(duet::model::SharedFreeTime(s, {kStart, kStart + days * 86400}, 20 * 60));
}
BENCHMARK(BM_FreeTime)->Arg(7)->Arg(31)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
