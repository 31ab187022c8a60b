#include "client/sealing.h"

#include <gtest/gtest.h>

#include "proto/envelope.h"

#include <google/protobuf/unknown_field_set.h>

namespace duet::client {
namespace {

class SealingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(crypto::Init()); }
  void SetUp() override {
    key_ = crypto::RandomKey();
    alice_ = crypto::SigningKeyPair::Generate();
    bob_ = crypto::SigningKeyPair::Generate();
    couple_ = crypto::RandomBytes(16);
    body_.set_schema(1);
    body_.set_created_at_ms(1700000000000);
    body_.mutable_checkin()->set_mood(4);
    body_.mutable_checkin()->set_note("tender");
  }
  Result<OpenedBody> Open(const v1::RecordEnvelope& e) {
    return OpenRecord(e, key_, couple_, {alice_.public_key, bob_.public_key});
  }

  crypto::SymmetricKey key_;
  crypto::SigningKeyPair alice_, bob_;
  std::string couple_;
  model::v1::RecordBody body_;
};

TEST_F(SealingTest, RoundTrip) {
  auto envelope = SealRecord(body_, key_, alice_, couple_);
  auto opened = Open(envelope);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->body.checkin().note(), "tender");
  EXPECT_TRUE(opened->verdict.valid());
  EXPECT_EQ(envelope.ciphertext().find("tender"), std::string::npos);
}

TEST_F(SealingTest, ARecordVerifiedOnReceiptSkipsOnlyTheSignature) {
  auto envelope = SealRecord(body_, key_, alice_, couple_);
  auto bad_signature = envelope;
  bad_signature.mutable_signature()->at(0) ^= 1;
  EXPECT_FALSE(Open(bad_signature).ok()) << "what comes from the relay is verified";
  EXPECT_TRUE(OpenRecord(bad_signature, key_, couple_, {alice_.public_key},
                         SignatureCheck::kVerifiedOnReceipt)
                  .ok());
  auto altered = envelope;
  altered.mutable_ciphertext()->at(3) ^= 1;
  EXPECT_FALSE(OpenRecord(altered, key_, couple_, {alice_.public_key}, SignatureCheck::kVerifiedOnReceipt).ok())
      << "without the couple key, a stored record cannot be changed";
  EXPECT_FALSE(OpenRecord(envelope, key_, couple_, {bob_.public_key}, SignatureCheck::kVerifiedOnReceipt).ok())
      << "the author must still be one of the couple";
}

TEST_F(SealingTest, CiphertextLengthIsPaddedToABucket) {
  auto small = SealRecord(body_, key_, alice_, couple_);
  body_.mutable_checkin()->set_note(std::string(150, 'x'));
  auto larger = SealRecord(body_, key_, alice_, couple_);
  EXPECT_EQ(small.ciphertext().size(), larger.ciphertext().size());
  EXPECT_EQ(small.ciphertext().size(), kPaddingBlock + crypto::kMacBytes);
}

TEST_F(SealingTest, TamperedCiphertextIsRejected) {
  auto envelope = SealRecord(body_, key_, alice_, couple_);
  std::string c = envelope.ciphertext();
  c[3] ^= 1;
  envelope.set_ciphertext(c);
  EXPECT_FALSE(Open(envelope).ok());
}

TEST_F(SealingTest, ResignedTamperingStillFailsTheAead) {
  // Someone holding Alice's signing key but not the couple key.
  auto envelope = SealRecord(body_, key_, alice_, couple_);
  std::string c = envelope.ciphertext();
  c[3] ^= 1;
  envelope.set_ciphertext(c);
  envelope.set_signature(crypto::Sign(alice_, proto::EnvelopeSignedBytes(envelope)));
  auto opened = Open(envelope);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("decrypt"), std::string::npos);
}

TEST_F(SealingTest, WrongKeyIsRejected) {
  auto envelope = SealRecord(body_, crypto::RandomKey(), alice_, couple_);
  EXPECT_FALSE(Open(envelope).ok());
}

TEST_F(SealingTest, UntrustedSignerIsRejected) {
  auto mallory = crypto::SigningKeyPair::Generate();
  auto envelope = SealRecord(body_, key_, mallory, couple_);
  auto opened = Open(envelope);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("not paired"), std::string::npos);
}

