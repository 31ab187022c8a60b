// The relay's fair limits (issue #11), against the real relay code on real
// loopback sockets, run in this process with a ManualClock and limits scaled
// down so each attack is quick to mount: slots, slow drip, receive memory,
// quotas, pacing, invites and invite-only mode. Deadlines are checked by
// moving the clock, never by waiting on it.
#include <gtest/gtest.h>

#include <thread>

#include <asio.hpp>

#include "crypto/channel.h"
#include "daemon/clock.h"
#include "daemon/relay.h"
#include "daemon/relay_token.h"
#include "proto/frame_codec.h"
#include "tests/integration/relay_client.h"
#include "tests/postgres/test_database.h"
#include "tests/temp_dir.h"

namespace duet::testing {
namespace {

using namespace std::chrono_literals;
using daemon::Admission;
using daemon::RelayLimits;

class RelayLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::Init()); }
  void TearDown() override {
    if (relay_) {
      relay_->Stop();
      thread_.join();
    }
  }

  void StartRelay(const RelayLimits& limits, Admission admission = Admission::kOpen) {
    daemon::RelayOptions options;
    options.listen = {"127.0.0.1", 0};
    options.db_path = dir_.File("relay.db");
    auto postgres = TestPostgresFor(options.db_path);  // the suite's run on PostgreSQL
    if (!postgres.ok()) throw std::runtime_error(postgres.error().message);
    options.postgres = postgres.value();
    options.key_path = dir_.File("relay.key");
    options.limits = limits;
    options.admission = admission;
    options.clock = &clock_;
    options.handle_signals = false;
    auto relay = daemon::Relay::Create(options);
    ASSERT_TRUE(relay.ok()) << relay.error().message;
    relay_ = std::move(relay).value();
    endpoint_ = relay_->listening();
    thread_ = std::thread([this] { relay_->Run(); });
  }

  std::unique_ptr<net::FramedClient> Connect(const std::string& from = "127.0.0.1") {
    auto client = net::FramedClient::Connect(endpoint_, 5s, {}, from);
    return client.ok() ? std::move(client).value() : nullptr;
  }

  // A connection authenticated as `device`, or null when the relay shut it.
  std::unique_ptr<net::FramedClient> Authenticated(const crypto::SigningKeyPair& device,
                                                   const std::string& from = "127.0.0.1") {
    auto client = Connect(from);
    if (!client || !HelloAndAuthenticate(*client, device).ok()) return nullptr;
    return client;
  }

  struct Couple {
    crypto::SigningKeyPair a = crypto::SigningKeyPair::Generate();
    crypto::SigningKeyPair b = crypto::SigningKeyPair::Generate();
    std::string couple_id = crypto::RandomBytes(16);
    std::unique_ptr<net::FramedClient> ca, cb;
  };

  // Pairs two fresh devices through the relay.
  Couple Pair(const std::string& from = "127.0.0.1") {
    Couple couple;
    couple.ca = Authenticated(couple.a, from);
    couple.cb = Authenticated(couple.b, from);
    EXPECT_TRUE(couple.ca && couple.cb);
    if (!couple.ca || !couple.cb) return couple;
    const std::string invite_id = crypto::RandomBytes(16);
    EXPECT_TRUE(couple.ca->Call(CreateInviteFrame(invite_id, couple.couple_id), 5s)->has_invite_created());
    EXPECT_TRUE(couple.cb->Call(AnswerInviteFrame(invite_id), 5s)->has_paired());
    v1::Frame check;
    check.mutable_check_invite()->set_invite_id(invite_id);
    EXPECT_TRUE(couple.ca->Call(check, 5s)->has_invite_state());
    return couple;
  }

  static bool Serves(net::FramedClient& client) {
    v1::Frame ping;
    ping.mutable_ping();
    auto pong = client.Call(ping, 2s);
    return pong.ok() && pong->has_pong();
  }

  // Moves the relay's clock and has it check every deadline, then waits
  // until it did (a Ping on a fresh connection is answered after the sweep).
  void AdvanceAndSweep(std::chrono::seconds by) {
    clock_.Advance(by);
    relay_->Sweep();
    auto probe = Connect();
    ASSERT_TRUE(probe);
    v1::Frame hello;
    hello.mutable_client_hello()->set_min_version(1);
    hello.mutable_client_hello()->set_max_version(1);
    ASSERT_TRUE(probe->Call(hello, 5s).ok());
  }

  TempDir dir_;
  daemon::ManualClock clock_;
  std::unique_ptr<daemon::Relay> relay_;
  net::Endpoint endpoint_;
  std::thread thread_;
};

