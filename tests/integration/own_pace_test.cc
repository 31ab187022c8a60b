// Opening up at one's own pace (issue #18): a check-in kept "just for me"
// can be shared later, in whole or without its note, once; the kept record
// itself never leaves the device.
#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

class OwnPaceTest : public CoupleTest {
 protected:
  void SetUp() override {
    CoupleTest::SetUp();
    Pair();
  }
  RunResult As(const std::string& who, std::vector<std::string> args,
               const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--tz", "UTC"});
    return Duet(who, args, env);
  }
  nlohmann::json AsJson(const std::string& who, std::vector<std::string> args,
                        const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--tz", "UTC"});
    return DuetJson(who, args, env);
  }
  // Keeps a check-in, written `offset` ago (libfaketime), and returns its id.
  std::string Keep(const std::string& note, const std::string& offset) {
    const std::string id = AsJson("a", {"checkin", "--private", "--mood", "2", "--need", "listen", "--note", note},
                                  ClockAhead(offset))["id"];
    return id;
  }
};

TEST_F(OwnPaceTest, AKeptCheckinIsSharedLaterWithItsOriginalTimeAndOnlyOnce) {
  const std::string whole = Keep("hard day, not ready to say", "-2d");
  const std::string partly = Keep("the part I keep", "-1d");
  Ok(As("a", {"checkin", "--mood", "4", "--note", "shared at once"}));
  EXPECT_EQ(AsJson("a", {"checkins", "--kept"}).size(), 2u);
  const std::size_t relay_before = RelayEnvelopes().size();

  auto shared = As("a", {"share", whole.substr(0, 8)});
  ASSERT_EQ(shared.exit_code, 0) << shared.err;
  EXPECT_NE(shared.out.find("cannot be unseen"), std::string::npos) << shared.out;
  Ok(As("a", {"share", partly.substr(0, 8), "--without-note"}));
  EXPECT_EQ(RelayEnvelopes().size(), relay_before + 2);

  Ok(As("b", {"sync"}));
  std::map<std::string, nlohmann::json> bob;
  for (const auto& c : AsJson("b", {"checkins"})) bob[c["note"].is_null() ? "" : c["note"].get<std::string>()] = c;
  ASSERT_EQ(bob.size(), 3u);
  const auto& later = bob["hard day, not ready to say"];
  EXPECT_EQ(later["author"], "Alice");
  EXPECT_FALSE(later["shared_later"].is_null());
  EXPECT_LT(later["time"].get<std::int64_t>() + 86400, later["shared_later"].get<std::int64_t>())
      << "listed at the time it was written, two days before it was shared";
  EXPECT_EQ(later["need"], "listen");
  const auto& without = bob[""];
  EXPECT_EQ(without["mood"], 2);
  EXPECT_EQ(without["note_kept"], true);
  EXPECT_TRUE(bob["shared at once"]["shared_later"].is_null());
  auto human = As("b", {"checkins"});
  EXPECT_NE(human.out.find("[shared later, on "), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("the note stayed with them]"), std::string::npos) << human.out;
  EXPECT_NE(As("b", {"news"}).out.find("Alice shared a check-in they had kept"), std::string::npos);

  // Alice sees her kept ones once each, full note and all, marked shared.
  const auto mine = AsJson("a", {"checkins"});
  ASSERT_EQ(mine.size(), 3u);
  for (const auto& c : mine)
    if (c["id"] == partly) {
      EXPECT_EQ(c["note"], "the part I keep");
      EXPECT_EQ(c["note_kept"], true);
      EXPECT_EQ(c["shared"], true);
    }
  EXPECT_TRUE(AsJson("a", {"checkins", "--kept"}).empty());

  Refused(As("a", {"share", whole.substr(0, 8)}), "a check-in is shared once");
  const std::string at_once = AsJson("a", {"checkins", "--by", "me"})[2]["id"];
  Refused(As("a", {"share", at_once.substr(0, 8)}), "was shared with Bob when you wrote it");
  Refused(As("a", {"share", "zz"}), "is not a check-in of yours id");
  EXPECT_EQ(RelayEnvelopes().size(), relay_before + 2) << "nothing more was sent";
}

}  // namespace
}  // namespace duet::testing
