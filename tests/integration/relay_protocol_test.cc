// The relay against hostile or broken clients, over real sockets: every
// byte from the network is untrusted, and one bad client never stops the
// relay from serving the others.
#include <gtest/gtest.h>

#include <asio.hpp>

#include "crypto/crypto.h"
#include "net/net.h"
#include "crypto/channel.h"
#include "proto/envelope.h"
#include "proto/frame_codec.h"

#include <google/protobuf/unknown_field_set.h>
#include "tests/integration/harness.h"
#include "tests/integration/relay_client.h"

namespace duet::testing {
namespace {

using namespace std::chrono_literals;

// Walks hello and authentication on a connected channel.
void SayHelloAndAuthenticate(net::FramedClient& client, const crypto::SigningKeyPair& device) {
  auto ok = HelloAndAuthenticate(client, device);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
}

class RelayProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init());
    relay_ = std::make_unique<RelayProcess>(dir_.File("relay.db"));
    relay_->Start();
    endpoint_ = net::ParseEndpoint(relay_->address()).value();
  }

  std::unique_ptr<net::FramedClient> Connect() {
    auto client = net::FramedClient::Connect(endpoint_, 5s);
    EXPECT_TRUE(client.ok());
    return std::move(client).value();
  }

  // Hello + Authenticate with a fresh device key; returns the connection.
  std::unique_ptr<net::FramedClient> Authenticated(const crypto::SigningKeyPair& device) {
    auto client = Connect();
    SayHelloAndAuthenticate(*client, device);
    return client;
  }

  struct RawCouple {
    crypto::SigningKeyPair a = crypto::SigningKeyPair::Generate();
    crypto::SigningKeyPair b = crypto::SigningKeyPair::Generate();
    std::string couple_id = crypto::RandomBytes(16);
    std::unique_ptr<net::FramedClient> ca, cb;
  };
  // Pairs a and b through an invite, by hand; returns the invite's id.
  std::string PairRaw(RawCouple& couple) {
    couple.ca = Authenticated(couple.a);
    const std::string invite_id = crypto::RandomBytes(16);
    v1::Frame create;
    create.mutable_create_invite()->set_invite_id(invite_id);
    create.mutable_create_invite()->set_couple_id(couple.couple_id);
    create.mutable_create_invite()->set_sealed_offer("offer");
    create.mutable_create_invite()->set_ttl_seconds(3600);
    EXPECT_TRUE(couple.ca->Call(create, 5s)->has_invite_created());
    couple.cb = Authenticated(couple.b);
    v1::Frame answer;
    answer.mutable_answer_invite()->set_invite_id(invite_id);
    answer.mutable_answer_invite()->set_sealed_answer("answer");
    auto paired = couple.cb->Call(answer, 5s);
    EXPECT_TRUE(paired->has_paired()) << paired->DebugString();
    v1::Frame check;
    check.mutable_check_invite()->set_invite_id(invite_id);
    auto state = couple.ca->Call(check, 5s);
    EXPECT_TRUE(state->has_invite_state());
    EXPECT_EQ(state->invite_state().sealed_answer(), "answer");
    return invite_id;
  }

  // A healthy client still gets served.
  void ExpectRelayServes() {
    auto device = crypto::SigningKeyPair::Generate();
    auto client = Authenticated(device);
    v1::Frame ping;
    ping.mutable_ping();
    auto pong = client->Call(ping, 5s);
    ASSERT_TRUE(pong.ok()) << pong.error().message;
    EXPECT_TRUE(pong->has_pong());
  }

  // Sends raw bytes on a fresh connection; returns what the relay sent back
  // before closing.
  std::string RawExchange(const std::string& bytes) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), relay_->port()});
    asio::write(socket, asio::buffer(bytes));
    return ReadUntilClosed(socket);
  }

  static std::string ReadUntilClosed(asio::ip::tcp::socket& socket) {
    std::string received;
    std::array<char, 4096> buffer{};
    asio::error_code ec;
    for (;;) {
      std::size_t n = socket.read_some(asio::buffer(buffer), ec);
      if (ec) break;
      received.append(buffer.data(), n);
    }
    return received;
  }

  // A channel driven by hand, to send what a well-behaved client never would.
  struct RawChannel {
    asio::io_context io;
    asio::ip::tcp::socket socket{io};
    crypto::StreamSender sender;
    crypto::StreamReceiver receiver;

    explicit RawChannel(std::uint16_t port) {
      socket.connect({asio::ip::make_address("127.0.0.1"), port});
      crypto::ClientHandshake handshake;
      asio::write(socket, asio::buffer(handshake.Hello()));
      std::string server_hello(crypto::kServerHelloBytes, '\0');
      asio::read(socket, asio::buffer(server_hello));
      std::string key;
      auto header = handshake.Finish(server_hello, "", &key, &sender, &receiver);
      EXPECT_TRUE(header.ok());
      asio::write(socket, asio::buffer(header.value()));
    }
    std::string Sealed(const v1::Frame& frame) {
      return proto::LengthPrefixed(sender.Seal(proto::SerializeFrame(frame)));
    }
    void SendRaw(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }
    // Frames the relay sent before it closed, and whether it ended in order.
    std::vector<v1::Frame> FramesUntilClosed(bool* ended_in_order) {
      proto::FrameDecoder decoder(proto::kChannelOverheadBytes, proto::kMaxSealedFrameBytes);
      decoder.Append(ReadUntilClosed(socket));
      std::vector<v1::Frame> frames;
      *ended_in_order = false;
      std::string payload, why;
      while (decoder.NextPayload(&payload, &why) == proto::FrameDecoder::Outcome::kFrame) {
        bool final = false;
        auto plain = receiver.Open(payload, &final);
        EXPECT_TRUE(plain.has_value());
        if (!plain) break;
        if (final) {
          *ended_in_order = true;
          break;
        }
        v1::Frame frame;
        EXPECT_TRUE(proto::ParseFrame(*plain, &frame, &why));
        frames.push_back(frame);
      }
      return frames;
    }
  };

  static v1::Frame Hello() {
    v1::Frame hello;
    hello.set_request_id(1);
    hello.mutable_client_hello()->set_min_version(1);
    hello.mutable_client_hello()->set_max_version(1);
    return hello;
  }

  TempDir dir_;
  std::unique_ptr<RelayProcess> relay_;
  net::Endpoint endpoint_;
};

