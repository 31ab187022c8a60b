// Owning your data (issue #14): a device can be wiped, leaving nothing that
// opens, while the partner keeps what was shared; everything readable can be
// exported; a record can be deleted, from both devices and the relay.
#include <unistd.h>

#include <fstream>
#include <map>

#include "crypto/crypto.h"
#include "duet/v1/wire.pb.h"
#include "tests/integration/couple_fixture.h"
#include "tests/integration/terminal.h"

namespace duet::testing {
namespace {

class OwnershipTest : public CoupleTest {};

TEST_F(OwnershipTest, WipeOverwritesTheKeysDeletesTheDeviceAndThePartnerKeepsWhatWasShared) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "shared before the wipe"}));
  Ok(Duet("a", {"checkin", "--private", "--mood", "2", "--note", "kept"}));
  Ok(Duet("b", {"sync"}));
  const std::string keys = dir_.File("a/keys");
  const std::string original = ReadFile(keys);
  // A second name for the key file's bytes shows whether they were
  // overwritten, not merely unlinked.
  ASSERT_EQ(::link(keys.c_str(), dir_.File("keys-link").c_str()), 0);

  Refused(Duet("a", {"wipe"}), "add --yes to confirm");
  EXPECT_EQ(ReadFile(keys), original) << "nothing was touched";
  auto no = RunOnTerminal({DUET_PATH, "--home", dir_.File("a"), "wipe"}, {}, {{"Type wipe to go ahead: ", "no"}});
  EXPECT_EQ(no.exit_code, 1) << no.out;
  EXPECT_NE(no.out.find("1 record that exists only here"), std::string::npos) << no.out;
  EXPECT_NE(no.out.find("nothing was deleted"), std::string::npos) << no.out;
  EXPECT_EQ(ReadFile(keys), original);

  auto wiped = Duet("a", {"wipe", "--yes"});
  ASSERT_EQ(wiped.exit_code, 0) << wiped.err;
  EXPECT_NE(wiped.out.find("wiped"), std::string::npos) << wiped.out;
  EXPECT_FALSE(std::filesystem::exists(keys));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("a/duet.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("a/duet.db-wal")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("a"))) << "the folder held only duet's files";
  const std::string left = ReadFile(dir_.File("keys-link"));
  EXPECT_EQ(left.size(), original.size());
  EXPECT_NE(left, original) << "the key file's bytes were overwritten in place";
  EXPECT_NE(left.substr(0, 4), "DUET");

  auto after = Duet("a", {"checkins"});
  EXPECT_EQ(after.exit_code, 2);
  EXPECT_NE(after.err.find("no duet keys"), std::string::npos) << after.err;
  Refused(Duet("a", {"wipe", "--yes"}), "no duet device");
  auto bob = Checkins("b");
  ASSERT_EQ(bob.size(), 1u) << "Bob keeps what Alice shared";
  EXPECT_EQ(bob[0]["note"], "shared before the wipe");
  Init("a", "Alice");  // and the home can start again
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

TEST_F(OwnershipTest, ExportHoldsEverythingThisDeviceCanRead) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "4", "--need", "listen", "--note", "shared note"}));
  Ok(Duet("a", {"checkin", "--private", "--mood", "2", "--note", "kept note"}));
  Ok(Duet("b", {"thanks", "for the soup"}));
  Ok(Duet("b", {"boundary", "propose", "No phones at dinner"}));
  Ok(Duet("a", {"sync"}));
  const std::string file = dir_.File("export.json");
  auto wrote = Duet("a", {"export", "--out", file});
  ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
  EXPECT_NE(wrote.out.find("wrote 4 records"), std::string::npos) << wrote.out;
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto doc = nlohmann::json::parse(ReadFile(file));
  EXPECT_EQ(doc["format"], "duet-export");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["me"]["name"], "Alice");
  EXPECT_EQ(doc["partner"]["name"], "Bob");
  ASSERT_EQ(doc["records"].size(), 4u);
  std::map<std::string, nlohmann::json> by_text;
  for (const auto& r : doc["records"]) {
    EXPECT_EQ(r["id"].get<std::string>().size(), 32u);
    EXPECT_TRUE(r["shown"].get<bool>());
    const auto& body = r["body"];
    if (body.contains("checkin")) by_text[body["checkin"]["note"]] = r;
    if (body.contains("thanks")) by_text[body["thanks"]["text"]] = r;
    if (body.contains("boundary_proposal")) by_text[body["boundary_proposal"]["text"]] = r;
  }
  ASSERT_EQ(by_text.size(), 4u) << doc.dump(2);
  EXPECT_EQ(by_text["shared note"]["author"], "me");
  EXPECT_EQ(by_text["shared note"]["shared"], true);
  EXPECT_EQ(by_text["shared note"]["body"]["checkin"]["mood"], 4);
  EXPECT_EQ(by_text["shared note"]["body"]["checkin"]["need"], "NEED_LISTEN");
  EXPECT_EQ(by_text["kept note"]["shared"], false);
  EXPECT_TRUE(by_text["kept note"]["relay_seq"].is_null()) << "never sent";
  EXPECT_EQ(by_text["for the soup"]["author"], "partner");
  EXPECT_EQ(by_text["for the soup"]["kind"], "thanks");
  EXPECT_FALSE(by_text["No phones at dinner"]["relay_seq"].is_null());

  // The same document through a pipe; never onto a terminal.
  auto piped = Duet("a", {"export"});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(nlohmann::json::parse(piped.out)["records"], doc["records"]);
  auto shown = RunOnTerminal({DUET_PATH, "--home", dir_.File("a"), "export"}, {}, {});
  EXPECT_EQ(shown.exit_code, 2);
  EXPECT_NE(shown.out.find("give --out FILE"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("kept note"), std::string::npos);
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

// The ciphertext of the record `id_hex` as the relay stores it.
std::string CiphertextOf(const std::vector<std::string>& envelopes, const std::string& id_hex) {
  for (const auto& bytes : envelopes) {
    v1::RecordEnvelope envelope;
    if (envelope.ParseFromString(bytes) && crypto::Hex(envelope.record_id()) == id_hex) return envelope.ciphertext();
  }
  return {};
}

bool Holds(const std::string& haystack, const std::string& needle) {
  return !needle.empty() && haystack.find(needle) != std::string::npos;
}

TEST_F(OwnershipTest, ADeletedCheckinIsGoneFromBothDevicesAndTheRelaysFiles) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "2", "--note", "I regret writing this"}));
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "this one stays"}));
  Ok(Duet("b", {"sync"}));
  ASSERT_EQ(Checkins("b").size(), 2u);
  std::string id;
  for (const auto& c : Checkins("a"))
    if (c["note"] == "I regret writing this") id = c["id"];
  ASSERT_FALSE(id.empty());
  const std::string sealed = CiphertextOf(RelayEnvelopes(), id);
  ASSERT_FALSE(sealed.empty());

  Refused(Duet("a", {"delete", id.substr(0, 8)}), "add --yes to confirm");
  Refused(Duet("a", {"delete", "zz"}), "");
  Refused(Duet("b", {"delete", id.substr(0, 8), "--yes"}), "record of yours");
  auto no = RunOnTerminal({DUET_PATH, "--home", dir_.File("a"), "delete", id.substr(0, 8)}, {}, {{"[y/N] ", "n"}});
  EXPECT_EQ(no.exit_code, 1) << no.out;
  EXPECT_NE(no.out.find("If Bob has seen it, deleting cannot make them unsee it"), std::string::npos) << no.out;
  EXPECT_EQ(Checkins("a").size(), 2u) << "answering no deletes nothing";

  auto deleted = Duet("a", {"delete", id.substr(0, 8), "--yes"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_NE(deleted.out.find("cannot make them unsee it"), std::string::npos) << deleted.out;
  ASSERT_EQ(Checkins("a").size(), 1u);
  EXPECT_EQ(Checkins("a")[0]["note"], "this one stays");
  Refused(Duet("a", {"delete", id.substr(0, 8), "--yes"}), "no record of yours");

  // The relay erased the ciphertext, from its log and its files.
  EXPECT_TRUE(CiphertextOf(RelayEnvelopes(), id).empty());
  EXPECT_FALSE(Holds(RelayBytes(), sealed)) << "the relay's files still hold the deleted ciphertext";
  EXPECT_FALSE(Holds(ReadFile(dir_.File("a/duet.db")) + ReadFile(dir_.File("a/duet.db-wal")), sealed));

  // Bob's device drops it, and his duet sees no hole in Alice's chain.
  auto sync = Duet("b", {"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  auto bob = Checkins("b");
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0]["note"], "this one stays");
  EXPECT_FALSE(Holds(ReadFile(dir_.File("b/duet.db")) + ReadFile(dir_.File("b/duet.db-wal")), sealed));
  Ok(Duet("a", {"checkin", "--mood", "5", "--note", "after the deletion"}));
  auto later = Duet("b", {"sync"});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(later.err, "") << "no record is reported missing";
  auto status = DuetJson("b", {"status"});
  EXPECT_EQ(status.dump().find("missing"), std::string::npos) << status.dump();
  EXPECT_EQ(Checkins("b").size(), 2u);
}

TEST_F(OwnershipTest, ARecordDeletedBeforeThePartnerSawItNeverReachesThemAndOfflineDeletionsPurgeLater) {
  Pair();
  Ok(Duet("a", {"thanks", "for nothing, really"}));
  const auto doc = nlohmann::json::parse(Duet("a", {"export"}).out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  std::string id;
  for (const auto& r : doc["records"])
    if (r["kind"] == "thanks") id = r["id"];
  ASSERT_FALSE(id.empty()) << doc.dump();
  const std::string sealed = CiphertextOf(RelayEnvelopes(), id);
  ASSERT_FALSE(sealed.empty());

  relay_->Stop();  // deleted while the relay is away: the purge is owed
  auto offline = Duet("a", {"delete", id.substr(0, 8), "--yes"});
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_NE(offline.out.find("queued"), std::string::npos) << offline.out;
  relay_->Start();
  EXPECT_TRUE(Holds(RelayBytes(), sealed)) << "not purged before the deletion reached the relay";
  Ok(Duet("a", {"sync"}));
  EXPECT_FALSE(Holds(RelayBytes(), sealed));

  auto sync = Duet("b", {"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_EQ(sync.err, "") << "Alice's record #1 is accounted for by her deletion";
  auto dashboard = Duet("b", {"news", "--all"});
  EXPECT_EQ(dashboard.out.find("for nothing"), std::string::npos) << dashboard.out;
  Ok(Duet("a", {"thanks", "for the soup"}));
  auto next = Duet("b", {"sync"});
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(next.err, "");
  EXPECT_NE(Duet("b", {"news", "--all"}).out.find("for the soup"), std::string::npos);
}

TEST_F(OwnershipTest, DeletingAKeptCheckinForgetsItAndTheShareOfIt) {
  Pair();
  Ok(Duet("a", {"checkin", "--private", "--mood", "2", "--note", "only mine"}));
  Ok(Duet("a", {"checkin", "--private", "--mood", "3", "--note", "shared later, then regretted"}));
  std::string only_mine, regretted;
  for (const auto& c : DuetJson("a", {"checkins", "--kept"}))
    (c["note"] == "only mine" ? only_mine : regretted) = c["id"];
  ASSERT_FALSE(only_mine.empty() || regretted.empty());
  Ok(Duet("a", {"share", regretted.substr(0, 8)}));
  Ok(Duet("b", {"sync"}));
  ASSERT_EQ(Checkins("b").size(), 1u);

  auto forgotten = Duet("a", {"delete", only_mine.substr(0, 8), "--yes"});
  ASSERT_EQ(forgotten.exit_code, 0) << forgotten.err;
  EXPECT_NE(forgotten.out.find("it was never shared"), std::string::npos) << forgotten.out;
  auto both = Duet("a", {"delete", regretted.substr(0, 8), "--yes"});
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.out.find("cannot make them unsee it"), std::string::npos) << both.out;
  EXPECT_EQ(Checkins("a").size(), 0u);
  Ok(Duet("b", {"sync"}));
  EXPECT_EQ(Checkins("b").size(), 0u) << "the share of a deleted kept check-in goes with it";
}

TEST_F(OwnershipTest, WhatIsNotDeletedSaysWhatToDoInstead) {
  Pair();
  auto proposed = DuetJson("a", {"talk", "propose", "--at", "2026-12-20 19:30"});
  const std::string talk = proposed["id"];
  Refused(Duet("a", {"delete", talk.substr(0, 8), "--yes"}), "duet talk cancel");
  auto boundary = DuetJson("a", {"boundary", "propose", "No phones at dinner"});
  Refused(Duet("a", {"delete", std::string(boundary["id"]).substr(0, 8), "--yes"}), "duet boundary retire");
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

TEST_F(OwnershipTest, EitherPartnerEndsThePairingAndTheRelayForgetsTheCoupleOnceBothAreTold) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "Alice, before the end"}));
  Ok(Duet("b", {"checkin", "--mood", "3", "--note", "Bob, before the end"}));
  Refused(Duet("a", {"unpair"}), "add --yes to confirm");
  auto no = RunOnTerminal({DUET_PATH, "--home", dir_.File("a"), "unpair"}, {}, {{"[y/N] ", "no"}});
  EXPECT_EQ(no.exit_code, 1) << no.out;
  EXPECT_NE(no.out.find("Bob sees only that you are unpaired and since when"), std::string::npos) << no.out;

  // Alice ends it while Bob is away; she still gets what he wrote before.
  auto ended = Duet("a", {"unpair", "--yes"});
  ASSERT_EQ(ended.exit_code, 0) << ended.err;
  EXPECT_NE(ended.out.find("you and Bob are unpaired since"), std::string::npos) << ended.out;
  EXPECT_EQ(Checkins("a").size(), 2u);
  Refused(Duet("a", {"checkin", "--mood", "2"}), "unpaired");
  Refused(Duet("a", {"thanks", "for everything"}), "unpaired");
  Refused(Duet("a", {"invite"}), "pairing has ended");
  Refused(Duet("a", {"unpair", "--yes"}), "unpaired since");
  Ok(Duet("a", {"checkin", "--private", "--mood", "2", "--note", "still mine to keep"}));
  auto partner = Duet("a", {"partner"});
  EXPECT_NE(partner.out.find("you and Bob are unpaired since"), std::string::npos) << partner.out;
  Refused(Duet("a", {"partner", "verify", "--yes"}), "unpaired since");
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM devices"), 1) << "Bob has not been told yet";
  EXPECT_GT(RelayNumber("SELECT count(*) FROM records"), 0) << "what Bob has not fetched waits for him";

  // Bob writes before he knows: it stays on his device; he is told, with
  // the date and nothing more, and gets what Alice wrote before the end.
  auto late = Duet("b", {"checkin", "--mood", "1", "--note", "Bob, after the end"});
  ASSERT_EQ(late.exit_code, 0) << late.err;
  EXPECT_NE(late.out.find("saved on this device only: you and Alice are unpaired since"), std::string::npos) << late.out;
  auto notes = Checkins("b");
  ASSERT_EQ(notes.size(), 3u);
  const auto status = DuetJson("b", {"status"});
  EXPECT_EQ(status["unpaired_at"], DuetJson("a", {"status"})["unpaired_at"]);
  EXPECT_EQ(status["queued"], 1);
  auto dashboard = Duet("b", {"status"});
  EXPECT_NE(dashboard.out.find("you and Alice are unpaired since"), std::string::npos) << dashboard.out;
  EXPECT_NE(dashboard.out.find("not sent: 1 change written before the end"), std::string::npos) << dashboard.out;
  Ok(Duet("a", {"sync"}));
  for (const auto& c : Checkins("a")) EXPECT_NE(c["note"], "Bob, after the end") << "nothing after the end flows";

  // Both told: the relay holds nothing of the couple any more.
  for (const char* table : {"couples", "devices", "records", "invites"})
    EXPECT_EQ(RelayNumber(std::string("SELECT count(*) FROM ") + table), 0) << table;
  auto again = Duet("b", {"sync"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("unpaired since"), std::string::npos) << again.out;
}

TEST_F(OwnershipTest, APartnerWhoStaysAwayIsToldLaterAndTheRelayDeletesTheMailboxAfterItsGracePeriod) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "Alice's"}));
  Ok(Duet("b", {"checkin", "--mood", "3", "--note", "Bob's, never fetched by Alice"}));
  auto ended = Duet("b", {"--json", "unpair", "--yes"});
  ASSERT_EQ(ended.exit_code, 0) << ended.err;
  const auto when = nlohmann::json::parse(ended.out)["unpaired_at"];
  EXPECT_EQ(Checkins("b").size(), 2u);

  // A month passes (the default grace period is 30 days): the relay
  // deletes the records at its next sweep, but keeps when it ended.
  relay_->Stop();
  relay_->set_env(ClockAhead("+31d"));
  relay_->Start();
  auto told = Duet("a", {"--json", "sync"});
  ASSERT_EQ(told.exit_code, 0) << told.err;
  const auto report = nlohmann::json::parse(told.out);
  EXPECT_EQ(report["unpaired_at"], when);
  EXPECT_EQ(report["received"], 0) << "the mailbox was deleted before Alice came back";
  EXPECT_EQ(Checkins("a").size(), 1u);
  for (const char* table : {"couples", "devices", "records"})
    EXPECT_EQ(RelayNumber(std::string("SELECT count(*) FROM ") + table), 0) << table;
}

