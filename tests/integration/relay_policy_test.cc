// The relay's policies as a couple meets them through `duet`: an
// invite-only relay and its tokens, and a couple's storage quota. Real
// duetd and duet processes on loopback.
#include <gtest/gtest.h>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

class InviteOnlyRelayTest : public CoupleTest {
 protected:
  std::vector<std::string> RelayArgs() const override { return {"--mode", "invite-only"}; }

  std::string NewToken() {
    auto made = RunProgram(Concat({DUETD_PATH, "token", "create"}, RelayStoreArgs(dir_.File("relay.db"))), dir_.path());
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return FirstLine(made.out);
  }
};

TEST_F(InviteOnlyRelayTest, ACoupleOpensItsMailboxWithATokenFromTheOwner) {
  Init("a", "Alice");
  Init("b", "Bob");
  auto refused = Duet("a", {"invite"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("invite-only"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("duetd token create"), std::string::npos) << refused.err;
  EXPECT_EQ(LineCount(refused.err), 1) << refused.err;

  Refused(Duet("a", {"invite", "--relay-token", "not-a-token"}), "--relay-token");
  const std::string token = NewToken();
  ASSERT_EQ(token.size(), 24u);
  auto invite = Duet("a", {"invite", "--relay-token", token});
  ASSERT_EQ(invite.exit_code, 0) << invite.err;
  const std::string code = FirstLine(invite.out);
  // The partner joins with no token of their own.
  Ok(Duet("b", {"join", code}));
  Ok(Duet("a", {"sync"}));
  Ok(Duet("a", {"checkin", "--mood", "4"}));
  auto received = Duet("b", {"--json", "sync"});
  ASSERT_EQ(received.exit_code, 0) << received.err;
  EXPECT_EQ(nlohmann::json::parse(received.out)["received"], 1);

  // The token is spent: someone else cannot use it.
  Init("c", "Carol");
  auto spent = Duet("c", {"invite", "--relay-token", token});
  EXPECT_NE(spent.exit_code, 0);
  EXPECT_NE(spent.err.find("used already"), std::string::npos) << spent.err;
}

TEST_F(InviteOnlyRelayTest, InitKeepsTheTokenForTheFirstInvite) {
  Refused(Duet("a", {"init", "--name", "Alice", "--relay", relay_->address(), "--relay-token", "x"}),
          "--relay-token");
  auto init = Duet("a", {"init", "--name", "Alice", "--relay", relay_->address(), "--relay-token",
                         NewToken()});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  Ok(Duet("a", {"invite"}));
  // The device that spent it may invite again.
  Ok(Duet("a", {"invite", "--replace"}));
}

TEST(RelayToken, CreatingOneNeedsTheRelaysDatabase) {
  TempDir dir;
  auto r = RunProgram({DUETD_PATH, "token", "create", "--db", dir.File("missing/relay.db")}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("relay.db"), std::string::npos) << r.err;
}

class QuotaRelayTest : public CoupleTest {
 protected:
  std::vector<std::string> RelayArgs() const override { return {"--couple-max-records", "3"}; }
};

TEST_F(QuotaRelayTest, ARecordOverTheQuotaStaysQueuedAndIsSaidPlainly) {
  Pair();
  for (int i = 0; i < 3; ++i) Ok(Duet("a", {"checkin", "--mood", "3"}));
  auto over = Duet("a", {"checkin", "--mood", "5", "--note", "kept here"});
  ASSERT_EQ(over.exit_code, 0) << "saved, whatever the relay says";
  EXPECT_NE(over.out.find("saved; queued"), std::string::npos) << over.out;
  EXPECT_NE(over.out.find("storage limit"), std::string::npos) << over.out;
  EXPECT_NE(over.out.find("nothing is lost"), std::string::npos) << over.out;
  auto status = DuetJson("a", {"status"});
  EXPECT_EQ(status["queued"], 1);
  auto sync = Duet("a", {"--json", "sync"});
  ASSERT_EQ(sync.exit_code, 1) << "a script is told: the relay's owner must act" << sync.err;
  EXPECT_NE(nlohmann::json::parse(sync.out)["held_back"].get<std::string>().find("storage limit"),
            std::string::npos);
  // Alice still sees her own note; Bob got the three that fit.
  EXPECT_EQ(Checkins("a").size(), 4u);
  Ok(Duet("b", {"sync"}));
  EXPECT_EQ(Checkins("b").size(), 3u);
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

TEST(RelayFlags, LimitsInMebibytesAreTakenAndNonsenseIsRefusedInOneLine) {
  TempDir dir;
  RelayProcess relay(dir.File("relay.db"), "127.0.0.1:0",
                     {"--receive-budget-mib", "16", "--couple-max-mib", "8"});
  relay.Start();
  EXPECT_EQ(relay.Stop(), 0);
  for (const char* bad : {"abc", "0", "99999999999"}) {
    auto r = RunProgram({DUETD_PATH, "--db", dir.File("relay.db"), "--couple-max-mib", bad}, dir.path());
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("--couple-max-mib"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace duet::testing
