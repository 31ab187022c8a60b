#include "daemon/relay.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>

#include <asio.hpp>

#include "daemon/connection.h"
#include "daemon/config.h"
#include "daemon/connection_manager.h"
#include "daemon/group_commit.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/metrics_server.h"
#include "daemon/relay_key.h"
#include "daemon/store_events.h"

namespace duet::daemon {
namespace {

// Each connection is a file descriptor; the store and the listener need a
// few more. Raises the soft limit as far as the hard one allows and, if even
// that is too low, lowers the connection limits to fit, saying so.
void FitConnectionsToDescriptors(RelayLimits& limits, RelayLog& log) {
  constexpr rlim_t kReserved = 64;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = limits.max_connections + kReserved;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur >= wanted || limit.rlim_cur <= kReserved) return;
  limits.max_connections = static_cast<std::size_t>(limit.rlim_cur - kReserved);
  limits.max_stranger_connections = std::min(limits.max_stranger_connections, limits.max_connections / 4);
  log.Write(LogLevel::kWarning, "limits", "only " + std::to_string(limit.rlim_cur) +
                          " file descriptors are allowed (ulimit -n): serving at most " +
                          std::to_string(limits.max_connections) + " connections");
}

// The folder of a file the relay creates; made 0700 when missing, like
// systemd's StateDirectory, since it holds the key and every couple's mailbox.
Status MakeFolderFor(const std::string& file) {
  const std::filesystem::path folder = std::filesystem::path(file).parent_path();
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (auto p = folder; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it)
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
      return MakeError(ErrorKind::kIo,
                       "cannot create the folder " + it->string() + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

struct Relay::Impl {
  RelayOptions options;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor{io};
  asio::signal_set signals{io};
  asio::steady_timer accept_backoff{io};
  asio::steady_timer sweep_timer{io};
  asio::steady_timer purge_timer{io};
  asio::steady_timer shutdown_grace{io};
  crypto::KxKeyPair key;
  std::unique_ptr<RelayLog> log;
  RelayMetrics metrics;
  std::unique_ptr<GroupCommit> store;
  std::unique_ptr<ConnectionManager> connections;
  std::unique_ptr<RequestHandler> handler;
  std::unique_ptr<ConnectionContext> context;
  std::unique_ptr<MetricsServer> metrics_server;
  // On a shared PostgreSQL store: hears what the other relays commit.
  std::unique_ptr<StoreEventListener> store_events;
  bool stopped = false;

  void AwaitSignal() {
    signals.async_wait([this](asio::error_code ec, int signal) {
      if (ec || stopped) return;
      if (signal == SIGHUP) {
        Reload();
        return AwaitSignal();
      }
      Shutdown();
    });
  }

  // SIGHUP: reread what may change while running. Logs go to stderr, so
  // there is no file to reopen: log rotation is journald's business.
  void Reload() {
    if (!options.reload) {
      log->Write(LogLevel::kInfo, "reload", "SIGHUP: no config file was given, nothing to reload");
      return;
    }
    auto settings = options.reload();
    if (!settings.ok()) {
      log->Write(LogLevel::kWarning, "reload",
                 "SIGHUP: kept the running settings: " + settings.error().message);
      return;
    }
    log->Configure(settings.value().log_level, settings.value().log_format);
    log->Write(LogLevel::kInfo, "reload",
               "SIGHUP: reloaded the log settings; other changes take effect at the next restart");
  }

  // GET /metrics reads the store's totals through the group commit, then
  // renders; GET /healthz proves the store takes a write.
  void Route(const std::string& path, MetricsServer::Respond respond) {
    if (path == "/metrics") {
      auto totals = std::make_shared<storage::StoreTotals>();
      store->Submit(
          [totals, now = clock->unix_seconds()](storage::RelayStore& s) -> Status {
            auto read = s.Totals(now);
            if (!read.ok()) return read.error();
            *totals = read.value();
            return Status::Ok();
          },
          [this, totals, respond](const Status& status) {
            respond(200, "text/plain; version=0.0.4; charset=utf-8",
                    RenderMetrics(status.ok() ? totals.get() : nullptr));
          });
    } else if (path == "/healthz") {
      store->Submit([now = clock->unix_seconds()](storage::RelayStore& s) { return s.RecordHealthCheck(now); },
                    [this, respond](const Status& status) {
                      if (status.ok() && !stopped) return respond(200, "text/plain", "ok\n");
                      if (!status.ok())
                        log->Write(LogLevel::kError, "health", "health check: " + status.message());
                      respond(503, "text/plain",
                              stopped ? "stopping\n" : "the store does not take writes: " + status.message() + "\n");
                    });
    } else {
      respond(404, "text/plain", "not found: try /metrics or /healthz\n");
    }
  }

  std::string RenderMetrics(const storage::StoreTotals* totals) const {
    std::string out;
    const auto counts = connections->Count();
    RenderGauges(out, "duetd_connections", "state", "Connections held now, by state.",
                 {{"handshake", static_cast<double>(counts.handshake)},
                  {"unpaired", static_cast<double>(counts.unpaired)},
                  {"paired", static_cast<double>(counts.paired)}});
    RenderSample(out, "duetd_receive_buffer_bytes", "gauge",
                 "Bytes all receive buffers hold now.", static_cast<double>(connections->receive_bytes()));
    metrics.handshakes.Render(out, "duetd_handshakes_total", "outcome",
                              "Handshakes ended, by outcome (ok, refused, bad_hello, timeout).");
    metrics.requests.Render(out, "duetd_requests_total", "kind", "Requests answered, by kind.");
    metrics.refusals.Render(out, "duetd_refusals_total", "reason",
                            "Connections closed or requests refused by a limit or a check, by reason.");
    RenderSample(out, "duetd_records_pushed_total", "counter", "Records new to the store.",
                 static_cast<double>(metrics.records_pushed));
    RenderSample(out, "duetd_pairings_total", "counter", "Couples paired.",
                 static_cast<double>(metrics.pairings));
    RenderSample(out, "duetd_received_bytes_total", "counter", "Bytes received from clients.",
                 static_cast<double>(metrics.bytes_received));
    RenderSample(out, "duetd_sent_bytes_total", "counter", "Bytes sent to clients.",
                 static_cast<double>(metrics.bytes_sent));
    RenderSample(out, "duetd_internal_errors_total", "counter",
                 "Requests answered INTERNAL (each is logged).", static_cast<double>(metrics.internal_errors));
    metrics.commit_jobs.Render(out, "duetd_commit_batch_jobs", "Jobs per group commit.");
    metrics.commit_seconds.Render(out, "duetd_commit_duration_seconds",
                                  "Time from a group commit's start to its durable end.");
    RenderSample(out, "duetd_store_readable", "gauge", "1 when the store answered this scrape.",
                 totals != nullptr ? 1 : 0);
    if (totals != nullptr) {
      RenderSample(out, "duetd_couples", "gauge", "Couples stored.", static_cast<double>(totals->couples));
      RenderSample(out, "duetd_devices", "gauge", "Devices known.", static_cast<double>(totals->devices));
      RenderSample(out, "duetd_records", "gauge", "Records stored.", static_cast<double>(totals->records));
      RenderSample(out, "duetd_record_bytes", "gauge", "Bytes of records stored.",
                   static_cast<double>(totals->bytes));
      RenderSample(out, "duetd_pending_invites", "gauge", "Invites waiting for an answer.",
                   static_cast<double>(totals->pending_invites));
    }
    return out;
  }

  void Accept() {
    acceptor.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
      if (stopped) return;
      if (ec) {
        // Out of file descriptors (or similar): retrying at once would spin;
        // wait a little so closing connections can free some.
        log->Write(LogLevel::kError, "accept", "cannot accept a connection: " + ec.message());
        accept_backoff.expires_after(std::chrono::milliseconds(100));
        accept_backoff.async_wait([this](asio::error_code e) {
          if (!e && !stopped) Accept();
        });
        return;
      }
      asio::error_code peer_error;
      const auto peer = socket.remote_endpoint(peer_error);
      const std::string address = peer_error ? std::string() : peer.address().to_string();
      if (peer_error || !connections->Admit(address)) {
        asio::error_code ignored;
        socket.close(ignored);  // over a limit: refuse rather than queue
      } else {
        auto connection = std::make_shared<Connection>(std::move(socket), address,
                                                       connections->NextSerial(), *context);
        connections->Add(connection);
        connection->Start();
      }
      Accept();
    });
  }

  void ScheduleSweep() {
    sweep_timer.expires_after(options.sweep_interval);
    sweep_timer.async_wait([this](asio::error_code ec) {
      if (ec || stopped) return;
      connections->Sweep(clock->steady());
      ScheduleSweep();
    });
  }

  void SchedulePurge() {
    purge_timer.expires_after(std::chrono::hours(1));
    purge_timer.async_wait([this](asio::error_code ec) {
      if (ec || stopped) return;
      handler->PurgeExpiredInvites();
      SchedulePurge();
    });
  }

  void Shutdown() {
    if (stopped) return;
    stopped = true;
    asio::error_code ignored;
    acceptor.close(ignored);
    accept_backoff.cancel();
    sweep_timer.cancel();
    purge_timer.cancel();
    signals.cancel(ignored);
    if (metrics_server) metrics_server->Stop();
    connections->FinishAll();
    // A peer that does not read would keep its goodbye unwritten, and Run()
    // from returning: after a grace period whatever is left is closed.
    AwaitGoodbyes(50);
  }

  // Checks every 100 ms whether every connection has ended, `ticks` times,
  // then closes what is left (a pending timer would keep Run() going).
  void AwaitGoodbyes(int ticks) {
    if (connections->open() == 0) return;
    if (ticks == 0) return connections->CloseEverything();
    shutdown_grace.expires_after(std::chrono::milliseconds(100));
    shutdown_grace.async_wait([this, ticks](asio::error_code ec) {
      if (!ec) AwaitGoodbyes(ticks - 1);
    });
  }
};

Relay::Relay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Relay::~Relay() {
  if (impl_->store_events) impl_->store_events->Stop();
  if (impl_->store) impl_->store->Stop();
}

Result<std::unique_ptr<Relay>> Relay::Create(const RelayOptions& options) {
  if (!crypto::Init()) return MakeError(ErrorKind::kInternal, "libsodium could not start");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock != nullptr ? options.clock : &impl->system_clock;
  impl->log = std::make_unique<RelayLog>(*impl->clock);
  impl->log->Configure(options.log.log_level, options.log.log_format);
  FitConnectionsToDescriptors(impl->options.limits, *impl->log);

  // The sockets first: a port already taken must leave no file behind.
  DUET_RETURN_IF_ERROR(Listen(impl->acceptor, options.listen, "--listen"));
  if (options.metrics) {
    auto server = MetricsServer::Create(
        impl->io, *options.metrics,
        [impl = impl.get()](const std::string& path, MetricsServer::Respond respond) {
          impl->Route(path, std::move(respond));
        });
    if (!server.ok()) return server.error();
    impl->metrics_server = std::move(server).value();
  }
  DUET_RETURN_IF_ERROR(MakeFolderFor(options.key_path));
  if (options.postgres.empty()) DUET_RETURN_IF_ERROR(MakeFolderFor(options.db_path));
  auto next_key = LoadRelayKey(NextKeyPath(options.key_path));
  if (!next_key.ok()) return next_key.error();
  if (next_key.value() && !std::filesystem::exists(options.key_path))
    return MakeError(ErrorKind::kIo, "a key promotion was interrupted (" + NextKeyPath(options.key_path) +
                                         " is there, " + options.key_path +
                                         " is not): run `duetd key promote` again");
  auto key = LoadOrCreateRelayKey(options.key_path);
  if (!key.ok()) return key.error();
  impl->key = std::move(key).value();
  // While a rotation is under way, clients learn the next key (protocol.md §3.1).
  const std::string next_public = next_key.value() ? next_key.value()->public_key : std::string();
  // A name for this process among the relays on a shared store.
  const std::string origin = crypto::Hex(crypto::RandomBytes(8));
  std::vector<std::unique_ptr<storage::RelayStore>> stores;
  const int store_connections = options.postgres.empty() ? 1 : std::max(1, options.store_connections);
  for (int i = 0; i < store_connections; ++i) {
    auto store =
        OpenRelayStore(options.db_path, options.postgres, options.synchronous_full, options.store_vfs, origin);
    if (!store.ok()) return store.error();
    stores.push_back(std::move(store).value());
  }
  // A store an older duetd made may be readable by other users: private now.
  for (const std::string& file : {options.db_path, options.db_path + "-wal", options.db_path + "-shm"}) {
    if (!options.postgres.empty()) break;
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0 && ::chmod(file.c_str(), 0600) == 0)
      impl->log->Write(LogLevel::kWarning, "files",
                       "made " + file + " readable by its owner only (it was readable by others)");
  }

