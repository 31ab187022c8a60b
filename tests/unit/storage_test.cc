#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <thread>
#include <tuple>

#include "storage/database.h"
#include "storage/relay_store.h"
#include "storage/replica_store.h"
#include "tests/postgres/test_database.h"

namespace duet::storage {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "duet-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(Database, MigrationsApplyOnceAndInOrder) {
  TempDir dir;
  std::vector<std::string_view> v1 = {"CREATE TABLE a (x INTEGER)"};
  std::vector<std::string_view> v2 = {"CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y"};
  {
    auto db = Database::Open(dir.File("m.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db.value()->Migrate(v1).ok());
    EXPECT_EQ(db.value()->SchemaVersion(), 1);
    ASSERT_TRUE(db.value()->Migrate(v1).ok()) << "re-running is a no-op";
  }
  auto db = Database::Open(dir.File("m.db"), {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db.value()->Migrate(v2).ok());
  EXPECT_EQ(db.value()->SchemaVersion(), 2);
  ASSERT_TRUE(db.value()->Exec("INSERT INTO a (x, y) VALUES (1, 2)").ok());
  // A program that knows fewer migrations than the file has refuses it.
  Status older = db.value()->Migrate(v1);
  ASSERT_FALSE(older.ok());
  EXPECT_NE(older.message().find("newer"), std::string::npos);
}

TEST(Database, FailedMigrationLeavesThePreviousVersion) {
  TempDir dir;
  auto db = Database::Open(dir.File("m.db"), {});
  ASSERT_TRUE(db.ok());
  std::vector<std::string_view> broken = {"CREATE TABLE a (x)", "CREATE TABLE b (y); SELEC oops"};
  EXPECT_FALSE(db.value()->Migrate(broken).ok());
  EXPECT_EQ(db.value()->SchemaVersion(), 1);
  EXPECT_FALSE(db.value()->Exec("SELECT * FROM b").ok()) << "half of migration 2 was kept";
}

TEST(Database, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  auto db = Database::Open(dir.File("t.db"), {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db.value()->Exec("CREATE TABLE a (x INTEGER)").ok());
  {
    Transaction txn(*db.value());
    ASSERT_TRUE(txn.Begin().ok());
    ASSERT_TRUE(db.value()->Exec("INSERT INTO a VALUES (1)").ok());
  }
  auto count = db.value()->Prepare("SELECT count(*) FROM a");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(count->Step().value());
  EXPECT_EQ(count->ColumnInt(0), 0);
}

TEST(Database, NestedTransactionIsASavepoint) {
  TempDir dir;
  auto db = Database::Open(dir.File("t.db"), {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db.value()->Exec("CREATE TABLE a (x INTEGER)").ok());
  Transaction outer(*db.value());
  ASSERT_TRUE(outer.Begin().ok());
  ASSERT_TRUE(db.value()->Exec("INSERT INTO a VALUES (1)").ok());
  {
    Transaction inner(*db.value());
    ASSERT_TRUE(inner.Begin().ok());
    ASSERT_TRUE(db.value()->Exec("INSERT INTO a VALUES (2)").ok());
  }  // inner rolled back alone
  {
    Transaction inner(*db.value());
    ASSERT_TRUE(inner.Begin().ok());
    ASSERT_TRUE(db.value()->Exec("INSERT INTO a VALUES (3)").ok());
    ASSERT_TRUE(inner.Commit().ok());
  }
  ASSERT_TRUE(outer.Commit().ok());
  auto sum = db.value()->Prepare("SELECT sum(x) FROM a");
  ASSERT_TRUE(sum.ok());
  ASSERT_TRUE(sum->Step().value());
  EXPECT_EQ(sum->ColumnInt(0), 4);
}

TEST(Database, ANestedRollbackThatFailsKeepsTheOuterTransactionFromCommitting) {
  TempDir dir;
  auto db = Database::Open(dir.File("t.db"), {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db.value()->Exec("CREATE TABLE a (x INTEGER)").ok());
  {
    Transaction outer(*db.value());
    ASSERT_TRUE(outer.Begin().ok());
    ASSERT_TRUE(db.value()->Exec("INSERT INTO a VALUES (1)").ok());
    {
      Transaction inner(*db.value());
      ASSERT_TRUE(inner.Begin().ok());
      ASSERT_TRUE(db.value()->Exec("INSERT INTO a VALUES (2)").ok());
      // The savepoint vanishes under it, so its ROLLBACK TO fails.
      ASSERT_TRUE(db.value()->Exec("RELEASE nested").ok());
    }
    EXPECT_FALSE(outer.Commit().ok()) << "half of the inner work would be committed";
  }
  auto count = db.value()->Prepare("SELECT count(*) FROM a");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(count->Step().value());
  EXPECT_EQ(count->ColumnInt(0), 0);
}

TEST(Database, ADamagedFileIsReportedAsDamagedAndLeftAsItIs) {
  TempDir dir;
  const std::string path = dir.File("d.db");
  {
    auto store = ReplicaStore::Open(path, true);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store.value()->SetMeta("couple.id", "0123456789abcdef").ok());
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GE(bytes.size(), 2u * 4096);
  for (std::size_t i = 4096; i < 4096 + 8; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0xff);  // page 2: meta
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  auto store = ReplicaStore::Open(path, false);
  ASSERT_FALSE(store.ok()) << "damage in meta must not read as 'not paired'";
  EXPECT_EQ(store.error().kind, ErrorKind::kDamaged);
  EXPECT_NE(store.error().message.find("is damaged"), std::string::npos) << store.error().message;
  std::ifstream in(path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), bytes) << "left as it is";
}

TEST(Database, OpenWithoutCreateFailsOnMissingFile) {
  TempDir dir;
  auto db = Database::Open(dir.File("missing.db"), OpenOptions{.create = false});
  EXPECT_FALSE(db.ok());
}

InviteRow MakeInvite(const std::string& id, const std::string& couple, const std::string& creator) {
  InviteRow invite;
  invite.invite_id = id;
  invite.couple_id = couple;
  invite.creator_key = creator;
  invite.sealed_offer = "offer";
  invite.expires_at = 4102444800;
  return invite;
}

// Every relay store test runs against both stores: the SQLite file and a
// fresh database on a real PostgreSQL server.
class RelayStoreTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    auto opened = Open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }
  // Another store on the same data, as a second relay would open it.
  Result<std::unique_ptr<RelayStore>> Open() {
    if (std::string(GetParam()) == "sqlite") return RelayStore::Open(dir_.File("r.db"), true);
    if (conninfo_.empty()) {
      auto fresh = testing::FreshPostgresDatabase();
      if (!fresh.ok()) return fresh.error();
      conninfo_ = fresh.value();
    }
    return OpenPostgresRelayStore(conninfo_);
  }
  // Runs `batch` on `second` (another relay's store) while this store's
  // open batch holds what it holds, then commits this one: `batch` sees what
  // a relay racing this batch would. Returns whether `second`'s batch was
  // committed (it is when `batch` returns true, else rolled back).
  bool RaceFromAnotherRelay(RelayStore& second, const std::function<bool(RelayStore&)>& batch) {
    bool committed = false;
    std::thread racing([&] {
      if (!second.Begin().ok()) return;
      committed = batch(second) && second.Commit().ok();
      if (!committed) second.Rollback();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // until `batch` waits on this one
    EXPECT_TRUE(store_->Commit().ok());
    racing.join();
    return committed;
  }
  TempDir dir_;
  std::string conninfo_;
  std::unique_ptr<RelayStore> store_;
};
INSTANTIATE_TEST_SUITE_P(Stores, RelayStoreTest, ::testing::Values("sqlite", "postgresql"));

TEST_P(RelayStoreTest, AnsweringAnInvitePairsBothDevices) {
  RelayStore& s = *store_;
  ASSERT_TRUE(s.CreateInvite(MakeInvite("inv", "couple", "alice")).ok());
  EXPECT_FALSE(s.CreateInvite(MakeInvite("inv", "couple", "alice")).ok());
  EXPECT_FALSE(s.CoupleOfDevice("alice").value().has_value());
  ASSERT_TRUE(s.AnswerInvite("inv", "bob", "answer").ok());
  EXPECT_EQ(*s.CoupleOfDevice("alice").value(), "couple");
  EXPECT_EQ(*s.CoupleOfDevice("bob").value(), "couple");
  auto invite = s.FindInvite("inv").value();
  ASSERT_TRUE(invite.has_value());
  EXPECT_TRUE(invite->answered);
  EXPECT_EQ(invite->sealed_answer, "answer");
  EXPECT_FALSE(s.AnswerInvite("inv", "carol", "again").ok()) << "an invite answers once";
}

TEST_P(RelayStoreTest, OpenInvitesCountAndExpiredOnesArePurged) {
  RelayStore& s = *store_;
  InviteRow old_invite = MakeInvite("old", "c1", "alice");
  old_invite.expires_at = 1000;
  ASSERT_TRUE(s.CreateInvite(old_invite).ok());
  ASSERT_TRUE(s.CreateInvite(MakeInvite("new", "c2", "alice")).ok());
  EXPECT_EQ(s.OpenInvites("alice", 2000).value(), 1u) << "the expired one is not open";
  ASSERT_TRUE(s.PurgeExpiredInvites(2000).ok());
  EXPECT_FALSE(s.FindInvite("old").value().has_value());
  EXPECT_TRUE(s.FindInvite("new").value().has_value());
}

TEST_P(RelayStoreTest, AppendOrdersPerCoupleAndIsIdempotent) {
  RelayStore& s = *store_;
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  EXPECT_EQ(s.Append("c1", "r1", "a", "e1", &appended).value(), 1u);
  EXPECT_TRUE(appended);
  EXPECT_EQ(s.Append("c2", "r1", "a", "x1", &appended).value(), 1u) << "each couple has its own order";
  EXPECT_EQ(s.Append("c1", "r2", "a", "e2", &appended).value(), 2u);
  EXPECT_EQ(s.Append("c1", "r1", "a", "e1", &appended).value(), 1u);
  EXPECT_FALSE(appended);
  ASSERT_TRUE(s.Commit().ok());
  auto entries = s.ReadAfter("c1", 0, 10).value();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].envelope, "e1");
  EXPECT_EQ(entries[1].seq, 2u);
  EXPECT_EQ(s.ReadAfter("c1", 1, 10).value().size(), 1u);
  EXPECT_EQ(s.ReadAfter("c1", 0, 1).value().size(), 1u);
  EXPECT_EQ(s.LatestSeq("c1").value(), 2u);
}

// A relay store where alice and bob are the couple c1.
class PairedRelayStore : public RelayStoreTest {
 protected:
  void SetUp() override {
    RelayStoreTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(store_->CreateInvite(MakeInvite("inv", "c1", "alice")).ok());
    ASSERT_TRUE(store_->AnswerInvite("inv", "bob", "answer").ok());
  }
};
INSTANTIATE_TEST_SUITE_P(Stores, PairedRelayStore, ::testing::Values("sqlite", "postgresql"));

TEST_P(PairedRelayStore, PurgeErasesOnlyTheAuthorsRecordsAndNeverReusesTheirPlace) {
  RelayStore& s = *store_;
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Append("c1", "r1", "alice", std::string(100, 'a'), &appended).ok());
  ASSERT_TRUE(s.Append("c1", "r2", "bob", std::string(50, 'b'), &appended).ok());
  ASSERT_TRUE(s.Append("c1", "r3", "alice", std::string(20, 'c'), &appended).ok());
  ASSERT_TRUE(s.Commit().ok());

  ASSERT_TRUE(s.Begin().ok());
  auto refused = s.Purge("c1", "alice", {"r1", "r2"});
  ASSERT_FALSE(refused.ok()) << "r2 is Bob's";
  EXPECT_EQ(refused.error().kind, ErrorKind::kRefused);
  s.Rollback();
  EXPECT_EQ(s.ReadAfter("c1", 0, 10).value().size(), 3u) << "nothing was purged";

  ASSERT_TRUE(s.Begin().ok());
  EXPECT_EQ(s.Purge("c1", "alice", {"r1", "unknown"}).value(), 1u);
  EXPECT_EQ(s.Purge("c1", "alice", {"r1"}).value(), 0u) << "purged already";
  EXPECT_EQ(s.Purge("c2", "alice", {"r3"}).value(), 0u) << "another couple's ids are not this couple's";
  ASSERT_TRUE(s.Commit().ok());
  auto left = s.ReadAfter("c1", 0, 10).value();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].seq, 2u);
  EXPECT_EQ(left[1].seq, 3u);
  EXPECT_EQ(s.Usage("c1").value().bytes, 70u);
  ASSERT_TRUE(s.Begin().ok());
  EXPECT_EQ(s.Append("c1", "r1", "alice", std::string(100, 'a'), &appended).value(), 1u);
  EXPECT_FALSE(appended) << "a retried push of a purged record is not stored again";
  EXPECT_EQ(s.Append("c1", "r4", "alice", "d", &appended).value(), 4u) << "its number is never reused";
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_EQ(s.ReadAfter("c1", 0, 10).value().size(), 3u);
}