TEST_F(RelayProtocolTest, StartsWithAddressAndKeyAndStopsCleanly) {
  EXPECT_EQ(relay_->first_line().rfind("duetd listening on 127.0.0.1:", 0), 0u);
  EXPECT_EQ(crypto::Base64UrlDecode(relay_->key())->size(), 32u);
  EXPECT_EQ(relay_->Stop(), 0);
}

TEST_F(RelayProtocolTest, OversizedFrameIsRefusedAndTheRelayKeepsServing) {
  RawChannel channel(relay_->port());
  channel.SendRaw(std::string{'\x7f', '\xff', '\xff', '\xff'});
  bool in_order = false;
  auto frames = channel.FramesUntilClosed(&in_order);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_TRUE(frames[0].has_error());
  EXPECT_EQ(frames[0].error().code(), v1::ERROR_CODE_BAD_FRAME);
  EXPECT_NE(frames[0].error().message().find("outside"), std::string::npos);
  EXPECT_TRUE(in_order);
  ExpectRelayServes();
}

TEST_F(RelayProtocolTest, AHelloWithAnAgentThatIsNotUtf8LeavesNoLibprotobufLineInTheLog) {
  for (int i = 0; i < 3; ++i) {
    auto client = Connect();
    v1::Frame hello;
    hello.mutable_client_hello()->set_min_version(1);
    hello.mutable_client_hello()->set_max_version(1);
    hello.mutable_client_hello()->set_agent("duet/\xff\xfe");
    auto answer = client->Call(hello, 5s);  // refused as a bad frame, or the connection ends
    EXPECT_TRUE(!answer.ok() || answer->has_error());
  }
  ExpectRelayServes();
  relay_->Stop();
  const std::string log = ReadFile(dir_.File("relay.db.log"));
  EXPECT_EQ(log.find("libprotobuf"), std::string::npos) << log;
  EXPECT_EQ(log.find("\xff"), std::string::npos) << "no untrusted byte reaches the log";
}

TEST_F(RelayProtocolTest, StrangerBytesGetNoAnswerAndTheRelayKeepsServing) {
  // Wrong magic: dropped before any public-key operation, with no answer.
  EXPECT_EQ(RawExchange("GET / HTTP/1.1\r\nHost: relay.example\r\n\r\n"), "");
  std::string wrong_version = "DUET";
  wrong_version.push_back('\x02');
  wrong_version.append(32, 'k');
  EXPECT_EQ(RawExchange(wrong_version), "");
  ExpectRelayServes();
}

