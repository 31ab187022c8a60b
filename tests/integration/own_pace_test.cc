// Opening up at one's own pace (issue #18): a check-in kept "just for me"
// can be shared later, in whole or without its note, once; the kept record
// itself never leaves the device.
#include <fstream>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

class OwnPaceTest : public PairedInUtcTest {
 protected:
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

namespace duet::testing {
namespace {

// Issue #18: a recap whose counts match what happened, the same on both
// devices, worded as progress. Every clock is set to days in December 2026
// (libfaketime), so the month never turns during the test.
TEST_F(OwnPaceTest, ARecapCountsWhatHappenedAndReadsTheSameForBoth) {
  const auto at = ClockAhead("@2026-12-10 12:00:00");
  const auto later = ClockAhead("@2026-12-12 12:00:00");
  Ok(As("a", {"checkin", "--mood", "4"}, at));
  Ok(As("a", {"checkin", "--mood", "3"}, at));
  Ok(As("b", {"checkin", "--mood", "2"}, at));
  const std::string talk = AsJson("a", {"talk", "propose", "--at", "2026-12-11 19:00"}, at)["id"];
  Ok(As("b", {"sync"}, at));
  Ok(As("b", {"ready", "not-now"}, at));
  Ok(As("b", {"talk", "accept", talk.substr(0, 8)}, at));
  Ok(As("a", {"thanks", "for the tea"}, at));
  Ok(As("b", {"thanks", "for listening"}, at));
  Ok(As("b", {"thanks", "for the walk"}, at));
  const std::string boundary = AsJson("a", {"boundary", "propose", "No phones at dinner"}, at)["id"];
  Ok(As("b", {"sync"}, at));
  Ok(As("b", {"boundary", "accept", boundary.substr(0, 8)}, at));
  const std::string kept = AsJson("a", {"checkin", "--private", "--mood", "2"}, at)["id"];
  Ok(As("a", {"share", kept.substr(0, 8)}, at));
  Ok(As("a", {"talk", "reflect", talk.substr(0, 8), "--felt", "4"}, later));
  Ok(As("b", {"sync"}, later));
  Ok(As("b", {"talk", "reflect", talk.substr(0, 8), "--felt", "5"}, later));
  Ok(As("a", {"sync"}, later));
  Ok(As("b", {"sync"}, later));

  const auto recap = AsJson("a", {"recap", "--month", "2026-12"}, later);
  EXPECT_EQ(recap["talks_held"], 1);
  EXPECT_EQ(recap["talks_both_reflected"], 1);
  EXPECT_EQ(recap["checkins_shared"], 4) << "three shared at once, one kept and shared later";
  EXPECT_EQ(recap["shared_later"], 1);
  EXPECT_EQ(recap["thanks_from"]["Alice"], 1);
  EXPECT_EQ(recap["thanks_from"]["Bob"], 2);
  EXPECT_EQ(recap["boundaries_agreed"], 1);
  const auto highlights = recap["highlights"].dump();
  for (const char* h : {"first-talk", "talk-after-not-now", "first-boundary", "shared-later"})
    EXPECT_NE(highlights.find(h), std::string::npos) << h << " in " << highlights;

  auto alice = As("a", {"recap", "--month", "2026-12"}, later);
  auto bob = As("b", {"recap", "--month", "2026-12"}, later);
  ASSERT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(alice.out, bob.out) << "the same for both of them";
  EXPECT_NE(alice.out.find("gave 3 thanks (1 from Alice to Bob, 2 from Bob to Alice)"), std::string::npos)
      << alice.out;
  EXPECT_NE(alice.out.find("worth celebrating: a talk after a \"not now\""), std::string::npos) << alice.out;
  for (const char* never : {"streak", "score", "you wrote more", "missed"})
    EXPECT_EQ(alice.out.find(never), std::string::npos) << never;
  EXPECT_NE(As("a", {"recap", "--month", "2026-11"}, later).out.find("a quiet month"), std::string::npos);
  Refused(As("a", {"recap", "--month", "December"}), "--month 'December' is not a month");
  for (const char* bad : {"Dec", "2026-1", "2026-13", "1999-12", "2026+12", "2026-1x"})
    Refused(As("a", {"recap", "--month", bad}), "is not a month");
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

// Issue #18: agreed quiet hours hold for notifications too. Alice's watch
// runs on a clock the test sets (libfaketime reads it from a file each
// time), so nothing waits on the wall clock.
TEST_F(OwnPaceTest, WatchHoldsNewsThroughQuietHoursAndShowsItWhenTheyEnd) {
  const std::string id = AsJson("b", {"boundary", "propose", "No heavy news at night", "--kind", "quiet-hours",
                                      "--window", "daily 22:00-07:00"})["id"];
  Ok(As("a", {"sync"}));
  Ok(As("a", {"boundary", "accept", id.substr(0, 8)}));
  const std::string clock = dir_.File("clock");
  std::ofstream(clock) << "@2026-12-10 23:30:00\n";
  std::vector<std::string> env = {ClockAhead("+0")[0], "FAKETIME_TIMESTAMP_FILE=" + clock, "FAKETIME_NO_CACHE=1",
                                  "DONT_FAKE_MONOTONIC=1"};
  LiveProcess watch({DUET_PATH, "--home", dir_.File("a"), "--tz", "UTC", "watch", "--no-notify"},
                    dir_.File("watch.err"), env);
  ASSERT_TRUE(watch.WaitForLine("connected to the relay")) << watch.output() << ReadFile(dir_.File("watch.err"));
  Ok(As("b", {"checkin", "--mood", "1", "--note", "a heavy day"}));
  ASSERT_TRUE(watch.WaitForLine("quiet hours until 07:00: news waits until then")) << watch.output();
  EXPECT_EQ(watch.output().find("heavy day"), std::string::npos) << "nothing of it in quiet hours: "
                                                                  << watch.output();
  const std::string since_connected = watch.output().substr(watch.output().find("connected to the relay"));
  EXPECT_EQ(since_connected.find("Bob"), std::string::npos) << "not even whose: " << watch.output();

  std::ofstream(clock, std::ios::trunc) << "@2026-12-11 07:01:00\n";
  ASSERT_TRUE(watch.WaitForLine("quiet hours are over; while they lasted:")) << watch.output();
  ASSERT_TRUE(watch.WaitForLine("Bob checked in: mood 1/5: \"a heavy day\"")) << watch.output();
  Ok(As("b", {"checkin", "--mood", "4", "--note", "morning"}));
  ASSERT_TRUE(watch.WaitForLine("Bob checked in: mood 4/5: \"morning\"")) << "outside quiet hours, at once";
  EXPECT_EQ(watch.Stop(), 0);
}

TEST_F(OwnPaceTest, TodaysQuestionIsTheSameForBothAndTheAnswersOpenOnlyOnceBothHaveAnswered) {
  const auto alice_today = AsJson("a", {"prompt", "today"});
  const auto bob_today = AsJson("b", {"prompt", "today"});
  ASSERT_FALSE(alice_today["text"].get<std::string>().empty());
  EXPECT_EQ(alice_today["id"], bob_today["id"]) << "the same question for both, without any message";
  EXPECT_EQ(RelayEnvelopes().size(), 0u) << "asking today's question sends nothing";
  Refused(As("a", {"prompt", "answer"}), "needs words");

  auto answered = As("a", {"prompt", "answer", "--note", "the beach in May"});
  ASSERT_EQ(answered.exit_code, 0) << answered.err;
  EXPECT_NE(answered.out.find("sealed"), std::string::npos) << answered.out;
  Refused(As("a", {"prompt", "answer", "--note", "again"}), "answered this question already");
  Ok(As("b", {"sync"}));
  auto waiting = AsJson("b", {"prompt", "today"});
  EXPECT_EQ(waiting["theirs"]["answered"], true);
  EXPECT_TRUE(waiting["theirs"]["text"].is_null());
  // Not only hidden: Bob's device has no key that opens it, and the relay
  // never saw the words.
  EXPECT_EQ(As("b", {"export"}).out.find("the beach in May"), std::string::npos);
  EXPECT_EQ(RelayBytes().find("the beach in May"), std::string::npos);
  EXPECT_NE(As("b", {"prompt", "today"}).out.find("Alice answered; it opens once you have both answered"),
            std::string::npos);

  auto second = Duet("b", {"--tz", "UTC", "prompt", "answer", "--note", "-"}, {}, "our first dinner\n");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("you have both answered, so both open at the next sync"), std::string::npos) << second.out;
  Ok(As("a", {"sync"}));  // sees Bob's sealed answer, so sends her key
  Ok(As("b", {"sync"}));
  Ok(As("a", {"sync"}));
  for (const char* who : {"a", "b"}) {
    auto both = AsJson(who, {"prompt", "today"});
    EXPECT_EQ(both["answered_together"], true) << who;
    const bool alice = std::string(who) == "a";
    EXPECT_EQ(both[alice ? "mine" : "theirs"]["text"], "the beach in May") << who;
    EXPECT_EQ(both[alice ? "theirs" : "mine"]["text"], "our first dinner") << who;
    auto list = AsJson(who, {"prompt", "list"});
    ASSERT_EQ(list.size(), 1u) << who;
    EXPECT_EQ(list[0]["id"], alice_today["id"]);
  }
  EXPECT_NE(As("a", {"prompt", "list"}).out.find("Bob: \"our first dinner\""), std::string::npos);
  for (const char* who : {"a", "b"}) {
    const auto recap = AsJson(who, {"recap"});
    EXPECT_EQ(recap["questions_together"], 1) << who;
    EXPECT_NE(recap["highlights"].dump().find("first-question-together"), std::string::npos) << recap.dump();
  }
  EXPECT_NE(As("a", {"recap"}).out.find("answered 1 question together"), std::string::npos);
  Refused(As("b", {"prompt", "answer", "--note", "once more"}), "both answered");

  // Tomorrow brings another question; letting it go is not a failure.
  const auto tomorrow = ClockAhead("+1d");
  const auto next = AsJson("b", {"prompt", "today"}, tomorrow);
  EXPECT_NE(next["id"], alice_today["id"]);
  auto passed = As("b", {"prompt", "pass"}, tomorrow);
  ASSERT_EQ(passed.exit_code, 0) << passed.err;
  EXPECT_NE(passed.out.find("another question tomorrow"), std::string::npos) << passed.out;
  Refused(As("b", {"prompt", "answer", "--note", "after all"}, tomorrow), "let this question go already");
  Ok(As("a", {"sync"}, tomorrow));
  EXPECT_NE(As("a", {"prompt", "today"}, tomorrow).out.find("Bob let this one go"), std::string::npos);
  EXPECT_EQ(AsJson("a", {"prompt", "list"}).size(), 1u) << "a question let go is not listed as answered";
}

TEST_F(OwnPaceTest, TodaysQuestionFollowsEachPartnersOwnCalendarAcrossMidnight) {
  auto today = [&](const std::string& who, const std::string& zone, const std::string& at) {
    return DuetJson(who, {"--tz", zone, "prompt", "today"}, ClockAhead(at))["id"].get<std::string>();
  };
  // 23:30 in London is already 3 December in Berlin, still 2 December in New York.
  const std::string berlin_3rd = today("a", "Europe/Berlin", "@2026-12-02 23:30:00");
  const std::string new_york_2nd = today("b", "America/New_York", "@2026-12-02 23:30:00");
  EXPECT_NE(berlin_3rd, new_york_2nd) << "each reads their own date";
  EXPECT_EQ(today("a", "Europe/Berlin", "@2026-12-02 22:30:00"), new_york_2nd) << "2 December is one question";
  // Once New York reaches 3 December, Bob gets the question Alice had.
  EXPECT_EQ(today("b", "America/New_York", "@2026-12-03 06:00:00"), berlin_3rd);
  EXPECT_EQ(today("a", "Europe/Berlin", "@2026-12-03 21:00:00"), berlin_3rd);
}

TEST_F(OwnPaceTest, AShareForWhenThePartnerIsReadyAppearsNowhereUntilOpenedAndSendsNoReceipt) {
  Refused(As("b", {"checkin", "--mood", "2", "--when-ready", "--private"}), "--when-ready is for a check-in you share");
  auto saved = As("b", {"checkin", "--mood", "2", "--need", "space", "--note", "I lost the job", "--when-ready"});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_NE(saved.out.find("you are not told when"), std::string::npos) << saved.out;
  const std::string id = AsJson("b", {"checkins"})[0]["id"];
  EXPECT_NE(As("b", {"checkins"}).out.find("[for when Alice is ready]"), std::string::npos);
  Ok(As("a", {"sync"}));

  // Nowhere on Alice's side until she chooses: not the dashboard, news,
  // the list, --json, or the mood chart.
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"status"}, {"news", "--all"}, {"checkins"}, {"--json", "status"},
        {"--json", "news", "--all"}, {"--json", "checkins"}, {"--json", "history"}, {"history"}}) {
    auto r = As("a", command);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("lost the job"), std::string::npos) << command.back() << ": " << r.out;
    EXPECT_EQ(r.out.find("space"), std::string::npos) << command.back() << ": " << r.out;
  }
  EXPECT_NE(As("a", {"status"}).out.find("Bob has something to share, whenever you're ready (duet open " + id.substr(0, 8)),
            std::string::npos);
  const auto listed = AsJson("a", {"checkins"});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["waiting"], true);
  EXPECT_FALSE(listed[0].contains("mood"));

  const std::size_t relay_before = RelayEnvelopes().size();
  const auto bob_before = AsJson("b", {"checkins"});
  auto opened = As("a", {"open", id.substr(0, 8)});
  ASSERT_EQ(opened.exit_code, 0) << opened.err;
  EXPECT_NE(opened.out.find("I lost the job"), std::string::npos) << opened.out;
  EXPECT_NE(opened.out.find("needs space"), std::string::npos) << opened.out;
  EXPECT_EQ(AsJson("a", {"checkins"})[0]["note"], "I lost the job");
  Refused(As("a", {"open", id.substr(0, 8)}), "nothing waits");
  Ok(As("a", {"sync"}));
  Ok(As("b", {"sync"}));
  EXPECT_EQ(RelayEnvelopes().size(), relay_before) << "opening sends nothing: no read receipt";
  EXPECT_EQ(AsJson("b", {"checkins"}), bob_before) << "Bob is not told whether or when";
}

