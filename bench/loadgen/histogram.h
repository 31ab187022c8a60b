// LatencyHistogram: HdrHistogram's log-linear bucketing, kept small. Values
// are nanoseconds; every power of two from 64 ns up is split into 64 equal
// sub-buckets, so any recorded value is reported within 1/64 (1.6%) of
// itself, in a fixed 30 KiB whatever the count. One histogram per client
// thread, merged at the end: recording takes no lock.
#pragma once

#include <array>
#include <cstdint>

namespace duet::bench {

class LatencyHistogram {
 public:
  void Record(std::int64_t nanoseconds);
  void Merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  std::int64_t max() const { return max_; }
  // The smallest value v such that at least `percentile` % of the recorded
  // values are <= v (within the bucket's precision); 0 when empty.
  std::int64_t ValueAt(double percentile) const;

 private:
  static constexpr int kSubBucketBits = 6;  // 64 sub-buckets per power of two
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kMinShift = 0;  // values below 64 ns are exact
  static constexpr int kRanges = 63 - kMinShift - kSubBucketBits;
  static int IndexOf(std::int64_t value);
  static std::int64_t UpperBoundOf(int index);

  std::array<std::uint64_t, (kRanges + 1) * kSubBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace duet::bench
