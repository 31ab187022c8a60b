// Several devices of one partner (issue #14, docs/protocol.md §5.1): a new
// device linked with a one-time code gets the keys and the whole history,
// writes as the same partner, and carries the kept notes the partner never
// sees; the partner sees the new device with its fingerprint.
#include <sqlite3.h>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

class DevicesTest : public CoupleTest {
 protected:
  // Links a new home `who` to Alice ("a") without waiting: the code, the
  // join, then a sync on each side. Returns the fingerprint it joined with.
  std::string LinkToAlice(const std::string& who, const std::string& label) {
    Init(who, "Alice on " + label);
    auto link = Duet("a", {"--json", "device", "link", "--no-wait"});
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
}

TEST_F(DevicesTest, LinkWaitsForTheNewDeviceAndBadCodesSayWhatToDo) {
  Pair();
  Init("a2", "Alice");
  // An invite code is not a link code, and the other way round.
  Ok(Duet("a", {"sync"}));
  Refused(Duet("a2", {"device", "join", code_}), "duet join CODE");
  Refused(Duet("a2", {"device", "join", "duet1-nonsense"}), "malformed");
  Refused(Duet("b", {"device", "join", code_}), "duet join CODE");

  LiveProcess link({DUET_PATH, "--home", dir_.File("a"), "device", "link"}, dir_.File("link.err"));
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
  // A partner's device cannot make a code that joins the other partner.
  Ok(Duet("a2", {"sync"}));
  auto listed = DuetJson("a2", {"device", "list"});
  EXPECT_EQ(listed["devices"].size(), 2u);
}

}  // namespace
}  // namespace duet::testing