  // Catch the signals before anyone can learn the address: a SIGTERM sent
  // right after the "listening" line must still stop the relay cleanly.
  if (options.handle_signals) {
    impl->signals.add(SIGINT);
    impl->signals.add(SIGTERM);
    impl->signals.add(SIGHUP);
  }
  const RelayLimits& limits = impl->options.limits;
  impl->store = std::make_unique<GroupCommit>(std::move(stores), impl->io, &impl->metrics);
  impl->connections = std::make_unique<ConnectionManager>(limits, *impl->log, impl->metrics);
  impl->handler = std::make_unique<RequestHandler>(impl->key, *impl->clock, limits,
                                                   options.admission, *impl->store,
                                                   *impl->connections, *impl->log, next_public);
  impl->context = std::make_unique<ConnectionContext>(ConnectionContext{
      impl->key, *impl->clock, limits, *impl->connections, *impl->handler});
  if (!options.postgres.empty()) {
    Impl* relay = impl.get();
    impl->store_events = std::make_unique<StoreEventListener>(
        [conninfo = options.postgres, origin] { return storage::ListenToPostgresStore(conninfo, origin); }, impl->io,
        StoreEventListener::Handlers{
            [relay](std::vector<storage::StoreEvent> events) {
              if (!relay->stopped) relay->handler->StoreChanged(events);
            },
            [relay] {
              relay->log->Write(LogLevel::kInfo, "store_events", "listening to the other relays on the store");
              if (!relay->stopped) relay->handler->CatchUpAll();
            },
            [relay](const std::string& why) {
              relay->log->Write(LogLevel::kWarning, "store_events",
                                why + "; devices here hear of other relays' records when they sync, until it is back");
            }});
  }
  return std::unique_ptr<Relay>(new Relay(std::move(impl)));
}