TEST_P(PairedRelayStore, AnEndedCoupleIsForgottenOnceEveryDeviceLeftOrItsGracePassed) {
  RelayStore& s = *store_;
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Append("c1", "r1", "alice", "e1", &appended).ok());
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_EQ(s.CoupleEndedAt("c1").value(), 0);
  ASSERT_TRUE(s.Begin().ok());
  EXPECT_EQ(s.LeaveCouple("c1", "alice", 1000).value(), 1000);
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_EQ(s.CoupleEndedAt("c1").value(), 1000);
  EXPECT_FALSE(s.CoupleOfDevice("alice").value().has_value()) << "Alice may pair again";
  EXPECT_EQ(*s.CoupleOfDevice("bob").value(), "c1") << "Bob is not told yet";
  EXPECT_EQ(s.ReadAfter("c1", 0, 10).value().size(), 1u) << "what Bob has not fetched waits";

  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.PurgeEndedMailboxes(1000).ok());
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_EQ(s.ReadAfter("c1", 0, 10).value().size(), 1u) << "the grace period has not passed";
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.PurgeEndedMailboxes(1001).ok());
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_TRUE(s.ReadAfter("c1", 0, 10).value().empty());
  EXPECT_EQ(s.Usage("c1").value().bytes, 0u);
  EXPECT_FALSE(s.FindInvite("inv").value().has_value()) << "nor the invite, with both keys";
  EXPECT_EQ(s.CoupleEndedAt("c1").value(), 1000) << "Bob still learns when it ended";

  ASSERT_TRUE(s.Begin().ok());
  EXPECT_EQ(s.LeaveCouple("c1", "bob", 5000).value(), 1000) << "it ended when the first left";
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_FALSE(s.CoupleOfDevice("bob").value().has_value());
  EXPECT_EQ(s.CoupleEndedAt("c1").value(), 0) << "nothing of the couple is kept";
  EXPECT_FALSE(s.FindInvite("inv").value().has_value());
  EXPECT_EQ(s.Totals(0).value().couples, 0u);
}

