// A new couple's first steps (issue #13, "First steps"): no dead ends and no
// message that says nothing. Real duetd and duet processes on loopback.
#include <gtest/gtest.h>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

class FirstStepsTest : public CoupleTest {};

TEST_F(FirstStepsTest, AReplacedInviteCodeSaysSoAndTheNewOnePairs) {
  Init("a", "Alice");
  Init("b", "Bob");
  Init("c", "Carol");
  auto first = Duet("a", {"invite"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string old_code = FirstLine(first.out);
  auto second = Duet("a", {"invite", "--replace"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string new_code = FirstLine(second.out);

  // Bob was given the old code: he hears it was replaced, and nothing pairs.
  auto old = Duet("b", {"join", old_code});
  EXPECT_NE(old.exit_code, 0);
  EXPECT_EQ(LineCount(old.err), 1) << old.err;
  EXPECT_NE(old.err.find("this invite code was replaced by a newer one; ask your partner for it"),
            std::string::npos)
      << old.err;
  EXPECT_EQ(old.err.find("INTERNAL"), std::string::npos) << old.err;

  Ok(Duet("b", {"join", new_code}));
  auto paired = DuetJson("a", {"sync"});
  EXPECT_EQ(paired["paired_with"], "Bob");

  // Once Alice is paired, her old code cannot pair anyone, and says why.
  auto late = Duet("c", {"join", old_code});
  EXPECT_NE(late.exit_code, 0);
  EXPECT_EQ(late.err.find("INTERNAL"), std::string::npos) << late.err;
  EXPECT_NE(late.err.find("replaced"), std::string::npos) << late.err;
  EXPECT_EQ(ReadFile(dir_.File("relay.db.log")).find("answered INTERNAL"), std::string::npos);
}

TEST_F(FirstStepsTest, TheInvitersFirstShareCompletesThePairing) {
  Init("a", "Alice");
  Init("b", "Bob");
  auto invite = Duet("a", {"invite"});
  ASSERT_EQ(invite.exit_code, 0) << invite.err;
  const std::string code = FirstLine(invite.out);
  // Before Bob joins: Alice is told what is missing, not to pair again.
  auto early = Duet("a", {"thanks", "for the tea"});
  EXPECT_EQ(early.exit_code, 2);
  EXPECT_EQ(LineCount(early.err), 1) << early.err;
  EXPECT_NE(early.err.find("your partner has not joined with your invite code"), std::string::npos)
      << early.err;

  Ok(Duet("b", {"join", code}));
  // Alice checks in without running `duet sync` first: it pairs, then shares.
  auto checkin = Duet("a", {"checkin", "--mood", "4"});
  ASSERT_EQ(checkin.exit_code, 0) << checkin.err;
  EXPECT_NE(checkin.err.find("paired with Bob; safety number"), std::string::npos) << checkin.err;
  EXPECT_NE(checkin.out.find("synced"), std::string::npos) << checkin.out;
  Ok(Duet("b", {"sync"}));
  EXPECT_EQ(Checkins("b").size(), 1u);
}

TEST_F(FirstStepsTest, TheJoinerNeedsOnlyTheCodeAndAName) {
  Init("a", "Alice");
  auto invite = Duet("a", {"invite"});
  ASSERT_EQ(invite.exit_code, 0) << invite.err;
  const std::string code = FirstLine(invite.out);
  // A fresh home without --name is told the one command that works.
  auto bare = Duet("b", {"join", code});
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_EQ(LineCount(bare.err), 1) << bare.err;
  EXPECT_NE(bare.err.find("duet join CODE --name YOUR-NAME"), std::string::npos) << bare.err;
  Refused(Duet("b", {"join", code, "--name", ""}), "--name");
  // With a name it sets up, pins the relay the code names, and pairs.
  auto joined = Duet("b", {"join", code, "--name", "Bob"});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_NE(joined.out.find("paired with Alice"), std::string::npos) << joined.out;
  auto relay = DuetJson("b", {"relay"});
  EXPECT_EQ(relay["address"], relay_->address());
  EXPECT_EQ(relay["relay_key"], relay_->key());
  Ok(Duet("a", {"sync"}));
  Ok(Duet("b", {"checkin", "--mood", "5"}));
  Ok(Duet("a", {"sync"}));
  EXPECT_EQ(Checkins("a").size(), 1u);
  // Set up now: --name again is refused, and nothing changes.
  Refused(Duet("b", {"join", code, "--name", "Bob"}), "set up already");
}

}  // namespace
}  // namespace duet::testing
