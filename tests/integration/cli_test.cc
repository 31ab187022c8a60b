// End to end: the real duetd and two real duet processes on loopback.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "duet/v1/wire.pb.h"
#include "tests/integration/couple_fixture.h"
#include "tests/integration/harness.h"
#include "tests/integration/tamper_proxy.h"

namespace duet::testing {
namespace {

TEST_F(CoupleTest, PairedPartnersSeeTheSameSafetyNumber) {
  auto [alice_view, bob_view] = Pair();
  EXPECT_EQ(alice_view, bob_view);
  EXPECT_EQ(alice_view.size(), 8u * 5 + 7);
}

TEST_F(CoupleTest, SafetyNumberIsUnverifiedUntilComparedInPerson) {
  Pair();
  EXPECT_EQ(nlohmann::json::parse(Duet("a", {"--json", "partner"}).out)["verified"], false);
  auto plain = Duet("a", {"partner"});
  EXPECT_NE(plain.out.find("not verified yet"), std::string::npos) << plain.out;
  Refused(Duet("a", {"partner", "verify"}), "compare the safety number with Bob first");
  auto verify = Duet("a", {"partner", "verify", "--yes"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("verified: you compared it in person"), std::string::npos) << verify.out;
  EXPECT_EQ(nlohmann::json::parse(Duet("a", {"--json", "partner"}).out)["verified"], true);
  EXPECT_EQ(nlohmann::json::parse(Duet("b", {"--json", "partner"}).out)["verified"], false)
      << "each partner records their own comparison";
}

TEST_F(CoupleTest, CheckinReachesPartnerExactlyAsWritten) {
  Pair();
  auto r = Duet("a", {"checkin", "--mood", "4", "--energy", "2", "--need", "listen", "--note",
                      "long day; glad you're here"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("synced: sent 1"), std::string::npos) << r.out;
  auto s = Duet("b", {"sync"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto list = Checkins("b");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["author"], "Alice");
  EXPECT_EQ(list[0]["mine"], false);
  EXPECT_EQ(list[0]["mood"], 4);
  EXPECT_EQ(list[0]["energy"], 2);
  EXPECT_EQ(list[0]["need"], "listen");
  EXPECT_EQ(list[0]["note"], "long day; glad you're here");
  EXPECT_EQ(list[0]["time"], Checkins("a")[0]["time"]);
}

TEST_F(CoupleTest, NoteFromStandardInput) {
  Pair();
  auto r = RunProgram({DUET_PATH, "--home", dir_.File("a"), "checkin", "--mood", "3", "--note", "-"},
                      dir_.path(), {}, "typed where ps cannot see it\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Checkins("a")[0]["note"], "typed where ps cannot see it");
  auto too_long = RunProgram({DUET_PATH, "--home", dir_.File("a"), "checkin", "--mood", "3", "--note", "-"},
                             dir_.path(), {}, std::string(3000, 'x'));
  EXPECT_EQ(too_long.exit_code, 2);
  EXPECT_EQ(Checkins("a").size(), 1u);
}

TEST_F(CoupleTest, APartnersNoteCannotControlTheTerminal) {
  Pair();
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "3", "--note", "hi\x1b[2J\x1b]0;pwned\x07 there"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  auto shown = Duet("b", {"checkins"});
  EXPECT_EQ(shown.out.find('\x1b'), std::string::npos) << "escape sequences are neutralized";
  EXPECT_NE(shown.out.find("hi?[2J?]0;pwned? there"), std::string::npos) << shown.out;
  EXPECT_EQ(Checkins("b")[0]["note"], "hi\x1b[2J\x1b]0;pwned\x07 there") << "JSON keeps the exact text";
}

TEST_F(CoupleTest, PrivateCheckinNeverLeavesTheDevice) {
  Pair();
  ASSERT_EQ(Duet("b", {"checkin", "--mood", "2", "--note", "only-for-bob-7f3a", "--private"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"checkin", "--mood", "3", "--note", "shared-from-bob-91c2"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  auto alice = Checkins("a");
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_EQ(alice[0]["note"], "shared-from-bob-91c2");
  auto bob = Checkins("b");
  ASSERT_EQ(bob.size(), 2u);
  relay_->Stop();  // checkpoint-free: the WAL is read too
  const std::string relay = RelayBytes();
  EXPECT_EQ(relay.find("only-for-bob-7f3a"), std::string::npos);
  EXPECT_EQ(relay.find("shared-from-bob-91c2"), std::string::npos)
      << "the relay must hold ciphertext only";
  // Neither does Bob's own database hold his private note in the clear.
  const std::string bob_db = ReadFile(dir_.File("b/duet.db")) + ReadFile(dir_.File("b/duet.db-wal"));
  EXPECT_EQ(bob_db.find("only-for-bob-7f3a"), std::string::npos);
}

TEST_F(CoupleTest, AlteredCiphertextIsRefusedWhileOtherRecordsSync) {
  Pair();
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "1", "--note", "first"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "5", "--note", "second"}).exit_code, 0);
  {
    // Flip one ciphertext byte of the first record, directly in the relay's store.
    auto store = RelayStore();
    auto envelopes = RelayEnvelopes();
    ASSERT_FALSE(envelopes.empty());
    v1::RecordEnvelope envelope;
    ASSERT_TRUE(envelope.ParseFromString(envelopes[0]));
    std::string ciphertext = envelope.ciphertext();
    ciphertext[ciphertext.size() / 2] ^= 0x20;
    envelope.set_ciphertext(ciphertext);
    ASSERT_EQ(store.Exec("UPDATE records SET envelope = $1 WHERE seq = 1", {envelope.SerializeAsString()}), 1);
  }
  auto sync = Duet("b", {"sync"});
  EXPECT_EQ(sync.exit_code, 1) << "a refused record is a failed verification";
  EXPECT_NE(sync.err.find("refused the relay's record #1"), std::string::npos) << sync.err;
  EXPECT_NE(sync.err.find("signature"), std::string::npos) << sync.err;
  auto list = Checkins("b");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["note"], "second");
  // The refusal is not repeated: the next sync is clean.
  EXPECT_EQ(Duet("b", {"sync"}).exit_code, 0);
}

TEST_F(CoupleTest, CheckinMadeWhileRelayIsDownIsSentByTheNextSync) {
  Pair();
  relay_->Stop();
  auto offline = Duet("a", {"checkin", "--mood", "3", "--note", "written offline"});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_NE(offline.out.find("queued"), std::string::npos) << offline.out;
  EXPECT_EQ(LineCount(offline.out), 2) << offline.out;
  auto failed = Duet("a", {"sync"});
  EXPECT_EQ(failed.exit_code, 2);
  EXPECT_NE(failed.err.find("1 change stays queued"), std::string::npos) << failed.err;
  relay_->Start();  // same port, same database
  auto sync = Duet("a", {"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_NE(sync.out.find("sent 1"), std::string::npos) << sync.out;
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  auto list = Checkins("b");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["note"], "written offline");
}

TEST_F(CoupleTest, RelayRolledBackToAnOlderStateIsDetectedAndNothingIsLost) {
  Pair();
  relay_->Stop();  // a clean stop checkpoints the WAL into relay.db
  std::filesystem::copy_file(dir_.File("relay.db"), dir_.File("snapshot.db"));
  relay_->Start();
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "4", "--note", "before the rollback"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  ASSERT_EQ(Checkins("b").size(), 1u);
  relay_->Stop();
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(dir_.File(std::string("relay.db") + suffix));
  std::filesystem::copy_file(dir_.File("snapshot.db"), dir_.File("relay.db"),
                             std::filesystem::copy_options::overwrite_existing);
  relay_->Start();
  auto sync = Duet("b", {"sync"});
  EXPECT_EQ(sync.exit_code, 1);
  EXPECT_NE(sync.err.find("rolled back"), std::string::npos) << sync.err;
  EXPECT_EQ(LineCount(sync.err), 1);
  auto list = Checkins("b");
  ASSERT_EQ(list.size(), 1u) << "what was held is kept";
  EXPECT_EQ(list[0]["note"], "before the rollback");
}

TEST_F(CoupleTest, CopiedHomeWithALockedKeyFileRevealsNothing) {
  Pair();
  const std::vector<std::string> pass = {"DUET_PASSPHRASE=tea at four"};
  ASSERT_EQ(Duet("a", {"lock"}, pass).exit_code, 0);
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "2", "--note", "kept-9d1e", "--private"}, pass).exit_code, 0);
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "4", "--note", "shared-5c7a"}, pass).exit_code, 0);
  std::filesystem::copy(dir_.File("a"), dir_.File("thief"), std::filesystem::copy_options::recursive);
  auto no_pass = Duet("thief", {"checkins"});
  EXPECT_EQ(no_pass.exit_code, 2);
  EXPECT_NE(no_pass.err.find("locked"), std::string::npos) << no_pass.err;
  auto guess = Duet("thief", {"checkins"}, {"DUET_PASSPHRASE=password"});
  EXPECT_EQ(guess.exit_code, 1);
  EXPECT_NE(guess.err.find("wrong passphrase"), std::string::npos) << guess.err;
  const std::string files = ReadFile(dir_.File("thief/duet.db")) + ReadFile(dir_.File("thief/duet.db-wal")) +
                            ReadFile(dir_.File("thief/keys"));
  EXPECT_EQ(files.find("kept-9d1e"), std::string::npos);
  EXPECT_EQ(files.find("shared-5c7a"), std::string::npos);
  EXPECT_EQ(Duet("thief", {"--json", "checkins"}, pass).exit_code, 0) << "the owner still can";
}