TEST_P(PairedRelayStore, UsageCountsWhatEachCoupleStores) {
  RelayStore& s = *store_;
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Append("c1", "r1", "alice", std::string(100, 'e'), &appended).ok());
  ASSERT_TRUE(s.Append("c1", "r2", "alice", std::string(50, 'e'), &appended).ok());
  ASSERT_TRUE(s.Append("c1", "r1", "alice", std::string(100, 'e'), &appended).ok());
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_EQ(s.Usage("c1").value().records, 2u) << "a retried record is not counted twice";
  EXPECT_EQ(s.Usage("c1").value().bytes, 150u);
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Append("c1", "r3", "alice", "e", &appended).ok());
  s.Rollback();
  EXPECT_EQ(s.Usage("c1").value().records, 2u) << "counted in the same transaction";
}

TEST_P(PairedRelayStore, TwoRelaysAppendingForOneCoupleAtOnceNeverShareANumberAndStoreARetryOnce) {
  auto other = Open();  // a second relay on the same store
  ASSERT_TRUE(other.ok()) << other.error().message;
  RelayStore& first = *store_;
  RelayStore& second = *other.value();
  bool appended = false;
  ASSERT_TRUE(first.Begin().ok());
  ASSERT_EQ(first.Append("c1", "r1", "alice", "e1", &appended).value(), 1u);
  // The second relay's batch for the same couple waits for the first's.
  std::optional<Result<std::uint64_t>> seq;
  bool second_appended = false;
  const bool committed = RaceFromAnotherRelay(second, [&](RelayStore& s) {
    seq = s.Append("c1", "r2", "bob", "e2", &second_appended);
    return seq->ok();
  });
  ASSERT_TRUE(committed && seq.has_value() && seq->ok())
      << (seq && !seq->ok() ? seq->error().message : "the second relay could not begin or commit");
  EXPECT_EQ(seq->value(), 2u);
  EXPECT_TRUE(second_appended);
  // A push retried through the other relay is found, not stored again.
  ASSERT_TRUE(second.Begin().ok());
  EXPECT_EQ(second.Append("c1", "r1", "alice", "e1", &appended).value(), 1u);
  EXPECT_FALSE(appended);
  ASSERT_TRUE(second.Commit().ok());
  EXPECT_EQ(first.ReadAfter("c1", 0, 10).value().size(), 2u);
  EXPECT_EQ(first.Usage("c1").value().records, 2u);
}

TEST_P(PairedRelayStore, ACoupleHeldByOneRelayIsSeenAsItLeftItByTheNext) {
  // As a push job does on a second relay while the partner's Unpair is
  // being stored on the first: it holds the couple, then asks whether the
  // couple ended, and must not see the state from before the end.
  auto other = Open();
  ASSERT_TRUE(other.ok()) << other.error().message;
  RelayStore& first = *store_;
  RelayStore& second = *other.value();
  ASSERT_TRUE(first.Begin().ok());
  ASSERT_TRUE(first.LockCouple("c1").ok());
  ASSERT_EQ(first.LeaveCouple("c1", "bob", 1000).value(), 1000);
  std::optional<Result<std::int64_t>> ended;
  RaceFromAnotherRelay(second, [&](RelayStore& s) {
    if (s.LockCouple("c1").ok()) ended = s.CoupleEndedAt("c1");
    return false;
  });
  ASSERT_TRUE(ended.has_value() && ended->ok());
  EXPECT_EQ(ended->value(), 1000) << "the push would land after the end";
}

TEST_P(RelayStoreTest, ATokenOfferedToTwoRelaysAtOnceIsSpentByOne) {
  RelayStore& first = *store_;
  ASSERT_TRUE(first.AddToken("hash", 1000).ok());
  auto other = Open();
  ASSERT_TRUE(other.ok()) << other.error().message;
  RelayStore& second = *other.value();
  // As the invite job does: find the token, see it unspent, spend it.
  ASSERT_TRUE(first.Begin().ok());
  ASSERT_TRUE(first.FindToken("hash").value()->spent_by.empty());
  ASSERT_TRUE(first.SpendToken("hash", "alice").ok());
  std::optional<std::string> seen_by_second;
  RaceFromAnotherRelay(second, [&](RelayStore& s) {
    auto found = s.FindToken("hash");
    if (found.ok() && found.value()) seen_by_second = found.value()->spent_by;
    return false;
  });
  EXPECT_EQ(seen_by_second, "alice") << "the second relay would spend it again";
}

