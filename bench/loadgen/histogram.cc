#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace duet::bench {

// Values below 64 ns fall in range 0, one bucket a nanosecond. Above, the
// highest set bit picks the range and the six bits below it the sub-bucket,
// so each bucket is 1/64 of its power of two wide.
int LatencyHistogram::IndexOf(std::int64_t value) {
  const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(value, 0));
  const int top = 63 - std::countl_zero(v | 1);  // highest set bit
  if (top < kMinShift + kSubBucketBits) return static_cast<int>(v >> kMinShift);
  const int range = top - (kMinShift + kSubBucketBits) + 1;
  const int shift = top - kSubBucketBits;
  const int sub = static_cast<int>((v >> shift) & (kSubBuckets - 1));
  return std::min(range, kRanges) * kSubBuckets + sub;
}

std::int64_t LatencyHistogram::UpperBoundOf(int index) {
  const int range = index / kSubBuckets;
  const int sub = index % kSubBuckets;
  if (range == 0) return (static_cast<std::int64_t>(sub) + 1) << kMinShift;
  const int shift = range + kMinShift - 1;
  return ((static_cast<std::int64_t>(kSubBuckets) + sub + 1) << shift);
}

void LatencyHistogram::Record(std::int64_t nanoseconds) {
  ++counts_[IndexOf(nanoseconds)];
  ++count_;
  max_ = std::max(max_, nanoseconds);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::int64_t LatencyHistogram::ValueAt(double percentile) const {
  if (count_ == 0) return 0;
  // The epsilon keeps 99.9% of 1000 at rank 999, not 1000 by rounding.
  const auto wanted = static_cast<std::uint64_t>(
      std::max(1.0, std::ceil(percentile / 100.0 * static_cast<double>(count_) - 1e-9)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(UpperBoundOf(static_cast<int>(i)), max_);
  }
  return max_;
}

}  // namespace duet::bench
