// The fault figures of issue #17, for several duet relays on one
// PostgreSQL: how long a killed relay's devices wait to be served by the
// others, and what a database fail-over does to records being pushed.
#include <signal.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "bench/loadgen/figures.h"
#include "bench/loadgen/histogram.h"

namespace duet::bench {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kGiveUpNs = 60'000'000'000;  // a device served again within a minute, or an error

double Seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

Result<nlohmann::json> RehomeFigure(System& system, const FigureOptions& options) {
  if (options.kill_pid <= 0)
    return MakeError(ErrorKind::kInvalidInput, "rehome needs --kill-pid: the pid of the relay at the first address");
  DUET_RETURN_IF_ERROR(system.Prepare(Couples(options)));
  // Every device connects and catches up, as one that has been running does.
  std::vector<std::unique_ptr<Client>> before(options.clients);
  DUET_RETURN_IF_ERROR(ForEach(options.clients, options.connect_threads, [&](int i, int) -> Status {
    auto client = system.Connect(i / 2, i % 2);
    if (!client.ok()) return client.error();
    auto caught_up = client.value()->CatchUp();
    if (!caught_up.ok()) return caught_up.error();
    before[i] = std::move(client).value();
    return Status::Ok();
  }));
  std::vector<int> moving;  // the devices on the relay that is killed
  for (int i = 0; i < options.clients; ++i)
    if (system.ServerOf(i / 2, i % 2) == 0) moving.push_back(i);
  if (moving.empty()) return MakeError(ErrorKind::kInvalidInput, "no device is on the first relay");

  // From the SIGKILL, each of its devices connects to its next address,
  // authenticates and pulls its couple's history: served again.
  std::vector<std::unique_ptr<Client>> after(moving.size());
  std::vector<LatencyHistogram> served(options.connect_threads);
  const std::int64_t start = NowNanoseconds();
  if (kill(options.kill_pid, SIGKILL) != 0)
    return MakeError(ErrorKind::kInvalidInput, "could not kill relay pid " + std::to_string(options.kill_pid));
  Status all = ForEach(static_cast<int>(moving.size()), options.connect_threads, [&](int k, int worker) -> Status {
    const int i = moving[static_cast<std::size_t>(k)];
    for (;;) {
      auto client = system.Connect(i / 2, i % 2);
      Status caught_up = client.ok() ? client.value()->CatchUp().status() : Status(client.error());
      if (caught_up.ok()) {
        served[worker].Record(NowNanoseconds() - start);
        after[static_cast<std::size_t>(k)] = std::move(client).value();
        return Status::Ok();
      }
      if (NowNanoseconds() - start > kGiveUpNs)
        return MakeError(ErrorKind::kNetwork, "a device of the killed relay was not served again within a minute: " +
                                                  caught_up.error().message);
      std::this_thread::sleep_for(10ms);
    }
  });
  const std::int64_t elapsed = NowNanoseconds() - start;
  if (!all.ok()) return all.error();
  LatencyHistogram merged;
  for (const auto& h : served) merged.Merge(h);
  nlohmann::json out;
  out["figure"] = "rehome";
  out["clients"] = options.clients;
  out["devices_moved"] = moving.size();
  out["seconds"] = Seconds(elapsed);
  PutLatency(out, "served_", merged);
  return out;
}

Result<nlohmann::json> DurableFigure(System& system, const FigureOptions& options) {
  const int couples = Couples(options);
  DUET_RETURN_IF_ERROR(system.Prepare(couples));
  // Each device appends one record at a time until time is up, and retries
  // each on a new connection until it is acknowledged, as duet does.
  struct Device {
    std::vector<std::string> acknowledged;
    std::int64_t longest_wait_ns = 0;
    std::uint64_t retries = 0;
  };
  std::vector<Device> devices(options.clients);
  const std::int64_t end = NowNanoseconds() + std::chrono::nanoseconds(options.duration).count();
  DUET_RETURN_IF_ERROR(ForEach(options.clients, options.clients, [&](int i, int) -> Status {
    Device& device = devices[static_cast<std::size_t>(i)];
    std::unique_ptr<Client> client;
    while (NowNanoseconds() < end) {
      const std::string payload = MakePayload(static_cast<std::uint64_t>(i));
      const std::int64_t asked = NowNanoseconds();
      for (;;) {
        if (!client) {
          auto connected = system.Connect(i / 2, i % 2);
          if (connected.ok()) client = std::move(connected).value();
        }
        if (client && client->AppendOnce(payload).ok()) break;
        client.reset();
        ++device.retries;
        if (NowNanoseconds() - asked > kGiveUpNs)
          return MakeError(ErrorKind::kNetwork, "a record was not acknowledged within a minute of retries");
        std::this_thread::sleep_for(100ms);
      }
      device.acknowledged.push_back(payload);
      device.longest_wait_ns = std::max(device.longest_wait_ns, NowNanoseconds() - asked);
    }
    return Status::Ok();
  }));

  // Then every couple's history, against what was acknowledged.
  std::mutex mutex;
  std::unordered_map<std::string, int> stored;  // payload: times in its couple's history
  DUET_RETURN_IF_ERROR(ForEach(couples, std::min(couples, 16), [&](int c, int) -> Status {
    const std::int64_t asked = NowNanoseconds();
    for (;;) {  // as a device would, until a relay answers
      auto reader = system.Connect(c, 0);
      auto history = reader.ok() ? reader.value()->History() : Result<std::vector<std::string>>(reader.error());
      if (history.ok()) {
        std::lock_guard lock(mutex);
        for (auto& payload : history.value()) ++stored[payload];
        return Status::Ok();
      }
      if (NowNanoseconds() - asked > kGiveUpNs)
        return MakeError(ErrorKind::kNetwork, "no relay gave a couple's history within a minute: " +
                                                  history.error().message);
      std::this_thread::sleep_for(100ms);
    }
  }));
  std::uint64_t acknowledged = 0, lost = 0, twice = 0, retries = 0;
  std::int64_t longest_wait = 0;
  for (const Device& device : devices) {
    retries += device.retries;
    longest_wait = std::max(longest_wait, device.longest_wait_ns);
    for (const auto& payload : device.acknowledged) {
      ++acknowledged;
      const auto it = stored.find(payload);
      if (it == stored.end()) ++lost;
    }
  }
  for (const auto& [payload, times] : stored)
    if (times > 1) ++twice;
  nlohmann::json out;
  out["figure"] = "durable";
  out["clients"] = options.clients;
  out["seconds"] = Seconds(std::chrono::nanoseconds(options.duration).count());
  out["acknowledged"] = acknowledged;
  out["lost"] = lost;
  out["stored_twice"] = twice;
  out["retries"] = retries;
  out["longest_wait_s"] = Seconds(longest_wait);
  return out;
}

}  // namespace duet::bench
