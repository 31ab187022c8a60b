#include "bench/loadgen/system.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <cstring>

namespace duet::bench {

Status Client::AppendMany(const std::vector<std::string>& payloads) {
  constexpr std::size_t kInFlight = 100;
  std::size_t sent = 0, acked = 0;
  std::vector<Event> events;
  for (int silent_seconds = 0; acked < payloads.size();) {
    for (; sent < payloads.size() && sent - acked < kInFlight; ++sent) DUET_RETURN_IF_ERROR(Send(payloads[sent]));
    events.clear();
    DUET_RETURN_IF_ERROR(Poll(std::chrono::seconds(1), events));
    const std::size_t before = acked;
    for (const auto& event : events) acked += event.kind == Event::Kind::kAck;
    silent_seconds = acked > before ? 0 : silent_seconds + 1;
    if (silent_seconds == 30)
      return MakeError(ErrorKind::kNetwork, "no acknowledgement for 30 s (" + std::to_string(acked) + " of " +
                                                std::to_string(payloads.size()) + " appended)");
  }
  return Status::Ok();
}

Result<std::uint64_t> Client::CatchUp() {
  return MakeError(ErrorKind::kInvalidInput, "this system keeps no history a new client could read");
}

Status Client::AppendOnce(std::string_view) {
  return MakeError(ErrorKind::kInvalidInput, "the fault figures measure duet's relays only");
}

Result<std::vector<std::string>> Client::History() {
  return MakeError(ErrorKind::kInvalidInput, "the fault figures measure duet's relays only");
}

Result<std::unique_ptr<System>> MakeSystem(const std::string& system, const std::string& address) {
  if (system == "duet") {
    // Several relays sharing one store: HOST:PORT,HOST:PORT.
    auto relays = net::ParseEndpoints(address);
    if (!relays.ok()) return relays.error();
    return MakeDuetSystem(relays.value());
  }
  auto endpoint = net::ParseEndpoint(address);
  if (!endpoint.ok()) return endpoint.error();
  if (system == "redis") return MakeRedisSystem(endpoint.value());
  if (system == "nats") return MakeNatsSystem(endpoint.value());
  if (system == "mosquitto") return MakeMosquittoSystem(endpoint.value());
  return MakeError(ErrorKind::kInvalidInput, "unknown system '" + system + "': use duet, redis, nats or mosquitto");
}

std::int64_t NowNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string MakePayload(std::uint64_t sender) { return MakePayload(sender, NowNanoseconds()); }

std::string MakePayload(std::uint64_t sender, std::int64_t sent_at) {
  std::string payload(kPayloadBytes, '\0');
  for (std::size_t i = 16; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  std::memcpy(payload.data(), &sent_at, sizeof sent_at);
  std::memcpy(payload.data() + 8, &sender, sizeof sender);
  return payload;
}

std::int64_t SendTimeOf(std::string_view payload) {
  if (payload.size() < 8) return -1;
  std::int64_t sent = 0;
  std::memcpy(&sent, payload.data(), sizeof sent);
  return sent;
}

Status ForEach(int count, int threads, const std::function<Status(int, int)>& body) {
  std::atomic<int> next{0};
  std::mutex mutex;
  Status first;
  std::vector<std::thread> workers;
  for (int w = 0; w < std::min(count, threads); ++w)
    workers.emplace_back([&, w] {
      for (int i = next++; i < count; i = next++) {
        Status s = body(i, w);
        if (s.ok()) continue;
        std::lock_guard lock(mutex);
        if (first.ok()) first = s;
        next = count;
      }
    });
  for (auto& w : workers) w.join();
  return first;
}

}  // namespace duet::bench
