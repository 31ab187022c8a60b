// duet's bytes against an independent implementation: tests/vectors/*.json
// were computed by tests/vectors/generate.py (PyNaCl and protobuf, written
// from docs/protocol.md alone). Every "must succeed" value is reproduced
// here byte for byte; every "must fail" input is refused.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "client/keyfile.h"
#include "client/pairing.h"
#include "client/sealing.h"
#include "crypto/channel.h"
#include "proto/envelope.h"

namespace duet {
namespace {

nlohmann::json LoadVectors(const std::string& name) {
  std::ifstream in(std::string(VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

std::string Bytes(const nlohmann::json& hex) {
  const std::string text = hex.get<std::string>();
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16)));
  return out;
}

std::string Hex(std::string_view bytes) { return crypto::Hex(bytes); }

template <std::size_t N>
crypto::Secret<N> SecretOf(const nlohmann::json& hex) {
  crypto::Secret<N> secret;
  EXPECT_TRUE(secret.Assign(Bytes(hex)));
  return secret;
}

crypto::KxKeyPair KxOf(const nlohmann::json& hex) {
  auto pair = crypto::KxKeyPair::FromSecret(SecretOf<crypto::kKeyBytes>(hex));
  EXPECT_TRUE(pair.has_value());
  return *pair;
}

crypto::SigningKeyPair SignerOf(const std::string& seed, const std::string& public_key) {
  return crypto::SigningKeyPair::FromSecret(SecretOf<crypto::kSignSecretBytes>(Hex(seed + public_key)));
}

class Vectors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(crypto::Init()); }
};

TEST_F(Vectors, ChannelHandshakeAndKeySchedule) {
  const auto v = LoadVectors("channel.json");
  const crypto::KxKeyPair relay_static = KxOf(v["relay_static_secret"]);
  const crypto::KxKeyPair relay_ephemeral = KxOf(v["relay_ephemeral_secret"]);
  EXPECT_EQ(Hex(relay_static.public_key), v["relay_static_public"]);

  crypto::ClientHandshake client(KxOf(v["client_ephemeral_secret"]));
  const std::string hello = client.Hello();
  EXPECT_EQ(Hex(hello), v["client_hello"]);

  crypto::StreamSender relay_sender;
  auto relay = crypto::RespondToHello(relay_static, hello, &relay_sender, &relay_ephemeral);
  ASSERT_TRUE(relay.has_value());
  EXPECT_EQ(Hex(relay->server_hello.substr(0, 69)), v["server_hello_without_header"]);
  EXPECT_EQ(Hex(relay->transcript_hash), v["transcript_hash"]);
  EXPECT_EQ(Hex(relay->keys.client_to_relay.view()), v["k_c2s"]);
  EXPECT_EQ(Hex(relay->keys.relay_to_client.view()), v["k_s2c"]);

  // The client, given the generator's message 2, must open the relay's
  // stream, and the relay must open the client's: swapping the two halves
  // of the derived keys fails here.
  std::string relay_key;
  crypto::StreamSender client_sender;
  crypto::StreamReceiver client_receiver;
  auto finished = client.Finish(Bytes(v["server_hello"]), Bytes(v["relay_static_public"]), &relay_key,
                                &client_sender, &client_receiver);
  ASSERT_TRUE(finished.ok()) << finished.error().message;
  EXPECT_EQ(Hex(client.transcript_hash()), v["transcript_hash"]);
  for (const auto& m : v["relay_stream_messages"]) {
    bool final = true;
    auto plain = client_receiver.Open(Bytes(m["ciphertext"]), &final);
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(Hex(*plain), m["plaintext"]);
    EXPECT_FALSE(final);
  }
  bool final = false;
  ASSERT_TRUE(client_receiver.Open(Bytes(v["relay_stream_final"]), &final).has_value());
  EXPECT_TRUE(final);

  crypto::StreamReceiver relay_receiver;
  ASSERT_TRUE(relay_receiver.Start(relay->keys.client_to_relay, Bytes(v["client_stream_header"])));
  for (const auto& m : v["client_stream_messages"]) {
    bool is_final = true;
    auto plain = relay_receiver.Open(Bytes(m["ciphertext"]), &is_final);
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(Hex(*plain), m["plaintext"]);
  }

  const auto device = SignerOf(Bytes(v["device_sign_seed"]), Bytes(v["device_key"]));
  EXPECT_EQ(Hex(crypto::Sign(device, Bytes(v["auth_signed_bytes"]))), v["auth_signature"]);

  for (const auto& bad : v["must_fail"]) {
    SCOPED_TRACE(bad["why"].get<std::string>());
    crypto::StreamReceiver receiver;
    const bool relay_side = bad["stream"] == "relay";
    ASSERT_TRUE(receiver.Start(relay_side ? relay->keys.relay_to_client : relay->keys.client_to_relay,
                               Bytes(v[relay_side ? "relay_stream_header" : "client_stream_header"])));
    const auto& messages = v[relay_side ? "relay_stream_messages" : "client_stream_messages"];
    const std::size_t position = bad["position"].get<std::size_t>();
    for (std::size_t i = 0; i < position; ++i)
      ASSERT_TRUE(receiver.Open(Bytes(messages[i]["ciphertext"]), &final).has_value());
    EXPECT_FALSE(receiver.Open(Bytes(bad["ciphertext"]), &final).has_value());
  }
}

