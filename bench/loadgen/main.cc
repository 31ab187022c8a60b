// duet_loadgen: drives a relay (or a peer a self-hoster might run instead)
// with clients paired into couples, and prints one JSON line of results.
// bench/run starts the servers, calls this for every figure and writes
// docs/performance.md.
#include <sodium.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "bench/loadgen/figures.h"

namespace {

// Thousands of connections need thousands of descriptors: take what the
// hard limit allows.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace duet::bench;
  CLI::App app{"duet_loadgen: measure a duet relay, or a peer system, under the load of many couples"};
  std::string figure = "append", system_name = "duet", address = "127.0.0.1:7707";
  FigureOptions options;
  double seconds = 5, warmup = 1;
  app.add_option("figure", figure, "append, forward, idle, storm, replay, rehome, durable or primitives")
      ->check(CLI::IsMember({"append", "forward", "idle", "storm", "replay", "rehome", "durable", "primitives"}));
  app.add_option("--system", system_name, "duet, redis, nats or mosquitto")
      ->check(CLI::IsMember({"duet", "redis", "nats", "mosquitto"}));
  app.add_option("--address", address, "the server's host:port");
  app.add_option("--clients", options.clients, "clients, two to a couple")->check(CLI::Range(1, 1'000'000));
  app.add_option("--seconds", seconds, "seconds measured")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--warmup", warmup, "seconds run before measuring")->check(CLI::Range(0.0, 600.0));
  app.add_option("--rate", options.rate_per_client, "forward: appends a second per client")
      ->check(CLI::Range(0.1, 100000.0));
  app.add_option("--records", options.records, "replay: records in the history")->check(CLI::Range(1, 100'000'000));
  app.add_option("--server-pid", options.server_pid, "idle: the server process whose memory is read");
  app.add_option("--connect-threads", options.connect_threads, "clients connecting at once")
      ->check(CLI::Range(1, 4096));
  app.add_option("--workers", options.workers, "append and forward: threads driving the clients")
      ->check(CLI::Range(1, 256));
  app.add_option("--kill-pid", options.kill_pid, "rehome: the pid of the relay at the first address, killed")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  options.duration = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  options.warmup = std::chrono::milliseconds(static_cast<long>(warmup * 1000));

  if (sodium_init() < 0) {
    std::cerr << "duet_loadgen: libsodium did not initialise\n";
    return 1;
  }
  RaiseDescriptorLimit();
  if (figure == "primitives") {
    std::cout << PrimitivesFigure(options.duration).dump() << "\n";
    return 0;
  }
  auto system = MakeSystem(system_name, address);
  if (!system.ok()) {
    std::cerr << "duet_loadgen: " << system.error().message << "\n";
    return 2;
  }
  duet::Result<nlohmann::json> result = duet::MakeError(duet::ErrorKind::kInternal, "no figure ran");
  if (figure == "append") result = AppendFigure(*system.value(), options);
  if (figure == "forward") result = ForwardFigure(*system.value(), options);
  if (figure == "idle") result = IdleFigure(*system.value(), options);
  if (figure == "storm") result = StormFigure(*system.value(), options);
  if (figure == "replay") result = ReplayFigure(*system.value(), options);
  if (figure == "rehome") result = RehomeFigure(*system.value(), options);
  if (figure == "durable") result = DurableFigure(*system.value(), options);
  if (!result.ok()) {
    std::cerr << "duet_loadgen: " << figure << " on " << system_name << " at " << address << ": "
              << result.error().message << "\n";
    return 1;
  }
  result.value()["system"] = system_name;
  std::cout << result.value().dump() << "\n";
  return 0;
}