// Defect 1: throwaway keys from many addresses used to fill every slot.
TEST_F(RelayLimitsTest, StrangersFillingEverySlotCannotLockOutACouple) {
  RelayLimits limits;
  limits.max_connections = 48;
  limits.max_stranger_connections = 24;
  limits.max_connections_per_address = 8;
  StartRelay(limits);
  Couple couple = Pair();
  ASSERT_TRUE(couple.ca && couple.cb);
  // 17 addresses x 4 authenticated throwaway devices: more than the table.
  std::vector<std::unique_ptr<net::FramedClient>> strangers;
  for (int address = 2; address < 19; ++address)
    for (int i = 0; i < 4; ++i)
      if (auto c = Authenticated(crypto::SigningKeyPair::Generate(),
                                 "127.0.0." + std::to_string(address)))
        strangers.push_back(std::move(c));
  // The couple still connects and syncs, again and again.
  for (int round = 0; round < 3; ++round) {
    auto again = Authenticated(couple.a);
    ASSERT_TRUE(again) << "round " << round;
    auto ack = again->Call(PushFrame(couple.a, couple.couple_id, 1), 5s);
    ASSERT_TRUE(ack.ok() && ack->has_push_ack()) << round;
  }
  EXPECT_TRUE(Serves(*couple.cb)) << "a paired connection is never shed for a stranger";
  // The oldest strangers gave way; the newest still hold their slots.
  std::size_t alive = 0;
  for (auto& s : strangers) alive += Serves(*s) ? 1 : 0;
  EXPECT_LE(alive, limits.max_stranger_connections);
  EXPECT_TRUE(Serves(*strangers.back()));
  EXPECT_FALSE(Serves(*strangers.front()));
}

TEST_F(RelayLimitsTest, OneAddressCannotTakeMoreThanItsShare) {
  RelayLimits limits;
  limits.max_connections_per_address = 6;
  StartRelay(limits);
  std::vector<std::unique_ptr<net::FramedClient>> mine;
  for (int i = 0; i < 6; ++i) mine.push_back(Authenticated(crypto::SigningKeyPair::Generate(), "127.0.0.7"));
  for (auto& c : mine) ASSERT_TRUE(c);
  EXPECT_FALSE(Connect("127.0.0.7")) << "the seventh from one address is refused";
  EXPECT_TRUE(Authenticated(crypto::SigningKeyPair::Generate(), "127.0.0.8"));
}