TEST_F(Vectors, RecordSealingSigningAndChain) {
  const auto v = LoadVectors("record.json");
  const auto couple_key = SecretOf<crypto::kKeyBytes>(v["couple_key"]);
  const std::string couple_id = Bytes(v["couple_id"]);
  const auto author = SignerOf(Bytes(v["author_seed"]), Bytes(v["author_public"]));
  EXPECT_EQ(Hex(author.public_key), v["author_public"]);
  EXPECT_EQ(Hex(client::KeyId(couple_key)), v["key_id"]);
  EXPECT_EQ(Hex(client::KeyId(SecretOf<crypto::kKeyBytes>(v["other_key"]))), v["other_key_id"]);
  std::string previous_hash;
  for (const auto& r : v["records"]) {
    v1::RecordEnvelope envelope;
    envelope.set_couple_id(couple_id);
    envelope.set_record_id(Bytes(r["record_id"]));
    envelope.set_author_key(author.public_key);
    envelope.set_nonce(Bytes(r["nonce"]));
    envelope.set_key_id(client::KeyId(couple_key));
    EXPECT_EQ(Hex(crypto::Pad(Bytes(r["body"]), client::kPaddingBlock)), r["padded_body"]);
    EXPECT_EQ(Hex(proto::EnvelopeAssociatedData(envelope)), r["associated_data"]);
    envelope.set_ciphertext(crypto::AeadSeal(couple_key, envelope.nonce(), proto::EnvelopeAssociatedData(envelope),
                                             crypto::Pad(Bytes(r["body"]), client::kPaddingBlock)));
    EXPECT_EQ(Hex(envelope.ciphertext()), r["ciphertext"]);
    EXPECT_EQ(Hex(proto::EnvelopeSignedBytes(envelope)), r["signed_bytes"]);
    envelope.set_signature(crypto::Sign(author, proto::EnvelopeSignedBytes(envelope)));
    EXPECT_EQ(Hex(envelope.signature()), r["signature"]);
    EXPECT_EQ(Hex(client::EnvelopeHash(envelope)), r["envelope_hash"]);
    EXPECT_EQ(Hex(envelope.SerializeAsString()), r["envelope"]);

    v1::RecordEnvelope stored;
    ASSERT_TRUE(stored.ParseFromString(Bytes(r["envelope"])));
    auto opened = client::OpenRecord(stored, couple_key, couple_id, {author.public_key});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_TRUE(opened->verdict.valid()) << opened->verdict.problem;
    EXPECT_EQ(Hex(opened->body.SerializeAsString()), r["body"]);
    EXPECT_EQ(opened->body.prev_hash(), previous_hash) << "the chain link";
    previous_hash = Bytes(r["envelope_hash"]);
  }
  for (const auto& bad : v["must_fail"]) {
    SCOPED_TRACE(bad["why"].get<std::string>());
    v1::RecordEnvelope envelope;
    const bool parsed = envelope.ParseFromString(Bytes(bad["envelope"]));
    ASSERT_TRUE(parsed) << "each must-fail case is an envelope, refused by OpenRecord";
    EXPECT_FALSE(client::OpenRecord(envelope, couple_key, couple_id, {author.public_key}).ok());
  }
}

TEST_F(Vectors, InviteCodesAndPairing) {
  const auto v = LoadVectors("invite.json");
  const auto secret = SecretOf<crypto::kKeyBytes>(v["secret"]);
  client::InviteCode code{secret, Bytes(v["relay_key"]), v["relay_address"].get<std::string>()};
  EXPECT_EQ(client::FormatInviteCode(code), v["code"]);
  for (const auto& text : v["accepted_variants"]) {
    auto parsed = client::ParseInviteCode(text.get<std::string>());
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_TRUE(parsed->secret == secret);
    EXPECT_EQ(parsed->relay_address, v["relay_address"]);
  }
  const client::InviteKeys keys = client::DeriveInviteKeys(secret);
  EXPECT_EQ(Hex(keys.invite_id), v["invite_id"]);
  EXPECT_EQ(Hex(keys.seal_key.view()), v["seal_key"]);
  EXPECT_EQ(Hex(keys.couple_id), v["couple_id"]);
  auto offer = client::OpenIdentity(keys, client::PairingRole::kCreator, Bytes(v["sealed_offer"]));
  ASSERT_TRUE(offer.ok()) << offer.error().message;
  EXPECT_EQ(Hex(offer->SerializeAsString()), v["offer_identity"]);
  EXPECT_EQ(offer->name(), v["offer_fields"]["name"]);
  auto answer = client::OpenIdentity(keys, client::PairingRole::kJoiner, Bytes(v["sealed_answer"]));
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(Hex(answer->SerializeAsString()), v["answer_identity"]);
  EXPECT_FALSE(client::OpenIdentity(keys, client::PairingRole::kJoiner, Bytes(v["sealed_offer"])).ok())
      << "an offer does not open as an answer";
  for (const auto& bad : v["must_fail"]) EXPECT_FALSE(client::ParseInviteCode(bad.get<std::string>()).ok()) << bad;
}