TEST(RelayStore, AVersionOneStoreGainsItsCouplesUsageWhenOpened) {
  TempDir dir;
  {
    auto store = RelayStore::Open(dir.File("r.db"), true);
    ASSERT_TRUE(store.ok());
    RelayStore& s = *store.value();
    ASSERT_TRUE(s.CreateInvite(MakeInvite("inv", "c1", "alice")).ok());
    ASSERT_TRUE(s.AnswerInvite("inv", "bob", "answer").ok());
    bool appended = false;
    ASSERT_TRUE(s.Begin().ok());
    ASSERT_TRUE(s.Append("c1", "r1", "alice", std::string(70, 'e'), &appended).ok());
    ASSERT_TRUE(s.Append("c1", "r2", "alice", std::string(30, 'e'), &appended).ok());
    ASSERT_TRUE(s.Commit().ok());
  }
  // Back to what a relay of schema 1 left: no counts, no tokens.
  {
    auto db = Database::Open(dir.File("r.db"), OpenOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db.value()->Exec("DROP TABLE revoked_devices; ALTER TABLE devices DROP COLUMN partner; "
                                 "ALTER TABLE invites DROP COLUMN link; ALTER TABLE invites DROP COLUMN sealed_keys; "
                                 "ALTER TABLE invites DROP COLUMN replaced; "
                                 "DROP TABLE relay_meta; DROP TABLE relay_tokens; DROP INDEX invites_by_address; "
                                 "ALTER TABLE invites DROP COLUMN creator_address; "
                                 "ALTER TABLE couples DROP COLUMN ended_at; ALTER TABLE couples DROP COLUMN records; "
                                 "ALTER TABLE couples DROP COLUMN bytes; PRAGMA user_version=1")
                    .ok());
  }
  auto store = RelayStore::Open(dir.File("r.db"), true);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ(store.value()->Usage("c1").value().records, 2u);
  EXPECT_EQ(store.value()->Usage("c1").value().bytes, 100u);
  // Each device of the couple learns which partner it is, from its invite.
  EXPECT_EQ(store.value()->PartnerOfDevice("alice").value(), 1);
  EXPECT_EQ(store.value()->PartnerOfDevice("bob").value(), 2);
}

TEST_P(RelayStoreTest, TotalsCountWhatTheWholeRelayHolds) {
  RelayStore& s = *store_;
  ASSERT_TRUE(s.CreateInvite(MakeInvite("inv", "c1", "alice")).ok());
  ASSERT_TRUE(s.CreateInvite(MakeInvite("inv2", "c2", "carol")).ok());
  ASSERT_TRUE(s.AnswerInvite("inv", "bob", "answer").ok());
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Append("c1", "r1", "alice", std::string(70, 'e'), &appended).ok());
  ASSERT_TRUE(s.Append("c1", "r2", "bob", std::string(30, 'e'), &appended).ok());
  ASSERT_TRUE(s.RecordHealthCheck(1000).ok());
  ASSERT_TRUE(s.Commit().ok());
  auto totals = s.Totals(/*now=*/0);
  ASSERT_TRUE(totals.ok()) << totals.error().message;
  EXPECT_EQ(totals.value().couples, 1u);
  EXPECT_EQ(totals.value().devices, 2u);
  EXPECT_EQ(totals.value().records, 2u);
  EXPECT_EQ(totals.value().bytes, 100u);
  EXPECT_EQ(totals.value().pending_invites, 1u) << "carol's, unanswered";
}