TEST_F(OwnPaceTest, TodaysQuestionStaysTheSameWhenTheCoupleKeyIsRenewed) {
  const std::string before = AsJson("a", {"prompt", "today"})["id"];
  Ok(As("a", {"rekey"}));
  EXPECT_EQ(AsJson("a", {"prompt", "today"})["id"], before) << "the one who renewed it";
  Ok(As("b", {"sync"}));
  EXPECT_EQ(AsJson("b", {"prompt", "today"})["id"], before) << "and the partner";
}

TEST_F(OwnPaceTest, WatchSaysOnlyThatSomethingWaitsToBeOpened) {
  LiveProcess watch({DUET_PATH, "--home", dir_.File("a"), "--tz", "UTC", "watch", "--no-notify"}, dir_.File("watch.err"));
  ASSERT_TRUE(watch.WaitForLine("connected to the relay")) << watch.output() << ReadFile(dir_.File("watch.err"));
  Ok(As("b", {"checkin", "--mood", "1", "--note", "the hardest week", "--when-ready"}));
  ASSERT_TRUE(watch.WaitForLine("Bob has something to share, whenever you're ready (duet open")) << watch.output();
  Ok(As("b", {"thanks", "for waiting"}));
  ASSERT_TRUE(watch.WaitForLine("for waiting")) << watch.output();
  EXPECT_EQ(watch.Stop(), 0);
  EXPECT_EQ(watch.output().find("hardest week"), std::string::npos) << watch.output();
  EXPECT_EQ(watch.output().find("mood 1"), std::string::npos) << watch.output();
}

