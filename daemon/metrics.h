// What the relay counts, rendered in the Prometheus text format for
// /metrics (docs/ops.md lists every metric). Counters and gauges that the
// network thread moves are plain integers, read on that thread when a scrape
// is rendered; the store thread's measurements (commit batch sizes and
// commit latency) are histograms of atomics. Labels come from fixed words in
// the code, never from the network, so the number of series is bounded.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace duet::daemon {

// A Prometheus histogram that any thread may observe into.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  void Render(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> buckets_;  // one per bound, plus +Inf
  std::atomic<double> sum_{0};
};

// Events counted on the network thread, by a fixed word.
class CounterFamily {
 public:
  void Add(std::string_view label, std::uint64_t by = 1) { counts_[std::string(label)] += by; }
  std::uint64_t Get(std::string_view label) const;
  void Render(std::string& out, std::string_view name, std::string_view label_name,
              std::string_view help) const;

 private:
  std::map<std::string, std::uint64_t, std::less<>> counts_;
};

struct RelayMetrics {
  // Network thread.
  CounterFamily handshakes;  // by outcome: ok, refused, bad_hello, timeout
  CounterFamily requests;    // by kind: push, pull, invite, ...
  CounterFamily refusals;    // by reason: connection_limit, shed, quota, bad_frame, ...
  std::uint64_t records_pushed = 0;  // new to the store
  std::uint64_t pairings = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t internal_errors = 0;
  // Store thread.
  Histogram commit_jobs{{1, 2, 5, 10, 20, 50, 100, 200, 500}};
  Histogram commit_seconds{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
};

// Appends one gauge or counter without labels.
void RenderSample(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help, double value);
// Appends a gauge family: one sample per label value.
void RenderGauges(std::string& out, std::string_view name, std::string_view label_name,
                  std::string_view help, const std::vector<std::pair<std::string, double>>& values);

}  // namespace duet::daemon