TEST(Database, ANewDatabaseAndItsLogAreReadableByTheirOwnerOnly) {
  TempDir dir;
  const mode_t old_mask = ::umask(022);  // the usual one: files 0644
  auto store = RelayStore::Open(dir.File("r.db"), true);
  ::umask(old_mask);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store.value()->Begin().ok());
  ASSERT_TRUE(store.value()->RecordHealthCheck(1).ok());
  ASSERT_TRUE(store.value()->Commit().ok());
  for (const char* name : {"r.db", "r.db-wal", "r.db-shm"}) {
    struct stat st {};
    ASSERT_EQ(::stat(dir.File(name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
}

TEST_P(RelayStoreTest, ReplacedInvitesAreNeitherPendingNorAnswerable) {
  RelayStore& s = *store_;
  ASSERT_TRUE(s.CreateInvite(MakeInvite("old", "c1", "alice")).ok());
  ASSERT_TRUE(s.CreateInvite(MakeInvite("bobs", "c2", "bob")).ok());
  ASSERT_TRUE(s.ReplaceOpenInvites("alice").ok());
  ASSERT_TRUE(s.CreateInvite(MakeInvite("new", "c3", "alice")).ok());
  EXPECT_TRUE(s.FindInvite("old").value()->replaced);
  EXPECT_FALSE(s.FindInvite("new").value()->replaced);
  EXPECT_FALSE(s.FindInvite("bobs").value()->replaced) << "only the creator's own";
  EXPECT_EQ(s.OpenInvites("alice", 0).value(), 1u);
  EXPECT_EQ(s.PendingInvites(0).value(), 2u);
  EXPECT_FALSE(s.AnswerInvite("old", "carol", "answer").ok());
  EXPECT_TRUE(s.AnswerInvite("new", "carol", "answer").ok());
}

TEST_P(RelayStoreTest, PendingInvitesAreCountedPerAddressAndForgottenWhenAnswered) {
  RelayStore& s = *store_;
  for (const char* id : {"i1", "i2", "i3"}) {
    InviteRow invite = MakeInvite(id, std::string("c") + id, std::string("k") + id);
    invite.creator_address = "192.0.2.7";
    ASSERT_TRUE(s.CreateInvite(invite).ok());
  }
  InviteRow elsewhere = MakeInvite("i4", "c4", "k4");
  elsewhere.creator_address = "198.51.100.1";
  ASSERT_TRUE(s.CreateInvite(elsewhere).ok());
  EXPECT_EQ(s.PendingInvitesFrom("192.0.2.7", 2000).value(), 3u);
  EXPECT_EQ(s.PendingInvites(2000).value(), 4u);
  ASSERT_TRUE(s.AnswerInvite("i1", "bob", "answer").ok());
  EXPECT_EQ(s.PendingInvitesFrom("192.0.2.7", 2000).value(), 2u);
  EXPECT_EQ(s.PendingInvites(4102444800).value(), 0u) << "expired ones are not pending";
}

TEST_P(RelayStoreTest, ATokenIsSpentOnceAndKeptOnlyAsItsHash) {
  RelayStore& s = *store_;
  ASSERT_TRUE(s.AddToken("hash", 1000).ok());
  ASSERT_TRUE(s.FindToken("hash").value().has_value());
  EXPECT_TRUE(s.FindToken("hash").value()->spent_by.empty());
  EXPECT_FALSE(s.DeviceSpentToken("alice").value());
  ASSERT_TRUE(s.SpendToken("hash", "alice").ok());
  ASSERT_TRUE(s.SpendToken("hash", "mallory").ok());  // no effect: spent already
  EXPECT_EQ(s.FindToken("hash").value()->spent_by, "alice");
  EXPECT_TRUE(s.DeviceSpentToken("alice").value());
  EXPECT_FALSE(s.DeviceSpentToken("mallory").value());
  EXPECT_FALSE(s.FindToken("other").value().has_value());
}

TEST_P(RelayStoreTest, APageStopsOneRecordPastItsByteBudget) {
  RelayStore& s = *store_;
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  for (const char* id : {"r1", "r2", "r3", "r4", "r5"})
    ASSERT_TRUE(s.Append("c1", id, "a", std::string(100, 'e'), &appended).ok());
  ASSERT_TRUE(s.Commit().ok());
  // 250 bytes: three records (300 bytes) pass it, and a fourth says more remain.
  EXPECT_EQ(s.ReadAfter("c1", 0, 10, 250).value().size(), 4u);
  EXPECT_EQ(s.ReadAfter("c1", 0, 10, 1).value().size(), 2u) << "the first always comes, and one more";
  EXPECT_EQ(s.ReadAfter("c1", 0, 3, 250).value().size(), 3u) << "the count still limits";
  EXPECT_EQ(s.ReadAfter("c1", 2, 10).value().size(), 3u);
}

TEST_P(RelayStoreTest, RolledBackBatchLeavesNothing) {
  RelayStore& s = *store_;
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Append("c1", "r1", "a", "e1", &appended).ok());
  s.Rollback();
  EXPECT_EQ(s.LatestSeq("c1").value(), 0u);
}

TEST(StoreEvents, EachPayloadFitsANotificationAndDecodesToWhatWasEncoded) {
  std::vector<StoreEvent> events;
  std::vector<StoreEvent> expected;
  for (int i = 0; i < 300; ++i) {
    std::string couple(16, static_cast<char>(i));
    couple[0] = static_cast<char>(i >> 8);
    events.push_back({StoreEvent::Kind::kGrew, couple, 7, {}});
    events.push_back({StoreEvent::Kind::kGrew, couple, 9, {}});  // the same batch grew it again
    expected.push_back({StoreEvent::Kind::kGrew, couple, 9, {}});
  }
  const StoreEvent ended{StoreEvent::Kind::kEnded, std::string(16, '\xff'), 0, {}};
  const StoreEvent revoked{StoreEvent::Kind::kRevoked, std::string(16, '\x01'), 0, std::string(32, '\x80')};
  events.push_back(ended);
  events.push_back(revoked);
  expected.push_back(ended);
  expected.push_back(revoked);

  const auto payloads = EncodeStoreEvents("0a1b", events);
  EXPECT_GT(payloads.size(), 1u) << "300 couples do not fit one notification";
  std::vector<StoreEvent> decoded;
  for (const auto& payload : payloads) {
    EXPECT_LE(payload.size(), kMaxEventPayload);
    EXPECT_EQ(payload.find('\0'), std::string::npos);
    auto one = DecodeStoreEvents(payload);
    EXPECT_EQ(one.origin, "0a1b");
    decoded.insert(decoded.end(), one.events.begin(), one.events.end());
  }
  std::sort(expected.begin(), expected.end(), [](const StoreEvent& a, const StoreEvent& b) {
    return std::tie(a.kind, a.couple_id) < std::tie(b.kind, b.couple_id);
  });
  EXPECT_EQ(decoded, expected) << "each couple's growth once, at its highest head, then the ends";
  EXPECT_TRUE(EncodeStoreEvents("0a1b", {}).empty()) << "nothing to say, nothing sent";

  // What any role on the database could NOTIFY: only well-formed lines count.
  const std::string couple_hex(32, 'a');
  auto hostile = DecodeStoreEvents("o x\ng " + couple_hex + " 12\ng " + couple_hex + " 12x\ng " + couple_hex +
                                   " -1\ng " + couple_hex.substr(1) + " 3\ng " + std::string(32, 'G') +
                                   " 3\ne " + couple_hex + " extra\nr " + couple_hex + " abc\nz " + couple_hex +
                                   "\ng " + couple_hex + " 99999999999999999999999\n\ne " + couple_hex);
  ASSERT_EQ(hostile.events.size(), 2u);
  EXPECT_EQ(hostile.events[0].head, 12u);
  EXPECT_EQ(hostile.events[1].kind, StoreEvent::Kind::kEnded);
}

// PostgreSQL tells the other relays what a batch changed once it commits:
// never what a failed job or a rolled-back batch wrote; the relay that made
// them hears only its own growth back.
TEST(PostgresStoreEvents, AnnouncedOnCommitWithoutFailedJobsAndOnlyGrowthToTheRelayThatMadeThem) {
  auto conninfo = testing::FreshPostgresDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.error().message;
  auto store = OpenPostgresRelayStore(conninfo.value(), "01");
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto other = ListenToPostgresStore(conninfo.value(), "02");
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto itself = ListenToPostgresStore(conninfo.value(), "01");
  ASSERT_TRUE(itself.ok()) << itself.error().message;
  RelayStore& s = *store.value();
  const std::string kept(16, 'k'), failed(16, 'f'), rolled_back(16, 'r'), bob(32, 'b');
  ASSERT_TRUE(s.CreateInvite(MakeInvite("inv", kept, "alice")).ok());
  ASSERT_TRUE(s.AnswerInvite("inv", bob, "answer").ok());
  bool appended = false;

  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Append(rolled_back, "r1", "alice", "e", &appended).ok());
  s.Rollback();
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Savepoint().ok());
  ASSERT_TRUE(s.Append(failed, "r1", "alice", "e", &appended).ok());
  ASSERT_TRUE(s.EndSavepoint(false).ok());
  ASSERT_TRUE(s.Savepoint().ok());
  ASSERT_TRUE(s.Append(kept, "r1", "alice", "e", &appended).ok());
  ASSERT_TRUE(s.Append(kept, "r2", "alice", "e", &appended).ok());
  ASSERT_TRUE(s.RevokeDevice(kept, bob, 5).ok());
  ASSERT_TRUE(s.EndSavepoint(true).ok());
  auto early = other.value()->Wait(std::chrono::milliseconds(100));
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->empty()) << "nothing is heard before the commit";
  ASSERT_TRUE(s.Commit().ok());

  std::vector<StoreEvent> heard;
  for (int i = 0; i < 20 && heard.size() < 2; ++i) {
    auto events = other.value()->Wait(std::chrono::milliseconds(100));
    ASSERT_TRUE(events.ok()) << events.error().message;
    heard.insert(heard.end(), events->begin(), events->end());
  }
  EXPECT_EQ(heard, (std::vector<StoreEvent>{{StoreEvent::Kind::kGrew, kept, 2, {}},
                                            {StoreEvent::Kind::kRevoked, kept, 0, bob}}));
  std::vector<StoreEvent> echo;
  for (int i = 0; i < 5; ++i) {
    auto events = itself.value()->Wait(std::chrono::milliseconds(100));
    ASSERT_TRUE(events.ok());
    echo.insert(echo.end(), events->begin(), events->end());
  }
  EXPECT_EQ(echo, (std::vector<StoreEvent>{{StoreEvent::Kind::kGrew, kept, 2, {}}}))
      << "a relay hears its own growth (to deliver what a closed connection pushed), not its own revocations";
}