TEST_F(RelayProtocolTest, FlippedByteInTransitEndsTheConnection) {
  RawChannel channel(relay_->port());
  std::string sealed = channel.Sealed(Hello());
  sealed[sealed.size() - 5] ^= 0x01;
  channel.SendRaw(sealed);
  bool in_order = true;
  EXPECT_TRUE(channel.FramesUntilClosed(&in_order).empty()) << "nothing is answered";
  EXPECT_FALSE(in_order);
  ExpectRelayServes();
}

TEST_F(RelayProtocolTest, ReplayedFrameEndsTheConnection) {
  RawChannel channel(relay_->port());
  const std::string sealed = channel.Sealed(Hello());
  channel.SendRaw(sealed + sealed);
  bool in_order = true;
  auto frames = channel.FramesUntilClosed(&in_order);
  ASSERT_EQ(frames.size(), 1u) << "the first copy is answered, the replay ends the stream";
  EXPECT_TRUE(frames[0].has_server_hello());
  EXPECT_FALSE(in_order);
}

TEST_F(RelayProtocolTest, DroppedFrameEndsTheConnection) {
  RawChannel channel(relay_->port());
  channel.Sealed(Hello());  // sealed, then lost on the way
  v1::Frame second = Hello();
  second.set_request_id(2);
  channel.SendRaw(channel.Sealed(second));
  bool in_order = true;
  EXPECT_TRUE(channel.FramesUntilClosed(&in_order).empty());
}

TEST_F(RelayProtocolTest, ClientRefusesARelayWithAnotherKeyBeforeSendingAnything) {
  const std::string other = crypto::RandomBytes(32);
  auto client = net::FramedClient::Connect(endpoint_, 5s, other);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().kind, ErrorKind::kVerification);
  EXPECT_NE(client.error().message.find(relay_->key()), std::string::npos);
  EXPECT_NE(client.error().message.find(crypto::Base64UrlEncode(other)), std::string::npos);
  auto pinned = net::FramedClient::Connect(endpoint_, 5s, *crypto::Base64UrlDecode(relay_->key()));
  EXPECT_TRUE(pinned.ok());
}

TEST_F(RelayProtocolTest, RequestBeforeAuthenticationClosesTheConnection) {
  auto client = Connect();
  v1::Frame pull;
  pull.mutable_pull()->set_limit(10);
  auto reply = client->Call(pull, 5s);
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->has_error());
  EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_NOT_AUTHENTICATED);
  auto after = client->Receive(5s);
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.error().message.find("closed"), std::string::npos) << after.error().message;
}

TEST_F(RelayProtocolTest, UnsupportedVersionIsRefused) {
  auto client = Connect();
  v1::Frame hello;
  hello.mutable_client_hello()->set_min_version(2);
  hello.mutable_client_hello()->set_max_version(9);
  auto reply = client->Call(hello, 5s);
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->has_error());
  EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_UNSUPPORTED_VERSION);
}

TEST_F(RelayProtocolTest, SignatureOverAnotherChallengeIsRefused) {
  auto device = crypto::SigningKeyPair::Generate();
  auto client = Connect();
  v1::Frame hello;
  hello.mutable_client_hello()->set_min_version(1);
  hello.mutable_client_hello()->set_max_version(1);
  auto server = client->Call(hello, 5s);
  ASSERT_TRUE(server.ok());
  v1::Frame auth;
  auth.mutable_authenticate()->set_device_key(device.public_key);
  auth.mutable_authenticate()->set_signature(crypto::Sign(
      device, net::AuthTranscript(client->channel_hash(), std::string(32, 'x'),
                                  server->server_hello().relay_key(),
                                  device.public_key)));
  auto reply = client->Call(auth, 5s);
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->has_error());
  EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_AUTH_FAILED);
  ExpectRelayServes();
}

TEST_F(RelayProtocolTest, SignatureBoundToAnotherChannelIsRefused) {
  auto device = crypto::SigningKeyPair::Generate();
  auto client = Connect();
  auto server = client->Call(Hello(), 5s);
  ASSERT_TRUE(server.ok() && server->has_server_hello());
  v1::Frame auth;
  auth.mutable_authenticate()->set_device_key(device.public_key);
  auth.mutable_authenticate()->set_signature(crypto::Sign(
      device, net::AuthTranscript(std::string(32, 'x'), server->server_hello().challenge(),
                                  server->server_hello().relay_key(), device.public_key)));
  auto reply = client->Call(auth, 5s);
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->has_error());
  EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_AUTH_FAILED);
}

TEST_F(RelayProtocolTest, UnpairedDeviceCannotPushOrPull) {
  auto device = crypto::SigningKeyPair::Generate();
  auto client = Authenticated(device);
  v1::Frame pull;
  pull.mutable_pull()->set_limit(10);
  auto reply = client->Call(pull, 5s);
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->has_error());
  EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_NOT_PAIRED);
}

