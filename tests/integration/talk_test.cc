// Talk times end to end: the real duetd and two real duet processes on
// loopback, Alice in Berlin and Bob in New York.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

const std::string kBerlin = "Europe/Berlin";
const std::string kNewYork = "America/New_York";

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The local time of an instant, computed independently of duet with date/tz.
std::string Local(std::int64_t t, const std::string& zone, const char* format = "%Y-%m-%d %H:%M") {
  return date::format(format, date::make_zoned(date::locate_zone(zone),
                                               date::sys_seconds{std::chrono::seconds{t}}));
}

// HH:MM local time `days` days from today in `zone`, as unix seconds.
std::int64_t LocalAt(int days, int hour, int minute, const std::string& zone) {
  const auto* z = date::locate_zone(zone);
  const auto today = date::floor<date::days>(
      z->to_local(date::sys_seconds{std::chrono::seconds{Now()}}));
  const auto local = today + date::days{days} + std::chrono::hours{hour} + std::chrono::minutes{minute};
  return z->to_sys(local, date::choose::earliest).time_since_epoch().count();
}

class TalkTest : public CoupleTest {
 protected:
  void SetUp() override {
    CoupleTest::SetUp();
    Pair();
  }
  // duet as Alice (in Berlin) or Bob (in New York).
  RunResult As(const std::string& who, std::vector<std::string> args,
               const std::vector<std::string>& env = {}, const std::string& input = {}) {
    args.insert(args.begin(), {"--tz", who == "a" ? kBerlin : kNewYork});
    return Duet(who, args, env, input);
  }
  nlohmann::json AsJson(const std::string& who, std::vector<std::string> args,
                        const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--tz", who == "a" ? kBerlin : kNewYork});
    return DuetJson(who, args, env);
  }
  // Alice proposes; returns the talk's full id once Bob has synced.
  std::string Propose(std::vector<std::string> at, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"talk", "propose"};
    for (const auto& a : at) {
      args.push_back("--at");
      args.push_back(a);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    auto id = AsJson("a", args);
    EXPECT_EQ(Duet("b", {"sync"}).exit_code, 0);
    return id.value("id", "");
  }
  nlohmann::json TalkOf(const std::string& who, const std::string& id,
                        const std::vector<std::string>& env = {}) {
    for (auto& t : AsJson(who, {"talk", "list"}, env))
      if (t["id"] == id) return t;
    ADD_FAILURE() << "no talk " << id;
    return {};
  }
  std::string LocalA(std::int64_t t) { return Local(t, kBerlin); }
};

TEST_F(TalkTest, SuggestFindsTimesInsideBothWindowsAcrossTimeZones) {
  Ok(As("a", {"availability", "add", "mon-fri 19:00-22:00"}));
  Ok(As("b", {"availability", "add", "daily 12:00-17:00"}));
  // A whole day Bob is busy, in his own zone.
  const std::string busy_day = Local(LocalAt(3, 12, 0, kNewYork), kNewYork, "%Y-%m-%d");
  Ok(As("b", {"availability", "busy", busy_day}));
  Ok(As("a", {"sync"}));
  auto suggest = AsJson("b", {"talk", "suggest", "--days", "14", "--minutes", "30"});
  ASSERT_EQ(suggest["time_zone"], kNewYork);
  const auto& slots = suggest["slots"];
  ASSERT_GE(slots.size(), 5u) << suggest.dump();
  for (const auto& slot : slots) {
    const std::int64_t start = slot["start"], end = slot["end"];
    EXPECT_GE(end - start, 30 * 60);
    // Inside Alice's window, in Berlin...
    const std::string a_day = Local(start, kBerlin, "%a");
    EXPECT_TRUE(a_day != "Sat" && a_day != "Sun") << Local(start, kBerlin);
    EXPECT_GE(Local(start, kBerlin, "%H:%M"), "19:00");
    EXPECT_LE(Local(end - 1, kBerlin, "%H:%M"), "21:59");
    // ...and inside Bob's, in New York, never on his busy day.
    EXPECT_GE(Local(start, kNewYork, "%H:%M"), "12:00");
    EXPECT_LE(Local(end - 1, kNewYork, "%H:%M"), "16:59");
    EXPECT_NE(Local(start, kNewYork, "%Y-%m-%d"), busy_day);
    EXPECT_EQ(slot["start_local"], Local(start, kNewYork));
    EXPECT_EQ(slot["partner_start_local"], Local(start, kBerlin));
    EXPECT_GT(start, Now());
  }
  // The same shared time from Alice's side.
  auto from_alice = AsJson("a", {"talk", "suggest", "--days", "14", "--minutes", "30"});
  ASSERT_EQ(from_alice["slots"].size(), slots.size());
  EXPECT_EQ(from_alice["slots"][0]["start"], slots[0]["start"]);
  EXPECT_EQ(from_alice["slots"][0]["start_local"], Local(slots[0]["start"], kBerlin));
}

