#include <array>

#include <asio.hpp>

#include "net/net.h"
#include "crypto/channel.h"
#include "proto/frame_codec.h"

namespace duet::net {

struct EventLoop::Impl {
  asio::io_context io;
};

EventLoop::EventLoop() : impl_(std::make_shared<Impl>()) {}

struct FramedClient::Impl {
  explicit Impl(std::shared_ptr<EventLoop::Impl> shared) : loop(std::move(shared)) {}
  std::shared_ptr<EventLoop::Impl> loop;
  asio::io_context& io = loop->io;
  asio::ip::tcp::socket socket{io};
  proto::FrameDecoder decoder{proto::kChannelOverheadBytes, proto::kMaxSealedFrameBytes};
  std::array<char, 16 * 1024> buffer{};
  crypto::StreamSender sender;
  crypto::StreamReceiver receiver;
  std::string relay_key;
  std::string channel_hash;
  bool broken = false;

  // Runs one asynchronous operation until it completes or `timeout` passes;
  // a timed-out operation closes the socket, since its state is unknown.
  template <typename Start>
  asio::error_code RunWithDeadline(Start start, std::chrono::milliseconds timeout,
                                   std::size_t* transferred = nullptr) {
    asio::error_code result;
    bool done = false;
    start([&](asio::error_code ec, std::size_t n) {
      result = ec;
      done = true;
      if (transferred != nullptr) *transferred = n;
    });
    io.restart();
    io.run_for(timeout);
    if (!done) {
      asio::error_code ignored;
      socket.close(ignored);
      io.restart();
      io.run();
      broken = true;
      return asio::error::timed_out;
    }
    if (result) broken = true;
    return result;
  }
};

FramedClient::FramedClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FramedClient::~FramedClient() {
  if (impl_->broken) return;
  const std::string final = proto::LengthPrefixed(impl_->sender.Seal({}, /*final=*/true));
  impl_->RunWithDeadline(
      [&](auto handler) { asio::async_write(impl_->socket, asio::buffer(final), handler); },
      std::chrono::milliseconds(200));
}

const std::string& FramedClient::relay_key() const { return impl_->relay_key; }
const std::string& FramedClient::channel_hash() const { return impl_->channel_hash; }

Result<std::unique_ptr<FramedClient>> FramedClient::Connect(const Endpoint& endpoint,
                                                            std::chrono::milliseconds timeout,
                                                            const crypto::PinnedRelayKeys& pinned_relay_keys,
                                                            const std::string& source_address,
                                                            const EventLoop& loop) {
  auto impl = std::make_unique<Impl>(loop.impl_);
  asio::ip::tcp::resolver resolver(impl->io);
  asio::error_code ec;
  auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port),
                                  asio::ip::resolver_base::numeric_service, ec);
  if (ec)
    return MakeError(ErrorKind::kNetwork,
                     "cannot resolve relay " + endpoint.ToString() + ": " + ec.message());
  if (source_address.empty()) {
    ec = impl->RunWithDeadline(
        [&](auto handler) {
          asio::async_connect(impl->socket, results,
                              [handler](asio::error_code e, const asio::ip::tcp::endpoint&) mutable {
                                handler(e, 0);
                              });
        },
        timeout);
  } else {
    // A range connect reopens the socket per address and would lose the bind.
    const asio::ip::tcp::endpoint target = *results.begin();
    const auto source = asio::ip::make_address(source_address, ec);
    if (!ec) impl->socket.open(target.protocol(), ec);
    if (!ec) impl->socket.bind({source, 0}, ec);
    if (!ec)
      ec = impl->RunWithDeadline(
          [&](auto handler) {
            impl->socket.async_connect(target, [handler](asio::error_code e) mutable { handler(e, 0); });
          },
          timeout);
  }
  if (ec)
    return MakeError(ErrorKind::kNetwork,
                     "cannot reach relay " + endpoint.ToString() + ": " + ec.message());
  impl->socket.set_option(asio::ip::tcp::no_delay(true), ec);

  // The channel handshake (docs/protocol.md §1.1).
  crypto::ClientHandshake handshake;
  const std::string hello = handshake.Hello();
  ec = impl->RunWithDeadline(
      [&](auto handler) { asio::async_write(impl->socket, asio::buffer(hello), handler); },
      timeout);
  std::string server_hello(crypto::kServerHelloBytes, '\0');
  if (!ec)
    ec = impl->RunWithDeadline(
        [&](auto handler) { asio::async_read(impl->socket, asio::buffer(server_hello), handler); },
        timeout);
  if (ec)
    return MakeError(ErrorKind::kNetwork, "relay " + endpoint.ToString() +
                                              " did not complete the handshake: " + ec.message());
  auto header = handshake.Finish(server_hello, pinned_relay_keys, &impl->relay_key, &impl->sender,
                                 &impl->receiver);
  if (!header.ok()) {
    impl->broken = true;
    return MakeError(header.error().kind, "relay " + endpoint.ToString() + " " + header.error().message);
  }
  impl->channel_hash = handshake.transcript_hash();
  ec = impl->RunWithDeadline(
      [&](auto handler) { asio::async_write(impl->socket, asio::buffer(header.value()), handler); },
      timeout);
  if (ec) return MakeError(ErrorKind::kNetwork, "lost relay " + endpoint.ToString() + ": " + ec.message());
  return std::unique_ptr<FramedClient>(new FramedClient(std::move(impl)));
}

