// duetd's relay: accepts connections, authenticates devices, stores each
// couple's sealed records in order and fans them out to the partner.
//
// The relay never holds a key that opens a record: it links neither the
// client's record model nor its keys (DESIGN.md §2). Its parts: this server
// (the acceptor, signals and housekeeping), the ConnectionManager (who is
// connected, and the fair limits), Connection (one socket's channel and
// frames), the RequestHandler (what each request does) and GroupCommit (the
// one thread that owns the store). One network thread runs all but the
// store (Run()). Create() binds the sockets before it creates any file (a
// port already taken leaves nothing behind), so listening() is known before
// Run() starts. Stop() may be called from any thread; Run() returns after
// connections closed and every acknowledged write is committed.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "daemon/clock.h"
#include "daemon/limits.h"
#include "daemon/log.h"
#include "daemon/request_handler.h"
#include "net/net.h"
#include "storage/relay_store.h"

namespace duet::daemon {

// What a SIGHUP may change while the relay runs; the rest needs a restart.
struct ReloadableSettings {
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
};

// Opens the relay's store: the PostgreSQL database `postgres` when given,
// else the SQLite file at `db_path` (`vfs`: a registered SQLite VFS, or
// empty for the system's).
// `origin`: how this relay names itself to the others on a shared store.
Result<std::unique_ptr<storage::RelayStore>> OpenRelayStore(const std::string& db_path, const std::string& postgres,
                                                             bool synchronous_full, const std::string& vfs = {},
                                                             const std::string& origin = {});

// `duetd store copy`: everything the store `from` holds into the empty
// store `to` (each "sqlite:PATH" or a PostgreSQL URL); says what it copied.
// A failed copy leaves `to` as it was (an SQLite file it made is removed).
Result<std::string> CopyStore(const std::string& from, const std::string& to);

struct RelayOptions {
  net::Endpoint listen{"127.0.0.1", net::kDefaultPort};  // the host may be a name
  std::string db_path;             // its folder is created 0700 when missing
  // A PostgreSQL database (its postgresql:// URL) instead of the SQLite
  // file: several relays may share it. Empty: the file at db_path.
  std::string postgres;
  // Connections to the PostgreSQL store, each committing its own batches
  // (GroupCommit's lanes); an SQLite store takes one writer, so always 1.
  int store_connections = 1;
  std::string key_path;            // created 0600 when missing
  bool synchronous_full = true;    // an acknowledged record survives power loss
  Admission admission = Admission::kOpen;
  RelayLimits limits;
  // Deadlines and expiry read this clock; null means the system's. Tests
  // pass a ManualClock and call Sweep() after moving it.
  const Clock* clock = nullptr;
  // How often deadlines are checked (the clock decides whether one passed).
  std::chrono::milliseconds sweep_interval{250};
  bool handle_signals = true;      // SIGINT/SIGTERM stop Run(); SIGHUP reloads
  // Where /metrics and /healthz are served over HTTP; none: not at all.
  std::optional<net::Endpoint> metrics;
  ReloadableSettings log;
  // A registered SQLite VFS for the store; empty: the system's. Tests pass
  // one that fails on demand (tests/fault/fault_vfs.h).
  std::string store_vfs;
  // Rereads the config file on SIGHUP; an error keeps the running settings
  // (and is logged). None: SIGHUP is logged and changes nothing.
  std::function<Result<ReloadableSettings>()> reload;
};

class Relay {
 public:
  static Result<std::unique_ptr<Relay>> Create(const RelayOptions& options);
  ~Relay();

  net::Endpoint listening() const;
  std::optional<net::Endpoint> metrics_listening() const;
  std::string public_key() const;  // 32 bytes, X25519
  void Run();
  void Stop();
  // Checks every connection's deadline now (any thread).
  void Sweep();

 private:
  struct Impl;
  explicit Relay(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace duet::daemon
