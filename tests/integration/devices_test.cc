// Several devices of one partner (issue #14, docs/protocol.md §5.1): a new
// device linked with a one-time code gets the keys and the whole history,
// writes as the same partner, and carries the kept notes the partner never
// sees; the partner sees the new device with its fingerprint.

#include "client/device.h"
#include "duet/v1/wire.pb.h"
#include "tests/integration/couple_fixture.h"
#include "tests/integration/terminal.h"

namespace duet::testing {
namespace {

class DevicesTest : public CoupleTest {
 protected:
  // Links a new home `who` to Alice ("a") without waiting: the code, the
  // join, then a sync on each side. Returns the fingerprint it joined with.
  std::string LinkToAlice(const std::string& who, const std::string& label) {
    Init(who, "Alice on " + label);
    auto link = Duet("a", {"--json", "device", "link", "--no-wait", "--yes"});
    EXPECT_EQ(link.exit_code, 0) << link.err;
    const std::string code = nlohmann::json::parse(link.out)["code"];
    auto joined = Duet(who, {"--json", "device", "join", code, "--label", label, "--wait", "0"});
    EXPECT_EQ(joined.exit_code, 0) << joined.err;
    const auto join = nlohmann::json::parse(joined.out);
    EXPECT_EQ(join["complete"], false) << "the keys come once Alice's first device syncs";
    auto waiting = Duet(who, {"sync"});
    EXPECT_EQ(waiting.exit_code, 0) << waiting.err;
    EXPECT_NE(waiting.out.find("waiting for your other device"), std::string::npos) << waiting.out;
    auto handed = DuetJson("a", {"sync"});
    EXPECT_EQ(handed["linked_device"], label);
    auto arrived = Duet(who, {"sync"});
    EXPECT_EQ(arrived.exit_code, 0) << arrived.err;
    EXPECT_NE(arrived.out.find("this device is Alice's now"), std::string::npos) << arrived.out;
    return join["fingerprint"];
  }

