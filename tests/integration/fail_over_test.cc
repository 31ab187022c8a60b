// The relay's PostgreSQL fails over to its standby (issue #17): the primary
// is killed (-9) while partners push through two relays, the standby is
// promoted, and the relays find it through libpq's multi-host URL. With a
// synchronous standby no acknowledged record is lost and none is stored
// twice; with an asynchronous one, an acknowledged record can be lost, and
// the second test shows that it is, so the first proves something. A third
// runs the fail-over under two real partners and compares their states.
// Real duetd processes, a real primary and standby (tests/postgres/pg_test_cluster).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "tests/integration/couple_fixture.h"
#include "tests/integration/harness.h"
#include "tests/integration/relay_client.h"
#include "tests/temp_dir.h"

namespace duet::testing {
namespace {

using namespace std::chrono_literals;

// A primary and its standby in a folder of their own, stopped and deleted
// at the end. Under /tmp itself: as root the servers run as `postgres`,
// which cannot enter a test's private folder.
class Cluster {
 public:
  explicit Cluster(const std::string& mode) : dir_("/tmp/duet-cluster-" + crypto::Hex(crypto::RandomBytes(6))) {
    ok_ = Do("start", mode);
  }
  ~Cluster() { Do("stop"); }
  bool ok() const { return ok_; }
  std::string conninfo() const { return FirstLine(ReadFile(dir_ + "/conninfo")); }
  // The servers' own logs, for a failure's report.
  std::string Logs() const {
    return "primary's log:\n" + ReadFile(dir_ + "/primary.log") + "\nstandby's log:\n" + ReadFile(dir_ + "/standby.log");
  }
  // kill-primary, stop-standby, start-standby, promote (pg_test_cluster).
  bool Do(const std::string& action, const std::string& mode = {}) {
    std::vector<std::string> argv = {PG_TEST_CLUSTER_PATH, action, dir_};
    if (!mode.empty()) argv.push_back(mode);
    auto run = RunProgram(argv, "/tmp");
    EXPECT_EQ(run.exit_code, 0) << action << ": " << run.err;
    return run.exit_code == 0;
  }

 private:
  std::string dir_;
  bool ok_ = false;
};

class FailOverTest : public ::testing::Test {
 protected:
  // A failure's report holds what the relays and the servers said, and how
  // each relay ends when told to stop (0, unless it had died before).
  void TearDown() override {
    if (!HasFailure()) return;
    const char* names[] = {"one", "two"};
    for (std::size_t i = 0; i < relays_.size() && i < 2; ++i) {
      const int exit_code = relays_[i]->Stop();
      std::printf("relay %s exited %d; its log:\n%s\n", names[i], exit_code,
                  ReadFile(dir_.File(std::string(names[i]) + ".db.log")).c_str());
    }
    if (cluster_) std::printf("%s\n", cluster_->Logs().c_str());
  }
  void Start(const std::string& mode) {
    ASSERT_TRUE(crypto::Init());
    cluster_ = std::make_unique<Cluster>(mode);
    ASSERT_TRUE(cluster_->ok());
    for (const char* name : {"one", "two"}) {
      relays_.push_back(std::make_unique<RelayProcess>(
          dir_.File(std::string(name) + ".db"), "127.0.0.1:0",
          std::vector<std::string>{"--store", cluster_->conninfo(), "--key", dir_.File("relay.key")}));
      relays_.back()->Start();
    }
    // Alice on relay one, Bob on relay two.
    auto a = On(0, alice_);
    const std::string invite_id = crypto::RandomBytes(16);
    ASSERT_TRUE(a->Call(CreateInviteFrame(invite_id, couple_), 5s)->has_invite_created());
    auto b = On(1, bob_);
    ASSERT_TRUE(b->Call(AnswerInviteFrame(invite_id), 5s)->has_paired());
  }

  // `why`, when given, says what went wrong when it returns none.
  std::unique_ptr<net::FramedClient> On(std::size_t relay, const crypto::SigningKeyPair& device,
                                        std::string* why = nullptr) {
    auto client = net::FramedClient::Connect(net::ParseEndpoint(relays_[relay]->address()).value(), 5s);
    if (!client.ok()) {
      if (why != nullptr) *why = "could not connect: " + client.error().message;
      return nullptr;
    }
    if (auto authenticated = HelloAndAuthenticate(*client.value(), device); !authenticated.ok()) {
      if (why != nullptr) *why = "could not authenticate: " + authenticated.error().message;
      return nullptr;
    }
    return std::move(client).value();
  }

