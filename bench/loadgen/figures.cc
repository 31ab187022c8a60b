#include "bench/loadgen/figures.h"

#include <sodium.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <latch>
#include <random>
#include <thread>

#include "bench/loadgen/histogram.h"

namespace duet::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Client i is side i % 2 of couple i / 2.
Result<std::vector<std::unique_ptr<Client>>> ConnectAll(System& system, const FigureOptions& options) {
  std::vector<std::unique_ptr<Client>> clients(options.clients);
  Status connected = ForEach(options.clients, options.connect_threads, [&](int i, int) -> Status {
    auto client = system.Connect(i / 2, i % 2);
    if (!client.ok()) return client.error();
    clients[i] = std::move(client).value();
    return Status::Ok();
  });
  if (!connected.ok()) return connected.error();
  return clients;
}

double Micros(std::int64_t ns) { return static_cast<double>(ns) / 1e3; }

// Per-thread results, merged once the threads are done.
struct Tally {
  LatencyHistogram ack, forward;
  std::uint64_t sent = 0, appended = 0, received = 0;  // in the measured window
  Status status;
};

Result<nlohmann::json> Finish(std::vector<Tally>& tallies, std::chrono::milliseconds measured,
                              const FigureOptions& options, const std::string& figure) {
  Tally all;
  for (auto& t : tallies) {
    if (!t.status.ok()) return t.status.error();
    all.ack.Merge(t.ack);
    all.forward.Merge(t.forward);
    all.sent += t.sent;
    all.appended += t.appended;
    all.received += t.received;
  }
  nlohmann::json out;
  out["figure"] = figure;
  out["clients"] = options.clients;
  out["seconds"] = static_cast<double>(measured.count()) / 1e3;
  out["appended"] = all.appended;
  out["received"] = all.received;
  // On a schedule every send is waited for, so what never came is lost. One
  // in flight, each client's last append is still out when time is up and
  // is not waited for: nothing to report there.
  if (figure == "forward") {
    out["sent"] = all.sent;
    out["lost_acks"] = all.sent - std::min(all.sent, all.appended);
    // Every client's partner is connected when the count is even.
    if (options.clients % 2 == 0) out["lost_deliveries"] = all.sent - std::min(all.sent, all.received);
  }
  out["rate"] = static_cast<double>(all.appended) / (static_cast<double>(measured.count()) / 1e3);
  PutLatency(out, "ack_", all.ack);
  if (all.forward.count() > 0) PutLatency(out, "forward_", all.forward);
  return out;
}

std::int64_t ResidentKib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

}  // namespace

int Couples(const FigureOptions& options) { return (options.clients + 1) / 2; }

void PutLatency(nlohmann::json& out, const std::string& prefix, const LatencyHistogram& h) {
  out[prefix + "p50_us"] = Micros(h.ValueAt(50));
  out[prefix + "p99_us"] = Micros(h.ValueAt(99));
  out[prefix + "p999_us"] = Micros(h.ValueAt(99.9));
  out[prefix + "max_us"] = Micros(h.max());
  out[prefix + "count"] = h.count();
}

