// duetd's relay: accepts connections, authenticates devices, stores each
// couple's sealed records in order and fans them out to the partner.
//
// The relay never holds a key that opens a record: it links neither the
// client's record model nor its keys (DESIGN.md §2). One network thread runs
// every session (Run()); one store thread commits in groups (group_commit.h).
// Create() binds the socket, so listening() is known before Run() starts.
// Stop() may be called from any thread; Run() returns after sessions closed
// and every acknowledged write is committed.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "base/result.h"
#include "net/net.h"

namespace duet::daemon {

struct RelayOptions {
  net::Endpoint listen{"127.0.0.1", net::kDefaultPort};
  std::string db_path;
  std::string key_path;            // created 0600 when missing
  bool synchronous_full = true;    // an acknowledged record survives power loss
  std::size_t max_connections = 1024;
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds idle_timeout{300};
  std::size_t max_unauthenticated_per_address = 16;
  // All connections from one address, authenticated or not: one host cannot
  // take every slot with throwaway device keys.
  std::size_t max_connections_per_address = 64;
  // Invite lookups per source address: a burst, then one per interval.
  double invite_lookup_burst = 10;
  std::chrono::milliseconds invite_lookup_interval{6000};
  bool handle_signals = true;      // SIGINT/SIGTERM stop Run()
};

class Relay {
 public:
  static Result<std::unique_ptr<Relay>> Create(const RelayOptions& options);
  ~Relay();

  net::Endpoint listening() const;
  std::string public_key() const;  // 32 bytes, X25519
  void Run();
  void Stop();

 private:
  struct Impl;
  explicit Relay(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace duet::daemon