// What a relay's store holds after a life: a couple with a purged record,
// a linked and a revoked device, a spent token, an open invite with its
// address, an ended couple, the health check's time.
void FillAsARelayWould(RelayStore& s) {
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.CreateInvite(MakeInvite("inv", "c1", "alice")).ok());
  ASSERT_TRUE(s.AnswerInvite("inv", "bob", "answer").ok());
  InviteRow link = MakeInvite("link", "c1", "alice");
  link.link = true;
  ASSERT_TRUE(s.CreateInvite(link).ok());
  ASSERT_TRUE(s.AnswerInvite("link", "laptop", "answer").ok());
  ASSERT_TRUE(s.CompleteLink("link", "keys", 10).ok());
  for (const char* id : {"r1", "r2", "r3"}) ASSERT_TRUE(s.Append("c1", id, "alice", std::string("sealed ") + id, &appended).ok());
  ASSERT_EQ(s.Purge("c1", "alice", {"r2"}).value(), 1u);
  ASSERT_TRUE(s.RevokeDevice("c1", "laptop", 20).ok());
  ASSERT_TRUE(s.AddToken("hash", 5).ok());
  ASSERT_TRUE(s.SpendToken("hash", "alice").ok());
  InviteRow open = MakeInvite("open", "c2", "carol");
  open.creator_address = "203.0.113.9";
  ASSERT_TRUE(s.CreateInvite(open).ok());
  ASSERT_TRUE(s.CreateInvite(MakeInvite("gone", "c3", "dave")).ok());
  ASSERT_TRUE(s.AnswerInvite("gone", "erin", "answer").ok());
  ASSERT_EQ(s.LeaveCouple("c3", "dave", 30).value(), 30);
  ASSERT_TRUE(s.RecordHealthCheck(40).ok());
  ASSERT_TRUE(s.Commit().ok());
}

void HoldsWhatARelayFilledIn(RelayStore& s) {
  EXPECT_EQ(s.CoupleOfDevice("bob").value(), std::optional<std::string>("c1"));
  EXPECT_EQ(s.PartnerOfDevice("bob").value(), 2);
  auto entries = s.ReadAfter("c1", 0, 10).value();
  ASSERT_EQ(entries.size(), 2u) << "the purged record stays purged";
  EXPECT_EQ(entries[1].seq, 3u);
  EXPECT_EQ(entries[1].envelope, "sealed r3");
  EXPECT_EQ(s.LatestSeq("c1").value(), 3u);
  EXPECT_EQ(s.Usage("c1").value().records, 3u);
  auto revoked = s.RevokedDevice("laptop").value();
  ASSERT_TRUE(revoked.has_value());
  EXPECT_EQ(revoked->revoked_at, 20);
  auto token = s.FindToken("hash").value();
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->spent_by, "alice");
  auto open = s.FindInvite("open").value();
  ASSERT_TRUE(open.has_value());
  EXPECT_FALSE(open->answered);
  EXPECT_EQ(s.PendingInvitesFrom("203.0.113.9", 0).value(), 1u);
  auto link = s.FindInvite("link").value();
  ASSERT_TRUE(link.has_value());
  EXPECT_TRUE(link->link);
  EXPECT_EQ(link->sealed_keys, "keys");
  EXPECT_EQ(s.CoupleEndedAt("c3").value(), 30);
  const auto totals = s.Totals(0).value();
  EXPECT_EQ(totals.couples, 2u);
  EXPECT_EQ(totals.devices, 3u);
  // The next record takes the next number: the order goes on.
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  EXPECT_EQ(s.Append("c1", "r4", "bob", "sealed r4", &appended).value(), 4u);
  EXPECT_EQ(s.Append("c1", "r1", "alice", "sealed r1", &appended).value(), 1u) << "a retried record is found";
  s.Rollback();
}

// `duetd store copy`: an SQLite relay moves into PostgreSQL with every
// couple's pairing and history, and back again.
TEST(StoreCopy, EverythingARelayHoldsMovesFromSqliteToPostgresAndBack) {
  TempDir dir;
  auto sqlite = RelayStore::Open(dir.File("relay.db"), true);
  ASSERT_TRUE(sqlite.ok());
  ASSERT_NO_FATAL_FAILURE(FillAsARelayWould(*sqlite.value()));
  auto conninfo = testing::FreshPostgresDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.error().message;
  auto postgres = OpenPostgresRelayStore(conninfo.value());
  ASSERT_TRUE(postgres.ok()) << postgres.error().message;

  auto copied = CopyRelayStore(*sqlite.value(), *postgres.value());
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  ASSERT_EQ(copied.value().size(), StoreTables().size());
  EXPECT_EQ(copied.value()[3], (std::pair<std::string, std::uint64_t>("records", 3)));
  ASSERT_NO_FATAL_FAILURE(HoldsWhatARelayFilledIn(*postgres.value()));

  // Into a store that holds something already: refused, nothing written.
  auto again = CopyRelayStore(*sqlite.value(), *postgres.value());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kAlreadyExists);
  EXPECT_NE(again.error().message.find("couples"), std::string::npos) << again.error().message;
  EXPECT_EQ(postgres.value()->Totals(0).value().records, 3u);

  auto back = RelayStore::Open(dir.File("back.db"), true);
  ASSERT_TRUE(back.ok());
  auto returned = CopyRelayStore(*postgres.value(), *back.value());
  ASSERT_TRUE(returned.ok()) << returned.error().message;
  ASSERT_NO_FATAL_FAILURE(HoldsWhatARelayFilledIn(*back.value()));
}

