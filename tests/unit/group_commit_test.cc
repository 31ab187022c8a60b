#include "daemon/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include <asio/executor_work_guard.hpp>

#include "crypto/crypto.h"
#include "tests/postgres/test_database.h"
#include "tests/temp_dir.h"

namespace duet::daemon {
namespace {

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::RelayStore::Open(dir_.File("r.db"), true);
    ASSERT_TRUE(store.ok());
    commit_ = std::make_unique<GroupCommit>(std::move(store).value(), io_);
  }

  testing::TempDir dir_;
  asio::io_context io_;
  // Keeps run_one() waiting for the store thread's completions.
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::unique_ptr<GroupCommit> commit_;
};

TEST_F(GroupCommitTest, ManyJobsShareCommitsAndAllComplete) {
  GroupCommit& commit = *commit_;
  asio::io_context& io = io_;
  constexpr int kJobs = 500;
  int completed = 0;
  std::vector<std::uint64_t> seqs(kJobs);
  for (int i = 0; i < kJobs; ++i) {
    commit.Submit(
        [i, &seqs](storage::RelayStore& s) -> Status {
          bool appended = false;
          auto seq = s.Append("couple", "record" + std::to_string(i), "a", "e", &appended);
          if (!seq.ok()) return seq.error();
          seqs[i] = seq.value();
          return Status::Ok();
        },
        [&completed](const Status& status) {
          EXPECT_TRUE(status.ok());
          ++completed;
        });
  }
  while (completed < kJobs) io.run_one();
  EXPECT_LT(commit.batches(), static_cast<std::uint64_t>(kJobs)) << "no batching happened";
  EXPECT_EQ(commit.jobs(), static_cast<std::uint64_t>(kJobs));
  // Submission order is commit order.
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(seqs[i], static_cast<std::uint64_t>(i + 1));
}

TEST_F(GroupCommitTest, AFailedJobLeavesNothingAndSparesItsBatch) {
  GroupCommit& commit = *commit_;
  asio::io_context& io = io_;
  std::vector<bool> outcomes;
  auto append = [](const std::string& id, bool then_fail) {
    return [id, then_fail](storage::RelayStore& s) -> Status {
      bool appended = false;
      auto seq = s.Append("couple", id, "a", "e", &appended);
      if (!seq.ok()) return seq.error();
      if (then_fail) return MakeError(ErrorKind::kInvalidInput, "rejected after writing");
      return Status::Ok();
    };
  };
  auto record = [&outcomes](const Status& s) { outcomes.push_back(s.ok()); };
  commit.Submit(append("a", false), record);
  commit.Submit(append("b", true), record);
  commit.Submit(append("c", false), record);
  while (outcomes.size() < 3) io.run_one();
  EXPECT_EQ(outcomes, (std::vector<bool>{true, false, true}));
  std::vector<storage::LogEntry> entries;
  commit.Submit(
      [&entries](storage::RelayStore& s) -> Status {
        auto read = s.ReadAfter("couple", 0, 10);
        if (!read.ok()) return read.error();
        entries = read.value();
        return Status::Ok();
      },
      record);
  while (outcomes.size() < 4) io.run_one();
  ASSERT_EQ(entries.size(), 2u) << "the failed job's write was undone";
  EXPECT_EQ(entries[1].seq, 2u);
}

// Each couple made as a relay makes it: an invite, and its answer.
void PairCouples(storage::RelayStore& store, const std::vector<std::string>& couples) {
  for (const std::string& couple : couples) {
    storage::InviteRow invite;
    invite.invite_id = couple + "i";
    invite.couple_id = couple;
    invite.creator_key = couple + "a";
    invite.sealed_offer = "offer";
    invite.expires_at = 4102444800;
    ASSERT_TRUE(store.CreateInvite(invite).ok());
    ASSERT_TRUE(store.AnswerInvite(invite.invite_id, couple + "b", "answer").ok());
  }
}