TEST_F(TalkTest, SuggestLeavesOutAgreedTalksAndSaysWhatIsMissing) {
  auto none = As("b", {"talk", "suggest"});
  Ok(none);
  EXPECT_NE(none.out.find("you have not shared when you are free"), std::string::npos) << none.out;
  Ok(As("a", {"availability", "add", "daily 19:00-20:00"}));
  Ok(As("b", {"sync"}));
  Ok(As("b", {"availability", "add", "daily 00:00-24:00"}));
  Ok(As("a", {"sync"}));
  const std::int64_t start = LocalAt(2, 19, 0, kBerlin);
  const std::string id = Propose({LocalA(start)}, {"--minutes", "60"});
  Ok(As("b", {"talk", "accept", id.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  const auto suggested = AsJson("a", {"talk", "suggest", "--days", "5"});
  for (const auto& slot : suggested["slots"])
    EXPECT_NE(slot["start"].get<std::int64_t>(), start) << "the agreed hour is taken";
}

TEST_F(TalkTest, BothPartnersSeeTheSameProposalEachInTheirOwnZone) {
  const std::int64_t first = LocalAt(5, 19, 30, kBerlin);
  const std::int64_t second = LocalAt(6, 20, 0, kBerlin);
  const std::string id = Propose({LocalA(first), LocalA(second)},
                                 {"--minutes", "25", "--place", "walk by the river", "--topic", "the holidays"});
  auto bob = TalkOf("b", id);
  EXPECT_EQ(bob["state"], "proposed");
  EXPECT_EQ(bob["proposer"], "Alice");
  EXPECT_EQ(bob["mine"], false);
  ASSERT_EQ(bob["options"].size(), 2u);
  EXPECT_EQ(bob["options"][0]["start"], first);
  EXPECT_EQ(bob["options"][0]["local"], Local(first, kNewYork));
  EXPECT_EQ(bob["options"][1]["local"], Local(second, kNewYork));
  EXPECT_EQ(bob["minutes"], 25);
  EXPECT_EQ(bob["place"], "walk by the river");
  EXPECT_EQ(bob["time_zone"], kBerlin);
  auto human = As("b", {"talk", "list"});
  EXPECT_NE(human.out.find(Local(first, kNewYork, "%a %Y-%m-%d %H:%M")), std::string::npos) << human.out;

  Ok(As("b", {"talk", "accept", id.substr(0, 8), "--option", "2"}));
  Ok(As("a", {"sync"}));
  for (const char* who : {"a", "b"}) {
    auto talk = TalkOf(who, id);
    EXPECT_EQ(talk["state"], "agreed");
    EXPECT_EQ(talk["phase"], "upcoming");
    EXPECT_EQ(talk["chosen"], 2);
    EXPECT_EQ(talk["start"], second);
    EXPECT_EQ(talk["end"], second + 25 * 60);
    EXPECT_EQ(talk["decided_by"], "Bob");
  }
}

TEST_F(TalkTest, DeclineNeedsNoReasonAndCounterOffersOtherTimes) {
  const std::string first = Propose({LocalA(LocalAt(4, 19, 0, kBerlin))});
  Ok(As("b", {"talk", "decline", first.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  EXPECT_EQ(TalkOf("a", first)["state"], "declined");
  EXPECT_EQ(TalkOf("a", first)["decided_by"], "Bob");

  const std::string second = Propose({LocalA(LocalAt(4, 20, 0, kBerlin))}, {"--place", "kitchen"});
  const std::int64_t later = LocalAt(5, 13, 0, kNewYork);
  auto counter = AsJson("b", {"talk", "counter", second.substr(0, 8), "--at", Local(later, kNewYork)});
  const std::string third = counter["id"];
  Ok(As("a", {"sync"}));
  auto countered = TalkOf("a", second);
  EXPECT_EQ(countered["state"], "countered");
  EXPECT_EQ(countered["countered_by"], third);
  auto replacement = TalkOf("a", third);
  EXPECT_EQ(replacement["state"], "proposed");
  EXPECT_EQ(replacement["proposer"], "Bob");
  EXPECT_EQ(replacement["counters"], second);
  EXPECT_EQ(replacement["place"], "kitchen") << "a counter keeps what it does not change";
  EXPECT_EQ(replacement["options"][0]["local"], Local(later, kBerlin));
  Refused(As("b", {"talk", "accept", second.substr(0, 8)}), "countered already");
  Ok(As("a", {"talk", "accept", third.substr(0, 8)}));
  Ok(As("b", {"sync"}));
  EXPECT_EQ(TalkOf("b", third)["state"], "agreed");
}

TEST_F(TalkTest, CancelIsTheProposersForAProposalAndEithersOnceAgreed) {
  const std::string id = Propose({LocalA(LocalAt(3, 19, 0, kBerlin))});
  Refused(As("b", {"talk", "cancel", id.substr(0, 8)}), "decline it");
  Ok(As("b", {"talk", "accept", id.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  Ok(As("b", {"talk", "cancel", id.substr(0, 8), "--note", "something came up"}));
  Ok(As("a", {"sync"}));
  auto talk = TalkOf("a", id);
  EXPECT_EQ(talk["state"], "cancelled");
  EXPECT_EQ(talk["decided_by"], "Bob");
  EXPECT_EQ(talk["note"], "something came up");
  Refused(As("a", {"talk", "cancel", id.substr(0, 8)}), "cancelled already");
}

TEST_F(TalkTest, AcceptsMadeAtOnceFromBothSidesResolveAlikeOnBothClients) {
  // Each proposes a time that overlaps the other's; each accepts the
  // other's proposal while the relay is down, so neither sees the other's
  // accept first.
  const std::string alices = Propose({LocalA(LocalAt(3, 19, 0, kBerlin))});
  auto bobs_json = AsJson("b", {"talk", "propose", "--at", Local(LocalAt(3, 19, 10, kBerlin), kNewYork)});
  const std::string bobs = bobs_json["id"];
  Ok(As("a", {"sync"}));
  relay_->Stop();
  Ok(As("a", {"talk", "accept", bobs.substr(0, 8)}));
  Ok(As("b", {"talk", "accept", alices.substr(0, 8)}));
  relay_->Start();
  Ok(As("b", {"sync"}));  // Bob's accept reaches the relay first
  Ok(As("a", {"sync"}));
  Ok(As("b", {"sync"}));
  for (const char* who : {"a", "b"}) {
    auto first = TalkOf(who, alices);
    auto second = TalkOf(who, bobs);
    EXPECT_EQ(first["state"], "agreed") << who;
    EXPECT_EQ(second["state"], "proposed") << who;
    ASSERT_EQ(second["late"].size(), 1u) << who;
    EXPECT_EQ(second["late"][0]["by"], "Alice");
    EXPECT_EQ(second["late"][0]["reason"], "it overlaps the agreed talk " + alices.substr(0, 8));
  }
}

TEST_F(TalkTest, AnAcceptAfterTheProposerCancelledChangesNothingOnEitherSide) {
  const std::string id = Propose({LocalA(LocalAt(3, 19, 0, kBerlin))});
  relay_->Stop();
  Ok(As("a", {"talk", "cancel", id.substr(0, 8)}));
  Ok(As("b", {"talk", "accept", id.substr(0, 8)}));
  EXPECT_EQ(TalkOf("b", id)["state"], "agreed") << "Bob's own view, before the relay orders it";
  EXPECT_EQ(TalkOf("b", id)["settled"], false);
  relay_->Start();
  Ok(As("a", {"sync"}));
  Ok(As("b", {"sync"}));
  Ok(As("a", {"sync"}));
  for (const char* who : {"a", "b"}) {
    auto talk = TalkOf(who, id);
    EXPECT_EQ(talk["state"], "cancelled") << who;
    EXPECT_EQ(talk["settled"], true) << who;
    ASSERT_EQ(talk["late"].size(), 1u) << who;
    EXPECT_EQ(talk["late"][0]["what"], "accept");
  }
}

TEST_F(TalkTest, BadTalkInputIsOneClearLineAndWritesNothing) {
  const std::int64_t soon = LocalAt(2, 19, 0, kBerlin);
  Refused(As("a", {"talk", "propose", "--at", "2026-13-01 19:00"}), "2026-13-01 19:00");
  Refused(As("a", {"talk", "propose", "--at", "tomorrow"}), "tomorrow");
  Refused(As("a", {"talk", "propose", "--at", LocalA(Now() - 3600)}), "is in the past");
  Refused(As("a", {"talk", "propose", "--at", LocalA(soon), "--at", LocalA(soon)}), "given twice");
  Refused(As("a", {"talk", "propose", "--at", LocalA(soon), "--at", LocalA(soon + 3600), "--at",
                   LocalA(soon + 7200), "--at", LocalA(soon + 10800)}),
          "at most 3");
  Refused(As("a", {"talk", "propose", "--at", LocalA(soon), "--minutes", "600"}), "--minutes");
  Refused(As("a", {"talk", "propose", "--at", LocalA(soon), "--place", std::string(300, 'x')}), "--place");
  Refused(Duet("a", {"--tz", "Mars/Olympus", "talk", "propose", "--at", LocalA(soon)}), "Mars/Olympus");
  Refused(As("a", {"talk", "propose", "--at", "2027-03-28 02:30"}), "does not exist");
  Refused(As("a", {"talk"}), "`duet talk` needs one of: suggest, propose, accept");
  Refused(As("a", {"talk", "accept", "zz"}), "not a talk id");
  Refused(As("a", {"talk", "accept", "abcdef12"}), "no talk has the id");
  EXPECT_EQ(AsJson("a", {"talk", "list"}).size(), 0u) << "nothing was written";

  const std::string id = Propose({LocalA(soon), LocalA(soon + 86400)});
  Refused(As("a", {"talk", "accept", id.substr(0, 8), "--option", "1"}), "you proposed talk");
  Refused(As("b", {"talk", "accept", id.substr(0, 8)}), "pick one with --option 1..2");
  Refused(As("b", {"talk", "accept", id.substr(0, 8), "--option", "3"}), "has no option 3");
  // Bob's clock three days and a bit ahead: the first option has passed, the second not yet.
  Refused(As("b", {"talk", "accept", id.substr(0, 8), "--option", "1"}, ClockAhead("+80h")),
          "has passed");
  Refused(As("b", {"talk", "reflect", id.substr(0, 8), "--felt", "4"}), "reflections are for talks");
  Refused(As("b", {"availability", "add", "mon-fry 19:00-21:00"}), "mon-fry");
  Refused(As("b", {"availability", "busy", "2020-01-01"}), "over already");
  EXPECT_EQ(TalkOf("a", id)["state"], "proposed");
}

TEST_F(TalkTest, AvailabilityIsListedByAuthorAndOnlyTheAuthorRemovesIt) {
  auto added = AsJson("a", {"availability", "add", "sun-thu 22:00-07:00"});
  Ok(As("b", {"sync"}));
  auto list = AsJson("b", {"availability", "list"});
  ASSERT_EQ(list["windows"].size(), 1u);
  EXPECT_EQ(list["windows"][0]["author"], "Alice");
  EXPECT_EQ(list["windows"][0]["window"], "sun-thu 22:00-07:00");
  EXPECT_EQ(list["windows"][0]["time_zone"], kBerlin);
  const std::string id = added["id"];
  Refused(As("b", {"availability", "remove", id.substr(0, 8)}), "only they can remove it");
  Ok(As("a", {"availability", "remove", id.substr(0, 8)}));
  Ok(As("b", {"sync"}));
  EXPECT_EQ(AsJson("b", {"availability", "list"})["windows"].size(), 0u);
}

TEST_F(TalkTest, ReflectionsAreRevealedOnlyWhenBothHaveWritten) {
  const std::int64_t start = LocalAt(1, 19, 0, kBerlin);
  const std::string id = Propose({LocalA(start)});
  Ok(As("b", {"talk", "accept", id.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  Refused(As("a", {"talk", "reflect", id.substr(0, 8), "--felt", "4"}), "reflect on it after");
  const auto after = ClockAhead("+3d");  // both clocks past the talk

  Ok(As("a", {"talk", "reflect", id.substr(0, 8), "--felt", "4", "--note", "felt heard by you"}, after));
  Ok(As("b", {"sync"}, after));
  auto bob = TalkOf("b", id, after);
  EXPECT_EQ(bob["phase"], "held");
  EXPECT_EQ(bob["their_reflection"]["written"], true);
  EXPECT_EQ(bob["their_reflection"]["revealed"], false);
  EXPECT_TRUE(bob["their_reflection"]["note"].is_null());
  auto alice = TalkOf("a", id, after);
  EXPECT_EQ(alice["my_reflection"]["note"], "felt heard by you") << "her own, to her";
  EXPECT_EQ(alice["my_reflection"]["released"], false);
  EXPECT_EQ(RelayBytes().find("felt heard"), std::string::npos);
  Refused(As("a", {"talk", "reflect", id.substr(0, 8), "--felt", "2"}, after), "already");

  // Bob writes his: his sync sees both sealed reflections and releases his key.
  Ok(As("b", {"talk", "reflect", id.substr(0, 8), "--felt", "5", "--note", "-"}, after,
        "glad we walked\n"));
  EXPECT_EQ(TalkOf("b", id, after)["their_reflection"]["revealed"], false)
      << "Alice's key comes only after she sees Bob's sealed reflection";
  Ok(As("a", {"sync"}, after));
  alice = TalkOf("a", id, after);
  EXPECT_EQ(alice["their_reflection"]["revealed"], true);
  EXPECT_EQ(alice["their_reflection"]["felt"], 5);
  EXPECT_EQ(alice["their_reflection"]["note"], "glad we walked");
  Ok(As("b", {"sync"}, after));
  bob = TalkOf("b", id, after);
  EXPECT_EQ(bob["their_reflection"]["revealed"], true);
  EXPECT_EQ(bob["their_reflection"]["felt"], 4);
  EXPECT_EQ(bob["their_reflection"]["note"], "felt heard by you");
  EXPECT_EQ(bob["my_reflection"]["released"], true);
  auto human = As("b", {"talk", "list"}, after);
  EXPECT_NE(human.out.find("Alice felt 4/5: felt heard by you"), std::string::npos) << human.out;
  EXPECT_EQ(RelayBytes().find("glad we walked"), std::string::npos);
  // The news of it reads as it is now: opened, no longer "sealed".
  auto news = As("b", {"news"}, after);
  EXPECT_NE(news.out.find("Alice reflected on talk " + id.substr(0, 8) + ": felt 4/5: \"felt heard by you\""),
            std::string::npos)
      << news.out;
  EXPECT_EQ(news.out.find("sealed"), std::string::npos) << news.out;
}

TEST_F(TalkTest, ExportIsReadByAnIndependentICalendarParser) {
  const std::int64_t first = LocalAt(2, 19, 30, kBerlin);
  const std::int64_t second = LocalAt(4, 20, 0, kBerlin);
  const std::string one = Propose({LocalA(first)}, {"--place", "walk, by the river; slowly", "--topic", "us"});
  const std::string two = Propose({LocalA(second)}, {"--minutes", "45"});
  const std::string open = Propose({LocalA(second + 86400)});
  Ok(As("b", {"talk", "accept", one.substr(0, 8)}));
  Ok(As("b", {"talk", "accept", two.substr(0, 8)}));
  const std::string file = dir_.File("talks.ics");
  // By default the calendar learns only that there is a talk.
  Ok(As("b", {"talk", "export", "--out", file}));
  const std::string plain = ReadFile(file);
  EXPECT_EQ(plain.find("river"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("SUMMARY:Talk with Alice:"), std::string::npos) << plain;
  auto detailed = As("b", {"talk", "export", "--out", file, "--alarm", "30", "--details"});
  ASSERT_EQ(detailed.exit_code, 0) << detailed.err;
  EXPECT_NE(detailed.err.find("a calendar in the cloud will see them"), std::string::npos) << detailed.err;
  auto parsed = RunProgram({"/usr/bin/python3", ICAL_CHECK_PATH, file}, dir_.path());
  ASSERT_EQ(parsed.exit_code, 0) << parsed.err;
  auto events = nlohmann::json::parse(parsed.out);
  ASSERT_EQ(events.size(), 2u) << "agreed talks only";
  auto iso = [](std::int64_t t) { return Local(t, "UTC", "%Y-%m-%dT%H:%M:%S+00:00"); };
  for (const auto& event : events) {
    const bool is_one = event["uid"] == one + "@duet";
    EXPECT_TRUE(is_one || event["uid"] == two + "@duet") << event.dump();
    EXPECT_EQ(event["start"], iso(is_one ? first : second));
    EXPECT_EQ(event["end"], iso(is_one ? first + 20 * 60 : second + 45 * 60));
    EXPECT_EQ(event["summary"], is_one ? "Talk with Alice: us" : "Talk with Alice");
    EXPECT_EQ(event["status"], "CONFIRMED");
    EXPECT_EQ(event["alarms"], nlohmann::json::array({30}));
    if (is_one) {
      EXPECT_EQ(event["location"], "walk, by the river; slowly");
    }
  }
  // The same talks give the same UIDs next time; a cancelled one says so.
  Ok(As("a", {"sync"}));
  Ok(As("a", {"talk", "cancel", two.substr(0, 8)}));
  Ok(As("a", {"talk", "export", "--out", file}));
  events = nlohmann::json::parse(RunProgram({"/usr/bin/python3", ICAL_CHECK_PATH, file}, dir_.path()).out);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& event : events)
    EXPECT_EQ(event["status"], event["uid"] == two + "@duet" ? "CANCELLED" : "CONFIRMED");
  Refused(As("a", {"talk", "export", "--out", dir_.File("no/such/folder/talks.ics")}), "cannot write");
}

TEST_F(TalkTest, WatchPrintsNewsAsItArrivesAndRemindsBeforeATalk) {
  // A talk in 20 minutes, agreed; Alice watches with a 30-minute reminder.
  const std::int64_t soon = (Now() / 60 + 20) * 60;
  const std::string id = Propose({LocalA(soon)}, {"--place", "sofa"});
  Ok(As("b", {"talk", "accept", id.substr(0, 8)}));
  // A stand-in for the desktop's notify-send, recording what it was asked.
  const std::string bin = dir_.File("bin");
  std::filesystem::create_directories(bin);
  {
    std::ofstream script(bin + "/notify-send");
    script << "#!/bin/sh\nprintf '%s\\n' \"$@\" >> " << dir_.File("notified") << "\n";
  }
  std::filesystem::permissions(bin + "/notify-send", std::filesystem::perms::owner_all);
  LiveProcess watch({DUET_PATH, "--home", dir_.File("a"), "--tz", kBerlin, "watch", "--remind", "30"},
                    dir_.File("watch.err"),
                    {"PATH=" + bin + ":/usr/bin:/bin", "DISPLAY=:99"});
  ASSERT_TRUE(watch.WaitForLine("connected to the relay")) << watch.output() << ReadFile(dir_.File("watch.err"));
  ASSERT_TRUE(watch.WaitForLine("reminder: talk with Bob in")) << watch.output();
  EXPECT_NE(watch.output().find("at " + Local(soon, kBerlin, "%H:%M") + ", sofa"), std::string::npos)
      << watch.output();
  EXPECT_NE(ReadFile(dir_.File("notified")).find("talk with Bob in"), std::string::npos);

  Ok(As("b", {"checkin", "--mood", "3", "--need", "space", "--note", "long day"}));
  ASSERT_TRUE(watch.WaitForLine("Bob checked in: mood 3/5, needs space: \"long day\"")) << watch.output();
  Ok(As("b", {"talk", "propose", "--at", Local(LocalAt(3, 14, 0, kNewYork), kNewYork)}));
  ASSERT_TRUE(watch.WaitForLine("Bob proposed talk")) << watch.output();
  EXPECT_NE(watch.output().find(Local(LocalAt(3, 14, 0, kNewYork), kBerlin, "%a %Y-%m-%d %H:%M")),
            std::string::npos)
      << "shown in Alice's zone: " << watch.output();

  // The relay goes away and comes back: watch reconnects by itself.
  relay_->Stop();
  ASSERT_TRUE(watch.WaitForLine("lost the relay")) << watch.output();
  relay_->Start();
  ASSERT_TRUE(watch.WaitForLine("connected to the relay", std::chrono::seconds(40))) << watch.output();
  Ok(As("b", {"checkin", "--mood", "5"}));
  ASSERT_TRUE(watch.WaitForLine("Bob checked in: mood 5/5")) << watch.output();
  EXPECT_EQ(watch.Stop(), 0);
  EXPECT_NE(watch.output().find("stopped"), std::string::npos);
  EXPECT_EQ(watch.output().find("reminder:", watch.output().find("reminder:") + 1), std::string::npos)
      << "each reminder once";
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

TEST_F(TalkTest, TheDashboardSaysHowLongUntilTheNextTalkAndHowLongItLasts) {
  // About ten hours from now, on a whole minute: "in 9 h 5x min".
  const std::int64_t at = (Now() / 60 + 10 * 60 - 7) * 60;
  const std::string id = Propose({LocalA(at)}, {"--minutes", "15"});
  ASSERT_EQ(As("b", {"talk", "accept", id.substr(0, 8)}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  auto dashboard = As("a", {"status"});
  ASSERT_EQ(dashboard.exit_code, 0) << dashboard.err;
  const auto line_at = dashboard.out.find("next talk: ");
  ASSERT_NE(line_at, std::string::npos) << dashboard.out;
  const std::string line = dashboard.out.substr(line_at, dashboard.out.find('\n', line_at) - line_at);
  EXPECT_NE(line.find("(in 9 h 5"), std::string::npos) << line;
  EXPECT_NE(line.find(" min, 15 min long)"), std::string::npos) << line;
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

TEST_F(TalkTest, ABusyTimeKeepsItsHoursInTheReadersZoneWithTheAuthorsNamed) {
  const std::int64_t start = LocalAt(5, 14, 0, kNewYork);
  const std::string day = Local(start, kNewYork, "%Y-%m-%d");
  Ok(As("b", {"availability", "busy", day + " 14:00-16:00"}));
  Ok(As("a", {"sync"}));
  auto dashboard = As("a", {"status"});
  ASSERT_EQ(dashboard.exit_code, 0) << dashboard.err;
  const std::string expected = "Bob is busy " + day + " 14:00-16:00 (America/New_York), " +
                               Local(start, kBerlin) + "-" + Local(start + 7200, kBerlin, "%H:%M") +
                               " your time";
  EXPECT_NE(dashboard.out.find(expected), std::string::npos) << expected << "\n" << dashboard.out;
}

}  // namespace
}  // namespace duet::testing
