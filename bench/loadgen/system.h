// The load generator's view of a system under test: duet's relay, or a peer
// that a self-hoster might run instead (Redis Streams, NATS JetStream,
// Mosquitto). Every system is driven the same way: clients paired into
// couples, each appending 256-byte payloads that carry their send time and
// receiving its partner's, one append in flight per client. Adapters are
// used by one thread per Client; a System's methods may be called from
// several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/net.h"

namespace duet::bench {

inline constexpr std::size_t kPayloadBytes = 256;

using Deliver = std::function<void(std::string_view payload)>;

// What a client hears, stamped (steady clock, ns) the moment the load
// generator read it, so a figure never counts its own bookkeeping as the
// system's latency.
struct Event {
  enum class Kind { kAck, kPayload };
  Kind kind;
  std::int64_t at;
  std::string payload;  // kPayload: what the partner sent
};

class Client {
 public:
  virtual ~Client() = default;
  // Sends one payload without waiting. Its acknowledgement, once the system
  // gives it with the durability its server was started with, arrives as a
  // kAck event; acknowledgements come in the order of the sends.
  virtual Status Send(std::string_view payload) = 0;
  // Waits up to `timeout` for something to arrive, then appends to `events`
  // everything that has: acknowledgements and the partner's payloads.
  virtual Status Poll(std::chrono::milliseconds timeout, std::vector<Event>& events) = 0;
  // Descriptors that become readable when Poll has something to hand over,
  // so one thread can wait on many clients (level-triggered: Poll(0) until
  // it hands over nothing more).
  virtual std::vector<int> Descriptors() = 0;
  // Appends many payloads in as few requests as the system allows and waits
  // for all to be acknowledged, for filling a history quickly; not timed.
  virtual Status AppendMany(const std::vector<std::string>& payloads);
  // Reads the partner's whole history from the start, as a new device
  // catching up would; the number of payloads read. Called before any Poll.
  virtual Result<std::uint64_t> CatchUp();
  // Appends one payload and waits for its acknowledgement. Appending the
  // same payload again, through any client of the same partner, stores it
  // once: a device's retry after a lost acknowledgement. For the fault
  // figures (fault_figures.cc); duet only.
  virtual Status AppendOnce(std::string_view payload);
  // Every payload of the couple's history, both partners', in its order.
  virtual Result<std::vector<std::string>> History();
};

class System {
 public:
  virtual ~System() = default;
  virtual std::string name() const = 0;
  // Makes couples 0..couples-1 ready before clients connect (pairing on the
  // relay, a stream or topic layout on a peer).
  virtual Status Prepare(int couples) = 0;
  // Connects as partner `side` (0 or 1) of `couple`, ready to append and
  // receive. The client is used only by the thread that connected it (and
  // destroyed once no other thread uses clients).
  virtual Result<std::unique_ptr<Client>> Connect(int couple, int side) = 0;
  // The index, in the address list, of the server a device connects to
  // first (the others are tried when it does not answer).
  virtual std::size_t ServerOf(int /*couple*/, int /*side*/) const { return 0; }
};

// `system` is duet, redis, nats or mosquitto; `address` is host:port (for
// duet, several relays sharing one store: host:port,host:port).
Result<std::unique_ptr<System>> MakeSystem(const std::string& system, const std::string& address);
// Device `side` of couple `i` connects to relay (2i + side) mod n: the two
// partners of a couple on different relays whenever there are several. A
// device whose relay does not answer tries the next, as duet does.
std::unique_ptr<System> MakeDuetSystem(const std::vector<net::Endpoint>& relays);
std::unique_ptr<System> MakeRedisSystem(const net::Endpoint& server);
std::unique_ptr<System> MakeNatsSystem(const net::Endpoint& server);
std::unique_ptr<System> MakeMosquittoSystem(const net::Endpoint& broker);

// The payload every adapter sends: the send time (steady clock, ns; now,
// unless given) in its first 8 bytes, the sender in the next 8, filler after.
std::string MakePayload(std::uint64_t sender);
std::string MakePayload(std::uint64_t sender, std::int64_t sent_at);
// The send time a payload carries, or -1 when it is too short to carry one.
std::int64_t SendTimeOf(std::string_view payload);
std::int64_t NowNanoseconds();

// Runs `body(i, worker)` for every i in [0, count) on `threads` threads
// (worker is the thread's index); stops early and returns the first error.
Status ForEach(int count, int threads, const std::function<Status(int i, int worker)>& body);

}  // namespace duet::bench
