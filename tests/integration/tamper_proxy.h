// A man in the middle for tests: a loopback TCP proxy in front of the relay
// that forwards both directions. Two ways to interfere, which may be combined:
//  - a Tamper function sees each chunk with its stream offset and may flip,
//    drop or repeat bytes at chosen offsets (an attacker who aims);
//  - a seeded FaultPlan makes the network hostile (a network that does not
//    care): per chunk, at the plan's probabilities, it delays the chunk (order
//    within a connection is kept), splits it into pieces sent apart, drops the
//    connection (both sides closed: bytes lost inside a TCP stream break the
//    stream just as surely), sends the chunk twice, or resets both sides (RST).
// Runs its own thread; stops when destroyed. Every public method may be
// called from any thread.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <asio.hpp>

namespace duet::testing {

// What a hostile network does to each chunk the proxy reads. At most one
// fault per chunk, so the probabilities add up to 1 at most.
struct FaultPlan {
  std::uint64_t seed = 0;
  double delay = 0;      // hold the chunk back, then send it
  double split = 0;      // send it as 2 to 4 pieces, a few ms apart
  double drop = 0;       // close both sides instead of sending it
  double duplicate = 0;  // send it twice in a row
  double reset = 0;      // reset both sides (SO_LINGER 0) instead of sending it
  std::chrono::milliseconds min_delay{2};
  std::chrono::milliseconds max_delay{300};
};

// Faults injected since the plan was set, by kind; `chunks` counts every
// chunk read while a plan was in force, faulty or not.
struct FaultCounts {
  std::uint64_t chunks = 0, delayed = 0, split = 0, dropped = 0, duplicated = 0, reset = 0;

  std::string ToString() const {
    return std::to_string(chunks) + " chunks: " + std::to_string(delayed) + " delayed, " +
           std::to_string(split) + " split, " + std::to_string(dropped) + " dropped, " +
           std::to_string(duplicated) + " duplicated, " + std::to_string(reset) + " reset";
  }
};

class TamperProxy {
 public:
  enum class Direction { kToRelay, kToClient };
  // Called with each chunk and the stream offset of its first byte; may
  // change, shorten or lengthen the chunk.
  using Tamper = std::function<void(Direction, std::size_t offset, std::string& chunk)>;

