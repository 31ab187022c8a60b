// The relay's sense of time, passed in rather than read from std::time, so a
// test of a deadline or an expiry moves a clock instead of waiting on one.
// steady() orders deadlines (never jumps); unix_seconds() stamps what is
// stored or shown to clients (invite expiry).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>

namespace duet::daemon {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint steady() const = 0;
  virtual std::int64_t unix_seconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint steady() const override { return std::chrono::steady_clock::now(); }
  std::int64_t unix_seconds() const override { return static_cast<std::int64_t>(std::time(nullptr)); }
};

// A clock that moves only when told to; safe to advance from a test thread
// while the relay's thread reads it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t unix_start = 1'800'000'000) : unix_start_(unix_start) {}
  TimePoint steady() const override { return TimePoint(std::chrono::nanoseconds(offset_.load())); }
  std::int64_t unix_seconds() const override {
    return unix_start_ + offset_.load() / 1'000'000'000;
  }
  void Advance(std::chrono::nanoseconds by) { offset_ += by.count(); }

 private:
  std::int64_t unix_start_;
  // Starts well past zero so "now minus a timeout" is never before epoch.
  std::atomic<std::int64_t> offset_{std::int64_t{1'000'000} * 1'000'000'000};
};

}  // namespace duet::daemon
