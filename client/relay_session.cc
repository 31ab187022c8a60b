#include "client/relay_session.h"

#include <algorithm>

#include "crypto/crypto.h"

namespace duet::client {

std::string RelayKeyText(const std::string& key) { return crypto::Base64UrlEncode(key); }

Result<std::unique_ptr<RelaySession>> RelaySession::Open(Device& device,
                                                         const net::Endpoint& relay,
                                                         const crypto::PinnedRelayKeys& expected,
                                                         std::chrono::milliseconds timeout) {
  // The channel checks the pinned key before anything else is sent.
  auto client = net::FramedClient::Connect(relay, timeout, expected);
  if (!client.ok()) return client.error();
  std::unique_ptr<RelaySession> session(new RelaySession(std::move(client).value(), timeout));
  session->endpoint_ = relay;

  v1::Frame hello;
  hello.mutable_client_hello()->set_min_version(net::kProtocolVersion);
  hello.mutable_client_hello()->set_max_version(net::kProtocolVersion);
  hello.mutable_client_hello()->set_agent("duet/0.1");
  auto reply = session->Call(std::move(hello));
  if (!reply.ok()) return reply.error();
  if (!reply->has_server_hello() || reply->server_hello().version() != net::kProtocolVersion ||
      reply->server_hello().relay_key().size() != 32 ||
      reply->server_hello().challenge().size() != 32 ||
      (!reply->server_hello().next_relay_key().empty() &&
       reply->server_hello().next_relay_key().size() != 32))
    return MakeError(ErrorKind::kProtocol, "the relay at " + relay.ToString() +
                                               " did not answer like a duet relay");
  const auto& server_hello = reply->server_hello();
  if (!crypto::ConstantTimeEqual(server_hello.relay_key(), session->client_->relay_key()))
    return MakeError(ErrorKind::kProtocol,
                     "the relay at " + relay.ToString() + " named a key other than its channel's");
  session->relay_key_ = server_hello.relay_key();
  session->next_relay_key_ = server_hello.next_relay_key();

  v1::Frame auth;
  auth.mutable_authenticate()->set_device_key(device.keys().identity.public_key);
  auth.mutable_authenticate()->set_signature(crypto::Sign(
      device.keys().identity, net::AuthTranscript(session->client_->channel_hash(), server_hello.challenge(),
                                                  server_hello.relay_key(),
                                                  device.keys().identity.public_key)));
  auto ok = session->Call(std::move(auth));
  if (!ok.ok()) return ok.error();
  if (!ok->has_auth_ok() ||
      (!ok->auth_ok().couple_id().empty() && ok->auth_ok().couple_id().size() != 16))
    return MakeError(ErrorKind::kProtocol, "the relay did not confirm authentication");
  session->couple_id_ = ok->auth_ok().couple_id();
  session->latest_seq_ = ok->auth_ok().latest_seq();
  session->ended_at_ = ok->auth_ok().ended_at();
  session->revoked_at_ = ok->auth_ok().revoked_at();
  return session;
}

Result<std::unique_ptr<RelaySession>> RelaySession::OpenAny(Device& device, const std::vector<net::Endpoint>& relays,
                                                            const crypto::PinnedRelayKeys& expected,
                                                            std::chrono::milliseconds timeout) {
  if (relays.empty()) return MakeError(ErrorKind::kInvalidInput, "this device has no relay address");
  const std::size_t first = relays.size() == 1 ? 0 : crypto::RandomBelow(static_cast<std::uint32_t>(relays.size()));
  std::optional<Error> unreachable;
  std::optional<Error> wrong_key;
  for (std::size_t i = 0; i < relays.size(); ++i) {
    auto session = Open(device, relays[(first + i) % relays.size()], expected, timeout);
    if (session.ok()) return session;
    // A relay with another key may be one not yet restarted with the new
    // key of a rotation: the next may have it (each is checked the same way).
    if (session.error().kind == ErrorKind::kVerification) {
      if (!wrong_key) wrong_key = session.error();
      continue;
    }
    if (session.error().kind != ErrorKind::kNetwork) return session;
    unreachable = session.error();
  }
  if (wrong_key) return *wrong_key;
  if (relays.size() == 1) return *unreachable;
  return MakeError(ErrorKind::kNetwork, "none of the relay's " + std::to_string(relays.size()) +
                                            " addresses answered (the last: " + unreachable->message + ")");
}

namespace {

// The relay could not read what reached it: bytes changed in transit (this
// client never sends a bad frame). Not a refusal of anything: the next sync
// sends the same again.
Error StreamGarbled(const v1::Error& error) {
  return MakeError(ErrorKind::kProtocol,
                   "the connection garbled what was sent (" + net::DescribeError(error) + ")");
}

}  // namespace

void RelaySession::Observe(const v1::Frame& frame) {
  if (frame.has_push_ack())
    for (auto seq : frame.push_ack().seqs()) latest_seq_ = std::max(latest_seq_, seq);
  if (frame.has_record_batch())
    for (const auto& record : frame.record_batch().records())
      latest_seq_ = std::max(latest_seq_, record.seq());
}

Result<v1::Frame> RelaySession::Call(v1::Frame request, RelayRefusal* refusal) {
  auto reply = client_->Call(std::move(request), timeout_);
  if (!reply.ok()) return reply;
  Observe(reply.value());
  if (reply->has_error()) {
    if (reply->error().code() == v1::ERROR_CODE_BAD_FRAME) return StreamGarbled(reply->error());
    if (refusal != nullptr) {
      refusal->code = reply->error().code();
      refusal->retry_after_ms = reply->error().retry_after_ms();
    }
    return MakeError(ErrorKind::kRefused, "relay refused: " + net::DescribeError(reply->error()));
  }
  return reply;
}

Result<std::deque<v1::Frame>> RelaySession::TakeDelivered() {
  auto queued = client_->TakeUnsolicited();
  for (const auto& frame : queued) Observe(frame);
  if (!queued.empty()) return queued;
  auto frame = client_->Receive(timeout_);
  if (!frame.ok()) return frame.error();
  if (frame->request_id() != 0)
    return MakeError(ErrorKind::kProtocol, "relay answered a request that was not asked");
  if (frame->has_error()) {
    if (frame->error().code() == v1::ERROR_CODE_BAD_FRAME) return StreamGarbled(frame->error());
    return MakeError(ErrorKind::kRefused, "relay refused: " + net::DescribeError(frame->error()));
  }
  Observe(frame.value());
  queued.push_back(std::move(frame).value());
  return queued;
}

}  // namespace duet::client