TEST_F(CoupleTest, RecordDeletedOnTheRelayIsReportedAndTheRestApplies) {
  Pair();
  for (const char* note : {"one", "two", "three"})
    ASSERT_EQ(Duet("a", {"checkin", "--mood", "3", "--note", note}).exit_code, 0);
  RelaySql("DELETE FROM records WHERE seq = 2");
  auto sync = Duet("b", {"sync"});
  EXPECT_EQ(sync.exit_code, 1);
  EXPECT_NE(sync.err.find("Alice's record #2 missing"), std::string::npos) << sync.err;
  EXPECT_EQ(LineCount(sync.err), 1) << sync.err;
  auto list = Checkins("b");
  ASSERT_EQ(list.size(), 2u) << "the later record still applies";
  EXPECT_EQ(list[1]["note"], "three");
  EXPECT_EQ(Duet("b", {"sync"}).exit_code, 0) << "said once";
  auto status = nlohmann::json::parse(Duet("b", {"--json", "status"}).out);
  ASSERT_EQ(status["findings"].size(), 1u) << "but status keeps showing it";

  // Bob writes; his record says he pulled the whole log yet saw only Alice's
  // #1, so Alice learns that the relay kept records from him.
  ASSERT_EQ(Duet("b", {"checkin", "--mood", "4", "--note", "reply"}).exit_code, 0);
  auto alice = Duet("a", {"sync"});
  EXPECT_EQ(alice.exit_code, 1);
  EXPECT_NE(alice.err.find("Bob has not received 2 of your records"), std::string::npos) << alice.err;
  EXPECT_NE(alice.err.find("withholding"), std::string::npos) << alice.err;
}