Result<std::unique_ptr<storage::RelayStore>> OpenRelayStore(const std::string& db_path, const std::string& postgres,
                                                             bool synchronous_full, const std::string& vfs,
                                                             const std::string& origin) {
  if (postgres.empty()) return storage::RelayStore::Open(db_path, synchronous_full, vfs);
  // PostgreSQL acknowledges a COMMIT once it is durable (synchronous_commit
  // on, its default); `sync` is the SQLite file's setting.
  return storage::OpenPostgresRelayStore(postgres, origin);
}

Result<std::string> CopyStore(const std::string& from, const std::string& to) {
  auto source = ParseStoreLocation(from);
  if (!source.ok()) return MakeError(ErrorKind::kInvalidInput, "--from: " + source.error().message);
  auto destination = ParseStoreLocation(to);
  if (!destination.ok()) return MakeError(ErrorKind::kInvalidInput, "--to: " + destination.error().message);
  if (from == to) return MakeError(ErrorKind::kInvalidInput, "--from and --to name the same store");
  // Opening an SQLite store that is not there would make an empty one.
  if (!source->db_path.empty() && !std::filesystem::exists(source->db_path))
    return MakeError(ErrorKind::kNotFound, "--from: there is no relay store at " + source->db_path);
  const bool made_file = !destination->db_path.empty() && !std::filesystem::exists(destination->db_path);
  if (!destination->db_path.empty()) DUET_RETURN_IF_ERROR(MakeFolderFor(destination->db_path));
  auto copied = [&]() -> Result<std::vector<std::pair<std::string, std::uint64_t>>> {
    auto read = OpenRelayStore(source->db_path, source->postgres, /*synchronous_full=*/true);
    if (!read.ok()) return MakeError(read.error().kind, "--from: " + read.error().message);
    auto write = OpenRelayStore(destination->db_path, destination->postgres, /*synchronous_full=*/true);
    if (!write.ok()) return MakeError(write.error().kind, "--to: " + write.error().message);
    return storage::CopyRelayStore(*read.value(), *write.value());
  }();
  if (!copied.ok()) {
    if (made_file)
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(destination->db_path + suffix);
    return MakeError(copied.error().kind, "nothing was copied: " + copied.error().message);
  }
  std::map<std::string, std::uint64_t> rows(copied.value().begin(), copied.value().end());
  // The URL is not repeated: it may hold a password.
  return "copied " + std::to_string(rows["couples"]) + " couples, " + std::to_string(rows["devices"]) +
         " devices, " + std::to_string(rows["records"]) + " records, " + std::to_string(rows["invites"]) +
         " invites and " + std::to_string(rows["relay_tokens"]) + " tokens into " +
         (destination->db_path.empty() ? std::string("the PostgreSQL store") : destination->db_path) +
         "; serve it with the same key file, and the couples keep their pairing";
}

