// A relay that moves, to a new key or a new host, while its couples keep
// their pairing and history (docs/protocol.md §3.1). Real duetd and duet.
#include <gtest/gtest.h>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

class RelayKeyTest : public CoupleTest {
 protected:
  RunResult Duetd(std::vector<std::string> args) {
    args.insert(args.begin(), DUETD_PATH);
    args.insert(args.end(), {"--db", dir_.File("relay.db")});
    return RunProgram(args, dir_.path());
  }
  // The value after `label ` in duetd's output.
  static std::string After(const std::string& text, const std::string& label) {
    const auto at = text.find(label + " ");
    if (at == std::string::npos) return "";
    const auto start = at + label.size() + 1;
    return text.substr(start, text.find('\n', start) - start);
  }
  void Restart() {
    ASSERT_EQ(relay_->Stop(), 0);
    relay_->Start();
  }
};

TEST_F(RelayKeyTest, ARotatedKeyIsLearnedAsCouplesSyncAndNobodyRepairs) {
  Pair();
  const std::string old_key = relay_->key();
  auto rotate = Duetd({"key", "rotate"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  const std::string next = After(rotate.out, "next-key");
  ASSERT_EQ(next.size(), 43u) << rotate.out;
  EXPECT_EQ(After(Duetd({"key", "show"}).out, "next-key"), next);
  Refused(Duetd({"key", "rotate"}), "already under way");

  Restart();  // the relay announces the next key
  EXPECT_EQ(relay_->key(), old_key) << "still presents the current key";
  Ok(Duet("a", {"checkin", "--mood", "4"}));
  EXPECT_EQ(DuetJson("a", {"relay"})["next_relay_key"], next);

  auto promote = Duetd({"key", "promote"});
  ASSERT_EQ(promote.exit_code, 0) << promote.err;
  EXPECT_EQ(After(promote.out, "relay-key"), next);
  EXPECT_TRUE(std::filesystem::exists(dir_.File("relay.db.key.old")));
  Restart();
  EXPECT_EQ(relay_->key(), next);

  // Alice learned it: she syncs on, and now trusts only the new key.
  Ok(Duet("a", {"checkin", "--mood", "5"}));
  auto alice = DuetJson("a", {"relay"});
  EXPECT_EQ(alice["relay_key"], next);
  EXPECT_TRUE(alice["next_relay_key"].is_null());
  // Bob never synced during the rotation: he is refused, shown both keys,
  // and trusts the new one once he has checked it with the relay's owner.
  auto bob = Duet("b", {"sync"});
  EXPECT_NE(bob.exit_code, 0);
  EXPECT_NE(bob.err.find(next), std::string::npos) << bob.err;
  EXPECT_NE(bob.err.find(old_key), std::string::npos) << bob.err;
  EXPECT_NE(bob.err.find("duet relay move"), std::string::npos) << bob.err;
  Ok(Duet("b", {"relay", "move", relay_->address(), "--relay-key", next}));
  auto received = DuetJson("b", {"sync"});
  EXPECT_EQ(received["received"], 2) << "nothing was lost to the new key";
  EXPECT_EQ(Checkins("b").size(), 2u);
}

TEST_F(RelayKeyTest, APromotionCutShortIsFinishedNotPapered) {
  Pair();
  ASSERT_EQ(Duetd({"key", "rotate"}).exit_code, 0);
  ASSERT_EQ(relay_->Stop(), 0);
  // As if the machine died between the two renames of a promotion.
  std::filesystem::rename(dir_.File("relay.db.key"), dir_.File("relay.db.key.old"));
  auto start = Duetd({"--listen", "127.0.0.1:0"});
  EXPECT_EQ(start.exit_code, 2);
  EXPECT_NE(start.err.find("run `duetd key promote` again"), std::string::npos) << start.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("relay.db.key"))) << "no fresh key was made";
  ASSERT_EQ(Duetd({"key", "promote"}).exit_code, 0);
  relay_->Start();
  EXPECT_EQ(relay_->key(), After(Duetd({"key", "show"}).out, "relay-key"));
}

TEST_F(RelayKeyTest, ARelayMovedToAnotherHostIsFollowedByItsAddress) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "3"}));
  const std::string key = relay_->key();
  ASSERT_EQ(relay_->Stop(), 0);
  // The owner copies the key file and the SQLite database to the new host;
  // a PostgreSQL store stays where it is.
  std::filesystem::create_directory(dir_.File("new-host"));
  std::filesystem::copy_file(dir_.File("relay.db.key"), dir_.File("new-host/relay.db.key"));
  for (const char* f : {"relay.db", "relay.db-wal", "relay.db-shm"})
    if (std::filesystem::exists(dir_.File(f)))
      std::filesystem::copy_file(dir_.File(f), dir_.File(std::string("new-host/") + f));
  const std::string postgres = TestPostgresFor(dir_.File("relay.db")).value();
  std::vector<std::string> moved_store;
  if (!postgres.empty()) moved_store = {"--store", postgres, "--key", dir_.File("new-host/relay.db.key")};
  RelayProcess moved(dir_.File("new-host/relay.db"), "127.0.0.1:0", moved_store);
  moved.Start();
  EXPECT_EQ(moved.key(), key);

  auto a = Duet("a", {"relay", "move", moved.address()});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("relay: now " + moved.address()), std::string::npos) << a.out;
  Ok(Duet("a", {"checkin", "--mood", "4"}));
  Ok(Duet("b", {"relay", "move", moved.address()}));
  EXPECT_EQ(DuetJson("b", {"sync"})["received"], 2);

  // A relay with another key, or without the couple, is refused, and
  // nothing changes.
  RelayProcess stranger(dir_.File("stranger.db"));
  stranger.Start();
  auto wrong_key = Duet("a", {"relay", "move", stranger.address()});
  EXPECT_EQ(wrong_key.exit_code, 1) << "a verification said no";
  EXPECT_EQ(LineCount(wrong_key.err), 1) << wrong_key.err;
  EXPECT_NE(wrong_key.err.find("but this device trusts " + key), std::string::npos) << wrong_key.err;
  auto other = Duet("a", {"relay", "move", stranger.address(), "--relay-key", stranger.key()});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("does not hold your couple's mailbox"), std::string::npos) << other.err;
  EXPECT_EQ(DuetJson("a", {"relay"})["address"], moved.address());
  Refused(Duet("a", {"relay", "move", "not an address"}), "relay address");
}

}  // namespace
}  // namespace duet::testing