TEST_F(CoupleTest, MissingRecordIsFetchedWhenTheRelayHasItAgain) {
  Pair();
  for (const char* note : {"one", "two", "three"})
    ASSERT_EQ(Duet("a", {"checkin", "--mood", "3", "--note", note}).exit_code, 0);
  RelaySql("CREATE TABLE kept AS SELECT * FROM records WHERE seq = 2; DELETE FROM records WHERE seq = 2;");
  EXPECT_EQ(Duet("b", {"sync"}).exit_code, 1);
  ASSERT_EQ(Checkins("b").size(), 2u);
  RelaySql("INSERT INTO records SELECT * FROM kept;");  // back, below Bob's cursor
  auto sync = Duet("b", {"sync"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  auto list = Checkins("b");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1]["note"], "two");
  auto status = nlohmann::json::parse(Duet("b", {"--json", "status"}).out);
  EXPECT_TRUE(status["findings"].empty()) << "the gap closed: " << status.dump();
}

TEST_F(CoupleTest, RecordDuplicatedOnTheRelayHasNoEffect) {
  Pair();
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "3", "--note", "once"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "4", "--note", "twice?"}).exit_code, 0);
  // An operator drops the uniqueness guard and replays Alice's first record.
  RelaySql(std::string(RelayStore().postgres() ? "ALTER TABLE records DROP CONSTRAINT records_couple_id_record_id_key;"
                                                : "DROP INDEX records_by_couple_record;") +
      "INSERT INTO records (couple_id, seq, record_id, author_key, envelope) "
      "SELECT couple_id, 3, record_id, author_key, envelope FROM records WHERE seq = 1;");
  auto sync = Duet("b", {"sync"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_EQ(Checkins("b").size(), 2u);
  auto status = nlohmann::json::parse(Duet("b", {"--json", "status"}).out);
  EXPECT_TRUE(status["findings"].empty()) << status.dump();
}

TEST_F(CoupleTest, RecordsSwappedOnTheRelayAreReportedAsReordered) {
  Pair();
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "1", "--note", "first"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "2", "--note", "second"}).exit_code, 0);
  RelaySql(
      "CREATE TEMP TABLE old AS SELECT seq, envelope FROM records WHERE seq IN (1, 2);"
      "UPDATE records SET envelope = (SELECT envelope FROM old WHERE old.seq = 3 - records.seq) "
      "WHERE seq IN (1, 2);");
  auto sync = Duet("b", {"sync"});
  EXPECT_EQ(sync.exit_code, 1);
  EXPECT_NE(sync.err.find("the relay reordered records"), std::string::npos) << sync.err;
  EXPECT_EQ(Checkins("b").size(), 2u) << "nothing lost";
  auto status = Duet("b", {"status"});
  EXPECT_NE(status.out.find("log: Alice's record #1"), std::string::npos) << status.out;
}