  // Pushes the batch until the relay acknowledges it, as a client does: the
  // same records each time (a retry of one stored already is found, not
  // stored again), on a new connection after one that failed. False when
  // `give_up` passed first.
  bool PushUntilAcknowledged(std::size_t relay, const crypto::SigningKeyPair& author,
                             const std::vector<v1::RecordEnvelope>& batch, std::chrono::seconds give_up = 30s) {
    v1::Frame push;
    for (const auto& envelope : batch) *push.mutable_push()->add_records() = envelope;
    const auto until = std::chrono::steady_clock::now() + give_up;
    std::unique_ptr<net::FramedClient> client;
    std::string last;  // what the last try met, for a failure's report
    while (std::chrono::steady_clock::now() < until) {
      if (!client) client = On(relay, author, &last);
      if (client) {
        auto ack = client->Call(push, 3s);
        if (ack.ok() && ack->has_push_ack()) {
          Acknowledged(batch);
          return true;
        }
        last = ack.ok() ? ack->ShortDebugString() : ack.error().message;
        if (!ack.ok()) client.reset();  // timed out or lost: a new connection
      }
      std::this_thread::sleep_for(200ms);  // the client's pause between tries
    }
    std::printf("relay %zu never acknowledged the push; the last try met: %s\n", relay, last.c_str());
    return false;
  }
  std::vector<v1::RecordEnvelope> Batch(const crypto::SigningKeyPair& author, int records = 2) {
    std::vector<v1::RecordEnvelope> batch;
    for (int i = 0; i < records; ++i) batch.push_back(SignedEnvelope(author, couple_));
    return batch;
  }
  void Acknowledged(const std::vector<v1::RecordEnvelope>& batch) {
    std::lock_guard lock(mutex_);
    for (const auto& envelope : batch) acknowledged_.insert(envelope.record_id());
  }
  // Each partner pushes `batches` batches through their own relay, at once.
  void BothPush(int batches) {
    std::thread bob([&] {
      for (int i = 0; i < batches; ++i) EXPECT_TRUE(PushUntilAcknowledged(1, bob_, Batch(bob_)));
    });
    for (int i = 0; i < batches; ++i) EXPECT_TRUE(PushUntilAcknowledged(0, alice_, Batch(alice_)));
    bob.join();
  }

  // Every record the store holds for the couple, by seq, read through relay two.
  std::map<std::uint64_t, std::string> Stored() {
    std::map<std::uint64_t, std::string> stored;
    auto client = On(1, bob_);
    EXPECT_TRUE(client);
    if (!client) return stored;
    for (std::uint64_t after = 0;;) {
      v1::Frame pull;
      pull.mutable_pull()->set_after_seq(after);
      pull.mutable_pull()->set_limit(500);
      auto page = client->Call(pull, 10s);
      EXPECT_TRUE(page.ok() && page->has_record_batch());
      if (!page.ok() || !page->has_record_batch()) return stored;
      for (const auto& record : page->record_batch().records()) {
        stored.emplace(record.seq(), record.envelope().record_id());
        after = record.seq();
      }
      if (!page->record_batch().more()) return stored;
    }
  }

  // The ids of the records stored, checked to be numbered 1, 2, 3... and
  // each stored once.
  std::set<std::string> StoredOnceInOrder() {
    std::set<std::string> ids;
    std::uint64_t expected_seq = 1;
    for (const auto& [seq, record_id] : Stored()) {
      EXPECT_EQ(seq, expected_seq++) << "in order, without a gap";
      EXPECT_TRUE(ids.insert(record_id).second) << "a record stored twice, at " << seq;
    }
    return ids;
  }