TEST_F(OwnershipTest, WatchSaysWhenThePartnerEndsThePairingAndStops) {
  Pair();
  LiveProcess watch({DUET_PATH, "--home", dir_.File("a"), "watch", "--no-notify"}, dir_.File("watch.err"));
  ASSERT_TRUE(watch.WaitForLine("connected to the relay")) << watch.output() << ReadFile(dir_.File("watch.err"));
  Ok(Duet("b", {"unpair", "--yes"}));
  ASSERT_TRUE(watch.WaitForLine("you and Bob are unpaired since")) << watch.output();
  EXPECT_TRUE(watch.ExitsWithin(std::chrono::seconds(10))) << "nothing is left to watch: " << watch.output();
  EXPECT_EQ(watch.Stop(), 0);
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM couples"), 0) << "watch told the relay";
}

TEST_F(OwnershipTest, ExportWipeImportAndExportAgainLosesNothing) {
  // Everything a command shows of the couple, as JSON, to compare two homes.
  auto views = [this](const std::vector<std::string>& env) {
    std::string out;
    for (std::vector<std::string> args : {std::vector<std::string>{"checkins", "--last", "100"},
                                          std::vector<std::string>{"checkins", "--kept"},
                                          std::vector<std::string>{"talk", "list"},
                                          std::vector<std::string>{"boundary", "list"},
                                          std::vector<std::string>{"history"}}) {
      args.insert(args.begin(), {"--tz", "UTC"});
      out += DuetJson("a", args, env).dump() + "\n";
    }
    return out;
  };
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "4", "--need", "listen", "--note", "shared note"}));
  Ok(Duet("a", {"checkin", "--private", "--mood", "2", "--note", "kept note"}));
  Ok(Duet("b", {"thanks", "for the soup"}));
  const std::string boundary = DuetJson("b", {"boundary", "propose", "No phones at dinner"})["id"];
  Ok(Duet("a", {"sync"}));
  Ok(Duet("a", {"boundary", "accept", boundary.substr(0, 8)}));
  const std::string talk = DuetJson("a", {"--tz", "UTC", "talk", "propose", "--at", "2026-12-03 19:00"})["id"];
  Ok(Duet("b", {"sync"}));
  Ok(Duet("b", {"talk", "accept", talk.substr(0, 8)}));
  Ok(Duet("a", {"sync"}));
  const auto after = ClockAhead("+3d");  // past the talk: both reflect, both are revealed
  Ok(Duet("a", {"talk", "reflect", talk.substr(0, 8), "--felt", "4", "--note", "felt heard"}, after));
  Ok(Duet("b", {"talk", "reflect", talk.substr(0, 8), "--felt", "5", "--note", "glad we walked"}, after));
  Ok(Duet("a", {"sync"}, after));
  Ok(Duet("b", {"sync"}, after));
  Ok(Duet("a", {"sync"}, after));
  const std::string before = views(after);
  ASSERT_NE(before.find("glad we walked"), std::string::npos) << "Bob's reflection is revealed: " << before;

  const std::string file = dir_.File("export.json");
  Ok(Duet("a", {"export", "--out", file}, after));
  Ok(Duet("a", {"wipe", "--yes"}));
  auto restored = Duet("a", {"import", file});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.out.find("of Alice & Bob"), std::string::npos) << restored.out;
  EXPECT_EQ(views(after), before) << "every view is as it was";
  const std::string again = dir_.File("again.json");
  Ok(Duet("a", {"export", "--out", again}, after));
  auto first = nlohmann::json::parse(ReadFile(file));
  auto second = nlohmann::json::parse(ReadFile(again));
  first.erase("exported_at");
  second.erase("exported_at");
  EXPECT_EQ(first, second) << "the round trip loses nothing";

  // An archive: to read, never to write or sync.
  Refused(Duet("a", {"checkin", "--private", "--mood", "3"}), "archive");
  Refused(Duet("a", {"thanks", "for the archive"}), "archive");
  Refused(Duet("a", {"sync"}), "archive");
  Refused(Duet("a", {"invite"}), "archive");
  EXPECT_NE(Duet("a", {"status"}).out.find("an archive of Alice & Bob"), std::string::npos);
  EXPECT_EQ(DuetJson("a", {"status"})["archive"], true);
  Refused(Duet("a", {"import", file}), "already set up");
}