TEST_F(CoupleTest, StatusOfAHealthyCouple) {
  Pair();
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "3"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"checkin", "--mood", "4"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  for (const char* who : {"a", "b"}) {
    auto status = nlohmann::json::parse(Duet(who, {"--json", "status"}).out);
    EXPECT_TRUE(status["findings"].empty()) << status.dump();
    EXPECT_EQ(status["queued"], 0);
    EXPECT_FALSE(status["last_sync"].is_null());
  }
  EXPECT_NE(Duet("a", {"status"}).out.find("log: both chains complete and in order"),
            std::string::npos);
}

TEST_F(CoupleTest, RekeyStartsANewEpochAndOlderRecordsStayReadable) {
  Pair();
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "2", "--note", "old epoch"}).exit_code, 0);
  auto rekey = Duet("a", {"rekey"});
  ASSERT_EQ(rekey.exit_code, 0) << rekey.err;
  EXPECT_NE(rekey.out.find("new couple key"), std::string::npos) << rekey.out;
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "4", "--note", "new epoch from alice"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"checkin", "--mood", "5", "--note", "new epoch from bob"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  for (const char* who : {"a", "b"}) {
    auto list = Checkins(who);
    ASSERT_EQ(list.size(), 3u) << who;
    EXPECT_EQ(list[0]["note"], "old epoch");
    EXPECT_EQ(list[2]["note"], "new epoch from bob");
    auto status = nlohmann::json::parse(Duet(who, {"--json", "status"}).out);
    EXPECT_TRUE(status["findings"].empty()) << status.dump();
  }
  // On the relay: the first record and the last two name different keys.
  std::vector<std::string> key_ids;
  for (const auto& blob : RelayEnvelopes()) {
    v1::RecordEnvelope envelope;
    envelope.ParseFromString(blob);
    key_ids.push_back(envelope.key_id());
  }
  ASSERT_EQ(key_ids.size(), 4u);  // check-in, rekey, check-in, check-in
  EXPECT_EQ(key_ids[0], key_ids[1]) << "the rekey record is sealed under the old key";
  EXPECT_NE(key_ids[1], key_ids[2]);
  EXPECT_EQ(key_ids[2], key_ids[3]) << "Bob uses the new key too";
}