  nlohmann::json Find(const nlohmann::json& list, const std::string& note) {
    for (const auto& item : list)
      if (item["note"] == note) return item;
    return nlohmann::json();
  }
};

TEST_F(DevicesTest, ASecondDeviceGetsTheKeysAndTheWholeHistoryAndWritesAsTheSamePartner) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "before the laptop"}));
  Ok(Duet("a", {"checkin", "--private", "--mood", "2", "--note", "kept before the laptop"}));
  Ok(Duet("b", {"sync"}));
  Ok(Duet("b", {"thanks", "for the soup"}));
  Ok(Duet("b", {"rekey"}));  // a second epoch: the new device needs both keys
  Ok(Duet("b", {"checkin", "--mood", "3", "--note", "bob after his rekey"}));
  Ok(Duet("a", {"sync"}));

  const std::string fingerprint = LinkToAlice("a2", "laptop");
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM devices"), 3);

  // The whole history, as Alice's: hers are "mine", kept ones included.
  auto history = Checkins("a2");
  ASSERT_EQ(history.size(), 3u) << history.dump();
  EXPECT_EQ(Find(history, "before the laptop")["mine"], true);
  EXPECT_EQ(Find(history, "kept before the laptop")["mine"], true);
  EXPECT_EQ(Find(history, "kept before the laptop")["shared"], false);
  EXPECT_EQ(Find(history, "bob after his rekey")["author"], "Bob");
  auto listed = DuetJson("a2", {"device", "list"});
  ASSERT_EQ(listed["devices"].size(), 2u) << listed.dump();
  EXPECT_EQ(listed["devices"][1]["label"], "laptop");
  EXPECT_EQ(listed["devices"][1]["this_device"], true);
  EXPECT_EQ(listed["devices"][1]["fingerprint"], fingerprint);
  EXPECT_EQ(DuetJson("a", {"device", "list"})["devices"][1]["fingerprint"], fingerprint);
  EXPECT_EQ(DuetJson("a2", {"partner"})["safety_number"], DuetJson("a", {"partner"})["safety_number"])
      << "the partners compared the first devices' keys; a link changes nothing of that";

  // Bob sees a new device of Alice's, with the same fingerprint.
  Ok(Duet("b", {"sync"}));
  auto partner = DuetJson("b", {"partner"});
  ASSERT_EQ(partner["devices"].size(), 2u) << partner.dump();
  EXPECT_EQ(partner["devices"][1]["label"], "laptop");
  EXPECT_EQ(partner["devices"][1]["fingerprint"], fingerprint);
  EXPECT_NE(Duet("b", {"partner"}).out.find("laptop"), std::string::npos);

  // What the laptop writes is Alice's, on every device.
  Ok(Duet("a2", {"checkin", "--mood", "5", "--note", "from the laptop"}));
  Ok(Duet("a2", {"sync"}));
  Ok(Duet("b", {"sync"}));
  Ok(Duet("a", {"sync"}));
  EXPECT_EQ(Find(Checkins("b"), "from the laptop")["author"], "Alice");
  EXPECT_EQ(Find(Checkins("b"), "from the laptop")["mine"], false);
  EXPECT_EQ(Find(Checkins("a"), "from the laptop")["mine"], true);

  // Bob's next key reaches both of Alice's devices.
  Ok(Duet("b", {"rekey"}));
  Ok(Duet("b", {"checkin", "--mood", "4", "--note", "bob after the second rekey"}));
  for (const char* who : {"a", "a2"}) {
    auto synced = Duet(who, {"sync"});
    EXPECT_EQ(synced.exit_code, 0) << who << synced.out << synced.err;
    EXPECT_EQ(Find(Checkins(who), "bob after the second rekey")["author"], "Bob") << who;
  }
  // And a key Alice's laptop makes reaches her first device and Bob.
  Ok(Duet("a2", {"rekey"}));
  Ok(Duet("a2", {"checkin", "--mood", "2", "--note", "laptop after its rekey"}));
  Ok(Duet("a2", {"sync"}));
  for (const char* who : {"a", "b"}) {
    auto synced = Duet(who, {"sync"});
    EXPECT_EQ(synced.exit_code, 0) << who << synced.out << synced.err;
    EXPECT_FALSE(Find(Checkins(who), "laptop after its rekey").is_null()) << who;
  }
  for (const char* who : {"a", "a2", "b"}) {
    auto status = DuetJson(who, {"status"});
    EXPECT_EQ(status.dump().find("missing"), std::string::npos) << who << status.dump();
  }
  // Every view works on the new device as on the first.
  for (std::vector<std::string> view : {std::vector<std::string>{}, {"news"}, {"recap"}, {"history"},
                                        {"talk", "list"}, {"boundary", "list"}, {"prompt", "today"}}) {
    auto shown = Duet("a2", view);
    EXPECT_EQ(shown.exit_code, 0) << (view.empty() ? "dashboard" : view[0]) << shown.out << shown.err;
  }
}