TEST_F(OwnershipTest, AnImportThatIsNotAWholeExportChangesNothing) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "one"}));
  Ok(Duet("a", {"checkin", "--mood", "3", "--note", "two"}));
  const auto good = nlohmann::json::parse(Duet("a", {"export"}).out);
  const std::string file = dir_.File("bad.json");
  auto refused = [&](const nlohmann::json& doc, const std::string& says) {
    std::ofstream(file) << doc.dump();
    Refused(Duet("fresh", {"import", file}), says);
    EXPECT_FALSE(std::filesystem::exists(dir_.File("fresh"))) << "nothing was written for: " << says;
  };
  auto with = [&](auto change) {
    nlohmann::json doc = good;
    change(doc);
    return doc;
  };
  refused(with([](auto& d) { d["format"] = "something-else"; }), "not a duet export");
  refused(with([](auto& d) { d["version"] = 2; }), "reads version 1");
  refused(with([](auto& d) { d["me"]["identity"] = "abc"; }), "identity is not 64 hex digits");
  refused(with([](auto& d) { d["me"]["name"] = ""; }), "the name must be 1 to 64 characters");
  refused(with([](auto& d) { d["relay"] = "relay.example:99999"; }), "not HOST:PORT");
  refused(with([](auto& d) { d["records"][1]["id"] = "zz"; }), "record 2: its id is not 32 hex digits");
  refused(with([](auto& d) { d["records"][1]["id"] = d["records"][0]["id"]; }), "record 2: its id is also");
  refused(with([](auto& d) { d["records"][0]["author"] = "someone"; }), "record 1: its author");
  refused(with([](auto& d) { d["records"][0]["body"]["checkin"]["mood"] = "very"; }), "record 1: its body is not a duet record");
  refused(with([](auto& d) { d["records"][0]["body"]["surprise"] = 1; }), "record 1: its body is not a duet record");
  refused(with([](auto& d) { d["records"][0]["body"]["checkin"]["mood"] = 9; }), "record 1: it says it was shown, but mood 9");
  refused(with([](auto& d) { d["records"][0]["author"] = 1; }), "another type");
  refused(with([](auto& d) { d["relay"] = nullptr; }), "another type");
  refused(with([](auto& d) { d["records"][0]["shown"] = "yes"; }), "another type");
  std::ofstream(file) << "{ not json";
  Refused(Duet("fresh", {"import", file}), "not JSON");
  Refused(Duet("fresh", {"import", dir_.File("missing.json")}), "cannot read");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("fresh")));
  std::ofstream(file) << good.dump();
  Ok(Duet("fresh", {"import", file}));
  EXPECT_EQ(Checkins("fresh").size(), 2u);
}