TEST_F(CoupleTest, AJoinInterruptedBeforeSavingCanBeRepeated) {
  Init("a", "Alice");
  Init("b", "Bob");
  auto invite = Duet("a", {"invite"});
  const std::string code = FirstLine(invite.out);
  // Bob's device as it was before the join: as if it crashed after the relay
  // paired it but before it saved anything.
  std::filesystem::copy(dir_.File("b"), dir_.File("b-before"), std::filesystem::copy_options::recursive);
  auto first = Duet("b", {"--json", "join", code});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::filesystem::remove_all(dir_.File("b"));
  std::filesystem::rename(dir_.File("b-before"), dir_.File("b"));
  auto again = Duet("b", {"--json", "join", code});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["safety_number"],
            nlohmann::json::parse(first.out)["safety_number"]);
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"checkin", "--mood", "4", "--note", "made it"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  EXPECT_EQ(Checkins("b")[0]["note"], "made it");
}

TEST_F(CoupleTest, InviteWorksOnce) {
  Pair();
  Init("c", "Carol");
  auto again = Duet("c", {"join", code_});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("used already"), std::string::npos) << again.err;
  EXPECT_EQ(LineCount(again.err), 1);
}

TEST_F(CoupleTest, InviteExpires) {
  Init("a", "Alice");
  Init("b", "Bob");
  auto invite = Duet("a", {"invite", "--expires", "2h"});
  ASSERT_EQ(invite.exit_code, 0) << invite.err;
  const std::string code = FirstLine(invite.out);
  relay_->Stop();
  relay_->set_env(ClockAhead("+3h"));  // the relay's clock moves past the expiry
  relay_->Start();
  auto join = Duet("b", {"join", code});
  EXPECT_EQ(join.exit_code, 2);
  EXPECT_NE(join.err.find("expired"), std::string::npos) << join.err;
  EXPECT_EQ(LineCount(join.err), 1);
  // The creator learns it on the next sync, and can make a new one.
  auto sync = Duet("a", {"sync"});
  EXPECT_NE(sync.err.find("expired"), std::string::npos) << sync.err;
  auto again = Duet("a", {"invite"});  // the expired one was cleared by sync
  ASSERT_EQ(again.exit_code, 0) << again.err;
  ASSERT_EQ(Duet("b", {"join", FirstLine(again.out)}).exit_code, 0);
}

