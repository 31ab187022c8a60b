// Owning your data (issue #14): a device can be wiped, leaving nothing that
// opens, while the partner keeps what was shared.
#include <unistd.h>

#include <map>

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
