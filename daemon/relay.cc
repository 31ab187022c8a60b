#include "daemon/relay.h"

#include <sys/resource.h>

#include <csignal>

#include <asio.hpp>

#include "daemon/connection.h"
#include "daemon/connection_manager.h"
#include "daemon/group_commit.h"
#include "daemon/log.h"
#include "daemon/relay_key.h"

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
  log.Write("limits", "only " + std::to_string(limit.rlim_cur) +
                          " file descriptors are allowed (ulimit -n): serving at most " +
                          std::to_string(limits.max_connections) + " connections");
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
  std::unique_ptr<GroupCommit> store;
  std::unique_ptr<ConnectionManager> connections;
  std::unique_ptr<RequestHandler> handler;
  std::unique_ptr<ConnectionContext> context;
  bool stopped = false;

  void Accept() {
    acceptor.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
      if (stopped) return;
      if (ec) {
        // Out of file descriptors (or similar): retrying at once would spin;
        // wait a little so closing connections can free some.
        log->Write("accept", "cannot accept a connection: " + ec.message());
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
  if (impl_->store) impl_->store->Stop();
}

Result<std::unique_ptr<Relay>> Relay::Create(const RelayOptions& options) {
  if (!crypto::Init()) return MakeError(ErrorKind::kInternal, "libsodium could not start");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock != nullptr ? options.clock : &impl->system_clock;
  impl->log = std::make_unique<RelayLog>(*impl->clock);
  FitConnectionsToDescriptors(impl->options.limits, *impl->log);
  auto key = LoadOrCreateRelayKey(options.key_path);
  if (!key.ok()) return key.error();
  impl->key = std::move(key).value();
  auto store = storage::RelayStore::Open(options.db_path, options.synchronous_full);
  if (!store.ok()) return store.error();

  asio::error_code ec;
  auto address = asio::ip::make_address(options.listen.host, ec);
  if (ec)
    return MakeError(ErrorKind::kInvalidInput,
                     "--listen needs an IP address, not '" + options.listen.host + "'");
  asio::ip::tcp::endpoint endpoint(address, options.listen.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return MakeError(ErrorKind::kNetwork,
                     "cannot listen on " + options.listen.ToString() + ": " + ec.message());

  // Catch the signals before anyone can learn the address: a SIGTERM sent
  // right after the "listening" line must still stop the relay cleanly.
  if (options.handle_signals) {
    impl->signals.add(SIGINT);
    impl->signals.add(SIGTERM);
  }
  const RelayLimits& limits = impl->options.limits;
  impl->store = std::make_unique<GroupCommit>(std::move(store).value(), impl->io);
  impl->connections = std::make_unique<ConnectionManager>(limits, *impl->log);
  impl->handler = std::make_unique<RequestHandler>(impl->key, *impl->clock, limits,
                                                   options.admission, *impl->store,
                                                   *impl->connections, *impl->log);
  impl->context = std::make_unique<ConnectionContext>(ConnectionContext{
      impl->key, *impl->clock, limits, *impl->connections, *impl->handler});
  return std::unique_ptr<Relay>(new Relay(std::move(impl)));
}

net::Endpoint Relay::listening() const {
  auto endpoint = impl_->acceptor.local_endpoint();
  return net::Endpoint{endpoint.address().to_string(), endpoint.port()};
}

std::string Relay::public_key() const { return impl_->key.public_key; }

void Relay::Run() {
  if (impl_->options.handle_signals) {
    impl_->signals.async_wait([this](asio::error_code ec, int) {
      if (!ec) impl_->Shutdown();
    });
  }
  impl_->Accept();
  impl_->ScheduleSweep();
  impl_->handler->PurgeExpiredInvites();
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