// A column added to the store by a later schema version must be added to
// the copy too: every table and column of the SQLite store is in StoreTables().
TEST(StoreCopy, CopiesEveryTableAndColumnTheStoreHas) {
  TempDir dir;
  ASSERT_TRUE(RelayStore::Open(dir.File("relay.db"), true).ok());
  auto db = Database::Open(dir.File("relay.db"), OpenOptions{.create = false});
  ASSERT_TRUE(db.ok());
  std::set<std::string> in_store, in_copy;
  auto tables = db.value()->Prepare("SELECT name FROM sqlite_master WHERE type = 'table'");
  ASSERT_TRUE(tables.ok());
  while (tables.value().Step().value()) {
    const std::string table = tables.value().ColumnBlob(0);
    auto columns = db.value()->Prepare("SELECT name FROM pragma_table_info('" + table + "')");
    ASSERT_TRUE(columns.ok());
    while (columns.value().Step().value()) in_store.insert(table + "." + columns.value().ColumnBlob(0));
  }
  in_store.erase("records.id");  // SQLite's rowid, which PostgreSQL does without
  for (const auto& table : StoreTables())
    for (const auto& column : table.columns) in_copy.insert(std::string(table.name) + "." + column.name);
  EXPECT_EQ(in_store, in_copy);
}

// A transaction some failure left aborted and open (a statement failed and
// nothing ended it) must not fail every batch after it.
TEST(PostgresStore, ABatchAfterOneLeftAbortedBeginsAfresh) {
  auto conninfo = testing::FreshPostgresDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.error().message;
  auto store = OpenPostgresRelayStore(conninfo.value());
  ASSERT_TRUE(store.ok()) << store.error().message;
  RelayStore& s = *store.value();
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.CreateInvite(MakeInvite("inv", "c1", "alice")).ok());
  EXPECT_FALSE(s.CreateInvite(MakeInvite("inv", "c1", "alice")).ok()) << "the transaction is aborted now";
  ASSERT_TRUE(s.Begin().ok()) << "begun afresh";
  ASSERT_TRUE(s.CreateInvite(MakeInvite("inv", "c1", "alice")).ok()) << "the aborted one was rolled back";
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_TRUE(s.FindInvite("inv").value().has_value());
}

// A server restart, or a fail-over to the standby, ends the store's
// connection: the next batch connects again rather than fail forever.
TEST(PostgresStore, ABatchAfterTheConnectionWasLostConnectsAgain) {
  auto conninfo = testing::FreshPostgresDatabase();
  ASSERT_TRUE(conninfo.ok()) << conninfo.error().message;
  auto store = OpenPostgresRelayStore(conninfo.value());
  ASSERT_TRUE(store.ok()) << store.error().message;
  RelayStore& s = *store.value();
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.Append("c1", "r1", "a", "e1", &appended).ok());
  ASSERT_TRUE(s.Commit().ok());

  PGconn* admin = PQconnectdb(conninfo.value().c_str());
  PGresult* cut = PQexec(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = 'duetd' AND datname = current_database()");
  ASSERT_EQ(PQresultStatus(cut), PGRES_TUPLES_OK) << PQerrorMessage(admin);
  EXPECT_STREQ(PQgetvalue(cut, 0, 0), "1");
  PQclear(cut);
  PQfinish(admin);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // until the server has closed it

  ASSERT_TRUE(s.Begin().ok()) << "connected again";
  EXPECT_EQ(s.Append("c1", "r2", "a", "e2", &appended).value(), 2u) << "with its statements prepared again";
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_EQ(s.ReadAfter("c1", 0, 10).value().size(), 2u);
}

// `count` stores, each on its own connection, to one fresh database; none
// when it cannot be made (the test's failure says why).
std::vector<std::unique_ptr<RelayStore>> StoresOnOneFreshDatabase(int count) {
  auto conninfo = testing::FreshPostgresDatabase();
  EXPECT_TRUE(conninfo.ok()) << conninfo.error().message;
  if (!conninfo.ok()) return {};
  std::vector<std::unique_ptr<RelayStore>> stores;
  for (int i = 0; i < count; ++i) {
    auto store = OpenPostgresRelayStore(conninfo.value());
    EXPECT_TRUE(store.ok()) << store.error().message;
    if (!store.ok()) return {};
    stores.push_back(std::move(store).value());
  }
  return stores;
}

// `duetd store copy` reads a PostgreSQL store that relays may still write
// to: every table as of one moment, so the couples' counters, their
// records and their devices agree in the copy.
TEST(PostgresStore, ASnapshotSeesNothingCommittedAfterItBegan) {
  auto stores = StoresOnOneFreshDatabase(2);
  ASSERT_EQ(stores.size(), 2u);
  RelayStore& reader = *stores[0];
  RelayStore& writer = *stores[1];
  bool appended = false;
  ASSERT_TRUE(writer.Begin().ok());
  ASSERT_TRUE(writer.Append("c1", "r1", "a", "e1", &appended).ok());
  ASSERT_TRUE(writer.Commit().ok());

  const StoreTable& records = StoreTables()[3];
  ASSERT_EQ(records.name, std::string("records"));
  ASSERT_TRUE(reader.BeginSnapshot().ok());
  EXPECT_EQ(reader.CountRows(records).value(), 1u);
  ASSERT_TRUE(writer.Begin().ok());
  ASSERT_TRUE(writer.Append("c1", "r2", "a", "e2", &appended).ok());
  ASSERT_TRUE(writer.Commit().ok());
  EXPECT_EQ(reader.CountRows(records).value(), 1u) << "the second record came after the snapshot";
  int rows = 0;
  ASSERT_TRUE(reader.ReadRows(records, [&](const std::vector<StoreCell>&) {
    ++rows;
    return Status::Ok();
  }).ok());
  EXPECT_EQ(rows, 1);
  reader.Rollback();
  ASSERT_TRUE(reader.Begin().ok());
  EXPECT_EQ(reader.CountRows(records).value(), 2u);
  reader.Rollback();
}