TEST_F(OwnPaceTest, AQuestionSentAsAConversationStarterIsAnsweredTogetherTheSameWay) {
  const auto sent = AsJson("a", {"prompt", "--send", "--depth", "light"});
  Ok(As("b", {"sync"}));
  std::string share;
  for (const auto& item : AsJson("b", {"news", "--all"}))
    if (item["kind"] == "shared_prompt") share = item["id"];
  ASSERT_FALSE(share.empty());
  Ok(As("b", {"prompt", "answer", share.substr(0, 8), "--note", "a long walk"}));
  Ok(As("a", {"sync"}));
  const std::string waiting = As("a", {"news", "--all"}).out;
  EXPECT_NE(waiting.find("Bob answered \"" + sent["text"].get<std::string>() + "\"; it opens once you have both answered"),
            std::string::npos) << waiting;
  EXPECT_EQ(waiting.find("a long walk"), std::string::npos);
  Ok(As("a", {"prompt", "answer", sent["id"], "--note", "breakfast in bed"}));
  Ok(As("b", {"sync"}));
  Ok(As("a", {"sync"}));
  const auto list = AsJson("a", {"prompt", "list"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], sent["id"]);
  EXPECT_EQ(list[0]["text"], sent["text"]);
  EXPECT_EQ(list[0]["theirs"]["text"], "a long walk");
  const std::string opened = As("a", {"news", "--all"}).out;
  EXPECT_NE(opened.find("Bob answered \"" + sent["text"].get<std::string>() + "\""), std::string::npos) << opened;
  EXPECT_NE(opened.find("a long walk"), std::string::npos) << "once both answered, the news reads as the answer";
  Refused(As("a", {"prompt", "answer", "no-such-question", "--note", "x"}), "is not a question id");
}

}  // namespace
}  // namespace duet::testing