// The relay counts each address's connections as they come, authenticate
// and go (not by walking every connection on each admission, which made a
// reconnect storm quadratic): the counts must give slots back.
TEST_F(RelayLimitsTest, AnAddressGetsItsSlotsBackAsItsConnectionsAuthenticateOrClose) {
  RelayLimits limits;
  limits.max_connections_per_address = 4;
  limits.max_unauthenticated_per_address = 2;
  StartRelay(limits);
  const std::string from = "127.0.0.9";
  auto first = Connect(from);
  auto second = Connect(from);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(Connect(from)) << "a third still in the handshake is refused";
  ASSERT_TRUE(HelloAndAuthenticate(*first, crypto::SigningKeyPair::Generate()).ok());
  auto third = Authenticated(crypto::SigningKeyPair::Generate(), from);
  EXPECT_TRUE(third) << "authenticating gave a handshake slot back";
  auto fourth = Authenticated(crypto::SigningKeyPair::Generate(), from);
  ASSERT_TRUE(fourth);
  EXPECT_FALSE(Connect(from)) << "four open: the address is full";
  third.reset();
  fourth.reset();
  // The relay hears the closes on its own thread; wait for it, boundedly.
  std::unique_ptr<net::FramedClient> again;
  for (int i = 0; i < 100 && !again; ++i) {
    again = Connect(from);
    if (!again) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(again) << "closing gave the address's slots back";
  ASSERT_TRUE(HelloAndAuthenticate(*again, crypto::SigningKeyPair::Generate()).ok());
  std::unique_ptr<net::FramedClient> last;  // the second close may still be on its way
  for (int i = 0; i < 100 && !last; ++i) {
    last = Authenticated(crypto::SigningKeyPair::Generate(), from);
    if (!last) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(last) << "both slots came back";
  EXPECT_FALSE(Connect(from)) << "and no more than both";
}

TEST_F(RelayLimitsTest, ACoupleOverItsConnectionCapLosesItsOwnOldest) {
  RelayLimits limits;
  limits.max_connections_per_couple = 3;
  StartRelay(limits);
  Couple couple = Pair();  // two connections already
  auto third = Authenticated(couple.a);
  auto fourth = Authenticated(couple.b);
  ASSERT_TRUE(third && fourth);
  EXPECT_FALSE(Serves(*couple.ca)) << "the couple's oldest went";
  EXPECT_TRUE(Serves(*couple.cb));
  EXPECT_TRUE(Serves(*fourth));
}

// Defect 2: the idle timer restarted on every byte, so a frame dripped in
// a byte at a time was never finished and never timed out.
TEST_F(RelayLimitsTest, AFrameDrippedAByteAtATimeIsCutOffAtTheFrameDeadline) {
  RelayLimits limits;
  StartRelay(limits);
  RawChannel dripper(endpoint_.port, "127.0.0.1");
  ASSERT_TRUE(dripper.Authenticate(crypto::SigningKeyPair::Generate()));
  // A 4,000-byte frame (within the unpaired limit), announced, then a byte
  // every two seconds: far inside the 300 s idle timeout each time.
  dripper.StartFrame(4000, 0);
  int seconds = 0;
  for (; seconds < 40 && dripper.SendByte(); seconds += 2) AdvanceAndSweep(2s);
  EXPECT_TRUE(dripper.ClosedByRelay());
  EXPECT_LE(seconds, 32) << "closed at the 30 s frame deadline, counted from the first byte";
}

TEST_F(RelayLimitsTest, HandshakeAndIdleDeadlinesFollowTheClock) {
  RelayLimits limits;
  StartRelay(limits);
  auto half = Connect();  // channel up, no hello
  ASSERT_TRUE(half);
  auto idle = Authenticated(crypto::SigningKeyPair::Generate());
  ASSERT_TRUE(idle);
  AdvanceAndSweep(limits.handshake_timeout - 1s);
  EXPECT_TRUE(Serves(*idle));
  AdvanceAndSweep(2s);
  v1::Frame hello;
  hello.mutable_client_hello()->set_min_version(1);
  hello.mutable_client_hello()->set_max_version(1);
  EXPECT_FALSE(half->Call(hello, 2s).ok()) << "handshake deadline passed";
  EXPECT_TRUE(Serves(*idle));
  AdvanceAndSweep(limits.idle_timeout - 1s);
  EXPECT_TRUE(Serves(*idle)) << "the ping above renewed it";
  AdvanceAndSweep(limits.idle_timeout + 1s);
  EXPECT_FALSE(Serves(*idle));
}

TEST_F(RelayLimitsTest, LargeFramesAreForPairedDevicesOnly) {
  RelayLimits limits;
  StartRelay(limits);
  auto stranger = Authenticated(crypto::SigningKeyPair::Generate());
  ASSERT_TRUE(stranger);
  v1::Frame big = CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16));
  big.mutable_create_invite()->set_sealed_offer(std::string(8000, 'o'));
  auto refused = stranger->Call(big, 5s);
  ASSERT_TRUE(refused.ok());
  ASSERT_TRUE(refused->has_error());
  EXPECT_EQ(refused->error().code(), v1::ERROR_CODE_BAD_FRAME);
  // A paired device pushes 100 records in one frame.
  Couple couple = Pair();
  auto ack = couple.ca->Call(PushFrame(couple.a, couple.couple_id, 100), 5s);
  ASSERT_TRUE(ack.ok() && ack->has_push_ack()) << (ack.ok() ? ack->DebugString() : ack.error().message);
}