// Two relays on one PostgreSQL, each with a batch that writes the couples X
// and Y, in opposite orders (the partners of both couples push through
// both relays at once). Locked job by job, each batch would hold one couple
// and wait for the other: PostgreSQL would find the deadlock and fail one
// batch whole. Locked first, in one order, the second batch waits its turn.
TEST(GroupCommitOnPostgres, TwoRelaysWritingTheSameCouplesInOppositeOrdersBothCommit) {
  auto url = testing::FreshPostgresDatabase();
  ASSERT_TRUE(url.ok()) << url.error().message;
  const std::string x(16, 'x'), y(16, 'y');
  {
    auto setup = storage::OpenPostgresRelayStore(url.value());
    ASSERT_TRUE(setup.ok()) << setup.error().message;
    ASSERT_NO_FATAL_FAILURE(PairCouples(*setup.value(), {x, y}));
  }
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::vector<std::unique_ptr<GroupCommit>> relays;
  for (int i = 0; i < 2; ++i) {
    auto store = storage::OpenPostgresRelayStore(url.value());
    ASSERT_TRUE(store.ok()) << store.error().message;
    relays.push_back(std::make_unique<GroupCommit>(std::move(store).value(), io));
  }
  std::atomic<bool> release{false};
  std::vector<std::string> failures;
  int completed = 0;
  auto done = [&](const Status& status) {
    if (!status.ok()) failures.push_back(status.message());
    ++completed;
  };
  // A first job on each relay holds its store thread, so the next two
  // queue up and run as one batch.
  for (auto& relay : relays)
    relay->Submit(
        [&release](storage::RelayStore&) {
          while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return Status::Ok();
        },
        done);
  // Appends one record and keeps its couple's row a while, as a big push does.
  auto append = [](const std::string& couple) {
    return [couple](storage::RelayStore& s) -> Status {
      bool appended = false;
      auto seq = s.Append(couple, crypto::RandomBytes(16), couple + "a", "e", &appended);
      if (!seq.ok()) return seq.error();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return Status::Ok();
    };
  };
  relays[0]->Submit(append(x), done, x);
  relays[0]->Submit(append(y), done, y);
  relays[1]->Submit(append(y), done, y);
  relays[1]->Submit(append(x), done, x);
  release = true;
  while (completed < 6) io.run_one();
  EXPECT_TRUE(failures.empty()) << failures.front();
}

// Couples another transaction holds past the lock timeout (a stuck relay,
// an operator's open transaction) fail their own jobs only: the rest of the
// batch commits. The batch waits out one lock timeout, not one per couple
// held: after the first, it takes the other locks without waiting.
TEST(GroupCommitOnPostgres, CouplesHeldPastTheLockTimeoutFailOnlyTheirOwnJobsAfterOneTimeout) {
  auto url = testing::FreshPostgresDatabase();
  ASSERT_TRUE(url.ok()) << url.error().message;
  const std::string held(16, 'h'), also_held(16, 'i'), free(16, 'f');
  auto holder = storage::OpenPostgresRelayStore(url.value());
  ASSERT_TRUE(holder.ok()) << holder.error().message;
  ASSERT_NO_FATAL_FAILURE(PairCouples(*holder.value(), {held, also_held, free}));
  ASSERT_TRUE(holder.value()->Begin().ok());
  ASSERT_TRUE(holder.value()->LockCouple(held).ok());
  ASSERT_TRUE(holder.value()->LockCouple(also_held).ok());

  auto store = storage::OpenPostgresRelayStore(url.value());
  ASSERT_TRUE(store.ok()) << store.error().message;
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  GroupCommit commit(std::move(store).value(), io);
  std::atomic<bool> release{false}, holding{false};
  std::map<std::string, Status> outcomes;
  // A first job holds the store thread, so the appends share a batch.
  commit.Submit(
      [&release, &holding](storage::RelayStore&) {
        holding = true;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return Status::Ok();
      },
      [](const Status&) {});
  while (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (const std::string& couple : {held, also_held, free})
    commit.Submit(
        [couple](storage::RelayStore& s) -> Status {
          bool appended = false;
          return s.Append(couple, crypto::RandomBytes(16), couple + "a", "e", &appended).status();
        },
        [&outcomes, couple](const Status& status) { outcomes.emplace(couple, status); }, couple);
  release = true;
  while (outcomes.size() < 3) io.run_one();  // after the lock timeout (5 s)
  holder.value()->Rollback();
  EXPECT_TRUE(outcomes[free].ok()) << outcomes[free].message();
  EXPECT_NE(outcomes[held].message().find("lock timeout"), std::string::npos) << outcomes[held].message();
  EXPECT_NE(outcomes[also_held].message().find("could not obtain lock"), std::string::npos)
      << "waited out a second timeout: " << outcomes[also_held].message();
  auto stored = holder.value()->ReadAfter(free, 0, 10);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored.value().size(), 1u) << "committed";
  EXPECT_TRUE(holder.value()->ReadAfter(held, 0, 10).value().empty());
  EXPECT_TRUE(holder.value()->ReadAfter(also_held, 0, 10).value().empty());
}