  // The primary dies while a push waits on it; the standby takes over.
  // Returns the pushes' outcome: whether that batch was acknowledged before
  // the primary died, and whether it was in the end.
  struct Outcome {
    bool before_the_kill = false;
    bool in_the_end = false;
  };
  Outcome FailOverDuringAPush(const std::vector<v1::RecordEnvelope>& batch) {
    // The standby stops first, so what the primary commits now is on the
    // primary alone: a synchronous COMMIT waits for the standby, an
    // asynchronous one does not.
    EXPECT_TRUE(cluster_->Do("stop-standby"));
    std::atomic<bool> acknowledged{false};
    std::thread alice([&] { acknowledged = PushUntilAcknowledged(0, alice_, batch); });
    std::this_thread::sleep_for(2s);  // the push reached the primary and was answered, or waits
    Outcome outcome;
    outcome.before_the_kill = acknowledged;
    EXPECT_TRUE(cluster_->Do("kill-primary"));
    EXPECT_TRUE(cluster_->Do("start-standby"));
    EXPECT_TRUE(cluster_->Do("promote"));
    alice.join();
    outcome.in_the_end = acknowledged;
    return outcome;
  }
  TempDir dir_;
  std::unique_ptr<Cluster> cluster_;
  std::vector<std::unique_ptr<RelayProcess>> relays_;
  crypto::SigningKeyPair alice_ = crypto::SigningKeyPair::Generate();
  crypto::SigningKeyPair bob_ = crypto::SigningKeyPair::Generate();
  std::string couple_ = crypto::RandomBytes(16);
  std::mutex mutex_;
  std::set<std::string> acknowledged_;  // record ids, guarded by mutex_
};

TEST_F(FailOverTest, WithASynchronousStandbyNoAcknowledgedRecordIsLostOrStoredTwice) {
  ASSERT_NO_FATAL_FAILURE(Start("sync"));
  BothPush(5);
  // The push that waits on the dying primary is acknowledged only by the
  // promoted standby, after the relay connected to it.
  const auto batch = Batch(alice_);
  const auto outcome = FailOverDuringAPush(batch);
  EXPECT_FALSE(outcome.before_the_kill) << "a synchronous COMMIT waits for the standby";
  EXPECT_TRUE(outcome.in_the_end) << "and is retried onto the new primary";
  BothPush(5);  // both relays write to the new primary

  const auto ids = StoredOnceInOrder();
  std::lock_guard lock(mutex_);
  EXPECT_EQ(acknowledged_.size(), 42u);
  for (const auto& id : acknowledged_) EXPECT_EQ(ids.count(id), 1u) << "an acknowledged record was lost";
  EXPECT_EQ(ids.size(), acknowledged_.size()) << "nothing stored that was not acknowledged";
}

TEST_F(FailOverTest, WithAnAsynchronousStandbyAnAcknowledgedRecordCanBeLost) {
  ASSERT_NO_FATAL_FAILURE(Start("async"));
  BothPush(2);
  const auto batch = Batch(alice_);
  const auto outcome = FailOverDuringAPush(batch);
  ASSERT_TRUE(outcome.before_the_kill) << "an asynchronous COMMIT does not wait for the standby";
  BothPush(1);
  const auto ids = StoredOnceInOrder();
  for (const auto& envelope : batch)
    EXPECT_EQ(ids.count(envelope.record_id()), 0u) << "acknowledged by the old primary, gone with it";
  std::lock_guard lock(mutex_);
  EXPECT_EQ(ids.size(), acknowledged_.size() - batch.size()) << "the rest is all there";
}

// The same fail-over under two real partners: Alice's duet on relay one,
// Bob's on relay two, both writing while the primary dies. Once the
// standby is promoted and both have synced, their folded states (every
// check-in and boundary, who wrote it and what it says) hash the same, and
// hold what each wrote during the fail-over.
class FailOverCoupleTest : public CoupleTest {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>("sync");
    ASSERT_TRUE(cluster_->ok());
    CoupleTest::SetUp();  // relay one
    relay_two_ = std::make_unique<RelayProcess>(dir_.File("two.db"), "127.0.0.1:0", RelayArgs());
    relay_two_->Start();
  }
  std::vector<std::string> RelayArgs() const override {
    return {"--store", cluster_->conninfo(), "--key", dir_.File("relay.key")};
  }

  // Syncs both until neither has anything queued and both syncs succeed,
  // for as long as the relays take to find the new primary.
  bool SyncUntilSettled(std::chrono::seconds give_up) {
    const auto until = std::chrono::steady_clock::now() + give_up;
    while (std::chrono::steady_clock::now() < until) {
      bool settled = true;
      for (const char* who : {"a", "b", "a"}) settled = Duet(who, {"sync"}).exit_code == 0 && settled;
      if (settled && DuetJson("a", {"status"})["queued"] == 0 && DuetJson("b", {"status"})["queued"] == 0)
        return true;
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<RelayProcess> relay_two_;
};

TEST_F(FailOverCoupleTest, WithASynchronousStandbyBothPartnersConvergeOnTheSameState) {
  Pair();
  Ok(Duet("b", {"relay", "set", relay_two_->address()}));
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "before"}));
  Ok(Duet("b", {"boundary", "propose", "no phones at dinner"}));
  ASSERT_TRUE(SyncUntilSettled(20s));

  // Each writes while the primary dies: the standby stops first, so both
  // pushes wait on a COMMIT that cannot finish, and the writes stay queued
  // on the devices until a sync after the promotion sends them.
  ASSERT_TRUE(cluster_->Do("stop-standby"));
  RunResult bob_during;
  std::thread bob(
      [&] { bob_during = Duet("b", {"--json", "checkin", "--mood", "2", "--note", "bob during the fail-over"}); });
  RunResult alice_during = Duet("a", {"--json", "checkin", "--mood", "3", "--note", "alice during the fail-over"});
  bob.join();
  for (const RunResult* during : {&alice_during, &bob_during}) {
    EXPECT_EQ(during->exit_code, 0) << "saved on the device: " << during->err;
    EXPECT_NE(during->out.find("\"sync\": \"queued\""), std::string::npos)
        << "acknowledged by a primary with no standby: " << during->out;
  }
  ASSERT_TRUE(cluster_->Do("kill-primary"));
  ASSERT_TRUE(cluster_->Do("start-standby"));
  ASSERT_TRUE(cluster_->Do("promote"));
  ASSERT_TRUE(SyncUntilSettled(60s)) << "the relays did not serve again after the promotion";

  const std::string alice = FoldedState("a");
  const std::string bob_state = FoldedState("b");
  EXPECT_EQ(crypto::Hex(crypto::Hash(32, alice)), crypto::Hex(crypto::Hash(32, bob_state)))
      << "Alice's state:\n" << alice << "Bob's state:\n" << bob_state;
  for (const char* written :
       {"before", "no phones at dinner", "alice during the fail-over", "bob during the fail-over"})
    EXPECT_NE(alice.find(written), std::string::npos) << written << " missing from:\n" << alice;
}

}  // namespace
}  // namespace duet::testing