TEST_F(RelayLimitsTest, ReceiveMemoryPastTheBudgetShedsTheNewestStranger) {
  RelayLimits limits;
  limits.receive_budget_bytes = 40 * 1024;
  StartRelay(limits);
  // Strangers each hold most of a 4,000-byte frame: about 4 KiB apiece,
  // so the budget holds about ten.
  std::vector<std::unique_ptr<RawChannel>> strangers;
  for (int i = 0; i < 16; ++i) {
    strangers.push_back(std::make_unique<RawChannel>(endpoint_.port, "127.0.0." + std::to_string(30 + i)));
    ASSERT_TRUE(strangers.back()->Authenticate(crypto::SigningKeyPair::Generate()));
    strangers.back()->StartFrame(4000, 3900);
  }
  EXPECT_FALSE(strangers.front()->ClosedByRelay()) << "the oldest keep their memory";
  EXPECT_TRUE(strangers.back()->ClosedByRelay()) << "the newest over the budget was shed";
  // A couple is still served, large frames and all.
  Couple couple = Pair();
  ASSERT_TRUE(couple.ca && couple.cb);
  auto ack = couple.ca->Call(PushFrame(couple.a, couple.couple_id, 50), 5s);
  EXPECT_TRUE(ack.ok() && ack->has_push_ack());
}

// Defect 3: nothing bounded what one couple stores or how fast it pushes.
TEST_F(RelayLimitsTest, ACoupleOverItsQuotaIsRefusedWholeAndKeepsWhatItHad) {
  RelayLimits limits;
  limits.max_records_per_couple = 5;
  StartRelay(limits);
  Couple couple = Pair();
  ASSERT_TRUE(couple.ca->Call(PushFrame(couple.a, couple.couple_id, 4), 5s)->has_push_ack());
  auto over = couple.ca->Call(PushFrame(couple.a, couple.couple_id, 2), 5s);
  ASSERT_TRUE(over.ok() && over->has_error());
  EXPECT_EQ(over->error().code(), v1::ERROR_CODE_QUOTA_EXCEEDED);
  v1::Frame pull;
  pull.mutable_pull()->set_limit(100);
  auto log = couple.cb->Call(pull, 5s);
  ASSERT_TRUE(log.ok() && log->has_record_batch());
  EXPECT_EQ(log->record_batch().records_size(), 4) << "nothing of the refused push was stored";
  EXPECT_TRUE(couple.ca->Call(PushFrame(couple.a, couple.couple_id, 1), 5s)->has_push_ack());
  // The quota counts bytes too.
  EXPECT_EQ(couple.ca->Call(PushFrame(couple.a, couple.couple_id, 1), 5s)->error().code(),
            v1::ERROR_CODE_QUOTA_EXCEEDED);
}

TEST_F(RelayLimitsTest, ACoupleOverItsByteQuotaIsRefused) {
  RelayLimits limits;
  limits.max_bytes_per_couple = 3000;  // about 6 records of ~400 bytes
  StartRelay(limits);
  Couple couple = Pair();
  ASSERT_TRUE(couple.ca->Call(PushFrame(couple.a, couple.couple_id, 5), 5s)->has_push_ack());
  EXPECT_EQ(couple.ca->Call(PushFrame(couple.a, couple.couple_id, 5), 5s)->error().code(),
            v1::ERROR_CODE_QUOTA_EXCEEDED);
}

