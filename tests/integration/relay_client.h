// A device speaking the wire protocol by hand (net::FramedClient plus the
// hello, authentication, pairing and envelope signing of docs/protocol.md),
// for tests that drive the relay directly rather than through `duet`.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <asio.hpp>

#include "crypto/channel.h"
#include "crypto/crypto.h"
#include "net/net.h"
#include "proto/envelope.h"
#include "proto/frame_codec.h"

namespace duet::testing {

using net::HelloAndAuthenticate;

inline v1::RecordEnvelope SignedEnvelope(const crypto::SigningKeyPair& author,
                                         const std::string& couple, std::size_t ciphertext_bytes = 256 + 16) {
  v1::RecordEnvelope envelope;
  envelope.set_couple_id(couple);
  envelope.set_record_id(crypto::RandomBytes(16));
  envelope.set_author_key(author.public_key);
  envelope.set_nonce(crypto::RandomBytes(24));
  envelope.set_key_id(crypto::RandomBytes(8));
  envelope.set_ciphertext(crypto::RandomBytes(ciphertext_bytes));
  envelope.set_signature(crypto::Sign(author, proto::EnvelopeSignedBytes(envelope)));
  return envelope;
}

inline v1::Frame CreateInviteFrame(const std::string& invite_id, const std::string& couple_id,
                                   const std::string& relay_token = {}) {
  v1::Frame create;
  create.mutable_create_invite()->set_invite_id(invite_id);
  create.mutable_create_invite()->set_couple_id(couple_id);
  create.mutable_create_invite()->set_sealed_offer("offer");
  create.mutable_create_invite()->set_ttl_seconds(3600);
  create.mutable_create_invite()->set_relay_token(relay_token);
  return create;
}

inline v1::Frame AnswerInviteFrame(const std::string& invite_id) {
  v1::Frame answer;
  answer.mutable_answer_invite()->set_invite_id(invite_id);
  answer.mutable_answer_invite()->set_sealed_answer("answer");
  return answer;
}

inline v1::Frame PushFrame(const crypto::SigningKeyPair& author, const std::string& couple,
                           int records) {
  v1::Frame push;
  for (int i = 0; i < records; ++i) *push.mutable_push()->add_records() = SignedEnvelope(author, couple);
  return push;
}

// A hand-driven channel, to send what a well-behaved client never would:
// half a frame, a byte at a time. Never throws: a relay that closes it
// shows as a failed Authenticate or SendByte, or ClosedByRelay().
struct RawChannel {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  crypto::ClientHandshake handshake;
  crypto::StreamSender sender;
  crypto::StreamReceiver receiver;
  proto::FrameDecoder decoder{proto::kChannelOverheadBytes, proto::kMaxSealedFrameBytes};
  bool up = false;

  RawChannel(std::uint16_t port, const std::string& from) {
    asio::error_code ec;
    socket.open(asio::ip::tcp::v4(), ec);
    if (!ec) socket.bind({asio::ip::make_address(from), 0}, ec);
    if (!ec) socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) asio::write(socket, asio::buffer(handshake.Hello()), ec);
    std::string server_hello(crypto::kServerHelloBytes, '\0');
    if (!ec) asio::read(socket, asio::buffer(server_hello), ec);
    if (ec) return;
    std::string key;
    auto header = handshake.Finish(server_hello, "", &key, &sender, &receiver);
    if (!header.ok()) return;
    asio::write(socket, asio::buffer(header.value()), ec);
    up = !ec;
  }
  bool Send(const v1::Frame& frame) {
    asio::error_code ec;
    asio::write(socket, asio::buffer(proto::LengthPrefixed(sender.Seal(proto::SerializeFrame(frame)))), ec);
    return !ec;
  }
  // The next frame, or none when the relay closed the connection.
  std::optional<v1::Frame> Receive() {
    std::string payload, why;
    std::array<char, 4096> buffer{};
    while (decoder.NextPayload(&payload, &why) != proto::FrameDecoder::Outcome::kFrame) {
      asio::error_code ec;
      const std::size_t n = socket.read_some(asio::buffer(buffer), ec);
      if (ec) return std::nullopt;
      decoder.Append(std::string_view(buffer.data(), n));
    }
    bool final = false;
    auto plain = receiver.Open(payload, &final);
    v1::Frame frame;
    if (!plain || final || !proto::ParseFrame(*plain, &frame, &why)) return std::nullopt;
    return frame;
  }
  bool Authenticate(const crypto::SigningKeyPair& device) {
    if (!up) return false;
    v1::Frame hello;
    hello.set_request_id(1);
    hello.mutable_client_hello()->set_min_version(1);
    hello.mutable_client_hello()->set_max_version(1);
    if (!Send(hello)) return false;
    const auto server = Receive();
    if (!server || !server->has_server_hello()) return false;
    v1::Frame auth;
    auth.set_request_id(2);
    auth.mutable_authenticate()->set_device_key(device.public_key);
    auth.mutable_authenticate()->set_signature(crypto::Sign(
        device, net::AuthTranscript(handshake.transcript_hash(), server->server_hello().challenge(),
                                    server->server_hello().relay_key(), device.public_key)));
    if (!Send(auth)) return false;
    const auto ok = Receive();
    return ok && ok->has_auth_ok();
  }
  // Announces a frame of `length` bytes and sends `sent` of them.
  void StartFrame(std::uint32_t length, std::size_t sent) {
    std::string bytes = {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                         static_cast<char>(length >> 8), static_cast<char>(length)};
    bytes.append(sent, 'x');
    asio::error_code ignored;
    asio::write(socket, asio::buffer(bytes), ignored);
  }
  bool SendByte() {
    asio::error_code ec;
    asio::write(socket, asio::buffer(std::string(1, 'x')), ec);
    return !ec;
  }
  // True once the relay closed its end (reads end), false while it is open.
  bool ClosedByRelay() {
    using namespace std::chrono_literals;
    asio::error_code ec;
    socket.non_blocking(true, ec);
    std::array<char, 64> buffer{};
    for (int i = 0; i < 200; ++i) {
      socket.read_some(asio::buffer(buffer), ec);
      if (ec != asio::error::would_block) return ec == asio::error::eof || ec == asio::error::connection_reset;
      std::this_thread::sleep_for(10ms);  // a bound on the test, not what it checks
    }
    return false;
  }
};

}  // namespace duet::testing