Status FramedClient::Send(const v1::Frame& frame, std::chrono::milliseconds timeout) {
  if (impl_->broken) return MakeError(ErrorKind::kNetwork, "connection to the relay was lost");
  std::string plain = proto::SerializeFrame(frame);
  if (plain.empty()) return MakeError(ErrorKind::kInvalidInput, "message too large to send");
  const std::string wire = proto::LengthPrefixed(impl_->sender.Seal(plain));
  crypto::WipeString(plain);
  auto ec = impl_->RunWithDeadline(
      [&](auto handler) { asio::async_write(impl_->socket, asio::buffer(wire), handler); },
      timeout);
  if (ec) return MakeError(ErrorKind::kNetwork, "lost the relay while sending: " + ec.message());
  return Status::Ok();
}

Result<v1::Frame> FramedClient::Receive(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  v1::Frame frame;
  std::string payload;
  std::string why;
  for (;;) {
    switch (impl_->decoder.NextPayload(&payload, &why)) {
      case proto::FrameDecoder::Outcome::kFrame: {
        bool final = false;
        auto plain = impl_->receiver.Open(payload, &final);
        if (!plain) {
          impl_->broken = true;
          return MakeError(ErrorKind::kProtocol,
                           "a frame from the relay did not decrypt (altered, dropped or replayed "
                           "in transit); connection closed");
        }
        if (final) {
          impl_->broken = true;
          return MakeError(ErrorKind::kNetwork, "the relay closed the connection");
        }
        const bool parsed = proto::ParseFrame(*plain, &frame, &why);
        crypto::WipeString(*plain);
        if (!parsed) {
          impl_->broken = true;
          return MakeError(ErrorKind::kProtocol, "relay sent a bad frame: " + why);
        }
        return frame;
      }
      case proto::FrameDecoder::Outcome::kBad:
        impl_->broken = true;
        return MakeError(ErrorKind::kProtocol, "relay sent a bad frame: " + why);
      case proto::FrameDecoder::Outcome::kNeedMore:
        break;
    }
    if (impl_->broken) return MakeError(ErrorKind::kNetwork, "connection to the relay was lost");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0)
      return MakeError(ErrorKind::kNetwork, "the relay did not answer in time");
    std::size_t n = 0;
    auto ec = impl_->RunWithDeadline(
        [&](auto handler) { impl_->socket.async_read_some(asio::buffer(impl_->buffer), handler); },
        left, &n);
    if (ec == asio::error::eof)
      return MakeError(ErrorKind::kNetwork,
                       "the relay closed the connection without ending the stream");
    if (ec == asio::error::timed_out)
      return MakeError(ErrorKind::kNetwork, "the relay did not answer in time");
    if (ec) return MakeError(ErrorKind::kNetwork, "lost the relay: " + ec.message());
    impl_->decoder.Append(std::string_view(impl_->buffer.data(), n));
  }
}

Result<v1::Frame> FramedClient::Call(v1::Frame request, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::uint64_t id = next_request_id_++;
  request.set_request_id(id);
  DUET_RETURN_IF_ERROR(Send(request, timeout));
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto frame = Receive(std::max(left, std::chrono::milliseconds(1)));
    if (!frame.ok()) return frame;
    if (frame->request_id() == id) return frame;
    if (frame->request_id() == 0 && !frame->has_error()) {
      // Deliveries are hints (the next pull fetches what they carried): a
      // relay that floods them must not grow this queue without bound.
      if (unsolicited_.size() >= kMaxUnsolicitedFrames) unsolicited_.pop_front();
      unsolicited_.push_back(std::move(frame).value());
      continue;
    }
    if (frame->has_error()) return frame;  // connection-level error (request_id 0)
    return MakeError(ErrorKind::kProtocol, "relay answered a request that was not asked");
  }
}

std::deque<v1::Frame> FramedClient::TakeUnsolicited() { return std::exchange(unsolicited_, {}); }

bool FramedClient::WaitForData(std::chrono::milliseconds timeout) {
  if (!unsolicited_.empty() || impl_->decoder.buffered() > 0 || impl_->broken) return true;
  bool done = false;
  bool ready = false;
  impl_->socket.async_wait(asio::ip::tcp::socket::wait_read, [&](asio::error_code ec) {
    done = true;
    ready = ec != asio::error::operation_aborted;
  });
  impl_->io.restart();
  // run_for(0) would return before asking the socket anything; poll() asks.
  if (timeout.count() <= 0) impl_->io.poll();
  else impl_->io.run_for(timeout);
  if (!done) {
    // Only the wait is abandoned; the socket and the streams stay as they were.
    asio::error_code ignored;
    impl_->socket.cancel(ignored);
    impl_->io.restart();
    impl_->io.run();
  }
  return ready;
}

int FramedClient::native_handle() { return impl_->socket.native_handle(); }

}  // namespace duet::net