TEST_F(CoupleTest, ASecondInviteNeedsReplace) {
  Init("a", "Alice");
  Init("b", "Bob");
  ASSERT_EQ(Duet("a", {"invite"}).exit_code, 0);
  auto again = Duet("a", {"invite"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("--replace"), std::string::npos) << again.err;
  auto replaced = Duet("a", {"invite", "--replace"});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  ASSERT_EQ(Duet("b", {"join", FirstLine(replaced.out)}).exit_code, 0);
  auto sync = Duet("a", {"sync"});
  EXPECT_NE(sync.out.find("paired with Bob"), std::string::npos) << sync.out;
}

TEST_F(CoupleTest, RelayWithAnotherKeyIsRefused) {
  Init("a", "Alice");
  auto sync_before = Duet("a", {"invite"});
  ASSERT_EQ(sync_before.exit_code, 0) << sync_before.err;  // pins the relay key
  // Same address, a new relay key: another relay (or someone in the middle).
  relay_->Stop();
  std::filesystem::remove(dir_.File("relay.db.key"));
  relay_->Start();
  auto invite = Duet("a", {"invite", "--replace"});
  EXPECT_EQ(invite.exit_code, 1);
  EXPECT_NE(invite.err.find(relay_->key()), std::string::npos) << invite.err;
  EXPECT_NE(invite.err.find("trusts"), std::string::npos) << invite.err;
}

// A man in the middle that flips or replays bytes: the connection ends, no
// state changes on either side, and the next sync carries on.
class TamperTest : public CoupleTest {
 protected:
  void ExpectTamperingRefusedThenRecovered(TamperProxy::Tamper tamper) {
    PairThroughProxy();
    proxy_->set_tamper(std::move(tamper));
    auto checkin = Duet("a", {"checkin", "--mood", "3", "--note", "through a hostile network"});
    EXPECT_EQ(checkin.exit_code, 0) << checkin.err;
    EXPECT_NE(checkin.out.find("queued"), std::string::npos) << checkin.out;
    auto sync = Duet("a", {"sync"});
    EXPECT_EQ(sync.exit_code, 2);
    EXPECT_NE(sync.err.find("1 change stays queued"), std::string::npos) << sync.err;
    proxy_->set_tamper(nullptr);
    auto recovered = Duet("a", {"sync"});
    ASSERT_EQ(recovered.exit_code, 0) << recovered.err;
    EXPECT_NE(recovered.out.find("sent 1"), std::string::npos) << recovered.out;
    ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
    auto list = Checkins("b");
    ASSERT_EQ(list.size(), 1u) << "delivered exactly once";
    EXPECT_EQ(list[0]["note"], "through a hostile network");
  }

};

TEST_F(TamperTest, ByteFlippedTowardTheClient) {
  ExpectTamperingRefusedThenRecovered(
      [](TamperProxy::Direction d, std::size_t offset, std::string& chunk) {
        // Past the 93-byte handshake answer: inside the first sealed frame.
        if (d == TamperProxy::Direction::kToClient && offset + chunk.size() > 100 && offset <= 100)
          chunk[100 - offset] ^= 0x01;
      });
}

TEST_F(TamperTest, ByteFlippedTowardTheRelay) {
  ExpectTamperingRefusedThenRecovered(
      [](TamperProxy::Direction d, std::size_t offset, std::string& chunk) {
        if (d == TamperProxy::Direction::kToRelay && offset + chunk.size() > 70 && offset <= 70)
          chunk[70 - offset] ^= 0x80;
      });
}

TEST_F(TamperTest, FrameReplayedTowardTheRelay) {
  ExpectTamperingRefusedThenRecovered(
      [](TamperProxy::Direction d, std::size_t offset, std::string& chunk) {
        // The first sealed frame (after 37 + 24 handshake bytes), sent twice.
        if (d == TamperProxy::Direction::kToRelay && offset <= 61 && offset + chunk.size() > 61)
          chunk += chunk.substr(61 - offset);
      });
}

// Bad input: one line on stderr that names the problem, a non-zero exit, and
// nothing half-written.
class BadInputTest : public CoupleTest {};

TEST_F(BadInputTest, UnknownCommandAndBadFlag) {
  auto unknown = Duet("a", {"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos) << unknown.err;
  EXPECT_EQ(LineCount(unknown.err), 1);
  auto flag = Duet("a", {"checkins", "--loud"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_NE(flag.err.find("--loud"), std::string::npos) << flag.err;
  EXPECT_EQ(LineCount(flag.err), 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("a"))) << "a failed command wrote a home";
}

TEST_F(BadInputTest, MoodOutOfRangeWritesNothing) {
  Pair();
  auto r = Duet("a", {"checkin", "--mood", "9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--mood"), std::string::npos) << r.err;
  EXPECT_EQ(LineCount(r.err), 1);
  EXPECT_EQ(Checkins("a").size(), 0u);
  auto need = Duet("a", {"checkin", "--mood", "3", "--need", "hugs"});
  EXPECT_EQ(need.exit_code, 2);
  EXPECT_NE(need.err.find("hugs"), std::string::npos) << need.err;
  EXPECT_EQ(Checkins("a").size(), 0u);
}

TEST_F(BadInputTest, MalformedAndUnknownInviteCodes) {
  Init("b", "Bob");
  for (const std::string& code : {std::string("hello"), std::string("duet1-!!!"),
                                  std::string("duet1-AAAA")}) {
    auto r = Duet("b", {"join", code});
    EXPECT_EQ(r.exit_code, 2) << code;
    EXPECT_NE(r.err.find("malformed invite code"), std::string::npos) << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
  }
  Init("a", "Alice");
  auto invite = Duet("a", {"invite"});
  std::string code = FirstLine(invite.out);
  std::string typo = code;
  typo[10] = typo[10] == 'A' ? 'B' : 'A';
  auto r = Duet("b", {"join", typo});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
  // A well-formed code for an invite the relay does not know: made by a
  // home whose invite was created, then the relay forgot it.
  EXPECT_EQ(RelayStore().Exec("DELETE FROM invites"), 1);
  auto unknown = Duet("b", {"join", code});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("does not know this invite code"), std::string::npos) << unknown.err;
  EXPECT_EQ(Duet("b", {"--json", "partner"}).exit_code, 2) << "Bob is not paired";
}

TEST_F(BadInputTest, UnreachableRelay) {
  auto r = Duet("a", {"init", "--name", "Alice", "--relay", "127.0.0.1:1"});
  ASSERT_EQ(r.exit_code, 0) << "init works offline";
  auto invite = Duet("a", {"invite"});
  EXPECT_EQ(invite.exit_code, 2);
  EXPECT_NE(invite.err.find("cannot reach relay 127.0.0.1:1"), std::string::npos) << invite.err;
  EXPECT_EQ(LineCount(invite.err), 1);
  auto bad = Duet("b", {"init", "--name", "Bob", "--relay", "127.0.0.1:99999"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("127.0.0.1:99999"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("b/keys")));
}

TEST_F(BadInputTest, SecondInitLeavesTheFirstUntouched) {
  Init("a", "Alice");
  const std::string keys = ReadFile(dir_.File("a/keys"));
  auto again = Duet("a", {"init", "--name", "Mallory", "--relay", relay_->address()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already set up"), std::string::npos) << again.err;
  EXPECT_EQ(LineCount(again.err), 1);
  EXPECT_EQ(ReadFile(dir_.File("a/keys")), keys);
  auto init_json = Duet("a", {"--json", "checkins"});
  EXPECT_EQ(init_json.exit_code, 0);
}

TEST_F(BadInputTest, CommandsBeforeInitSayHowToStart) {
  auto r = Duet("a", {"checkins"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("duet init"), std::string::npos) << r.err;
  EXPECT_EQ(LineCount(r.err), 1);
}

TEST_F(BadInputTest, KeyFileReadableByOthersIsRefused) {
  Init("a", "Alice");
  std::filesystem::permissions(dir_.File("a/keys"), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto r = Duet("a", {"checkins"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
}

TEST_F(BadInputTest, BadInviteExpiry) {
  Init("a", "Alice");
  for (const char* bad : {"0", "10s", "8d", "two hours", "2x"}) {
    auto r = Duet("a", {"invite", "--expires", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--expires"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace duet::testing
