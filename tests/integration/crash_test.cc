// A duet killed at the worst moment loses nothing (issue #10): the real
// client, stopped by SIGKILL at each crash point (base/crash_point.h), then
// run again. Each point is a step whose order keeps data safe.
#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

constexpr int kKilled = 128 + 9;

class CrashTest : public CoupleTest {
 protected:
  RunResult CrashAt(const std::string& who, const std::string& point, std::vector<std::string> args) {
    auto r = Duet(who, std::move(args), {"DUET_CRASH_AT=" + point});
    EXPECT_EQ(r.exit_code, kKilled) << "never reached " << point << ": " << r.out << r.err;
    return r;
  }

  // Both partners hold every shared record, whole chains, nothing unshown.
  void ExpectWhole(const std::vector<std::string>& notes) {
    for (const char* who : {"a", "b"}) {
      SCOPED_TRACE(who);
      auto list = Checkins(who);
      ASSERT_EQ(list.size(), notes.size()) << list.dump();
      for (std::size_t i = 0; i < notes.size(); ++i) EXPECT_EQ(list[i]["note"], notes[i]);
      auto status = DuetJson(who, {"status"});
      EXPECT_TRUE(status["findings"].empty()) << status["findings"].dump();
      EXPECT_TRUE(status["not_shown"].empty()) << status["not_shown"].dump();
      EXPECT_TRUE(status["refused"].empty()) << status["refused"].dump();
      EXPECT_EQ(status["queued"], 0);
    }
  }
};

class RekeyCrashTest : public CrashTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(RekeyCrashTest, ARekeyKilledAtAnyStepLeavesBothDevicesAbleToReadEverything) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "2", "--note", "before the rekey"}));
  CrashAt("a", GetParam(), {"rekey"});
  Ok(Duet("a", {"sync"}));  // opens (finishing the rekey) and sends it
  Ok(Duet("b", {"sync"}));  // Bob takes the new key
  Ok(Duet("b", {"checkin", "--mood", "5", "--note", "after, from Bob"}));
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "after, from Alice"}));
  Ok(Duet("b", {"sync"}));
  ExpectWhole({"before the rekey", "after, from Bob", "after, from Alice"});
  auto again = Duet("a", {"rekey"});
  EXPECT_EQ(again.exit_code, 0) << "a later rekey works too: " << again.err;
}

INSTANTIATE_TEST_SUITE_P(EveryStep, RekeyCrashTest,
                         ::testing::Values("rekey-queued", "keyfile-written", "rekey-switched"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST_F(CrashTest, ARecordKilledBetweenSavingAndSendingIsSentByTheNextSync) {
  Pair();
  CrashAt("a", "saved-not-sent", {"checkin", "--mood", "3", "--note", "saved, then killed"});
  EXPECT_EQ(RelayRecordCount(), 0) << "not sent yet";
  EXPECT_EQ(DuetJson("a", {"status"})["queued"], 1) << "but kept";
  Ok(Duet("a", {"sync"}));
  Ok(Duet("b", {"sync"}));
  ExpectWhole({"saved, then killed"});
}

TEST_F(CrashTest, ARecordKilledBetweenTheRelaysAcknowledgementAndMarkingIsSentOnce) {
  Pair();
  CrashAt("a", "sync-acknowledged", {"checkin", "--mood", "3", "--note", "acknowledged, unmarked"});
  EXPECT_EQ(RelayRecordCount(), 1) << "the relay committed it";
  Ok(Duet("a", {"sync"}));  // pushes it again; the relay answers with the same number
  EXPECT_EQ(RelayRecordCount(), 1) << "stored once";
  Ok(Duet("b", {"sync"}));
  ExpectWhole({"acknowledged, unmarked"});
}

TEST_F(CrashTest, RecordsKilledBetweenReceivingAndStoringAreAppliedOnceByTheNextSync) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "3", "--note", "one"}));
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "two"}));
  CrashAt("b", "sync-received", {"sync"});
  EXPECT_TRUE(Checkins("b").empty()) << "nothing half-applied";
  auto sync = DuetJson("b", {"sync"});
  EXPECT_EQ(sync["received"], 2);
  EXPECT_EQ(DuetJson("b", {"sync"})["received"], 0) << "applied once";
  ExpectWhole({"one", "two"});
}

}  // namespace
}  // namespace duet::testing
