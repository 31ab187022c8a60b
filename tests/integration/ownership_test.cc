// Owning your data (issue #14): a device can be wiped, leaving nothing that
// opens, while the partner keeps what was shared.
#include <unistd.h>

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
  EXPECT_NE(no.out.find("1 record kept just for you"), std::string::npos) << no.out;
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
