#include "crypto/channel.h"

#include <gtest/gtest.h>

namespace duet::crypto {
namespace {

class ChannelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(Init()); }

  // Runs the whole handshake in memory; returns false if it failed.
  bool Handshake(const PinnedRelayKeys& pinned = {}) {
    ClientHandshake client;
    auto relay = RespondToHello(relay_static_, client.Hello(), &relay_sender_);
    if (!relay) return false;
    std::string key;
    auto header = client.Finish(relay->server_hello, pinned, &key, &client_sender_, &client_receiver_);
    if (!header.ok()) {
      error_ = header.error();
      return false;
    }
    EXPECT_EQ(key, relay_static_.public_key);
    return relay_receiver_.Start(relay->keys.client_to_relay, header.value());
  }

  KxKeyPair relay_static_ = KxKeyPair::Generate();
  StreamSender client_sender_, relay_sender_;
  StreamReceiver client_receiver_, relay_receiver_;
  Error error_{ErrorKind::kInternal, ""};
};

TEST_F(ChannelTest, BothDirectionsCarryMessages) {
  ASSERT_TRUE(Handshake());
  bool final = true;
  auto up = relay_receiver_.Open(client_sender_.Seal("hello relay"), &final);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(*up, "hello relay");
  EXPECT_FALSE(final);
  auto down = client_receiver_.Open(relay_sender_.Seal("hello client"), &final);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(*down, "hello client");
  auto end = relay_receiver_.Open(client_sender_.Seal("", true), &final);
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(final);
}

TEST_F(ChannelTest, PinnedKeyMismatchIsRefusedWithBothKeys) {
  const std::string other = RandomBytes(32);
  ASSERT_FALSE(Handshake(other));
  EXPECT_EQ(error_.kind, ErrorKind::kVerification);
  EXPECT_NE(error_.message.find(Base64UrlEncode(other)), std::string::npos);
  EXPECT_NE(error_.message.find(Base64UrlEncode(relay_static_.public_key)), std::string::npos);
  EXPECT_TRUE(Handshake(relay_static_.public_key));
}

TEST_F(ChannelTest, MalformedHellosAreRejectedByShape) {
  ClientHandshake client;
  std::string hello = client.Hello();
  EXPECT_TRUE(IsClientHello(hello));
  EXPECT_FALSE(IsClientHello(hello.substr(1)));
  EXPECT_FALSE(IsClientHello(hello + "x"));
  std::string wrong_magic = hello;
  wrong_magic[0] = 'X';
  EXPECT_FALSE(IsClientHello(wrong_magic));
  std::string wrong_version = hello;
  wrong_version[4] = 2;
  EXPECT_FALSE(IsClientHello(wrong_version));
  StreamSender sender;
  EXPECT_FALSE(RespondToHello(relay_static_, wrong_version, &sender).has_value());
  std::string key;
  StreamReceiver receiver;
  EXPECT_FALSE(client.Finish(std::string(kServerHelloBytes - 1, 'x'), "", &key, &sender, &receiver).ok());
}

TEST_F(ChannelTest, ARelayWithoutTheStaticSecretCannotReadTheStream) {
  ClientHandshake client;
  StreamSender impostor_sender;
  auto impostor = RespondToHello(KxKeyPair::Generate(), client.Hello(), &impostor_sender);
  ASSERT_TRUE(impostor);
  // The impostor claims the real relay's key in its answer.
  std::string forged = impostor->server_hello;
  forged.replace(37, 32, relay_static_.public_key);
  std::string key;
  StreamSender sender;
  StreamReceiver receiver;
  auto header = client.Finish(forged, relay_static_.public_key, &key, &sender, &receiver);
  ASSERT_TRUE(header.ok());
  // With the client's real stream header, the impostor's keys still differ
  // from the client's: nothing the client sends opens.
  StreamReceiver impostor_receiver;
  bool final = false;
  ASSERT_TRUE(impostor_receiver.Start(impostor->keys.client_to_relay, header.value()));
  EXPECT_FALSE(impostor_receiver.Open(sender.Seal("secret"), &final).has_value());
  // And what it sends does not open at the client.
  EXPECT_FALSE(receiver.Open(impostor_sender.Seal("trust me"), &final).has_value());
}

TEST_F(ChannelTest, TheNextKeyTheRelayAnnouncedIsAcceptedBesideThePinnedOne) {
  const std::string old_key = KxKeyPair::Generate().public_key;
  // The relay now presents the key it announced as next (protocol.md §3.1).
  EXPECT_TRUE(Handshake(PinnedRelayKeys(old_key, relay_static_.public_key)));
  // Pinned alone, the same relay is refused; so is any key not announced.
  EXPECT_FALSE(Handshake(PinnedRelayKeys(old_key)));
  EXPECT_EQ(error_.kind, ErrorKind::kVerification);
  EXPECT_FALSE(Handshake(PinnedRelayKeys(old_key, KxKeyPair::Generate().public_key)));
}

TEST_F(ChannelTest, FlippedReplayedAndReorderedMessagesFail) {
  ASSERT_TRUE(Handshake());
  bool final = false;
  std::string first = client_sender_.Seal("one");
  std::string second = client_sender_.Seal("two");
  std::string flipped = first;
  flipped[2] ^= 1;
  EXPECT_FALSE(relay_receiver_.Open(flipped, &final).has_value());
  EXPECT_FALSE(relay_receiver_.Open(second, &final).has_value()) << "out of order";
  ASSERT_TRUE(relay_receiver_.Open(first, &final).has_value());
  EXPECT_FALSE(relay_receiver_.Open(first, &final).has_value()) << "replayed";
  EXPECT_TRUE(relay_receiver_.Open(second, &final).has_value());
}

}  // namespace
}  // namespace duet::crypto
