// Boundaries, readiness, thanks, prompts, the dashboard and history, end to
// end: the real duetd and two real duet processes on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

std::string UtcIn(std::int64_t seconds_from_now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) +
                        static_cast<std::time_t>(seconds_from_now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &utc);
  return text;
}

// Everyone in UTC here; time zones are the talk tests' subject.
class ShareTest : public PairedInUtcTest {
 protected:
  // Alice proposes a boundary; returns its id once Bob has it.
  std::string ProposeBoundary(std::vector<std::string> args) {
    args.insert(args.begin(), {"boundary", "propose"});
    const std::string id = AsJson("a", args)["id"];
    Ok(As("b", {"sync"}));
    return id;
  }
  nlohmann::json Show(const std::string& who, const std::string& id) {
    return AsJson(who, {"boundary", "show", id.substr(0, 8)});
  }
};

TEST_F(ShareTest, AnAgreedBoundaryIsTheExactWordsBothSigned) {
  const std::string id = ProposeBoundary({"No phones at dinner", "--kind", "general"});
  auto bob = Show("b", id);
  EXPECT_EQ(bob["state"], "proposed");
  EXPECT_EQ(bob["proposer"], "Alice");
  EXPECT_TRUE(bob["agreed"].is_null());
  Ok(As("b", {"boundary", "accept", id.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  auto alice = Show("a", id);
  bob = Show("b", id);
  EXPECT_EQ(alice["state"], "agreed");
  EXPECT_EQ(alice["agreed"]["text"], "No phones at dinner");
  EXPECT_EQ(alice["agreed"]["answered_by"], "Bob");
  EXPECT_EQ(alice["agreed"]["hash"], bob["agreed"]["hash"]) << "both hold the same signed words";
  ASSERT_EQ(alice["history"].size(), 2u);
  EXPECT_EQ(alice["history"][0]["what"], "proposed");
  EXPECT_EQ(alice["history"][0]["by"], "Alice");
  EXPECT_EQ(alice["history"][1]["what"], "accepted");
  EXPECT_EQ(alice["history"][1]["by"], "Bob");
  auto human = As("a", {"boundary", "show", id.substr(0, 8)});
  EXPECT_NE(human.out.find("Bob accepted"), std::string::npos) << human.out;
  EXPECT_EQ(RelayBytes().find("phones"), std::string::npos);
}

TEST_F(ShareTest, CounterReviseAndRetire) {
  const std::string id = ProposeBoundary({"Ask before posting photos of us"});
  Ok(As("b", {"boundary", "counter", id.substr(0, 8), "Ask before posting photos of me"}));
  Ok(As("a", {"sync"}));
  auto alice = Show("a", id);
  ASSERT_EQ(alice["versions"].size(), 2u);
  EXPECT_EQ(alice["versions"][0]["status"], "countered");
  EXPECT_EQ(alice["pending"]["author"], "Bob");
  Ok(As("a", {"boundary", "accept", id.substr(0, 8)}));
  // A revision: the agreed words hold until the new ones are accepted.
  Ok(As("a", {"boundary", "counter", id.substr(0, 8), "Ask before posting any photo"}));
  Ok(As("b", {"sync"}));
  auto bob = Show("b", id);
  EXPECT_EQ(bob["state"], "agreed");
  EXPECT_EQ(bob["text"], "Ask before posting photos of me");
  EXPECT_EQ(bob["pending"]["text"], "Ask before posting any photo");
  Ok(As("b", {"boundary", "accept", id.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  EXPECT_EQ(Show("a", id)["text"], "Ask before posting any photo");
  EXPECT_EQ(Show("a", id)["versions"][1]["status"], "superseded");
  Refused(As("b", {"boundary", "retire", id.substr(0, 8)}), "Alice's to retire");
  Ok(As("a", {"boundary", "retire", id.substr(0, 8), "--note", "we are past this"}));
  Ok(As("b", {"sync"}));
  EXPECT_EQ(Show("b", id)["state"], "retired");
  EXPECT_EQ(AsJson("b", {"boundary", "list"}).size(), 0u) << "retired ones only with --all";
  EXPECT_EQ(AsJson("b", {"boundary", "list", "--all"}).size(), 1u);
}

TEST_F(ShareTest, DeclineAndALateAcceptAreShownForWhatTheyAre) {
  const std::string first = ProposeBoundary({"Phones away in bed"});
  Ok(As("b", {"boundary", "decline", first.substr(0, 8), "--note", "let us talk first"}));
  Ok(As("a", {"sync"}));
  auto alice = Show("a", first);
  EXPECT_EQ(alice["state"], "declined");
  EXPECT_EQ(alice["history"][1]["what"], "declined");
  EXPECT_EQ(alice["history"][1]["note"], "let us talk first");
  EXPECT_EQ(AsJson("a", {"boundary", "list"}).size(), 0u);
  Ok(As("a", {"status", "--mark-read"}));  // looked
  // Bob accepts while Alice retires, both offline; the relay takes her retire first.
  const std::string second = ProposeBoundary({"Ask before inviting friends over"});
  relay_->Stop();
  Ok(As("a", {"boundary", "retire", second.substr(0, 8)}));
  Ok(As("b", {"boundary", "accept", second.substr(0, 8)}));
  relay_->Start();
  Ok(As("a", {"sync"}));
  Ok(As("b", {"sync"}));
  Ok(As("a", {"sync"}));
  auto news = AsJson("a", {"status"})["new"];
  ASSERT_EQ(news.size(), 1u) << news.dump();
  EXPECT_EQ(news[0]["text"], "Bob's accept on boundary " + second.substr(0, 8) +
                                 " changed nothing: the boundary was retired first");
  EXPECT_EQ(Show("b", second)["state"], "retired");
}

TEST_F(ShareTest, BadBoundaryAnswersAreOneClearLine) {
  Refused(As("a", {"boundary", "propose", ""}), "empty");
  Refused(As("a", {"boundary", "propose", "   \t "}), "only spaces");
  Refused(As("a", {"boundary", "propose", std::string(501, 'x')}), "under 500");
  Refused(As("a", {"boundary", "propose", "Quiet", "--kind", "quiet-hours"}), "--window");
  Refused(As("a", {"boundary", "propose", "Nice", "--window", "daily 22:00-23:00"}), "--kind quiet-hours");
  Refused(As("a", {"boundary", "propose", "Quiet", "--kind", "quiet-hours", "--window", "nightly"}), "nightly");
  Refused(As("a", {"boundary", "propose", "x", "--kind", "sacred"}), "--kind");
  EXPECT_EQ(AsJson("a", {"boundary", "list", "--all"}).size(), 0u) << "nothing was written";

  const std::string id = ProposeBoundary({"No work talk after 21:00"});
  Refused(As("a", {"boundary", "accept", id.substr(0, 8)}), "you proposed the version");
  Refused(As("b", {"boundary", "accept", "ffffffff"}), "no boundary has the id");
  Refused(As("b", {"boundary", "accept", "x1"}), "not a boundary id");
  Ok(As("b", {"boundary", "counter", id.substr(0, 8), "No work talk after 20:00"}));
  Ok(As("a", {"sync"}));
  // Accepting a superseded version, named by its own id: refused, saying which waits.
  auto first_version = Show("a", id)["versions"][0]["version"].get<std::string>();
  Ok(As("a", {"boundary", "counter", id.substr(0, 8), "No work talk after 20:30"}));
  Ok(As("b", {"sync"}));
  auto bobs_version = Show("b", id)["versions"][1]["version"].get<std::string>();
  EXPECT_EQ(first_version, id) << "a boundary is named by its first version";
  Refused(As("a", {"boundary", "accept", bobs_version.substr(0, 8)}), "was countered");
  // Words that change nothing: the same as the version answered, or as a
  // boundary that exists.
  Refused(As("b", {"boundary", "counter", id.substr(0, 8), "No work talk after 20:30"}), "exact words");
  Refused(As("a", {"boundary", "propose", "No work talk after 20:30"}), "has these exact words already");
  Ok(As("b", {"boundary", "accept", id.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  EXPECT_EQ(Show("a", id)["text"], "No work talk after 20:30");
  Refused(As("a", {"boundary", "propose", "No work talk after 20:30"}), "agreed");
  Refused(As("a", {"boundary", "counter", id.substr(0, 8), "No work talk after 20:30"}), "exact words");
}

TEST_F(ShareTest, AgreedQuietHoursAreKeptFreeOfTalks) {
  Ok(As("a", {"availability", "add", "daily 19:00-24:00"}));
  Ok(As("b", {"availability", "add", "daily 19:00-24:00"}));
  // Bob proposes a late talk before any quiet hours exist.
  auto late_talk = AsJson("b", {"talk", "propose", "--at", UtcIn(86400).substr(0, 10) + " 22:00"});
  const std::string id = ProposeBoundary({"Wind down late", "--kind", "quiet-hours", "--window", "daily 21:00-23:00"});
  // Proposed only: it binds nobody yet.
  Ok(As("a", {"sync"}));
  const auto before = AsJson("a", {"talk", "suggest", "--days", "3"});
  ASSERT_FALSE(before["slots"].empty());
  EXPECT_EQ(before["slots"][0]["end_local"].get<std::string>().substr(11), "00:00")
      << "the whole evening is free while the boundary is only proposed";
  Ok(As("b", {"boundary", "accept", id.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  const auto with_quiet = AsJson("a", {"talk", "suggest", "--days", "3"});
  ASSERT_GE(with_quiet["slots"].size(), 2u);
  for (const auto& slot : with_quiet["slots"]) {
    const std::string start = slot["start_local"].get<std::string>().substr(11);
    const std::string end = slot["end_local"].get<std::string>().substr(11);
    EXPECT_TRUE((start >= "19:00" && end <= "21:00") || (start >= "23:00")) << slot.dump();
  }
  const std::string tomorrow = UtcIn(86400).substr(0, 10);
  auto refused = As("a", {"talk", "propose", "--at", tomorrow + " 20:50", "--minutes", "20"});
  Refused(refused, "quiet hours you both agreed (boundary " + id.substr(0, 8));
  Ok(As("a", {"talk", "propose", "--at", tomorrow + " 20:30", "--minutes", "20"}));
  ASSERT_TRUE(late_talk.contains("id")) << late_talk.dump();
  Refused(As("a", {"talk", "accept", late_talk["id"].get<std::string>().substr(0, 8)}), "quiet hours");
}

TEST_F(ShareTest, NotNowIsRespectedAndLapsesAtUntil) {
  Ok(As("b", {"ready", "not-now", "--until", "2h", "--note", "long day"}));
  Ok(As("a", {"sync"}));
  auto dash = AsJson("a", {"status"});
  EXPECT_EQ(dash["partner_readiness"]["state"], "not now");
  EXPECT_EQ(dash["partner_readiness"]["note"], "long day");
  auto human = As("a", {});
  EXPECT_NE(human.out.find("Bob said: not now until"), std::string::npos) << human.out;
  const std::string when = UtcIn(86400);
  Refused(As("a", {"talk", "propose", "--at", when}), "Bob said not now");
  // Three hours on, it has lapsed: nothing shown, proposing is fine.
  const auto later = ClockAhead("+3h");
  EXPECT_TRUE(AsJson("a", {"status"}, later)["partner_readiness"].is_null());
  Ok(As("a", {"talk", "propose", "--at", when}, later));
  // --anyway is the explicit way past a "not now" that still holds.
  Ok(As("b", {"ready", "not-now"}));
  Ok(As("a", {"sync"}));
  Ok(As("a", {"talk", "propose", "--at", UtcIn(2 * 86400), "--anyway"}));
  Ok(As("b", {"ready"}));
  Ok(As("a", {"sync"}));
  EXPECT_EQ(AsJson("a", {"status"})["partner_readiness"]["state"], "ready");

  Ok(As("b", {"ready", "later", "--until", "30m"}));
  Ok(As("a", {"sync"}));
  EXPECT_EQ(AsJson("a", {"status"})["partner_readiness"]["state"], "later");
  auto note = Duet("a", {"--tz", "UTC", "talk", "propose", "--at", UtcIn(3 * 86400)});
  Ok(note);
  EXPECT_NE(note.err.find("Bob said later until"), std::string::npos) << "a 'later' is a note, not a stop";
  Refused(As("b", {"ready", "later", "--note", std::string(600, 'x')}), "under 500");
  Refused(As("b", {"ready", "later", "--until", "yesterday"}), "yesterday");
  Refused(As("b", {"ready", "later", "--until", UtcIn(-3600)}), "in the past");
  Refused(As("b", {"ready", "--until", "2h"}), "--until is for");
  Refused(As("b", {"ready", "sometime"}), "sometime");
}

TEST_F(ShareTest, ThanksAndNewsAppearOnTheDashboardOnce) {
  Ok(As("b", {"thanks", "for the tea this morning"}));
  Ok(As("b", {"checkin", "--mood", "4", "--note", "better today"}));
  Ok(As("a", {"sync"}));
  auto first = AsJson("a", {"status"});
  EXPECT_EQ(first["new_thanks"], 1);
  EXPECT_EQ(first["new_checkins"], 1);
  EXPECT_EQ(first["latest_thanks"], "for the tea this morning");
  ASSERT_EQ(first["new"].size(), 2u);
  // Newest first, each an object a script can use.
  EXPECT_EQ(first["new"][0]["kind"], "checkin");
  EXPECT_EQ(first["new"][1]["kind"], "thanks");
  EXPECT_EQ(first["new"][1]["who"], "Bob");
  EXPECT_EQ(first["new"][1]["text"], "Bob thanks you: \"for the tea this morning\"");
  EXPECT_EQ(first["new"][0]["id"].get<std::string>().size(), 32u);
  EXPECT_GT(first["new"][0]["when"].get<std::int64_t>(), 1'700'000'000);
  // A script (--json, or a pipe) reads without marking read: a status bar
  // must not eat the person's news.
  EXPECT_EQ(AsJson("a", {"status"})["new"].size(), 2u);
  Ok(As("a", {"status"}));
  EXPECT_EQ(AsJson("a", {"status"})["new"].size(), 2u);
  Ok(As("a", {"status", "--mark-read"}));
  auto again = AsJson("a", {"status"});
  EXPECT_EQ(again["new"].size(), 0u) << "new since the last look only";
  EXPECT_EQ(AsJson("a", {"news"}).size(), 2u) << "duet news still has it";
  EXPECT_EQ(again["latest_thanks"], "for the tea this morning");
  auto human = As("a", {});
  EXPECT_NE(human.out.find("latest thanks from Bob: \"for the tea this morning\""), std::string::npos) << human.out;
  Refused(As("b", {"thanks", ""}), "empty");
  Refused(As("b", {"thanks", std::string(600, 'x')}), "under 500");
}

TEST_F(ShareTest, TheDashboardAnswersOfflineAndWithoutColourUnlessATerminalWantsIt) {
  const std::string id = ProposeBoundary({"Knock first"});
  relay_->Stop();
  auto dash = As("b", {});
  Ok(dash);
  EXPECT_NE(dash.out.find("waiting for you:"), std::string::npos) << dash.out;
  EXPECT_NE(dash.out.find("boundary " + id.substr(0, 8)), std::string::npos) << dash.out;
  EXPECT_EQ(dash.out.find('\x1b'), std::string::npos) << "not a terminal: no escape codes";
  EXPECT_LE(LineCount(dash.out), 24) << "one screen";
  relay_->Start();
  // Lots of news, long words: still one screen, no line wider than a terminal or two.
  for (int i = 0; i < 12; ++i)
    Ok(As("a", {"checkin", "--mood", "3", "--note", std::string(1500, 'n')}));
  Ok(As("a", {"thanks", std::string(400, 't')}));
  Ok(As("b", {"sync"}));
  auto busy = As("b", {});
  EXPECT_LE(LineCount(busy.out), 24) << busy.out;
  std::size_t start = 0, widest = 0;
  for (std::size_t end; (end = busy.out.find('\n', start)) != std::string::npos; start = end + 1)
    widest = std::max(widest, end - start);
  EXPECT_LE(widest, 200u) << busy.out;
  EXPECT_NE(busy.out.find("... and"), std::string::npos) << busy.out;
  // Under a terminal (script gives one), bold headings, unless NO_COLOR.
  const std::string command = std::string(DUET_PATH) + " --home " + dir_.File("b") + " --tz UTC";
  auto tty = RunProgram({"/usr/bin/script", "-qec", command, "/dev/null"}, dir_.path(), {"TERM=xterm"});
  EXPECT_NE(tty.out.find("\x1b[1m"), std::string::npos) << tty.out;
  auto no_color = RunProgram({"/usr/bin/script", "-qec", command, "/dev/null"}, dir_.path(),
                             {"TERM=xterm", "NO_COLOR=1"});
  EXPECT_EQ(no_color.out.find("\x1b[1m"), std::string::npos) << no_color.out;
  EXPECT_NE(no_color.out.find("waiting for you:"), std::string::npos) << no_color.out;
}

TEST_F(ShareTest, PromptsNeverRepeatUntilTheDeckIsUsedUp) {
  // Alice sends one as a conversation starter: Bob's draws skip it too.
  auto sent = AsJson("a", {"prompt", "--depth", "light", "--send"});
  EXPECT_EQ(sent["sync"], "synced");
  Ok(As("b", {"sync"}));
  auto dash = As("b", {"status"});
  EXPECT_NE(dash.out.find("Alice sent a question to talk about"), std::string::npos) << dash.out;
  std::set<std::string> seen = {sent["id"].get<std::string>()};
  bool restarted = false;
  for (int i = 0; i < 47; ++i) {
    auto drawn = AsJson("b", {"prompt", "--depth", "light"});
    EXPECT_EQ(drawn["depth"], "light");
    EXPECT_FALSE(drawn["deck_restarted"].get<bool>()) << "draw " << i;
    EXPECT_TRUE(seen.insert(drawn["id"].get<std::string>()).second) << "repeated " << drawn["id"];
    restarted |= drawn["deck_restarted"].get<bool>();
  }
  EXPECT_EQ(seen.size(), 48u);
  auto next = AsJson("b", {"prompt", "--depth", "light"});
  EXPECT_TRUE(next["deck_restarted"].get<bool>()) << "48 light questions, all asked";
  EXPECT_FALSE(AsJson("b", {"prompt", "--depth", "light"})["deck_restarted"].get<bool>());
  EXPECT_EQ(AsJson("b", {"prompt", "--depth", "deep"})["depth"], "deep");
  Refused(As("b", {"prompt", "--depth", "extreme"}), "--depth");
}

TEST_F(ShareTest, HistoryChartsBothMoodsAndCountsTalksHeld) {
  Ok(As("a", {"checkin", "--mood", "4"}));
  Ok(As("b", {"checkin", "--mood", "2"}));
  Ok(As("b", {"checkin", "--mood", "3", "--private"}));
  auto talk = AsJson("a", {"talk", "propose", "--at", UtcIn(3600)});
  Ok(As("b", {"sync"}));
  Ok(As("b", {"talk", "accept", talk["id"].get<std::string>().substr(0, 8)}));
  Ok(As("a", {"sync"}));
  auto history = AsJson("b", {"history", "--days", "7"});
  ASSERT_EQ(history["days"].size(), 7u);
  const auto& today = history["days"].back();
  EXPECT_TRUE(today["date"] == UtcIn(0).substr(0, 10) || today["date"] == UtcIn(-60).substr(0, 10))
      << "today, even across midnight";
  EXPECT_EQ(today["mine"], 2.0) << "private check-ins stay out";
  EXPECT_EQ(today["theirs"], 4.0);
  int held = 0;
  for (const auto& w : history["weeks"]) held += w["talks_held"].get<int>();
  EXPECT_EQ(held, 0) << "not held yet";
  const auto after = ClockAhead("+2h");
  held = 0;
  const auto later = AsJson("b", {"history", "--days", "7"}, after);
  for (const auto& w : later["weeks"]) held += w["talks_held"].get<int>();
  EXPECT_EQ(held, 1);
  auto chart = As("b", {"history", "--days", "7"});
  EXPECT_NE(chart.out.find("4 |      x"), std::string::npos) << chart.out;
  EXPECT_NE(chart.out.find("2 |      o"), std::string::npos) << chart.out;
  Refused(As("b", {"history", "--days", "1000"}), "--days");
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

TEST_F(ShareTest, TheNewestNewsIsShownAndAThanksIsNeverFoldedAway) {
  Ok(As("b", {"thanks", "for listening last night"}));
  for (int mood = 1; mood <= 7; ++mood)
    Ok(As("b", {"checkin", "--mood", std::to_string(mood % 5 + 1), "--note", "day " + std::to_string(mood)}));
  Ok(As("a", {"sync"}));
  const std::size_t relay_records = RelayEnvelopes().size();
  auto dash = As("a", {"status"});
  ASSERT_EQ(dash.exit_code, 0) << dash.err;
  const auto at = [&](const std::string& text) { return dash.out.find(text); };
  EXPECT_NE(at("\"day 7\""), std::string::npos) << dash.out;
  EXPECT_LT(at("\"day 7\""), at("\"day 6\"")) << "newest first: " << dash.out;
  EXPECT_NE(at("Bob thanks you: \"for listening last night\""), std::string::npos) << dash.out;
  EXPECT_EQ(at("\"day 1\""), std::string::npos) << "the oldest are counted: " << dash.out;
  EXPECT_NE(at("... and 2 older (duet news)"), std::string::npos) << dash.out;

  auto news = As("a", {"news"});
  ASSERT_EQ(news.exit_code, 0) << news.err;
  EXPECT_EQ(LineCount(news.out), 8) << news.out;
  EXPECT_NE(news.out.find("\"day 1\"  (new)"), std::string::npos) << news.out;
  EXPECT_EQ(AsJson("a", {"news", "--all"}).size(), 8u);
  Ok(As("a", {"news", "--mark-read"}));
  EXPECT_EQ(AsJson("a", {"status"})["new"].size(), 0u);
  Ok(As("a", {"checkins"}));
  EXPECT_EQ(AsJson("a", {"status"})["queued"], 0) << "no read receipts: reading queued nothing";
  Ok(As("a", {"sync"}));
  EXPECT_EQ(RelayEnvelopes().size(), relay_records) << "and the next sync sent nothing";
  EXPECT_EQ(As("a", {"news"}).out.find("(new)"), std::string::npos);
  Refused(As("a", {"news", "--days", "0"}), "--days");

  // --days never leaves out what is unseen (written offline ten days ago,
  // synced today); once seen, it is older than the days asked for.
  Ok(As("b", {"checkin", "--mood", "2", "--note", "written ten days ago"}, ClockAhead("-10d")));
  Ok(As("b", {"checkin", "--mood", "4", "--note", "written today"}));
  Ok(As("a", {"sync"}));
  auto recent = As("a", {"news", "--days", "7", "--mark-read"});
  EXPECT_NE(recent.out.find("\"written ten days ago\"  (new)"), std::string::npos) << recent.out;
  EXPECT_TRUE(AsJson("a", {"status"})["new"].empty());
  EXPECT_EQ(As("a", {"news", "--days", "7"}).out.find("ten days ago"), std::string::npos);
  EXPECT_NE(As("a", {"news", "--all"}).out.find("ten days ago"), std::string::npos);
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

TEST_F(ShareTest, ALongHistoryShowsTheNewestAndSaysWhereTheRestIs) {
  for (int i = 1; i <= 25; ++i) Ok(As("a", {"checkin", "--mood", "3", "--note", std::string("n").append(std::to_string(i))}));
  Ok(As("b", {"checkin", "--mood", "4", "--note", "first line\nsecond line"}));
  Ok(As("a", {"sync"}));
  auto human = As("a", {"checkins"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("(6 older: duet checkins --last 26, or --since DATE)"), std::string::npos)
      << human.out;
  EXPECT_EQ(human.out.find("    n1\n"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("    n25\n"), std::string::npos) << human.out;
  // A note's paragraphs keep their lines.
  EXPECT_NE(human.out.find("    first line\n    second line\n"), std::string::npos) << human.out;
  EXPECT_EQ(AsJson("a", {"checkins"}).size(), 26u) << "--json lists all unless asked";
  EXPECT_EQ(AsJson("a", {"checkins", "--last", "3"}).size(), 3u);
  auto theirs = AsJson("a", {"checkins", "--by", "partner"});
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0]["note"], "first line\nsecond line");
  EXPECT_EQ(AsJson("a", {"checkins", "--by", "me"}).size(), 25u);
  EXPECT_EQ(AsJson("a", {"checkins", "--since", "2999-01-01"}).size(), 0u);
  EXPECT_EQ(AsJson("a", {"checkins", "--since", "2000-01-01"}).size(), 26u);
  Refused(As("a", {"checkins", "--since", "yesterday"}), "--since");
  Refused(As("a", {"checkins", "--by", "them"}), "--by");
}

}  // namespace
}  // namespace duet::testing

#include "tests/integration/terminal.h"

namespace duet::testing {
namespace {

// Issue #13, item 14: the small inconsistencies a careful user notices.
TEST_F(ShareTest, TheSmallThingsACarefulUserNoticesAreConsistent) {
  // --json: times in unix seconds everywhere; text not given is null.
  Ok(As("a", {"checkin", "--mood", "3"}));
  const auto checkin = AsJson("a", {"checkins"})[0];
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(checkin["time"].get<double>(), static_cast<double>(now), 120.0) << checkin.dump();
  EXPECT_TRUE(checkin["note"].is_null()) << checkin.dump();
  const std::string tomorrow = UtcIn(86400).substr(0, 10);
  const std::string talk = AsJson("a", {"talk", "propose", "--at", tomorrow + " 19:00"})["id"];
  const std::string day_after = UtcIn(2 * 86400).substr(0, 10);
  Ok(As("a", {"talk", "propose", "--at", day_after + " 19:00", "--place", "the park"}));
  Ok(As("b", {"sync"}));
  Ok(As("b", {"talk", "accept", talk.substr(0, 8)}));
  Ok(As("a", {"sync"}));
  for (const auto& t : AsJson("a", {"talk", "list"}))
    if (t["id"] == talk) {
      EXPECT_TRUE(t["place"].is_null()) << t.dump();
      EXPECT_TRUE(t["topic"].is_null()) << t.dump();
    }
  // `boundary propose` names the new boundary, and the name works.
  auto proposed = As("a", {"boundary", "propose", "Ask before sharing our news"});
  ASSERT_EQ(proposed.exit_code, 0) << proposed.err;
  const auto at = proposed.out.find("(id ");
  ASSERT_NE(at, std::string::npos) << proposed.out;
  Ok(As("a", {"boundary", "show", proposed.out.substr(at + 4, 8)}));
  EXPECT_LT(AsJson("a", {"boundary", "show", proposed.out.substr(at + 4, 8)})["pending"]["time"].get<double>(),
            1e11);

  // `talk list`: the phase column starts at the same place on every line.
  auto list = As("a", {"talk", "list"});
  // "ID(8)  PHASE(9) REST": the rest starts at column 20 on every line.
  std::istringstream lines(list.out);
  int first_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == ' ') continue;
    ++first_lines;
    ASSERT_GT(line.size(), 21u) << line;
    EXPECT_EQ(line.substr(8, 2), "  ") << line;
    EXPECT_EQ(line[19], ' ') << "the phase is padded to one width: " << list.out;
    EXPECT_NE(line[20], ' ') << list.out;
  }
  EXPECT_EQ(first_lines, 2) << list.out;

  // `availability remove` says what it removed, in the words it was added with.
  const std::string window = AsJson("a", {"availability", "add", "mon-fri 19:00-21:00"})["id"];
  auto removed = As("a", {"availability", "remove", window.substr(0, 8)});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_NE(removed.out.find("removed your window mon-fri 19:00-21:00 (UTC)"), std::string::npos) << removed.out;
  EXPECT_EQ(removed.out.find("(id "), std::string::npos) << removed.out;

  // `history` says its figures are averages; `talk export --json` is not iCalendar.
  EXPECT_NE(As("a", {"history"}).out.find("average mood"), std::string::npos);
  Refused(As("a", {"--json", "talk", "export"}), "talk export writes iCalendar, not JSON");
  const std::string file = dir_.File("talks.ics");
  EXPECT_EQ(AsJson("a", {"talk", "export", "--out", file})["events"], 1);
}

TEST_F(ShareTest, PartnerVerifyAsksWhetherTheNumbersMatch) {
  const std::vector<std::string> verify = {DUET_PATH, "--home", dir_.File("a"), "partner", "verify"};
  auto no = RunOnTerminal(verify, {}, {{"[y/N] ", "n"}});
  EXPECT_EQ(no.exit_code, 1) << no.out;
  EXPECT_NE(no.out.find("does Bob's duet show exactly these numbers?"), std::string::npos) << no.out;
  EXPECT_NE(no.out.find("not recorded"), std::string::npos) << no.out;
  EXPECT_EQ(AsJson("a", {"partner"})["verified"], false);
  auto yes = RunOnTerminal(verify, {}, {{"[y/N] ", "y"}});
  EXPECT_EQ(yes.exit_code, 0) << yes.out;
  EXPECT_NE(yes.out.find("recorded: you and Bob compared the safety number in person"), std::string::npos)
      << yes.out;
  auto again = RunOnTerminal(verify, {}, {});
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("already verified"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("[y/N]"), std::string::npos) << "not asked twice: " << again.out;
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

// Issue #13, item 2: news that later news made moot is not shown twice.
TEST_F(ShareTest, NewsThatWasSupersededIsShownByWhatReplacedIt) {
  const std::string window = AsJson("b", {"availability", "add", "mon-fri 19:00-21:00"})["id"];
  Ok(As("b", {"availability", "remove", window.substr(0, 8)}));
  Ok(As("b", {"ready", "later", "--note", "after dinner"}));
  Ok(As("b", {"ready"}));
  const std::string talk = AsJson("a", {"talk", "propose", "--at", UtcIn(86400).substr(0, 10) + " 19:00"})["id"];
  Ok(As("b", {"sync"}));
  Ok(As("b", {"talk", "accept", talk.substr(0, 8)}));
  Ok(As("b", {"talk", "cancel", talk.substr(0, 8), "--note", "something came up"}));
  Ok(As("b", {"thanks", "for understanding"}));
  Ok(As("a", {"sync"}));
  const std::string news = As("a", {"news"}).out;
  EXPECT_EQ(news.find("is free"), std::string::npos) << "a removed window: " << news;
  EXPECT_EQ(news.find("after dinner"), std::string::npos) << "readiness said again: " << news;
  EXPECT_NE(news.find("Bob said: ready"), std::string::npos) << news;
  EXPECT_EQ(news.find("accepted talk"), std::string::npos) << "a cancelled talk's acceptance: " << news;
  EXPECT_NE(news.find("Bob cancelled talk " + talk.substr(0, 8)), std::string::npos) << news;
  EXPECT_NE(news.find("Bob thanks you"), std::string::npos) << news;
  EXPECT_EQ(AsJson("a", {"news"}).size(), 3u) << news;
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

TEST_F(ShareTest, ALongNoteWrapsAtTheTerminalsWidth) {
  Ok(As("b", {"checkin", "--mood", "4", "--note",
              "a long paragraph that goes on well past the edge of a narrow terminal\n\tand a tab"}));
  Ok(As("a", {"sync"}));
  auto narrow = As("a", {"checkins"}, {"COLUMNS=40"});
  EXPECT_NE(narrow.out.find("    a long paragraph that goes on well\n    past the edge of a narrow terminal\n"
                            "        and a tab\n"),
            std::string::npos)
      << narrow.out;
  auto piped = As("a", {"checkins"});
  EXPECT_NE(piped.out.find("    a long paragraph that goes on well past the edge of a narrow terminal\n"),
            std::string::npos)
      << "a pipe without COLUMNS is not wrapped: " << piped.out;
  // On one line of news, the break reads as " / ", never as a '?'.
  const std::string news = As("a", {"news"}).out;
  EXPECT_NE(news.find("narrow terminal /  and a tab\""), std::string::npos) << news;
}

}  // namespace
}  // namespace duet::testing