TEST_F(RelayProtocolTest, GuessingInviteIdsIsRateLimitedPerAddress) {
  auto guesser = Authenticated(crypto::SigningKeyPair::Generate());
  int not_found = 0, limited = 0;
  for (int i = 0; i < 15; ++i) {
    v1::Frame fetch;
    fetch.mutable_fetch_invite()->set_invite_id(crypto::RandomBytes(16));
    auto reply = guesser->Call(fetch, 5s);
    ASSERT_TRUE(reply.ok() && reply->has_error());
    if (reply->error().code() == v1::ERROR_CODE_INVITE_NOT_FOUND) ++not_found;
    if (reply->error().code() == v1::ERROR_CODE_RATE_LIMITED) ++limited;
  }
  EXPECT_EQ(not_found, 10) << "the burst";
  EXPECT_EQ(limited, 5);
  // A new connection from the same address does not reset the count.
  auto again = Authenticated(crypto::SigningKeyPair::Generate());
  v1::Frame fetch;
  fetch.mutable_fetch_invite()->set_invite_id(crypto::RandomBytes(16));
  EXPECT_EQ(again->Call(fetch, 5s)->error().code(), v1::ERROR_CODE_RATE_LIMITED);
}

TEST_F(RelayProtocolTest, OneDeviceCanHoldOnlyFiveOpenInvites) {
  auto device = Authenticated(crypto::SigningKeyPair::Generate());
  for (int i = 0; i < 6; ++i) {
    v1::Frame create;
    create.mutable_create_invite()->set_invite_id(crypto::RandomBytes(16));
    create.mutable_create_invite()->set_couple_id(crypto::RandomBytes(16));
    create.mutable_create_invite()->set_sealed_offer("offer");
    create.mutable_create_invite()->set_ttl_seconds(3600);
    auto reply = device->Call(create, 5s);
    ASSERT_TRUE(reply.ok());
    if (i < 5) {
      EXPECT_TRUE(reply->has_invite_created()) << i;
    } else {
      ASSERT_TRUE(reply->has_error());
      EXPECT_EQ(reply->error().code(), v1::ERROR_CODE_RATE_LIMITED);
    }
  }
}

TEST_F(RelayProtocolTest, AnInviteMadeWithReplaceOpenReplacesTheCreatorsOthers) {
  auto device = Authenticated(crypto::SigningKeyPair::Generate());
  auto create = [&](const std::string& id, bool replace) {
    v1::Frame frame;
    frame.mutable_create_invite()->set_invite_id(id);
    frame.mutable_create_invite()->set_couple_id(crypto::RandomBytes(16));
    frame.mutable_create_invite()->set_sealed_offer("offer");
    frame.mutable_create_invite()->set_ttl_seconds(3600);
    frame.mutable_create_invite()->set_replace_open(replace);
    auto reply = device->Call(frame, 5s);
    EXPECT_TRUE(reply.ok());
    return reply.ok() && reply->has_invite_created() ? v1::ERROR_CODE_UNSPECIFIED
           : reply.ok() && reply->has_error()        ? reply->error().code()
                                                     : v1::ERROR_CODE_INTERNAL;
  };
  auto fetch = [&](const std::string& id) {
    v1::Frame frame;
    frame.mutable_fetch_invite()->set_invite_id(id);
    auto reply = Authenticated(crypto::SigningKeyPair::Generate())->Call(frame, 5s);
    EXPECT_TRUE(reply.ok());
    return reply.ok() && reply->has_invite_offer() ? v1::ERROR_CODE_UNSPECIFIED
           : reply.ok() && reply->has_error()      ? reply->error().code()
                                                   : v1::ERROR_CODE_INTERNAL;
  };
  std::vector<std::string> old;
  for (int i = 0; i < 5; ++i) {
    old.push_back(crypto::RandomBytes(16));
    ASSERT_EQ(create(old.back(), false), v1::ERROR_CODE_UNSPECIFIED);
  }
  // A replacement that is refused (its id is taken) replaces nothing.
  EXPECT_EQ(create(old[0], true), v1::ERROR_CODE_INVITE_EXISTS);
  EXPECT_EQ(fetch(old[1]), v1::ERROR_CODE_UNSPECIFIED);
  // One that is stored passes the per-device limit, which it empties.
  const std::string fresh = crypto::RandomBytes(16);
  EXPECT_EQ(create(fresh, true), v1::ERROR_CODE_UNSPECIFIED);
  for (const auto& id : old) EXPECT_EQ(fetch(id), v1::ERROR_CODE_INVITE_REPLACED);
  EXPECT_EQ(fetch(fresh), v1::ERROR_CODE_UNSPECIFIED);
}