  explicit TamperProxy(std::uint16_t relay_port)
      : relay_port_(relay_port), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TamperProxy() {
    io_.stop();
    thread_.join();
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  // Applies to connections accepted from now on.
  void set_tamper(Tamper tamper) {
    std::lock_guard lock(mutex_);
    tamper_ = std::move(tamper);
  }
  // Applies at once, to open connections too: from the next chunk read, the
  // plan's faults (none with nullopt). Restarts the random sequence at the
  // plan's seed and the counts at zero.
  void set_faults(std::optional<FaultPlan> plan) {
    std::lock_guard lock(mutex_);
    plan_ = std::move(plan);
    random_.seed(plan_ ? plan_->seed : 0);
    counts_ = {};
  }
  FaultCounts fault_counts() {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  enum class FaultKind { kNone, kDelay, kSplit, kDrop, kDuplicate, kReset };
  struct Fault {
    FaultKind kind = FaultKind::kNone;
    std::chrono::milliseconds wait{0};  // before the chunk, or between pieces
    std::vector<std::size_t> cuts;      // where a split chunk is cut, ascending
  };

  // Draws the fault for the next chunk of `size` bytes.
  Fault NextFault(std::size_t size) {
    std::lock_guard lock(mutex_);
    Fault fault;
    if (!plan_) return fault;
    ++counts_.chunks;
    const double draw = std::uniform_real_distribution<double>(0, 1)(random_);
    double bound = 0;
    auto falls_in = [&](double p) { return draw < (bound += p); };
    if (falls_in(plan_->delay)) {
      fault.kind = FaultKind::kDelay;
      fault.wait = std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(
          plan_->min_delay.count(), plan_->max_delay.count())(random_));
      ++counts_.delayed;
    } else if (falls_in(plan_->split)) {
      if (size < 2) return fault;  // nothing to split
      fault.kind = FaultKind::kSplit;
      fault.wait = std::chrono::milliseconds(std::uniform_int_distribution<int>(1, 20)(random_));
      const int pieces = std::uniform_int_distribution<int>(2, 4)(random_);
      std::uniform_int_distribution<std::size_t> cut(1, size - 1);
      for (int i = 1; i < pieces; ++i) fault.cuts.push_back(cut(random_));
      std::sort(fault.cuts.begin(), fault.cuts.end());
      fault.cuts.erase(std::unique(fault.cuts.begin(), fault.cuts.end()), fault.cuts.end());
      ++counts_.split;
    } else if (falls_in(plan_->drop)) {
      fault.kind = FaultKind::kDrop;
      ++counts_.dropped;
    } else if (falls_in(plan_->duplicate)) {
      fault.kind = FaultKind::kDuplicate;
      ++counts_.duplicated;
    } else if (falls_in(plan_->reset)) {
      fault.kind = FaultKind::kReset;
      ++counts_.reset;
    }
    return fault;
  }

  // One proxied connection. Each direction reads a chunk, sends it (as the
  // fault says) and only then reads the next, so a delay never reorders.
  struct Link : std::enable_shared_from_this<Link> {
    Link(asio::io_context& io, TamperProxy& p)
        : proxy(p), client(io), relay(io), up_timer(io), down_timer(io) {}
    TamperProxy& proxy;
    asio::ip::tcp::socket client, relay;
    asio::steady_timer up_timer, down_timer;
    Tamper tamper;
    std::array<char, 4096> up{}, down{};
    std::size_t up_offset = 0, down_offset = 0;

    asio::ip::tcp::socket& From(Direction d) { return d == Direction::kToRelay ? client : relay; }
    asio::ip::tcp::socket& To(Direction d) { return d == Direction::kToRelay ? relay : client; }
    asio::steady_timer& Timer(Direction d) { return d == Direction::kToRelay ? up_timer : down_timer; }

    void Pump(Direction direction) {
      auto& buf = direction == Direction::kToRelay ? up : down;
      From(direction).async_read_some(
          asio::buffer(buf), [self = shared_from_this(), direction, &buf](asio::error_code ec, std::size_t n) {
            if (ec) {
              asio::error_code ignored;
              self->To(direction).shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
              return;
            }
            auto chunk = std::make_shared<std::string>(buf.data(), n);
            std::size_t& offset = direction == Direction::kToRelay ? self->up_offset : self->down_offset;
            if (self->tamper) self->tamper(direction, offset, *chunk);
            offset += n;
            auto fault = std::make_shared<Fault>(self->proxy.NextFault(chunk->size()));
            switch (fault->kind) {
              case FaultKind::kDrop:
                return self->Close(/*reset=*/false);
              case FaultKind::kReset:
                return self->Close(/*reset=*/true);
              case FaultKind::kDuplicate:
                *chunk += std::string(*chunk);
                break;
              case FaultKind::kDelay:
                self->Timer(direction).expires_after(fault->wait);
                self->Timer(direction).async_wait([self, direction, chunk, fault](asio::error_code e) {
                  if (!e) self->Send(direction, chunk, fault, 0);
                });
                return;
              default:
                break;
            }
            self->Send(direction, chunk, fault, 0);
          });
    }

    // Sends piece `piece` of the chunk (the whole chunk unless it is split),
    // then the next piece after the fault's wait, then reads on.
    void Send(Direction direction, std::shared_ptr<std::string> chunk, std::shared_ptr<Fault> fault,
              std::size_t piece) {
      const bool split = fault->kind == FaultKind::kSplit;
      const std::size_t begin = piece == 0 ? 0 : fault->cuts[piece - 1];
      const std::size_t end = split && piece < fault->cuts.size() ? fault->cuts[piece] : chunk->size();
      asio::async_write(
          To(direction), asio::buffer(chunk->data() + begin, end - begin),
          [self = shared_from_this(), direction, chunk, fault, piece, end](asio::error_code e, std::size_t) {
            if (e) return;
            if (end == chunk->size()) return self->Pump(direction);
            self->Timer(direction).expires_after(fault->wait);
            self->Timer(direction).async_wait([self, direction, chunk, fault, piece](asio::error_code w) {
              if (!w) self->Send(direction, chunk, fault, piece + 1);
            });
          });
    }

    // Ends the connection on both sides: what is in flight is lost.
    void Close(bool reset) {
      asio::error_code ignored;
      for (auto* socket : {&client, &relay}) {
        if (reset) socket->set_option(asio::socket_base::linger(true, 0), ignored);
        socket->close(ignored);
      }
      up_timer.cancel();
      down_timer.cancel();
    }
  };

  void Accept() {
    auto link = std::make_shared<Link>(io_, *this);
    acceptor_.async_accept(link->client, [this, link](asio::error_code ec) {
      if (ec) return;
      {
        std::lock_guard lock(mutex_);
        link->tamper = tamper_;
      }
      // Pieces of a split chunk leave as separate segments.
      asio::error_code ignored;
      link->client.set_option(asio::ip::tcp::no_delay(true), ignored);
      link->relay.async_connect({asio::ip::make_address("127.0.0.1"), relay_port_},
                                [link](asio::error_code e) {
                                  if (e) return;
                                  asio::error_code ignored;
                                  link->relay.set_option(asio::ip::tcp::no_delay(true), ignored);
                                  link->Pump(Direction::kToRelay);
                                  link->Pump(Direction::kToClient);
                                });
      Accept();
    });
  }

  std::uint16_t relay_port_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::mutex mutex_;
  // Guarded by mutex_.
  Tamper tamper_;
  std::optional<FaultPlan> plan_;
  std::mt19937_64 random_;
  FaultCounts counts_;
  std::thread thread_;
};

}  // namespace duet::testing
