// A device speaking the wire protocol by hand (net::FramedClient plus the
// hello, authentication, pairing and envelope signing of docs/protocol.md),
// for tests that drive the relay directly rather than through `duet`.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "crypto/crypto.h"
#include "net/net.h"
#include "proto/envelope.h"

namespace duet::testing {

// Hello and Authenticate on a connected channel; the AuthOk, or what the
// relay said instead.
inline Result<v1::Frame> HelloAndAuthenticate(net::FramedClient& client,
                                              const crypto::SigningKeyPair& device) {
  using namespace std::chrono_literals;
  v1::Frame hello;
  hello.mutable_client_hello()->set_min_version(1);
  hello.mutable_client_hello()->set_max_version(1);
  auto server = client.Call(hello, 5s);
  if (!server.ok()) return server.error();
  if (!server->has_server_hello()) return MakeError(ErrorKind::kProtocol, server->DebugString());
  v1::Frame auth;
  auth.mutable_authenticate()->set_device_key(device.public_key);
  auth.mutable_authenticate()->set_signature(crypto::Sign(
      device, net::AuthTranscript(client.channel_hash(), server->server_hello().challenge(),
                                  server->server_hello().relay_key(), device.public_key)));
  auto ok = client.Call(auth, 5s);
  if (!ok.ok()) return ok.error();
  if (!ok->has_auth_ok()) return MakeError(ErrorKind::kProtocol, ok->DebugString());
  return ok;
}

inline v1::RecordEnvelope SignedEnvelope(const crypto::SigningKeyPair& author,
                                         const std::string& couple) {
  v1::RecordEnvelope envelope;
  envelope.set_couple_id(couple);
  envelope.set_record_id(crypto::RandomBytes(16));
  envelope.set_author_key(author.public_key);
  envelope.set_nonce(crypto::RandomBytes(24));
  envelope.set_key_id(crypto::RandomBytes(8));
  envelope.set_ciphertext(crypto::RandomBytes(256 + 16));
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

}  // namespace duet::testing