TEST_F(OwnershipTest, AnUnpairingWhoseAnswerWasLostIsFinishedByTheNextCommand) {
  Pair();
  // Alice's duet dies after the relay removed her device, before it kept
  // the answer: her next unpair (or sync) finishes it instead of failing.
  auto killed = Duet("a", {"unpair", "--yes"}, {"DUET_CRASH_AT=unpair-answered"});
  EXPECT_NE(killed.exit_code, 0);
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM devices"), 1) << "the relay had removed Alice";
  auto again = Duet("a", {"unpair", "--yes"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("you and Bob are unpaired since"), std::string::npos) << again.out;
  EXPECT_EQ(DuetJson("a", {"sync"})["unpaired_at"].is_number(), true);

  // Bob, told while his own answer is lost, likewise.
  auto bob_killed = Duet("b", {"sync"}, {"DUET_CRASH_AT=unpair-answered"});
  EXPECT_NE(bob_killed.exit_code, 0);
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM couples"), 0) << "both were removed, so the couple is gone";
  auto bob = Duet("b", {"sync"});
  ASSERT_EQ(bob.exit_code, 0) << bob.err;
  EXPECT_NE(bob.out.find("you and Alice are unpaired since"), std::string::npos) << bob.out;
  EXPECT_EQ(bob.err, "") << "not taken for a relay that was rolled back";
}

// A relay that lets a couple push two records, then one a minute.
class PacedOwnershipTest : public CoupleTest {
 protected:
  std::vector<std::string> RelayArgs() const override {
    return {"--couple-push-burst", "2", "--couple-push-per-minute", "1"};
  }
};

TEST_F(PacedOwnershipTest, UnpairingWaitsUntilWhatWasWrittenBeforeHasReachedTheRelay) {
  Pair();
  for (const char* note : {"one", "two", "three"}) Ok(Duet("a", {"checkin", "--mood", "3", "--note", note}));
  EXPECT_EQ(DuetJson("a", {"status"})["queued"], 1) << "the third waits for the relay's pace";
  auto refused = Duet("a", {"unpair", "--yes"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("not unpaired yet"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("run `duet unpair` again"), std::string::npos) << refused.err;
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM devices"), 2) << "still paired: nothing was lost on the way";
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM couples WHERE ended_at > 0"), 0);
}

}  // namespace
}  // namespace duet::testing