TEST_F(Vectors, CoupleKeyFromBothSides) {
  const auto v = LoadVectors("couple_key.json");
  const auto secret = SecretOf<crypto::kKeyBytes>(v["secret"]);
  auto creator = client::DeriveCoupleKey(secret, KxOf(v["creator_kx_secret"]), Bytes(v["joiner_kx_public"]),
                                         client::PairingRole::kCreator);
  auto joiner = client::DeriveCoupleKey(secret, KxOf(v["joiner_kx_secret"]), Bytes(v["creator_kx_public"]),
                                        client::PairingRole::kJoiner);
  ASSERT_TRUE(creator.ok() && joiner.ok());
  EXPECT_EQ(Hex(creator->view()), v["couple_key"]);
  EXPECT_EQ(Hex(joiner->view()), v["couple_key"]);
}

TEST_F(Vectors, SafetyNumbers) {
  const auto v = LoadVectors("safety_number.json");
  EXPECT_EQ(client::SafetyNumber(Bytes(v["key_a"]), Bytes(v["key_b"])), v["safety_number"]);
  EXPECT_EQ(client::SafetyNumber(Bytes(v["key_b"]), Bytes(v["key_a"])), v["safety_number_swapped"]);
  for (const auto& c : v["more_cases"])
    EXPECT_EQ(client::SafetyNumber(Bytes(c["key_a"]), Bytes(c["key_b"])), c["safety_number"]);
}

TEST_F(Vectors, KeyFileForms) {
  const auto v = LoadVectors("keyfile.json");
  client::DeviceKeys keys;
  keys.identity = crypto::SigningKeyPair::FromSecret(SecretOf<crypto::kSignSecretBytes>(v["sign_secret_key"]));
  keys.exchange = KxOf(v["kx_secret"]);
  keys.local_key = SecretOf<crypto::kKeyBytes>(v["local_key"]);
  keys.couple_key = SecretOf<crypto::kKeyBytes>(v["couple_key"]);
  const std::string dir = ::testing::TempDir() + "/duet-keyfile-vector";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(client::SaveKeys(dir + "/keys", keys, true).ok());
  std::ifstream in(dir + "/keys", std::ios::binary);
  EXPECT_EQ(Hex(std::string(std::istreambuf_iterator<char>(in), {})), v["plain_file"]);
  std::filesystem::remove_all(dir);

  const std::string passphrase = v["passphrase"];
  auto ask = [&] { return std::optional<std::string>(passphrase); };
  for (const char* form : {"plain_file", "locked_file", "plain_file_v1", "locked_file_v1"}) {
    SCOPED_TRACE(form);
    auto loaded = client::ParseKeyFile(Bytes(v[form]), "keys", ask);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(Hex(loaded->identity.public_key), v["sign_public"]);
    EXPECT_EQ(Hex(loaded->exchange.public_key), v["kx_public"]);
    EXPECT_TRUE(loaded->local_key == keys.local_key);
    ASSERT_TRUE(loaded->couple_key.has_value());
    EXPECT_TRUE(*loaded->couple_key == *keys.couple_key);
  }
  auto with_invite = client::ParseKeyFile(Bytes(v["plain_file_invite"]), "keys");
  ASSERT_TRUE(with_invite.ok());
  ASSERT_TRUE(with_invite->invite_secret.has_value());
  EXPECT_EQ(Hex(with_invite->invite_secret->view()), v["invite_secret"]);
  for (const auto& bad : v["must_fail"]) {
    SCOPED_TRACE(bad["why"].get<std::string>());
    const std::string given = bad["passphrase"].is_null() ? passphrase : bad["passphrase"].get<std::string>();
    auto loaded = client::ParseKeyFile(Bytes(bad["file"]), "keys", [&] { return std::optional<std::string>(given); });
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().kind, bad["expect"] == "damaged" ? ErrorKind::kDamaged : ErrorKind::kVerification)
        << loaded.error().message;
  }
}

}  // namespace
}  // namespace duet
