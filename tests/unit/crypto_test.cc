#include "crypto/crypto.h"

#include <gtest/gtest.h>

namespace duet::crypto {
namespace {

class CryptoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(Init()); }
};

TEST_F(CryptoTest, AeadRoundTrip) {
  SymmetricKey key = RandomKey();
  std::string sealed = AeadSealWithNonce(key, "ad", "how are you, really?");
  auto opened = AeadOpenWithNonce(key, "ad", sealed);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "how are you, really?");
}

TEST_F(CryptoTest, AeadRejectsTamperedCiphertext) {
  SymmetricKey key = RandomKey();
  std::string sealed = AeadSealWithNonce(key, "ad", "note");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(AeadOpenWithNonce(key, "ad", tampered).has_value()) << "byte " << i;
  }
  EXPECT_FALSE(AeadOpenWithNonce(key, "ad", sealed.substr(0, sealed.size() - 1)).has_value());
}

TEST_F(CryptoTest, AeadRejectsWrongKeyAndWrongAssociatedData) {
  SymmetricKey key = RandomKey();
  std::string sealed = AeadSealWithNonce(key, "ad", "note");
  EXPECT_FALSE(AeadOpenWithNonce(RandomKey(), "ad", sealed).has_value());
  EXPECT_FALSE(AeadOpenWithNonce(key, "other", sealed).has_value());
}

TEST_F(CryptoTest, SignatureVerifiesOnlyForItsSignerAndMessage) {
  SigningKeyPair alice = SigningKeyPair::Generate();
  SigningKeyPair bob = SigningKeyPair::Generate();
  std::string signature = Sign(alice, "message");
  EXPECT_TRUE(Verify(alice.public_key, "message", signature));
  EXPECT_FALSE(Verify(bob.public_key, "message", signature));
  EXPECT_FALSE(Verify(alice.public_key, "messagE", signature));
  EXPECT_FALSE(Verify(alice.public_key, "message", signature.substr(1)));
}

TEST_F(CryptoTest, SigningKeyRebuildsFromItsSecret) {
  SigningKeyPair keys = SigningKeyPair::Generate();
  SigningKeyPair rebuilt = SigningKeyPair::FromSecret(keys.secret_key);
  EXPECT_EQ(rebuilt.public_key, keys.public_key);
}

TEST_F(CryptoTest, KxGivesMatchingSessionKeys) {
  KxKeyPair server = KxKeyPair::Generate();
  KxKeyPair client = KxKeyPair::Generate();
  auto s = KxServer(server, client.public_key);
  auto c = KxClient(client, server.public_key);
  ASSERT_TRUE(s && c);
  EXPECT_TRUE(s->rx == c->tx);
  EXPECT_TRUE(s->tx == c->rx);
  EXPECT_FALSE(s->rx == s->tx);
  auto rebuilt = KxKeyPair::FromSecret(server.secret_key);
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(rebuilt->public_key, server.public_key);
  EXPECT_FALSE(KxServer(server, "short").has_value());
}

TEST_F(CryptoTest, PadHidesLengthWithinABlock) {
  std::string a = Pad("a", 256), b = Pad(std::string(200, 'b'), 256);
  EXPECT_EQ(a.size(), 256u);
  EXPECT_EQ(b.size(), 256u);
  EXPECT_EQ(Pad(std::string(256, 'c'), 256).size(), 512u);
  EXPECT_EQ(*Unpad(a, 256), "a");
  EXPECT_FALSE(Unpad(std::string(256, 'z'), 256).has_value());
}

TEST_F(CryptoTest, Base64UrlIsStrict) {
  std::string bytes = RandomBytes(33);
  std::string text = Base64UrlEncode(bytes);
  EXPECT_EQ(text.find('='), std::string::npos);
  EXPECT_EQ(*Base64UrlDecode(text), bytes);
  EXPECT_FALSE(Base64UrlDecode(text + "=").has_value());
  EXPECT_FALSE(Base64UrlDecode("ab+/").has_value());  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("AB").has_value());    // non-canonical trailing bits
  EXPECT_TRUE(Base64UrlDecode("AA").has_value());
}

TEST_F(CryptoTest, DerivedSubkeysDifferByIdAndAreStable) {
  SymmetricKey key = RandomKey();
  std::string a = DeriveSubkey(key, 1, "duetinv1", 16);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, DeriveSubkey(key, 1, "duetinv1", 16));
  EXPECT_NE(a, DeriveSubkey(key, 2, "duetinv1", 16));
}

TEST_F(CryptoTest, HashIsKeyedAndSized) {
  EXPECT_EQ(Hash(32, "x").size(), 32u);
  EXPECT_NE(Hash(32, "x"), Hash(32, "x", std::string(32, 'k')));
  EXPECT_TRUE(Hash(8, "x").empty());
}

TEST_F(CryptoTest, SecretWipesAndComparesInConstantTime) {
  SymmetricKey a = RandomKey();
  SymmetricKey b = a;
  EXPECT_TRUE(a == b);
  b.Wipe();
  EXPECT_FALSE(a == b);
  EXPECT_EQ(b.view(), std::string(32, '\0'));
  EXPECT_FALSE(b.Assign("short"));
}

}  // namespace
}  // namespace duet::crypto

namespace duet::crypto {
namespace {

TEST(Hex, ReadsBackWhatItWroteAndNothingElse) {
  const std::string bytes = std::string("\x00\x01\xfe\xff", 4) + "duet";
  EXPECT_EQ(FromHex(Hex(bytes)), bytes);
  EXPECT_EQ(FromHex("DEADbeef"), std::string("\xde\xad\xbe\xef", 4));
  EXPECT_EQ(FromHex(""), std::string());
  for (const char* bad : {"abc", "zz", "00 11", "0x00", "00g0"}) EXPECT_FALSE(FromHex(bad).has_value()) << bad;
}

}  // namespace
}  // namespace duet::crypto
