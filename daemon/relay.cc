#include "daemon/relay.h"

#include <csignal>
#include <cstdio>

#include <asio.hpp>

#include "daemon/group_commit.h"
#include "daemon/relay_key.h"
#include "daemon/session.h"
#include "daemon/session_registry.h"

namespace duet::daemon {

struct Relay::Impl {
  RelayOptions options;
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor{io};
  asio::signal_set signals{io};
  asio::steady_timer accept_backoff{io};
  crypto::KxKeyPair key;
  std::unique_ptr<GroupCommit> store;
  SessionRegistry registry;
  std::unique_ptr<RateLimiter> invite_lookups;
  std::unique_ptr<RelayContext> context;
  bool stopped = false;

  void Accept() {
    acceptor.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
      if (stopped) return;
      if (ec) {
        // Out of file descriptors (or similar): retrying at once would spin;
        // wait a little so closing connections can free some.
        accept_backoff.expires_after(std::chrono::milliseconds(100));
        accept_backoff.async_wait([this](asio::error_code e) {
          if (!e && !stopped) Accept();
        });
        return;
      }
      asio::error_code peer_error;
      const auto peer = socket.remote_endpoint(peer_error);
      const std::string address = peer_error ? std::string() : peer.address().to_string();
      if (peer_error || registry.open_sessions() >= options.max_connections ||
          registry.FromAddress(address) >= options.max_connections_per_address ||
          registry.Unauthenticated(address) >= options.max_unauthenticated_per_address) {
        asio::error_code ignored;
        socket.close(ignored);  // over a limit: refuse rather than queue
      } else {
        auto session = std::make_shared<Session>(std::move(socket), *context);
        registry.Add(session);
        session->Start();
      }
      Accept();
    });
  }

  void Shutdown() {
    if (stopped) return;
    stopped = true;
    asio::error_code ignored;
    acceptor.close(ignored);
    accept_backoff.cancel();
    signals.cancel(ignored);
    for (const auto& session : registry.All()) session->Finish();
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
  impl->store = std::make_unique<GroupCommit>(std::move(store).value(), impl->io);
  impl->invite_lookups =
      std::make_unique<RateLimiter>(options.invite_lookup_burst, options.invite_lookup_interval);
  impl->context = std::make_unique<RelayContext>(RelayContext{
      impl->key, impl->io, *impl->store, impl->registry, options.handshake_timeout,
      options.idle_timeout, *impl->invite_lookups});
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
  impl_->io.run();
  // Sessions are closed; finish what the store has, so nothing acknowledged
  // or half-done is left behind.
  impl_->store->Stop();
}

void Relay::Stop() {
  asio::post(impl_->io, [this] { impl_->Shutdown(); });
}

}  // namespace duet::daemon
