#include "client/pairing.h"

#include <gtest/gtest.h>

namespace duet::client {
namespace {

class PairingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(crypto::Init()); }
  InviteCode Code() {
    InviteCode code;
    code.secret = crypto::RandomKey();
    code.relay_key = crypto::RandomBytes(32);
    code.relay_address = "127.0.0.1:7707";
    return code;
  }
};

TEST_F(PairingTest, InviteCodeRoundTrips) {
  InviteCode code = Code();
  std::string text = FormatInviteCode(code);
  EXPECT_EQ(text.rfind("duet1-", 0), 0u);
  auto parsed = ParseInviteCode("  " + text + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->secret == code.secret);
  EXPECT_EQ(parsed->relay_key, code.relay_key);
  EXPECT_EQ(parsed->relay_address, code.relay_address);
}

TEST_F(PairingTest, EveryChangedCharacterMakesTheCodeMalformed) {
  std::string text = FormatInviteCode(Code());
  for (std::size_t i = 6; i < text.size(); ++i) {
    std::string changed = text;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    auto parsed = ParseInviteCode(changed);
    EXPECT_FALSE(parsed.ok()) << "position " << i;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidInput);
    }
  }
}

TEST_F(PairingTest, TruncatedPrefixlessAndForeignCodesAreMalformed) {
  std::string text = FormatInviteCode(Code());
  EXPECT_FALSE(ParseInviteCode(text.substr(0, text.size() - 3)).ok());
  EXPECT_FALSE(ParseInviteCode(text.substr(6)).ok());
  EXPECT_FALSE(ParseInviteCode("duet1-").ok());
  EXPECT_FALSE(ParseInviteCode("duet1-" + std::string(600, 'A')).ok());
  auto error = ParseInviteCode("nope").error().message;
  EXPECT_NE(error.find("duet1-"), std::string::npos);
}

TEST_F(PairingTest, ErrorsNeverEchoTheSecret) {
  InviteCode code = Code();
  std::string text = FormatInviteCode(code);
  text.back() = text.back() == 'A' ? 'B' : 'A';
  auto parsed = ParseInviteCode(text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message.find(text.substr(6, 20)), std::string::npos);
}

TEST_F(PairingTest, BothSidesDeriveTheSameCoupleKey) {
  auto secret = crypto::RandomKey();
  auto alice = crypto::KxKeyPair::Generate();
  auto bob = crypto::KxKeyPair::Generate();
  auto a = DeriveCoupleKey(secret, alice, bob.public_key, PairingRole::kCreator);
  auto b = DeriveCoupleKey(secret, bob, alice.public_key, PairingRole::kJoiner);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a.value() == b.value());
  auto other = DeriveCoupleKey(crypto::RandomKey(), alice, bob.public_key, PairingRole::kCreator);
  EXPECT_FALSE(other.value() == a.value()) << "the invite secret is part of the key";
}

TEST_F(PairingTest, IdentityOpensOnlyWithItsRoleAndInvite) {
  auto keys = DeriveInviteKeys(crypto::RandomKey());
  model::v1::PairingIdentity identity;
  identity.set_name("Alice");
  identity.set_sign_key(std::string(32, 's'));
  identity.set_kx_key(std::string(32, 'k'));
  std::string sealed = SealIdentity(keys, PairingRole::kCreator, identity);
  auto opened = OpenIdentity(keys, PairingRole::kCreator, sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->name(), "Alice");
  EXPECT_FALSE(OpenIdentity(keys, PairingRole::kJoiner, sealed).ok()) << "an offer is no answer";
  EXPECT_FALSE(OpenIdentity(DeriveInviteKeys(crypto::RandomKey()), PairingRole::kCreator, sealed).ok());
}

TEST_F(PairingTest, InviteKeysAreDistinctAndStable) {
  auto secret = crypto::RandomKey();
  auto k1 = DeriveInviteKeys(secret);
  auto k2 = DeriveInviteKeys(secret);
  EXPECT_EQ(k1.invite_id, k2.invite_id);
  EXPECT_EQ(k1.invite_id.size(), 16u);
  EXPECT_NE(k1.invite_id, k1.couple_id);
  EXPECT_EQ(k1.invite_id.find(secret.view().substr(0, 16)), std::string::npos);
}

TEST_F(PairingTest, SafetyNumberIsSymmetricAndDependsOnBothKeys) {
  std::string a = crypto::RandomBytes(32), b = crypto::RandomBytes(32);
  std::string n = SafetyNumber(a, b);
  EXPECT_EQ(n, SafetyNumber(b, a));
  EXPECT_NE(n, SafetyNumber(a, crypto::RandomBytes(32)));
  ASSERT_EQ(n.size(), 47u);
  for (std::size_t i = 0; i < n.size(); ++i)
    EXPECT_TRUE(i % 6 == 5 ? n[i] == ' ' : std::isdigit(static_cast<unsigned char>(n[i]))) << n;
}

TEST_F(PairingTest, SafetyNumberMatchesTheSpec) {
  // docs/protocol.md §5, computed independently of SafetyNumber(). The keys
  // differ in their first byte's top bit, so a signed comparison would order
  // them the other way round.
  std::string high(32, '\x80'), low(32, '\x01');
  std::string h = crypto::Hash(32, "duet/v1/safety" + low + high);
  auto group = [&](int i) {
    const auto* p = reinterpret_cast<const unsigned char*>(h.data() + 4 * i);
    std::uint32_t v = (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    char buf[8];
    std::snprintf(buf, sizeof buf, "%05u", v % 100000);
    return std::string(buf);
  };
  std::string expected;
  for (int i = 0; i < 8; ++i) {
    if (i > 0) expected.push_back(' ');
    expected.append(group(i));
  }
  EXPECT_EQ(SafetyNumber(high, low), expected);
  EXPECT_EQ(SafetyNumber(low, high), expected);
}

}  // namespace
}  // namespace duet::client