TEST_F(SealingTest, AuthorSwapIsRejected) {
  // Bob claims Alice's record: the signature no longer matches its author.
  auto envelope = SealRecord(body_, key_, alice_, couple_);
  envelope.set_author_key(bob_.public_key);
  EXPECT_FALSE(Open(envelope).ok());
}

TEST_F(SealingTest, RecordOfAnotherCoupleIsRejected) {
  auto envelope = SealRecord(body_, key_, alice_, crypto::RandomBytes(16));
  EXPECT_FALSE(Open(envelope).ok());
}

TEST_F(SealingTest, UnknownFieldsAreRejectedAndDoNotChangeTheChainHash) {
  auto envelope = SealRecord(body_, key_, alice_, couple_);
  const std::string hash = EnvelopeHash(envelope);
  envelope.GetReflection()->MutableUnknownFields(&envelope)->AddLengthDelimited(99, std::string(1000, 'p'));
  EXPECT_EQ(EnvelopeHash(envelope), hash) << "the hash covers the fields, not a re-encoding";
  auto opened = Open(envelope);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("fields"), std::string::npos);
}

TEST_F(SealingTest, AnAuthenticBodyWithBrokenTextOpensAsUnreadableWithItsChainFields) {
  // What an older duet saved from `--note "$(printf 'bad\xff\xfe')"`: protobuf
  // will not parse it, but the author signed it, so it is their record #7.
  body_.set_author_seq(7);
  body_.set_prev_hash(std::string(32, 'h'));
  body_.mutable_checkin()->set_note("bad\xff\xfe");
  auto opened = Open(SealRecord(body_, key_, alice_, couple_));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->verdict.validity, model::Validity::kInvalid);
  EXPECT_NE(opened->verdict.problem.find("UTF-8"), std::string::npos);
  EXPECT_EQ(opened->body.author_seq(), 7u);
  EXPECT_EQ(opened->body.prev_hash(), std::string(32, 'h'));
  EXPECT_FALSE(opened->body.has_checkin());
}

TEST_F(SealingTest, ABodyOfANewerSchemaOpensAsNewer) {
  body_.set_schema(3);
  auto opened = Open(SealRecord(body_, key_, alice_, couple_));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->verdict.validity, model::Validity::kNewer);
}

// An envelope Alice sealed and signed around arbitrary plaintext bytes.
v1::RecordEnvelope SealBytes(const std::string& plain, const crypto::SymmetricKey& key,
                             const crypto::SigningKeyPair& author, const std::string& couple,
                             bool padded = true) {
  v1::RecordEnvelope e;
  e.set_couple_id(couple);
  e.set_record_id(crypto::RandomBytes(16));
  e.set_author_key(author.public_key);
  e.set_nonce(crypto::RandomBytes(crypto::kNonceBytes));
  e.set_key_id(KeyId(key));
  e.set_ciphertext(crypto::AeadSeal(key, e.nonce(), proto::EnvelopeAssociatedData(e),
                                    padded ? crypto::Pad(plain, kPaddingBlock) : plain));
  e.set_signature(crypto::Sign(author, proto::EnvelopeSignedBytes(e)));
  return e;
}

TEST_F(SealingTest, WhateverIsWrongInsideAnAuthenticRecordIsTheAuthorsNotAForgery) {
  auto bad_padding = Open(SealBytes(std::string(256, 'x'), key_, alice_, couple_, /*padded=*/false));
  ASSERT_TRUE(bad_padding.ok()) << "it authenticated: Alice sealed it";
  EXPECT_EQ(bad_padding->verdict.validity, model::Validity::kInvalid);
  auto not_protobuf = Open(SealBytes("\xff\xff\xff", key_, alice_, couple_));
  ASSERT_TRUE(not_protobuf.ok());
  EXPECT_EQ(not_protobuf->verdict.validity, model::Validity::kInvalid);
}

TEST_F(SealingTest, ANewerSchemaThatDoesNotParseIsNewerNotUnreadable) {
  body_.set_schema(3);
  body_.mutable_checkin()->set_note("bad\xff");  // what this version cannot parse
  auto opened = Open(SealRecord(body_, key_, alice_, couple_));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->verdict.validity, model::Validity::kNewer);
}

TEST_F(SealingTest, MalformedFieldsAreRejectedBeforeCrypto) {
  auto envelope = SealRecord(body_, key_, alice_, couple_);
  envelope.set_nonce("short");
  auto opened = Open(envelope);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("nonce"), std::string::npos);
}

}  // namespace
}  // namespace duet::client
