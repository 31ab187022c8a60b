// Who is connected, and the fair limits on it (docs/reliability.md):
// admission per address and per pool, shedding, the receive-memory budget,
// deadlines, and which connections belong to which couple (so a commit is
// fanned out to the partner at once). Two pools: strangers (not yet
// authenticated, or a device nobody paired with) and paired devices. When
// the stranger pool or the whole table is full, the oldest stranger is shed
// to admit a newcomer, so a real device's fresh connection outlives a
// flood of older ones and a paired device is never refused while strangers
// hold slots. Network thread only; owns the connections (Asio's HTTP server
// example calls this the connection manager).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/connection.h"
#include "daemon/log.h"
#include "daemon/metrics.h"

namespace duet::daemon {

class ConnectionManager {
 public:
  ConnectionManager(const RelayLimits& limits, RelayLog& log, RelayMetrics& metrics)
      : limits_(limits), log_(log), metrics_(metrics) {}

  // Whether a connection from `address` may open now; may shed the oldest
  // stranger to make room. False: refuse it (close without a word).
  bool Admit(const std::string& address);
  std::uint64_t NextSerial() { return ++serial_; }
  void Add(const std::shared_ptr<Connection>& connection);
  // The connection joined a couple: it leaves the stranger pool. A couple
  // over its own cap loses its oldest other connection. `seen_seq`: the
  // couple's latest record when it paired (where the couple's feed starts
  // if it is the couple's first connection here).
  void Paired(const std::shared_ptr<Connection>& connection, std::uint64_t seen_seq);
  // The connection authenticated: it no longer counts against its address's
  // handshake limit.
  void Authenticated(const Connection& connection);
  // Called by Connection::Close(): forgets it everywhere.
  void Forget(const Connection& connection);

  // Recounts the connection's receive memory. Over the budget, the newest
  // stranger holding memory is shed, and a paired connection that still
  // does not fit is closed. False when `connection` itself was closed.
  bool Charge(const Connection& connection);

  // Closes every connection past its deadline (handshake, frame or idle);
  // one waiting on the store is left alone until it is answered.
  void Sweep(Clock::TimePoint now);
  // Ends every connection in order (shutdown).
  void FinishAll();
  // Closes every connection at once (shutdown, after a grace period).
  void CloseEverything();

  std::vector<std::shared_ptr<Connection>> CoupleMembers(const std::string& couple_id) const;

  // How far this relay has sent a couple's log to the couple's connections
  // here: every record up to `delivered` was sent to them, or was stored
  // when they paired. Records that other relays store move it on
  // (RequestHandler::CatchUp).
  struct CoupleFeed {
    std::uint64_t delivered = 0;
    bool reading = false;  // a catch-up read is under way
    bool again = false;    // and another was asked for meanwhile
  };
  // Null when none of the couple's connections is here.
  CoupleFeed* FeedOf(const std::string& couple_id);
  std::vector<std::string> CouplesHeld() const;

  std::size_t open() const { return connections_.size(); }
  std::size_t strangers() const { return strangers_; }
  std::size_t receive_bytes() const { return receive_bytes_; }
  RelayLog& log() { return log_; }
  RelayMetrics& metrics() { return metrics_; }

  struct Counts {
    std::size_t handshake = 0;  // not yet authenticated
    std::size_t unpaired = 0;   // authenticated, no couple yet
    std::size_t paired = 0;
  };
  Counts Count() const;

 private:
  struct Entry {
    std::shared_ptr<Connection> connection;
    std::size_t charged = 0;
    bool in_handshake = true;
  };
  // Counted as connections come and go, not by walking them all: a storm of
  // reconnections would make each admission cost every connection held.
  struct AddressCounts {
    std::size_t open = 0;
    std::size_t in_handshake = 0;
  };
  std::shared_ptr<Connection> OldestStranger() const;
  void CloseAll(const std::vector<std::shared_ptr<Connection>>& victims);

  const RelayLimits& limits_;
  RelayLog& log_;
  RelayMetrics& metrics_;
  std::uint64_t serial_ = 0;
  std::map<std::uint64_t, Entry> connections_;  // by serial: oldest first
  std::unordered_map<std::string, AddressCounts> by_address_;
  std::size_t strangers_ = 0;
  std::size_t receive_bytes_ = 0;
  struct Couple {
    std::vector<std::shared_ptr<Connection>> members;
    CoupleFeed feed;
  };
  std::unordered_map<std::string, Couple> couples_;
};

}  // namespace duet::daemon
