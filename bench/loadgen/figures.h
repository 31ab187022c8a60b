// The figures of issue #15, each run against any System. A figure returns
// its measurements as flat JSON (rates per second, latencies in
// microseconds) for bench/run to collect; errors are values.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>

#include "bench/loadgen/histogram.h"
#include "bench/loadgen/system.h"

namespace duet::bench {

struct FigureOptions {
  int clients = 100;
  std::chrono::milliseconds duration{5000};
  std::chrono::milliseconds warmup{1000};
  double rate_per_client = 10;  // forward: appends a second per client
  int records = 100'000;        // replay: history size
  int server_pid = 0;           // idle: whose memory to read
  int connect_threads = 16;     // clients connecting at once
  int workers = 2;              // append and forward: threads driving the clients
  int kill_pid = 0;             // rehome: the relay at the first address, killed
};

// Clients come in couples; an odd last one has its partner away.
int Couples(const FigureOptions& options);
// A histogram as PREFIXp50_us, p99_us, p999_us, max_us and PREFIXcount.
void PutLatency(nlohmann::json& out, const std::string& prefix, const LatencyHistogram& h);

// Every client appends as fast as acknowledgements come back, one in flight.
Result<nlohmann::json> AppendFigure(System& system, const FigureOptions& options);
// Every client appends at a steady rate; latency from send to the partner's
// receipt.
Result<nlohmann::json> ForwardFigure(System& system, const FigureOptions& options);
// The server's resident memory per connected, idle client.
Result<nlohmann::json> IdleFigure(System& system, const FigureOptions& options);
// Every client connects, authenticates and catches up at once.
Result<nlohmann::json> StormFigure(System& system, const FigureOptions& options);
// A new client reads a history of `records` payloads.
Result<nlohmann::json> ReplayFigure(System& system, const FigureOptions& options);
// Every client connects and catches up; the relay at the first address is
// killed (SIGKILL), and each of its devices connects to another relay and
// catches up again: the time from the kill until each is served.
Result<nlohmann::json> RehomeFigure(System& system, const FigureOptions& options);
// Every client appends one record at a time for `duration`, retrying each
// on a new connection until it is acknowledged (bench/run fails the
// database over meanwhile); then each acknowledged record is looked for in
// its couple's history: acknowledged, lost, stored twice, longest wait.
Result<nlohmann::json> DurableFigure(System& system, const FigureOptions& options);
// The libsodium primitives every record costs, measured here: the ceiling.
nlohmann::json PrimitivesFigure(std::chrono::milliseconds duration);

}  // namespace duet::bench
