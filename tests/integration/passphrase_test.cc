// A locked device that is quick (issue #13, item 9): `duet unlock` keeps the
// key derived from the passphrase in the kernel keyring for a while, `duet
// lock` drops it, the passphrase can be changed or removed, a weak one is
// refused with the reason, and a person who mistypes is asked again.
#include "client/key_cache.h"
#include "tests/integration/couple_fixture.h"
#include "tests/integration/terminal.h"

namespace duet::testing {
namespace {

const std::string kFirst = "plum kettle orbit seven";
const std::string kSecond = "harbor violet tuesday lamp";

class PassphraseTest : public CoupleTest {
 protected:
  void TearDown() override {
    // Nothing of this test stays in the session keyring.
    if (std::filesystem::exists(dir_.File("a/keys"))) (void)Duet("a", {"lock"});
  }
  static std::vector<std::string> With(const std::string& passphrase) { return {"DUET_PASSPHRASE=" + passphrase}; }
  RunResult InitLocked(const std::string& passphrase) {
    return Duet("a", {"init", "--name", "Alice", "--relay", relay_->address(), "--passphrase"}, With(passphrase));
  }
  // Unlocks with `passphrase`; false when this machine's kernel keeps no
  // keyrings (the test is then skipped).
  bool Unlock(const std::string& passphrase) {
    auto r = Duet("a", {"unlock", "--for", "10m"}, With(passphrase));
    if (r.err.find("kernel keyring is not available") != std::string::npos) return false;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("unlocked until"), std::string::npos) << r.out;
    return true;
  }
  static void AsksForThePassphrase(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.err.find("locked with a passphrase; run `duet unlock`"), std::string::npos) << r.err;
  }
};

TEST_F(PassphraseTest, AWeakPassphraseIsRefusedWithTheReason) {
  auto short_one = InitLocked("tea4two");
  Refused(short_one, "too weak: it is shorter than 10 characters");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("a/keys"))) << "nothing was set up";
  Refused(InitLocked("sunflowers!!"), "dictionary");
  Ok(InitLocked(kFirst));
  Ok(Duet("a", {"checkin", "--private", "--mood", "3", "--note", "kept safe"}, With(kFirst)));
}

TEST_F(PassphraseTest, UnlockKeepsTheKeyFileOpenForTheSessionAndLockClosesIt) {
  Ok(InitLocked(kFirst));
  Ok(Duet("a", {"checkin", "--private", "--mood", "3", "--note", "kept safe"}, With(kFirst)));
  AsksForThePassphrase(Duet("a", {"checkins"}));
  if (!Unlock(kFirst)) GTEST_SKIP() << "no kernel keyring on this machine";
  auto open = Duet("a", {"--json", "checkins"});
  ASSERT_EQ(open.exit_code, 0) << open.err;
  EXPECT_EQ(nlohmann::json::parse(open.out)[0]["note"], "kept safe");
  Ok(Duet("a", {"checkin", "--private", "--mood", "4"}));  // and writing works too

  EXPECT_TRUE(client::RecallUnlockedKey(dir_.File("a/keys")).has_value());
  auto locked = Duet("a", {"lock"});
  ASSERT_EQ(locked.exit_code, 0) << locked.err;
  EXPECT_FALSE(client::RecallUnlockedKey(dir_.File("a/keys")).has_value());
  EXPECT_NE(locked.out.find("locked: duet asks for the passphrase again"), std::string::npos) << locked.out;
  AsksForThePassphrase(Duet("a", {"checkins"}));
  EXPECT_NE(Duet("a", {"lock"}).out.find("locked already"), std::string::npos);

  auto wrong = Duet("a", {"unlock"}, With(kSecond));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;
  AsksForThePassphrase(Duet("a", {"checkins"}));
  for (const char* bad : {"0", "30s", "8d", "soon"}) Refused(Duet("a", {"unlock", "--for", bad}, With(kFirst)), "--for");
}

TEST_F(PassphraseTest, ThePassphraseCanBeChangedOrRemoved) {
  Ok(InitLocked(kFirst));
  Ok(Duet("a", {"checkin", "--private", "--mood", "3", "--note", "kept safe"}, With(kFirst)));
  if (!Unlock(kFirst)) GTEST_SKIP() << "no kernel keyring on this machine";
  Refused(Duet("a", {"passphrase", "change"}, {"DUET_PASSPHRASE=" + kFirst, "DUET_NEW_PASSPHRASE=short"}),
          "too weak");
  Ok(Duet("a", {"checkins"}));  // nothing changed, still open
  auto changed = Duet("a", {"passphrase", "change"}, {"DUET_PASSPHRASE=" + kFirst, "DUET_NEW_PASSPHRASE=" + kSecond});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  AsksForThePassphrase(Duet("a", {"checkins"}));  // the kept key was for the old one
  EXPECT_FALSE(client::RecallUnlockedKey(dir_.File("a/keys")).has_value()) << "and it was dropped, not left to expire";
  EXPECT_NE(Duet("a", {"checkins"}, With(kFirst)).err.find("wrong passphrase"), std::string::npos);
  Ok(Duet("a", {"checkins"}, With(kSecond)));

  auto removed = Duet("a", {"passphrase", "remove"}, With(kSecond));
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_NE(removed.out.find("passphrase removed"), std::string::npos) << removed.out;
  auto plain = Duet("a", {"--json", "checkins"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(nlohmann::json::parse(plain.out)[0]["note"], "kept safe");
  Refused(Duet("a", {"unlock"}), "no passphrase, so there is nothing to unlock");
  Refused(Duet("a", {"passphrase", "remove"}), "no passphrase to remove");
}

TEST_F(PassphraseTest, APersonWhoMistypesIsAskedAgain) {
  auto init = RunOnTerminal({DUET_PATH, "--home", dir_.File("a"), "init", "--name", "Alice", "--relay",
                             relay_->address(), "--passphrase"},
                            {}, {{"new passphrase: ", kFirst},
                                 {"again: ", kFirst + "x"},
                                 {"new passphrase: ", "tea4two"},
                                 {"new passphrase: ", kFirst},
                                 {"again: ", kFirst}});
  ASSERT_EQ(init.exit_code, 0) << init.out;
  EXPECT_NE(init.out.find("the two entries differ; once more"), std::string::npos) << init.out;
  EXPECT_NE(init.out.find("too weak: it is shorter than 10 characters"), std::string::npos) << init.out;
  EXPECT_EQ(init.out.find(kFirst), std::string::npos) << "never echoed: " << init.out;
  Ok(Duet("a", {"checkins"}, With(kFirst)));

  auto unlock = RunOnTerminal({DUET_PATH, "--home", dir_.File("a"), "unlock"}, {}, {{"passphrase: ", kFirst}});
  if (unlock.out.find("kernel keyring is not available") != std::string::npos)
    GTEST_SKIP() << "no kernel keyring on this machine";
  ASSERT_EQ(unlock.exit_code, 0) << unlock.out;
  Ok(Duet("a", {"checkins"}));

  auto gave_up = RunOnTerminal({DUET_PATH, "--home", dir_.File("b"), "init", "--name", "Bob", "--relay",
                                relay_->address(), "--passphrase"},
                               {}, {{"new passphrase: ", "a"}, {"new passphrase: ", "b"}, {"new passphrase: ", "c"}});
  EXPECT_EQ(gave_up.exit_code, 2) << gave_up.out;
  EXPECT_NE(gave_up.out.find("no passphrase set after 3 tries; nothing was changed"), std::string::npos)
      << gave_up.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("b/keys")));
}

}  // namespace
}  // namespace duet::testing