// Several connections to one PostgreSQL (lanes): while one couple's batch
// waits (a slow job holds its connection), another couple's jobs and jobs
// of no couple commit on other connections; with one connection they would
// wait behind it. Each couple's jobs still commit in the order they were
// submitted.
TEST(GroupCommitOnPostgres, ACoupleWaitingOnItsConnectionHoldsUpNoOtherJob) {
  auto url = testing::FreshPostgresDatabase();
  ASSERT_TRUE(url.ok()) << url.error().message;
  constexpr std::size_t kLanes = 4;
  std::vector<std::unique_ptr<storage::RelayStore>> stores;
  for (std::size_t i = 0; i < kLanes; ++i) {
    auto store = storage::OpenPostgresRelayStore(url.value());
    ASSERT_TRUE(store.ok()) << store.error().message;
    stores.push_back(std::move(store).value());
  }
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  GroupCommit commit(std::move(stores), io);
  // Two couples whose jobs go to different lanes (as Submit chooses them).
  const std::string slow = crypto::RandomBytes(16);
  std::string quick;
  do quick = crypto::RandomBytes(16);
  while (std::hash<std::string>{}(quick) % kLanes == std::hash<std::string>{}(slow) % kLanes);

  std::atomic<bool> release{false}, holding{false};
  bool slow_done = false, quick_done = false;
  commit.Submit(
      [&release, &holding](storage::RelayStore&) {
        holding = true;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return Status::Ok();
      },
      [&](const Status& status) {
        EXPECT_TRUE(status.ok()) << status.message();
        slow_done = true;
      },
      slow);
  while (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // its batch is under way
  std::vector<std::uint64_t> seqs;
  constexpr int kJobs = 50;
  for (int i = 0; i < kJobs; ++i)
    commit.Submit(
        [&quick, &seqs](storage::RelayStore& s) -> Status {
          bool appended = false;
          auto seq = s.Append(quick, crypto::RandomBytes(16), "a", "e", &appended);
          if (!seq.ok()) return seq.error();
          seqs.push_back(seq.value());
          return Status::Ok();
        },
        [&, i](const Status& status) {
          EXPECT_TRUE(status.ok()) << status.message();
          if (i == kJobs - 1) quick_done = true;
        },
        quick);
  // Jobs of no couple (an authentication, say), one more than there are
  // lanes: each takes an idle lane, none the slow couple's.
  int loose_done = 0;
  for (std::size_t i = 0; i <= kLanes; ++i)
    commit.Submit([](storage::RelayStore& s) { return s.LatestSeq("anyone").status(); },
                  [&](const Status& status) {
                    EXPECT_TRUE(status.ok()) << status.message();
                    ++loose_done;
                  });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((!quick_done || loose_done <= static_cast<int>(kLanes)) && std::chrono::steady_clock::now() < give_up)
    io.run_one_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(quick_done) << "the quick couple waited behind the slow one";
  EXPECT_EQ(loose_done, static_cast<int>(kLanes) + 1) << "a job of no couple waited behind the slow couple";
  EXPECT_FALSE(slow_done);
  release = true;
  while (!slow_done) io.run_one();
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kJobs));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(seqs[i], static_cast<std::uint64_t>(i + 1)) << "in submission order";
}

}  // namespace
}  // namespace duet::daemon