TEST_F(RelayLimitsTest, PushesArePacedPerCoupleWithARetryAfter) {
  RelayLimits limits;
  limits.push_burst_records = 10;
  limits.push_record_interval = 1000ms;
  StartRelay(limits);
  Couple couple = Pair();
  ASSERT_TRUE(couple.ca->Call(PushFrame(couple.a, couple.couple_id, 8), 5s)->has_push_ack());
  auto paced = couple.cb->Call(PushFrame(couple.b, couple.couple_id, 5), 5s);
  ASSERT_TRUE(paced.ok() && paced->has_error());
  EXPECT_EQ(paced->error().code(), v1::ERROR_CODE_RATE_LIMITED) << "the couple shares one bucket";
  EXPECT_EQ(paced->error().retry_after_ms(), 3000u) << "3 more records at one a second";
  clock_.Advance(3s);
  EXPECT_TRUE(couple.cb->Call(PushFrame(couple.b, couple.couple_id, 5), 5s)->has_push_ack());
  // Another couple has its own bucket.
  Couple other = Pair();
  EXPECT_TRUE(other.ca->Call(PushFrame(other.a, other.couple_id, 10), 5s)->has_push_ack());
}

TEST_F(RelayLimitsTest, PendingInvitesAreCappedPerAddressAndInAll) {
  RelayLimits limits;
  limits.max_pending_invites_per_address = 3;
  limits.max_pending_invites = 5;
  StartRelay(limits);
  auto invite_from = [&](const std::string& address) {
    auto device = Authenticated(crypto::SigningKeyPair::Generate(), address);
    EXPECT_TRUE(device);
    auto reply = device->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16)), 5s);
    return reply.ok() && reply->has_error() ? reply->error().code() : v1::ERROR_CODE_UNSPECIFIED;
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(invite_from("127.0.0.20"), v1::ERROR_CODE_UNSPECIFIED);
  EXPECT_EQ(invite_from("127.0.0.20"), v1::ERROR_CODE_RATE_LIMITED) << "fresh keys, same address";
  EXPECT_EQ(invite_from("127.0.0.21"), v1::ERROR_CODE_UNSPECIFIED);
  EXPECT_EQ(invite_from("127.0.0.22"), v1::ERROR_CODE_UNSPECIFIED);
  EXPECT_EQ(invite_from("127.0.0.23"), v1::ERROR_CODE_RATE_LIMITED) << "the relay holds 5";
  // Once they expire they no longer count.
  clock_.Advance(3601s);
  EXPECT_EQ(invite_from("127.0.0.20"), v1::ERROR_CODE_UNSPECIFIED);
}

// Defect 4: who may open a couple's mailbox.
TEST_F(RelayLimitsTest, AnInviteOnlyRelayWantsAOneTimeToken) {
  auto token = daemon::CreateRelayToken(dir_.File("relay.db"), TestPostgresFor(dir_.File("relay.db")).value(),
                                         clock_.unix_seconds());
  ASSERT_TRUE(token.ok()) << token.error().message;
  StartRelay(RelayLimits{}, Admission::kInviteOnly);
  auto alice = crypto::SigningKeyPair::Generate();
  auto a = Authenticated(alice);
  auto refused = a->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16)), 5s);
  EXPECT_EQ(refused->error().code(), v1::ERROR_CODE_TOKEN_REQUIRED);
  auto wrong = a->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16),
                                         daemon::NewRelayToken()), 5s);
  EXPECT_EQ(wrong->error().code(), v1::ERROR_CODE_TOKEN_REQUIRED);
  EXPECT_TRUE(a->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16), token.value()), 5s)
                  ->has_invite_created());
  // The same device may invite again (its first invite expired, say)...
  EXPECT_TRUE(a->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16)), 5s)
                  ->has_invite_created());
  // ...but the token is spent for anyone else.
  auto mallory = Authenticated(crypto::SigningKeyPair::Generate());
  auto spent = mallory->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16), token.value()), 5s);
  EXPECT_EQ(spent->error().code(), v1::ERROR_CODE_TOKEN_REQUIRED);
  EXPECT_NE(spent->error().message().find("used already"), std::string::npos);
}

TEST_F(RelayLimitsTest, AnOpenRelayNeedsNoToken) {
  StartRelay(RelayLimits{});
  auto a = Authenticated(crypto::SigningKeyPair::Generate());
  EXPECT_TRUE(a->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16)), 5s)
                  ->has_invite_created());
}

}  // namespace
}  // namespace duet::testing