net::Endpoint Relay::listening() const {
  auto endpoint = impl_->acceptor.local_endpoint();
  return net::Endpoint{endpoint.address().to_string(), endpoint.port()};
}

std::optional<net::Endpoint> Relay::metrics_listening() const {
  if (!impl_->metrics_server) return std::nullopt;
  return impl_->metrics_server->listening();
}

std::string Relay::public_key() const { return impl_->key.public_key; }

void Relay::Run() {
  const RelayOptions& o = impl_->options;
  impl_->log->Write(LogLevel::kInfo, "start",
                    "serving on " + listening().ToString() + " (" +
                        (o.admission == Admission::kOpen ? "open" : "invite-only") + ", sync " +
                        (o.synchronous_full ? "full" : "normal") + ", at most " +
                        std::to_string(o.limits.max_connections) + " connections)" +
                        (impl_->metrics_server ? ", metrics on " + impl_->metrics_server->listening().ToString()
                                               : std::string()));
  if (impl_->options.handle_signals) impl_->AwaitSignal();
  // What is past its time goes before any device is served: with several
  // store connections a request could otherwise read it on another one
  // while the purge runs (connections wait in the listen queue meanwhile).
  impl_->handler->PurgeExpiredInvites([this] {
    if (!impl_->stopped) impl_->Accept();
  });
  if (impl_->metrics_server) impl_->metrics_server->Start();
  impl_->ScheduleSweep();
  impl_->SchedulePurge();
  impl_->io.run();
  // Connections are closed; finish what the store has, so nothing
  // acknowledged or half-done is left behind.
  impl_->store->Stop();
}

void Relay::Stop() {
  asio::post(impl_->io, [this] { impl_->Shutdown(); });
}

void Relay::Sweep() {
  asio::post(impl_->io, [this] { impl_->connections->Sweep(impl_->clock->steady()); });
}

}  // namespace duet::daemon
