// A token bucket per key (a client's IP address for invite lookups, a couple
// for pushes), for work that can be asked for repeatedly. `burst` tokens are
// there at once, then one more every `refill` interval; a refusal says how
// long to wait. The clock is passed in, so
// tests run on a fixed one. Buckets that have refilled completely are dropped,
// so memory is bounded by the addresses active within one refill window.
// Used from the network thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>

namespace duet::daemon {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double burst, Clock::duration refill) : burst_(burst), refill_(refill) {}

  // Takes `cost` tokens for `key`. Zero when they were taken; otherwise none
  // is taken and the result is how long until `cost` tokens would be there.
  Clock::duration Take(const std::string& key, Clock::time_point now, double cost = 1.0) {
    Prune(now);
    auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& bucket = it->second;
    if (!fresh) {
      bucket.tokens = std::min(burst_, bucket.tokens + Elapsed(bucket.updated, now));
      bucket.updated = now;
    }
    cost = std::min(cost, burst_);  // a request larger than the burst waits for a full bucket
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return Clock::duration::zero();
    }
    const double missing = cost - bucket.tokens;
    return std::chrono::ceil<Clock::duration>(
        std::chrono::duration<double>(refill_) * missing);
  }
  bool Allow(const std::string& key, Clock::time_point now) {
    return Take(key, now) == Clock::duration::zero();
  }

  std::size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };

  double Elapsed(Clock::time_point from, Clock::time_point to) const {
    return std::chrono::duration<double>(to - from) / std::chrono::duration<double>(refill_);
  }

  void Prune(Clock::time_point now) {
    // At most once per refill window, so Allow stays O(1) amortized.
    if (now - last_prune_ < refill_) return;
    last_prune_ = now;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (it->second.tokens + Elapsed(it->second.updated, now) >= burst_)
        it = buckets_.erase(it);
      else
        ++it;
    }
  }

  double burst_;
  Clock::duration refill_;
  Clock::time_point last_prune_{};
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace duet::daemon