TEST_F(RelayProtocolTest, UnauthenticatedConnectionsPerAddressAreCapped) {
  asio::io_context io;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> idle;
  for (int i = 0; i < 16; ++i) {
    idle.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    idle.back()->connect({asio::ip::make_address("127.0.0.1"), relay_->port()});
  }
  // The 17th is closed at once: even a valid hello gets no answer.
  asio::ip::tcp::socket extra(io);
  extra.connect({asio::ip::make_address("127.0.0.1"), relay_->port()});
  asio::error_code ignored;
  asio::write(extra, asio::buffer(crypto::ClientHandshake().Hello()), ignored);
  EXPECT_EQ(ReadUntilClosed(extra), "");
  // Another address is still served while this one is capped.
  asio::ip::tcp::socket other(io);
  other.open(asio::ip::tcp::v4());
  other.bind({asio::ip::make_address("127.0.0.2"), 0});
  other.connect({asio::ip::make_address("127.0.0.1"), relay_->port()});
  asio::write(other, asio::buffer(crypto::ClientHandshake().Hello()));
  std::string server_hello(crypto::kServerHelloBytes, '\0');
  asio::error_code ec;
  asio::read(other, asio::buffer(server_hello), ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(RelayTimeouts, SilentConnectionsAreClosed) {
  TempDir dir;
  RelayProcess relay(dir.File("relay.db"), "127.0.0.1:0",
                     {"--handshake-timeout", "2", "--idle-timeout", "2"});
  relay.Start();
  asio::io_context io;
  // Connected, then silent: closed by the handshake timeout.
  asio::ip::tcp::socket silent(io);
  silent.connect({asio::ip::make_address("127.0.0.1"), relay.port()});
  std::array<char, 16> buffer{};
  asio::error_code ec;
  silent.read_some(asio::buffer(buffer), ec);  // returns when the relay closes
  EXPECT_EQ(ec, asio::error::eof);
  // Authenticated, then silent: closed by the idle timeout, in order.
  ASSERT_TRUE(crypto::Init());
  auto client = net::FramedClient::Connect(net::ParseEndpoint(relay.address()).value(), 5s);
  ASSERT_TRUE(client.ok());
  SayHelloAndAuthenticate(*client.value(), crypto::SigningKeyPair::Generate());
  auto frame = client.value()->Receive(10s);
  ASSERT_FALSE(frame.ok());
  EXPECT_NE(frame.error().message.find("closed"), std::string::npos) << frame.error().message;
}

// Pairs two raw devices through the relay and returns their connections.
TEST_F(RelayProtocolTest, RelayOrdersPushesDeliversThemAndServesOnlyTheCouple) {
  RawCouple couple;
  const std::string invite_id = PairRaw(couple);

  // A pushes two records; the relay numbers them and delivers them to B at once.
  v1::Frame push;
  *push.mutable_push()->add_records() = SignedEnvelope(couple.a, couple.couple_id);
  *push.mutable_push()->add_records() = SignedEnvelope(couple.a, couple.couple_id);
  auto ack = couple.ca->Call(push, 5s);
  ASSERT_TRUE(ack->has_push_ack());
  ASSERT_EQ(ack->push_ack().seqs_size(), 2);
  EXPECT_EQ(ack->push_ack().seqs(0), 1u);
  EXPECT_EQ(ack->push_ack().seqs(1), 2u);
  for (std::uint64_t seq : {1u, 2u}) {
    auto delivered = couple.cb->Receive(5s);
    ASSERT_TRUE(delivered.ok());
    EXPECT_EQ(delivered->request_id(), 0u);
    ASSERT_EQ(delivered->record_batch().records_size(), 1);
    EXPECT_EQ(delivered->record_batch().records(0).seq(), seq);
  }
  // A retried push is idempotent: same sequence numbers, nothing new stored.
  auto retry = couple.ca->Call(push, 5s);
  EXPECT_EQ(retry->push_ack().seqs(1), 2u);

  // Pull pages with `more`.
  v1::Frame pull;
  pull.mutable_pull()->set_after_seq(0);
  pull.mutable_pull()->set_limit(1);
  auto page = couple.cb->Call(pull, 5s);
  ASSERT_TRUE(page->has_record_batch());
  EXPECT_EQ(page->record_batch().records_size(), 1);
  EXPECT_TRUE(page->record_batch().more());

  // A record B did not sign, or for another couple, is refused whole.
  v1::Frame forged;
  *forged.mutable_push()->add_records() = SignedEnvelope(couple.a, couple.couple_id);
  auto refused = couple.cb->Call(forged, 5s);
  ASSERT_TRUE(refused->has_error());
  EXPECT_EQ(refused->error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  v1::Frame other;
  *other.mutable_push()->add_records() = SignedEnvelope(couple.b, crypto::RandomBytes(16));
  EXPECT_TRUE(couple.cb->Call(other, 5s)->has_error());
  // Padding a record with unknown fields (to blow up what the relay stores
  // and sends back) is refused.
  v1::Frame padded;
  auto* record = padded.mutable_push()->add_records();
  *record = SignedEnvelope(couple.b, couple.couple_id);
  record->GetReflection()->MutableUnknownFields(record)->AddLengthDelimited(
      99, std::string(900 * 1024, 'p'));
  auto refused_padding = couple.cb->Call(padded, 5s);
  ASSERT_TRUE(refused_padding->has_error());
  EXPECT_EQ(refused_padding->error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);

  // A stranger sees nothing of this couple.
  auto stranger = Authenticated(crypto::SigningKeyPair::Generate());
  auto nothing = stranger->Call(pull, 5s);
  ASSERT_TRUE(nothing->has_error());
  EXPECT_EQ(nothing->error().code(), v1::ERROR_CODE_NOT_PAIRED);
  // And the invite cannot be reused by the stranger.
  v1::Frame reuse;
  reuse.mutable_fetch_invite()->set_invite_id(invite_id);
  auto used = stranger->Call(reuse, 5s);
  ASSERT_TRUE(used->has_error());
  EXPECT_EQ(used->error().code(), v1::ERROR_CODE_INVITE_USED);
}

TEST_F(RelayProtocolTest, PullPagesOfTheLargestRecordsEachFitAFrameAndLoseNone) {
  RawCouple couple;
  PairRaw(couple);
  // 40 records of the largest ciphertext: 2.6 MB, more than two frames hold.
  constexpr int kRecords = 40;
  for (int sent = 0; sent < kRecords; sent += 10) {
    v1::Frame push;
    for (int i = 0; i < 10; ++i)
      *push.mutable_push()->add_records() = SignedEnvelope(couple.a, couple.couple_id, proto::kMaxCiphertextBytes);
    auto ack = couple.ca->Call(push, 5s);
    ASSERT_TRUE(ack.ok() && ack->has_push_ack()) << (ack.ok() ? ack->DebugString() : ack.error().message);
  }
  std::uint64_t after = 0;
  int pages = 0;
  for (bool more = true; more; ++pages) {
    ASSERT_LT(pages, kRecords) << "pulling never ends";
    v1::Frame pull;
    pull.mutable_pull()->set_after_seq(after);
    pull.mutable_pull()->set_limit(proto::kMaxPullLimit);
    // A page past kMaxFrameBytes would not even decode here.
    auto page = couple.ca->Call(pull, 5s);
    ASSERT_TRUE(page.ok()) << page.error().message;
    ASSERT_TRUE(page->has_record_batch()) << page->DebugString();
    ASSERT_GT(page->record_batch().records_size(), 0);
    EXPECT_LE(page->ByteSizeLong(), proto::kMaxFrameBytes);
    for (const auto& stored : page->record_batch().records()) EXPECT_EQ(stored.seq(), ++after);
    more = page->record_batch().more();
  }
  EXPECT_EQ(after, static_cast<std::uint64_t>(kRecords));
  // Full pages: as few as the frame allows (15 records of 64 KiB fit in one).
  EXPECT_EQ(pages, 3);
}

TEST_F(RelayProtocolTest, PurgeErasesOnlyTheAskersRecordsAndPullSkipsThem) {
  RawCouple couple;
  PairRaw(couple);
  v1::Frame push;
  const v1::RecordEnvelope mine = SignedEnvelope(couple.a, couple.couple_id);
  *push.mutable_push()->add_records() = mine;
  *push.mutable_push()->add_records() = SignedEnvelope(couple.a, couple.couple_id);
  ASSERT_TRUE(couple.ca->Call(push, 5s)->has_push_ack());
  v1::Frame theirs_push;
  const v1::RecordEnvelope theirs = SignedEnvelope(couple.b, couple.couple_id);
  *theirs_push.mutable_push()->add_records() = theirs;
  ASSERT_TRUE(couple.cb->Call(theirs_push, 5s)->has_push_ack());

  auto purge = [](std::vector<std::string> ids) {
    v1::Frame frame;
    auto* request = frame.mutable_purge();
    for (auto& id : ids) request->add_record_ids(id);
    return frame;
  };
  auto code = [](const Result<v1::Frame>& reply) {
    return reply.ok() && reply->has_error() ? reply->error().code() : v1::ERROR_CODE_UNSPECIFIED;
  };
  // Bob may not purge Alice's record; a malformed request purges nothing.
  EXPECT_EQ(code(couple.cb->Call(purge({theirs.record_id(), mine.record_id()}), 5s)), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code(couple.ca->Call(purge({}), 5s)), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code(couple.ca->Call(purge({"short"}), 5s)), v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(code(Authenticated(crypto::SigningKeyPair::Generate())->Call(purge({mine.record_id()}), 5s)),
            v1::ERROR_CODE_NOT_PAIRED);
  v1::Frame pull;
  pull.mutable_pull()->set_limit(10);
  ASSERT_EQ(couple.cb->Call(pull, 5s)->record_batch().records_size(), 3);

  auto purged = couple.ca->Call(purge({mine.record_id(), crypto::RandomBytes(16)}), 5s);
  ASSERT_TRUE(purged.ok() && purged->has_purged()) << purged->DebugString();
  EXPECT_EQ(purged->purged().purged(), 1u);
  EXPECT_EQ(couple.ca->Call(purge({mine.record_id()}), 5s)->purged().purged(), 0u) << "purged already";
  auto left = couple.cb->Call(pull, 5s);
  ASSERT_EQ(left->record_batch().records_size(), 2);
  EXPECT_EQ(left->record_batch().records(0).seq(), 2u) << "its number is skipped, not reused";
  EXPECT_EQ(left->record_batch().records(1).seq(), 3u);
  // A retried push of the purged record gets its old number and stores nothing.
  auto retry = couple.ca->Call(push, 5s);
  EXPECT_EQ(retry->push_ack().seqs(0), 1u);
  EXPECT_EQ(couple.cb->Call(pull, 5s)->record_batch().records_size(), 2);
}

TEST_F(RelayProtocolTest, ALinkedDeviceJoinsItsPartnersSideAndOnlyThatSideCanRevokeIt) {
  RawCouple couple;
  PairRaw(couple);
  // Alice links a laptop; a link names her own couple, from a paired device.
  const std::string link_id = crypto::RandomBytes(16);
  v1::Frame create = CreateInviteFrame(link_id, couple.couple_id);
  create.mutable_create_invite()->set_link_device(true);
  auto stranger = Authenticated(crypto::SigningKeyPair::Generate());
  EXPECT_EQ(stranger->Call(create, 5s)->error().code(), v1::ERROR_CODE_INVALID_ARGUMENT) << "pair first";
  v1::Frame elsewhere = create;
  elsewhere.mutable_create_invite()->set_couple_id(crypto::RandomBytes(16));
  EXPECT_EQ(couple.ca->Call(elsewhere, 5s)->error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  ASSERT_TRUE(couple.ca->Call(create, 5s)->has_invite_created());
  auto laptop_key = crypto::SigningKeyPair::Generate();
  auto laptop = Authenticated(laptop_key);
  auto joined = laptop->Call(AnswerInviteFrame(link_id), 5s);
  ASSERT_TRUE(joined->has_paired()) << joined->DebugString();
  EXPECT_EQ(joined->paired().couple_id(), couple.couple_id);
  // Only the creator hands over keys, and the answerer alone receives them.
  v1::Frame complete;
  complete.mutable_complete_link()->set_invite_id(link_id);
  complete.mutable_complete_link()->set_sealed_keys("sealed keys");
  EXPECT_EQ(couple.cb->Call(complete, 5s)->error().code(), v1::ERROR_CODE_INVITE_NOT_FOUND);
  ASSERT_TRUE(couple.ca->Call(complete, 5s)->has_link_completed());
  v1::Frame fetch;
  fetch.mutable_fetch_invite()->set_invite_id(link_id);
  EXPECT_EQ(laptop->Call(fetch, 5s)->invite_offer().sealed_keys(), "sealed keys");
  EXPECT_FALSE(Authenticated(crypto::SigningKeyPair::Generate())->Call(fetch, 5s)->has_invite_offer());
  // The laptop writes into the couple's log.
  ASSERT_TRUE(laptop->Call(PushFrame(laptop_key, couple.couple_id, 1), 5s)->has_push_ack());

  // Bob cannot revoke Alice's device, nor a device itself; Alice can.
  v1::Frame revoke;
  revoke.mutable_revoke_device()->set_device_key(laptop_key.public_key);
  EXPECT_EQ(couple.cb->Call(revoke, 5s)->error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  v1::Frame itself;
  itself.mutable_revoke_device()->set_device_key(couple.a.public_key);
  EXPECT_EQ(couple.ca->Call(itself, 5s)->error().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
  auto revoked = couple.ca->Call(revoke, 5s);
  ASSERT_TRUE(revoked->has_device_revoked()) << revoked->DebugString();
  EXPECT_GT(revoked->device_revoked().revoked_at(), 0);
  EXPECT_FALSE(laptop->Receive(5s).ok()) << "the revoked device's connection was finished";
  // Back again, it hears so, and every request but Ping is refused.
  auto again = Connect();
  auto told = HelloAndAuthenticate(*again, laptop_key);
  ASSERT_TRUE(told.ok());
  EXPECT_EQ(told->auth_ok().revoked_at(), revoked->device_revoked().revoked_at());
  EXPECT_EQ(again->Call(PushFrame(laptop_key, couple.couple_id, 1), 5s)->error().code(),
            v1::ERROR_CODE_DEVICE_REVOKED);
  v1::Frame pull;
  pull.mutable_pull()->set_limit(10);
  EXPECT_EQ(again->Call(pull, 5s)->error().code(), v1::ERROR_CODE_DEVICE_REVOKED);
  EXPECT_EQ(again->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16)), 5s)->error().code(),
            v1::ERROR_CODE_DEVICE_REVOKED);
  v1::Frame ping;
  ping.mutable_ping();
  EXPECT_TRUE(again->Call(ping, 5s)->has_pong());
  // Asked again, the relay answers the first time; the partners go on.
  EXPECT_EQ(couple.ca->Call(revoke, 5s)->device_revoked().revoked_at(), revoked->device_revoked().revoked_at());
  EXPECT_TRUE(couple.cb->Call(PushFrame(couple.b, couple.couple_id, 1), 5s)->has_push_ack());
  ExpectRelayServes();
}

TEST_F(RelayProtocolTest, UnpairEndsTheCoupleForBothAndRefusesLaterPushes) {
  RawCouple couple;
  PairRaw(couple);
  v1::Frame push;
  *push.mutable_push()->add_records() = SignedEnvelope(couple.b, couple.couple_id);
  ASSERT_TRUE(couple.cb->Call(push, 5s)->has_push_ack());
  v1::Frame unpair;
  unpair.mutable_unpair();
  EXPECT_EQ(Authenticated(crypto::SigningKeyPair::Generate())->Call(unpair, 5s)->error().code(),
            v1::ERROR_CODE_NOT_PAIRED);
  auto ended = couple.ca->Call(unpair, 5s);
  ASSERT_TRUE(ended.ok() && ended->has_unpaired()) << ended->DebugString();
  EXPECT_GT(ended->unpaired().ended_at(), 0);
  // Both connections are finished; each device hears of the end on its next.
  EXPECT_FALSE(couple.cb->Receive(5s).ok()) << "Bob's connection was finished";
  auto alice = Connect();
  auto alice_ok = HelloAndAuthenticate(*alice, couple.a);
  ASSERT_TRUE(alice_ok.ok());
  EXPECT_TRUE(alice_ok->auth_ok().couple_id().empty()) << "Alice left the couple";
  auto bob = Connect();
  auto bob_ok = HelloAndAuthenticate(*bob, couple.b);
  ASSERT_TRUE(bob_ok.ok());
  EXPECT_EQ(bob_ok->auth_ok().couple_id(), couple.couple_id);
  EXPECT_EQ(bob_ok->auth_ok().ended_at(), ended->unpaired().ended_at());
  auto refused = bob->Call(push, 5s);
  ASSERT_TRUE(refused.ok() && refused->has_error());
  EXPECT_EQ(refused->error().code(), v1::ERROR_CODE_UNPAIRED);
  v1::Frame pull;
  pull.mutable_pull()->set_limit(10);
  EXPECT_EQ(bob->Call(pull, 5s)->record_batch().records_size(), 1) << "what came before the end is still there";
  auto told = bob->Call(unpair, 5s);
  ASSERT_TRUE(told.ok() && told->has_unpaired());
  EXPECT_EQ(told->unpaired().ended_at(), ended->unpaired().ended_at());
  ExpectRelayServes();
}

}  // namespace
}  // namespace duet::testing