TEST_F(DevicesTest, KeptNotesTravelBetweenOwnDevicesAndThePartnerNeverHoldsThem) {
  Pair();
  LinkToAlice("a2", "laptop");
  Ok(Duet("a2", {"checkin", "--private", "--mood", "1", "--note", "only for my own eyes"}));
  Ok(Duet("a2", {"sync"}));
  Ok(Duet("a", {"sync"}));
  auto kept = Find(Checkins("a"), "only for my own eyes");
  ASSERT_FALSE(kept.is_null()) << "the kept note reached Alice's other device";
  EXPECT_EQ(kept["shared"], false);

  auto bob = Duet("b", {"sync"});
  EXPECT_EQ(bob.exit_code, 0) << bob.out << bob.err;
  EXPECT_EQ(bob.err.find("refused"), std::string::npos) << "a kept note is not an alteration: " << bob.err;
  EXPECT_TRUE(Find(Checkins("b"), "only for my own eyes").is_null());
  const std::string file = dir_.File("bob.json");
  Ok(Duet("b", {"export", "--out", file}));
  EXPECT_EQ(ReadFile(file).find("only for my own eyes"), std::string::npos);
  EXPECT_EQ(ReadFile(dir_.File("b/duet.db")).find("only for my own eyes"), std::string::npos);
  // It travels sealed: the relay holds no word of it either.
  EXPECT_EQ(RelayBytes().find("only for my own eyes"), std::string::npos);

  // Shared later from the first device, it reaches Bob like any share.
  Ok(Duet("a", {"share", Find(Checkins("a"), "only for my own eyes")["id"].get<std::string>().substr(0, 8)}));
  Ok(Duet("a", {"sync"}));
  Ok(Duet("b", {"sync"}));
  EXPECT_FALSE(Find(Checkins("b"), "only for my own eyes").is_null());

  // A kept note deleted on the device that wrote it goes from the other
  // device, and from the relay, too.
  Ok(Duet("a2", {"checkin", "--private", "--mood", "2", "--note", "second thoughts"}));
  Ok(Duet("a2", {"sync"}));
  Ok(Duet("a", {"sync"}));
  const std::string id = Find(Checkins("a2"), "second thoughts")["id"];
  ASSERT_FALSE(Find(Checkins("a"), "second thoughts").is_null());
  const auto stored = [&] {
    return RelayStore().Number("SELECT count(*) FROM records WHERE record_id = $1 AND length(envelope) > 0",
                               {crypto::FromHex(id).value()});
  };
  EXPECT_EQ(stored(), 1);
  Refused(Duet("a", {"delete", id.substr(0, 8), "--yes"}), "another of your devices");
  auto deleted = Duet("a2", {"delete", id.substr(0, 8), "--yes"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_NE(deleted.out.find("goes from your other devices"), std::string::npos) << deleted.out;
  Ok(Duet("a", {"sync"}));
  EXPECT_TRUE(Find(Checkins("a"), "second thoughts").is_null());
  EXPECT_EQ(stored(), 0) << "the relay erased its ciphertext";
  auto bob_after = Duet("b", {"sync"});
  EXPECT_EQ(bob_after.exit_code, 0) << bob_after.err;
}

TEST_F(DevicesTest, LinkWaitsForTheNewDeviceAndBadCodesSayWhatToDo) {
  Pair();
  Init("a2", "Alice");
  // An invite code is not a link code, and the other way round.
  Ok(Duet("a", {"sync"}));
  Refused(Duet("a2", {"device", "join", code_}), "duet join CODE");
  Refused(Duet("a2", {"device", "join", "duet1-nonsense"}), "malformed");
  Refused(Duet("b", {"device", "join", code_}), "duet join CODE");

  Refused(Duet("a", {"device", "link"}), "--yes");  // a script cannot compare fingerprints
  LiveProcess link({DUET_PATH, "--home", dir_.File("a"), "device", "link", "--yes"}, dir_.File("link.err"));
  ASSERT_TRUE(link.WaitForLine("duet device join ")) << ReadFile(dir_.File("link.err"));
  const std::string& out = link.output();
  const std::size_t start = out.find("duet1-");
  const std::string code = out.substr(start, out.find('\n', start) - start);
  Refused(Duet("b", {"device", "join", code}), "pairing of its own");
  auto joined = Duet("a2", {"device", "join", code, "--label", "phone", "--wait", "60"});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_NE(joined.out.find("this device is Alice's now, as 'phone'"), std::string::npos) << joined.out;
  EXPECT_TRUE(link.WaitForLine("linked 'phone'")) << ReadFile(dir_.File("link.err"));
  EXPECT_TRUE(link.ExitsWithin(std::chrono::seconds(10)));

  // The code worked once.
  Init("a3", "Alice");
  auto again = Duet("a3", {"device", "join", code, "--wait", "0"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("make a new one on your other device"), std::string::npos) << again.err << again.out;
  Ok(Duet("a2", {"sync"}));
  auto listed = DuetJson("a2", {"device", "list"});
  EXPECT_EQ(listed["devices"].size(), 2u);

  // A device whose first code was given up (a newer code replaced it
  // before the keys went out) joins again with the new one.
  Init("a4", "Alice");
  const std::string first = DuetJson("a", {"device", "link", "--no-wait", "--yes"})["code"];
  Ok(Duet("a4", {"device", "join", first, "--label", "tablet", "--wait", "0"}));
  const std::string second = DuetJson("a", {"device", "link", "--no-wait", "--yes"})["code"];
  Ok(Duet("a4", {"device", "join", second, "--label", "tablet", "--wait", "0"}));
  Ok(Duet("a", {"sync"}));
  Ok(Duet("a4", {"sync"}));
  EXPECT_EQ(DuetJson("a4", {"device", "list"})["devices"].size(), 3u);
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM devices"), 4) << "Bob, Alice and her phone and tablet, once each";
}

TEST_F(DevicesTest, AtATerminalThePersonComparesTheFingerprintAndAStrangerIsShutOut) {
  Pair();
  // Someone else uses the code first: the person says no, and the relay
  // shuts the stranger out before it reads anything.
  Init("x", "Mallory");
  auto code = DuetJson("a", {"device", "link", "--no-wait"})["code"].get<std::string>();
  auto stranger = DuetJson("x", {"device", "join", code, "--label", "not yours", "--wait", "0"});
  const std::string stranger_print = stranger["fingerprint"];
  auto told = Duet("a", {"sync"});
  EXPECT_EQ(told.exit_code, 0) << told.err;
  EXPECT_NE(told.err.find("run `duet device link` to compare its fingerprint"), std::string::npos) << told.err;
  auto no = RunOnTerminal({DUET_PATH, "--home", dir_.File("a"), "device", "link"}, {},
                          {{"does your new device show exactly this fingerprint? [y/N] ", "n"}});
  EXPECT_NE(no.out.find(stranger_print), std::string::npos) << no.out;
  EXPECT_NE(no.out.find("the relay no longer lets it in"), std::string::npos) << no.out;
  auto shut_out = Duet("x", {"sync"});
  EXPECT_NE(shut_out.out.find("revoked this one"), std::string::npos) << shut_out.out << shut_out.err;
  EXPECT_EQ(Checkins("x").size(), 0u) << "it never received a key";
  EXPECT_EQ(DuetJson("a", {"device", "list"})["devices"].size(), 1u);
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM devices"), 2);

  // The real laptop: its fingerprint is the one asked about, and a yes links it.
  Init("a2", "Alice");
  code = DuetJson("a", {"device", "link", "--no-wait"})["code"].get<std::string>();
  auto laptop = DuetJson("a2", {"device", "join", code, "--label", "laptop", "--wait", "0"});
  auto yes = RunOnTerminal({DUET_PATH, "--home", dir_.File("a"), "device", "link"}, {},
                           {{"does your new device show exactly this fingerprint? [y/N] ", "y"}});
  EXPECT_EQ(yes.exit_code, 0) << yes.out;
  EXPECT_NE(yes.out.find(laptop["fingerprint"].get<std::string>()), std::string::npos) << yes.out;
  EXPECT_NE(yes.out.find("linked 'laptop'"), std::string::npos) << yes.out;
  Ok(Duet("a2", {"sync"}));
  EXPECT_EQ(DuetJson("a2", {"device", "list"})["devices"].size(), 2u);
}

TEST_F(DevicesTest, ARevokedDeviceIsRefusedByTheRelayIgnoredByEveryoneAndNeverLearnsTheNewKey) {
  Pair();
  LinkToAlice("a2", "old laptop");
  const std::string laptop = DuetJson("a", {"device", "list"})["devices"][1]["id"];
  Ok(Duet("a", {"checkin", "--private", "--mood", "2", "--note", "kept before the revocation"}));
  Ok(Duet("a2", {"checkin", "--mood", "3", "--note", "written before the revocation"}));
  Ok(Duet("a2", {"sync"}));
  // Written on the laptop while it is away; it reaches the relay after the
  // revocation record but before the relay hears of it.
  auto offline = Duet("a2", {"checkin", "--mood", "1", "--note", "written after the revocation"},
                      {"DUET_CRASH_AT=saved-not-sent"});
  EXPECT_NE(offline.exit_code, 0) << "saved, then stopped before any sync";

  Refused(Duet("a", {"device", "revoke", laptop}), "--yes");
  Refused(Duet("a", {"device", "revoke", "ffff"}), "duet device list");
  Refused(Duet("b", {"device", "revoke", laptop}), "duet device list");
  Refused(Duet("a2", {"device", "revoke", laptop, "--yes"}), "cannot revoke itself");
  // The records go out, then duet stops before telling the relay.
  auto cut = Duet("a", {"device", "revoke", laptop, "--yes"}, {"DUET_CRASH_AT=sync-acknowledged"});
  EXPECT_NE(cut.exit_code, 0) << cut.out << cut.err;
  auto laptop_sync = Duet("a2", {"sync"});
  EXPECT_EQ(laptop_sync.exit_code, 0) << laptop_sync.err;
  EXPECT_NE(laptop_sync.out.find("revoked this one"), std::string::npos) << laptop_sync.out;
  Refused(Duet("a2", {"checkin", "--mood", "2"}), "revoked this one");

  auto bob = Duet("b", {"sync"});
  EXPECT_EQ(bob.exit_code, 1) << "one record refused, said once: " << bob.out << bob.err;
  EXPECT_NE(bob.err.find("revoked before it"), std::string::npos) << bob.err;
  EXPECT_FALSE(Find(Checkins("b"), "written before the revocation").is_null()) << "what came before stays";
  EXPECT_TRUE(Find(Checkins("b"), "written after the revocation").is_null());
  auto alice = Duet("a", {"sync"});
  EXPECT_EQ(alice.exit_code, 1) << alice.out << alice.err;
  EXPECT_TRUE(Find(Checkins("a"), "written after the revocation").is_null());
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM revoked_devices"), 1) << "the relay was told at last";
  EXPECT_EQ(RelayNumber("SELECT count(*) FROM devices"), 2);
  auto partner = DuetJson("b", {"partner"});
  EXPECT_EQ(partner["devices"][1]["revoked"], true) << partner.dump();
  EXPECT_EQ(DuetJson("a", {"device", "list"})["devices"][1]["revoked"], true);

  // The new epoch: Bob writes, Alice reads, the laptop's keys open nothing.
  Ok(Duet("b", {"checkin", "--mood", "5", "--note", "after the laptop was revoked"}));
  Ok(Duet("b", {"sync"}));
  Ok(Duet("a", {"sync"}));
  EXPECT_FALSE(Find(Checkins("a"), "after the laptop was revoked").is_null());
  auto laptop_home = client::ResolveHome(dir_.File("a2"));
  ASSERT_TRUE(laptop_home.ok());
  auto laptop_device = client::Device::Open(laptop_home.value());
  ASSERT_TRUE(laptop_device.ok()) << laptop_device.error().message;
  const auto envelopes = RelayEnvelopes();
  v1::RecordEnvelope newest;
  ASSERT_TRUE(newest.ParseFromString(envelopes.back()));
  auto opened = laptop_device.value()->VerifyIncoming(newest);
  ASSERT_FALSE(opened.ok()) << "the revoked laptop must not open the new epoch";
  EXPECT_NE(opened.error().message.find("does not have"), std::string::npos) << opened.error().message;
  // The relay refuses the laptop now; it still shows what it had.
  auto refused = Duet("a2", {"sync"});
  EXPECT_EQ(refused.exit_code, 0) << refused.err;
  EXPECT_FALSE(Find(Checkins("a2"), "written before the revocation").is_null());
  // Kept notes written from now on use Alice's new own key: Bob skips them
  // without complaint, the laptop could not open them.
  // A note kept under the old own key is still a kept note.
  EXPECT_EQ(Find(Checkins("a"), "kept before the revocation")["shared"], false);
  // A device Bob links now learns Alice's new own key too, so her kept
  // notes are skipped there as well, never called altered.
  Init("b2", "Bob");
  auto code = DuetJson("b", {"device", "link", "--no-wait", "--yes"})["code"].get<std::string>();
  Ok(Duet("b2", {"device", "join", code, "--wait", "0"}));
  Ok(Duet("b", {"sync"}));
  auto history = Duet("b2", {"sync"});
  EXPECT_EQ(history.exit_code, 1) << "the new device refuses the laptop's late record too: " << history.err;
  EXPECT_NE(history.err.find("revoked before it (it no longer counts) (the other records synced)"), std::string::npos)
      << history.err;
  Ok(Duet("a", {"checkin", "--private", "--mood", "2", "--note", "kept after the revocation"}));
  Ok(Duet("a", {"sync"}));
  for (const char* who : {"b", "b2"}) {
    auto bob_again = Duet(who, {"sync"});
    EXPECT_EQ(bob_again.exit_code, 0) << who << bob_again.err;
    EXPECT_EQ(bob_again.err.find("refused"), std::string::npos) << who << bob_again.err;
    EXPECT_TRUE(Find(Checkins(who), "kept after the revocation").is_null()) << who;
  }
}

}  // namespace
}  // namespace duet::testing