namespace {

// How clients send: as soon as the last append was acknowledged (one in
// flight), or on a fixed schedule whatever is in flight.
struct Pace {
  bool one_in_flight = true;
  Clock::duration interval{};
};

// Drives clients first, first + step, ... from one thread: waits on all
// their descriptors at once (epoll) and sends on time, so the load
// generator spends its core on the protocol, not on waking a thread per
// client.
void Drive(std::vector<std::unique_ptr<Client>>& clients, std::size_t first, std::size_t step, const Pace& pace,
           Clock::time_point start, Clock::time_point measure_from, Clock::time_point end, Tally& tally) {
  struct Driven {
    Client* client;
    std::uint64_t sender;
    std::deque<std::int64_t> unacknowledged;  // send times, oldest first
    Clock::time_point next_send;
  };
  std::vector<Driven> driven;
  std::mt19937_64 random(first);
  for (std::size_t i = first; i < clients.size(); i += step) {
    // On a schedule each client starts at its own phase, so sends spread.
    const auto phase = pace.one_in_flight ? Clock::duration::zero()
                                          : std::chrono::duration_cast<Clock::duration>(
                                                pace.interval * std::uniform_real_distribution<double>(0, 1)(random));
    driven.push_back({clients[i].get(), i, {}, start + phase});
  }
  const int poller = epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t d = 0; d < driven.size(); ++d)
    for (int fd : driven[d].client->Descriptors()) {
      epoll_event interest{};
      interest.events = EPOLLIN;
      interest.data.u64 = d;
      epoll_ctl(poller, EPOLL_CTL_ADD, fd, &interest);
    }
  const auto measured = [&](std::int64_t sent) { return Clock::time_point(std::chrono::nanoseconds(sent)) >= measure_from; };
  // On a schedule, run on past `end` until every send was acknowledged (up
  // to 10 s), and at least half a second so the last deliveries count; what
  // never came is reported as lost, not left out.
  const auto grace = pace.one_in_flight ? end : end + 500ms;
  const auto give_up = pace.one_in_flight ? end : end + 10s;
  std::vector<epoll_event> ready(256);
  std::vector<Event> events;
  bool pending = false;
  for (auto now = Clock::now(); now < grace || (pending && now < give_up); now = Clock::now()) {
    auto earliest = std::max(grace, now + 50ms);
    pending = false;
    for (Driven& d : driven) {
      pending = pending || !d.unacknowledged.empty();
      const bool may_send = !pace.one_in_flight || d.unacknowledged.empty();
      if (!may_send || now >= end) continue;
      if (now >= d.next_send) {
        // On a schedule the payload carries the time it was due, so a
        // generator running late counts against the latency, never hides it.
        const std::string payload = MakePayload(
            d.sender, pace.one_in_flight ? NowNanoseconds()
                                         : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               d.next_send.time_since_epoch()).count());
        tally.status = d.client->Send(payload);
        if (!tally.status.ok()) return;
        if (measured(SendTimeOf(payload))) ++tally.sent;
        d.unacknowledged.push_back(SendTimeOf(payload));
        d.next_send += pace.interval;  // on schedule, however late this one was
        if (pace.one_in_flight) continue;
      }
      earliest = std::min(earliest, d.next_send);
    }
    // A timeout in nanoseconds (epoll_pwait2): epoll_wait's milliseconds
    // would send up to a millisecond late, and on a schedule that counts.
    const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::min<Clock::duration>(std::max(earliest - now, Clock::duration::zero()), 50ms));
    const timespec timeout{static_cast<time_t>(wait.count() / 1'000'000'000), static_cast<long>(wait.count() % 1'000'000'000)};
    const int n = epoll_pwait2(poller, ready.data(), static_cast<int>(ready.size()), &timeout, nullptr);
    for (int r = 0; r < n; ++r) {
      Driven& d = driven[ready[r].data.u64];
      events.clear();
      tally.status = d.client->Poll(std::chrono::milliseconds(0), events);
      if (!tally.status.ok()) return;
      for (const Event& event : events) {
        if (event.kind == Event::Kind::kPayload) {
          const std::int64_t sent = SendTimeOf(event.payload);
          if (!measured(sent)) continue;
          tally.forward.Record(event.at - sent);
          ++tally.received;
          continue;
        }
        if (d.unacknowledged.empty()) continue;
        const std::int64_t sent = d.unacknowledged.front();
        d.unacknowledged.pop_front();
        if (pace.one_in_flight) d.next_send = Clock::now();
        if (!measured(sent)) continue;
        tally.ack.Record(event.at - sent);
        ++tally.appended;
      }
    }
  }
  close(poller);
}