// The purge of ended couples runs in a relay's batch beside jobs that
// locked their couples first; the couples it purges it finds itself. One
// that another transaction holds is skipped until the next purge, never
// waited for: waiting there could close a cycle with another relay's
// batch (and would fail this one at the lock timeout).
TEST(PostgresStore, APurgeSkipsAnEndedCoupleAnotherTransactionHolds) {
  auto stores = StoresOnOneFreshDatabase(2);
  ASSERT_EQ(stores.size(), 2u);
  RelayStore& s = *stores[0];  // the purger
  RelayStore& holder = *stores[1];
  bool appended = false;
  ASSERT_TRUE(s.Begin().ok());
  for (const char* couple : {"c1", "c2"}) {
    const std::string alice = std::string("alice-") + couple;  // a device is in one couple
    ASSERT_TRUE(s.CreateInvite(MakeInvite(std::string("inv-") + couple, couple, alice)).ok());
    ASSERT_TRUE(s.AnswerInvite(std::string("inv-") + couple, std::string("bob-") + couple, "answer").ok());
    ASSERT_TRUE(s.Append(couple, "r1", alice, "e1", &appended).ok());
    ASSERT_TRUE(s.LeaveCouple(couple, std::string("bob-") + couple, 1000).ok());
  }
  ASSERT_TRUE(s.Commit().ok());

  ASSERT_TRUE(holder.Begin().ok());
  ASSERT_TRUE(holder.LockCouple("c1").ok());
  ASSERT_TRUE(s.Begin().ok());
  Status purged = s.PurgeEndedMailboxes(2000);
  ASSERT_TRUE(purged.ok()) << purged.message();
  ASSERT_TRUE(s.Commit().ok());
  holder.Rollback();
  EXPECT_EQ(s.ReadAfter("c1", 0, 10).value().size(), 1u) << "held: left for the next purge";
  EXPECT_TRUE(s.ReadAfter("c2", 0, 10).value().empty());

  ASSERT_TRUE(s.Begin().ok());
  ASSERT_TRUE(s.PurgeEndedMailboxes(2000).ok());
  ASSERT_TRUE(s.Commit().ok());
  EXPECT_TRUE(s.ReadAfter("c1", 0, 10).value().empty());
  EXPECT_EQ(s.Usage("c1").value().bytes, 0u);
}

TEST(ReplicaStore, LocalSharedRecordIsQueuedUntilPushed) {
  TempDir dir;
  auto store = ReplicaStore::Open(dir.File("c.db"), true);
  ASSERT_TRUE(store.ok());
  ReplicaStore& s = *store.value();
  ASSERT_TRUE(s.AddLocal({"r1", "me", "env1", true, std::nullopt}).ok());
  ASSERT_TRUE(s.AddLocal({"r2", "me", "env2", false, std::nullopt}).ok());
  auto outbox = s.Outbox().value();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].record_id, "r1");
  ASSERT_TRUE(s.MarkPushed("r1", 5).ok());
  EXPECT_TRUE(s.Outbox().value().empty());
  auto all = s.AllRecords().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].relay_seq, 5u);
  EXPECT_FALSE(all[1].shared);
  EXPECT_FALSE(s.AddLocal({"r1", "me", "dup", true, std::nullopt}).ok());
  EXPECT_EQ(s.AllRecords().value().size(), 2u);
}

TEST(ReplicaStore, ApplyPulledStoresMovesCursorAndKeepsOwnCopy) {
  TempDir dir;
  auto store = ReplicaStore::Open(dir.File("c.db"), true);
  ASSERT_TRUE(store.ok());
  ReplicaStore& s = *store.value();
  ASSERT_TRUE(s.AddLocal({"mine", "me", "my-env", true, std::nullopt}).ok());
  ASSERT_TRUE(s.ApplyPulled({{1, "mine", "me", "my-env"}, {2, "theirs", "partner", "their-env"}},
                            {{3, "bad", "signature"}}, 3)
                  .ok());
  EXPECT_EQ(s.Cursor().value(), 3u);
  auto all = s.AllRecords().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].relay_seq, 1u);
  EXPECT_EQ(all[1].author_key, "partner");
  auto rejected = s.Rejected().value();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].reason, "signature");
}

TEST(ReplicaStore, MetaRoundTripsAndSurvivesReopen) {
  TempDir dir;
  {
    auto store = ReplicaStore::Open(dir.File("c.db"), true);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store.value()->SetMeta("name", std::string("a\0b", 3)).ok());
  }
  auto store = ReplicaStore::Open(dir.File("c.db"), false);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*store.value()->GetMeta("name").value(), std::string("a\0b", 3));
  EXPECT_FALSE(store.value()->GetMeta("other").value().has_value());
}

TEST(ReplicaStore, AKeptCopyOfTheOpenedRecordsLastsOnlyAsLongAsWhatItWasMadeFrom) {
  TempDir dir;
  auto store = ReplicaStore::Open(dir.File("c.db"), true);
  ASSERT_TRUE(store.ok());
  ReplicaStore& s = *store.value();
  ASSERT_TRUE(s.AddLocal({"r1", "me", "env1", true, std::nullopt}).ok());
  ASSERT_TRUE(s.SetMeta("device.name", "Alice").ok());
  // Kept, then dropped by each kind of change, in its own transaction.
  auto keep = [&s] {
    const auto before = s.CurrentOpened().value();
    EXPECT_TRUE(s.KeepOpened(before.generation, "opened").ok());
    EXPECT_EQ(s.CurrentOpened().value().sealed, "opened");
  };
  auto dropped = [&s](const char* by) { EXPECT_FALSE(s.CurrentOpened().value().sealed) << "kept after " << by; };
  keep();
  ASSERT_TRUE(s.SetMeta("device.name", "Alice").ok());
  EXPECT_EQ(s.CurrentOpened().value().sealed, "opened") << "a setting written again unchanged changes nothing";
  ASSERT_TRUE(s.AddLocal({"r2", "me", "env2", true, std::nullopt}).ok());
  dropped("a record was added");
  keep();
  ASSERT_TRUE(s.MarkPushed("r1", 7).ok());
  dropped("the relay acknowledged one");
  keep();
  ASSERT_TRUE(s.ApplyPulled({{8, "r3", "partner", "env3"}}, {}, 8).ok());
  dropped("a pull");
  keep();
  ASSERT_TRUE(s.SetMeta("device.name", "Alice B.").ok());
  dropped("a setting changed");
  keep();
  ASSERT_TRUE(s.AddArchived({{"r9", "me", false, std::nullopt, "sealed"}}).ok());
  dropped("a restored record was added");
  keep();
  ASSERT_TRUE(s.Forget({"r2"}).ok());
  dropped("a record was forgotten");

  // What was opened before a change is not kept after it, even when the
  // change came between reading the records and keeping them (another duet).
  const auto read = s.CurrentOpened().value();
  ASSERT_TRUE(s.AddLocal({"r4", "me", "env4", true, std::nullopt}).ok());
  ASSERT_TRUE(s.KeepOpened(read.generation, "stale").ok());
  EXPECT_FALSE(s.CurrentOpened().value().sealed);
  EXPECT_GT(s.CurrentOpened().value().generation, read.generation);
}

}  // namespace
}  // namespace duet::storage
