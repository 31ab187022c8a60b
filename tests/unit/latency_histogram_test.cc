// The load generator's latency histogram (bench/loadgen): its percentiles
// are what docs/performance.md reports, so they must be right to within the
// promised 1/64.
#include <gtest/gtest.h>

#include "bench/loadgen/histogram.h"

namespace duet::bench {
namespace {

TEST(LatencyHistogram, PercentilesOfAUniformSpreadAreWithinOneSixtyFourth) {
  LatencyHistogram h;
  for (std::int64_t ns = 1000; ns <= 1'000'000; ns += 1000) h.Record(ns);  // 1 us .. 1 ms
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max(), 1'000'000);
  for (const auto& [percentile, exact] : {std::pair{50.0, 500'000.0}, {99.0, 990'000.0}, {99.9, 999'000.0}}) {
    const auto value = static_cast<double>(h.ValueAt(percentile));
    EXPECT_GE(value, exact) << percentile;
    EXPECT_LE(value, exact * (1 + 1.0 / 64)) << percentile;
  }
  EXPECT_EQ(h.ValueAt(100), 1'000'000);
}

TEST(LatencyHistogram, MicrosecondsAreAsPreciseAsMilliseconds) {
  LatencyHistogram h;
  for (std::int64_t ns = 2'000; ns <= 60'000; ns += 100) h.Record(ns);  // 2 us .. 60 us
  const std::int64_t exact_p50 = 2'000 + 100 * ((h.count() + 1) / 2 - 1);
  EXPECT_GE(h.ValueAt(50), exact_p50);
  EXPECT_LE(static_cast<double>(h.ValueAt(50)), exact_p50 * (1 + 1.0 / 64));
  LatencyHistogram thousand;
  for (int i = 1; i <= 1000; ++i) thousand.Record(i * 1000);
  EXPECT_LT(thousand.ValueAt(99.9), thousand.max()) << "p99.9 of 1000 is the 999th, not the largest";
}

TEST(LatencyHistogram, OneValueIsReportedAsItselfAtEveryScale) {
  for (std::int64_t ns : {0LL, 700LL, 65'535LL, 65'536LL, 123'456LL, 2'000'000'000LL, 90'000'000'000LL}) {
    LatencyHistogram h;
    h.Record(ns);
    EXPECT_EQ(h.ValueAt(50), ns) << "capped at the maximum seen";
    EXPECT_EQ(h.max(), ns);
  }
}

TEST(LatencyHistogram, MergingAddsCountsAndKeepsTheLargestMaximum) {
  LatencyHistogram fast, slow;
  for (int i = 0; i < 90; ++i) fast.Record(100'000);
  for (int i = 0; i < 10; ++i) slow.Record(10'000'000);
  fast.Merge(slow);
  EXPECT_EQ(fast.count(), 100u);
  EXPECT_EQ(fast.max(), 10'000'000);
  EXPECT_LE(fast.ValueAt(90), 100'000 * 65 / 64);
  EXPECT_GE(fast.ValueAt(91), 10'000'000);
  EXPECT_EQ(LatencyHistogram().ValueAt(50), 0) << "empty";
}

}  // namespace
}  // namespace duet::bench