// Each worker connects the clients it drives (so a client is only ever used
// by one thread), then all start together.
Result<nlohmann::json> Run(System& system, const FigureOptions& options, const Pace& pace, const std::string& figure) {
  DUET_RETURN_IF_ERROR(system.Prepare(Couples(options)));
  const int workers = std::min(options.clients, options.workers);
  std::vector<std::unique_ptr<Client>> clients(options.clients);
  std::vector<Tally> tallies(workers);
  std::latch connected(workers), go(1);
  Clock::time_point start, measure_from, end;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      for (int i = w; i < options.clients && tallies[w].status.ok(); i += workers) {
        auto client = system.Connect(i / 2, i % 2);
        if (client.ok()) clients[i] = std::move(client).value();
        else tallies[w].status = client.error();
      }
      connected.count_down();
      go.wait();
      if (!tallies[w].status.ok()) return;
      Drive(clients, static_cast<std::size_t>(w), static_cast<std::size_t>(workers), pace, start, measure_from, end,
            tallies[w]);
    });
  connected.wait();
  const bool all_connected = std::all_of(clients.begin(), clients.end(), [](const auto& c) { return c != nullptr; });
  start = Clock::now();
  measure_from = start + options.warmup;
  end = all_connected ? measure_from + options.duration : start;
  go.count_down();
  for (auto& t : threads) t.join();
  return Finish(tallies, options.duration, options, figure);
}

}  // namespace

Result<nlohmann::json> AppendFigure(System& system, const FigureOptions& options) {
  return Run(system, options, Pace{}, "append");
}

Result<nlohmann::json> ForwardFigure(System& system, const FigureOptions& options) {
  if (options.rate_per_client <= 0) return MakeError(ErrorKind::kInvalidInput, "--rate must be above 0");
  const Pace pace{false, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / options.rate_per_client))};
  auto out = Run(system, options, pace, "forward");
  if (out.ok()) {
    const double offered = options.rate_per_client * options.clients;
    out.value()["rate_per_client"] = options.rate_per_client;
    out.value()["offered_rate"] = offered;
    // The system did not keep up: its latencies are queueing, not service.
    out.value()["overloaded"] = out.value()["rate"].get<double>() < 0.95 * offered;
  }
  return out;
}

Result<nlohmann::json> IdleFigure(System& system, const FigureOptions& options) {
  if (options.server_pid <= 0 || ResidentKib(options.server_pid) < 0)
    return MakeError(ErrorKind::kInvalidInput, "--server-pid must name the running server's process");
  // From before preparing: the connections made to pair devices are gone by
  // the time the idle ones arrive, and whatever memory they left behind
  // (allocator arenas, the store's cache) is counted too. An upper bound.
  const std::int64_t before = ResidentKib(options.server_pid);
  DUET_RETURN_IF_ERROR(system.Prepare(Couples(options)));
  const std::int64_t prepared = ResidentKib(options.server_pid);
  auto clients = ConnectAll(system, options);
  if (!clients.ok()) return clients.error();
  std::this_thread::sleep_for(2s);  // connections idle, buffers settled
  const std::int64_t after = ResidentKib(options.server_pid);
  nlohmann::json out;
  out["figure"] = "idle";
  out["clients"] = options.clients;
  out["rss_before_kib"] = before;
  out["rss_prepared_kib"] = prepared;
  out["rss_after_kib"] = after;
  out["bytes_per_connection"] = static_cast<double>(after - before) * 1024.0 / options.clients;
  return out;
}

Result<nlohmann::json> StormFigure(System& system, const FigureOptions& options) {
  DUET_RETURN_IF_ERROR(system.Prepare(Couples(options)));
  std::vector<std::unique_ptr<Client>> clients(options.clients);
  std::vector<LatencyHistogram> served(options.connect_threads);  // one per worker
  const std::int64_t start = NowNanoseconds();
  Status all = ForEach(options.clients, options.connect_threads, [&](int i, int worker) -> Status {
    auto client = system.Connect(i / 2, i % 2);
    if (!client.ok()) return client.error();
    auto caught_up = client.value()->CatchUp();
    if (!caught_up.ok()) return caught_up.error();
    served[worker].Record(NowNanoseconds() - start);
    clients[i] = std::move(client).value();  // stays connected, as a real device would
    return Status::Ok();
  });
  const std::int64_t elapsed = NowNanoseconds() - start;
  if (!all.ok()) return all.error();
  LatencyHistogram merged;
  for (const auto& h : served) merged.Merge(h);
  nlohmann::json out;
  out["figure"] = "storm";
  out["clients"] = options.clients;
  out["connect_threads"] = options.connect_threads;
  out["seconds"] = static_cast<double>(elapsed) / 1e9;
  out["handshakes_per_second"] = options.clients / (static_cast<double>(elapsed) / 1e9);
  PutLatency(out, "served_", merged);
  return out;
}

Result<nlohmann::json> ReplayFigure(System& system, const FigureOptions& options) {
  if (options.records < 1) return MakeError(ErrorKind::kInvalidInput, "--records must be 1 or more");
  DUET_RETURN_IF_ERROR(system.Prepare(1));
  auto writer = system.Connect(0, 0);
  if (!writer.ok()) return writer.error();
  std::vector<std::string> payloads(static_cast<std::size_t>(options.records), MakePayload(0));
  DUET_RETURN_IF_ERROR(writer.value()->AppendMany(payloads));
  auto reader = system.Connect(0, 1);
  if (!reader.ok()) return reader.error();
  const std::int64_t start = NowNanoseconds();
  auto read = reader.value()->CatchUp();
  const std::int64_t elapsed = NowNanoseconds() - start;
  if (!read.ok()) return read.error();
  if (read.value() != static_cast<std::uint64_t>(options.records))
    return MakeError(ErrorKind::kInternal, "caught up on " + std::to_string(read.value()) + " records, not " +
                                               std::to_string(options.records));
  nlohmann::json out;
  out["figure"] = "replay";
  out["records"] = options.records;
  out["seconds"] = static_cast<double>(elapsed) / 1e9;
  out["rate"] = options.records / (static_cast<double>(elapsed) / 1e9);
  return out;
}

nlohmann::json PrimitivesFigure(std::chrono::milliseconds duration) {
  const auto rate = [&](const std::function<void()>& op) {
    std::uint64_t n = 0;
    const std::int64_t start = NowNanoseconds();
    const std::int64_t end = start + std::chrono::nanoseconds(duration).count();
    std::int64_t now = start;
    for (; now < end; now = NowNanoseconds())
      for (int i = 0; i < 64; ++i, ++n) op();
    return static_cast<double>(n) / (static_cast<double>(now - start) / 1e9);
  };
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
  crypto_sign_keypair(pk, sk);
  const std::string record(256 + 120, 'r');  // a record's signed bytes: ids, keys, nonce, ciphertext
  const auto* m = reinterpret_cast<const unsigned char*>(record.data());
  crypto_sign_detached(sig, nullptr, m, record.size(), sk);
  unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES], nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES]{};
  crypto_aead_xchacha20poly1305_ietf_keygen(key);
  std::string big(64 * 1024, 'x'), sealed(big.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  const auto seal = [&](std::size_t bytes) {
    crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(sealed.data()), nullptr,
                                               reinterpret_cast<const unsigned char*>(big.data()), bytes, nullptr, 0,
                                               nullptr, nonce, key);
  };
  std::uint64_t verified = 0;
  nlohmann::json out;
  out["figure"] = "primitives";
  out["ed25519_sign_per_second"] = rate([&] { crypto_sign_detached(sig, nullptr, m, record.size(), sk); });
  out["ed25519_verify_per_second"] =
      rate([&] { verified += crypto_sign_verify_detached(sig, m, record.size(), pk) == 0; });
  out["xchacha20poly1305_256b_per_second"] = rate([&] { seal(256); });
  out["xchacha20poly1305_64kib_gb_per_second"] = rate([&] { seal(big.size()); }) * big.size() / 1e9;
  out["all_verified"] = verified > 0;
  sodium_memzero(sk, sizeof sk);
  sodium_memzero(key, sizeof key);
  return out;
}

}  // namespace duet::bench
