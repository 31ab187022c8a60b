// Issue #11, fault test 3: disk faults under the relay's store. A whole
// workload (open the store, pair, push, read, close, reopen, read, push) is
// first run clean to count its disk operations; then it is run again with
// one fault at each operation N in turn: a one-shot I/O error, or a disk that
// fills at N and stays full. Whatever N, nothing crashes, every failed job is
// told why, everything acknowledged is in the file afterwards, and once the
// disk recovers the same store commits again, without a restart.
//
// Jobs are submitted one at a time, so every run makes the same calls in
// the same order and operation N is the same one in each.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/relay_store.h"
#include "tests/fault/fault_vfs.h"
#include "tests/fault/pushes.h"
#include "tests/fault/relay_under_test.h"
#include "tests/fault/stored_log.h"
#include "tests/temp_dir.h"

namespace duet::testing {
namespace {

const std::vector<std::string> kCouples = {"couple-0", "couple-1"};

// The workload is about 400 operations, and each gets its fault. Should it
// grow, every operation up to kEveryOperationUpTo still does and then every
// kStrideAfterThat-th, so the loop stays within seconds.
constexpr std::uint64_t kEveryOperationUpTo = 1000;
constexpr std::uint64_t kStrideAfterThat = 5;

// The message with the run's temporary path taken out, so alike ones count as one.
std::string WithoutPath(std::string message, const std::string& path) {
  if (auto at = message.find(path); at != std::string::npos) message.replace(at, path.size(), "F");
  return message;
}

// What one run of the workload did, and the relay left running at its end.
struct Workload {
  std::unique_ptr<RelayUnderTest> relay;
  Ledger acked;
  Submitted submitted;
  std::vector<std::string> failures;  // what failed, and what the relay said
  std::vector<std::string> problems;  // wrong answers: these fail the test
  int next_record = 0;

  void Push(int couple, int records) {
    const std::string& couple_id = kCouples[couple];
    std::vector<std::string> record_ids;
    for (int i = 0; i < records; ++i) {
      record_ids.push_back(couple_id + "/record-" + std::to_string(next_record++));
      submitted[record_ids.back()] = couple_id;
    }
    auto seqs = std::make_shared<std::vector<std::uint64_t>>();
    Status pushed = relay->Run(PushJob(couple_id, record_ids, seqs));
    if (!pushed.ok()) {
      failures.push_back("push: " + pushed.message());
      return;
    }
    for (std::size_t i = 0; i < record_ids.size(); ++i)
      acked[record_ids[i]] = Ack{couple_id, (*seqs)[i]};
  }

  // A read must return every record acknowledged so far, each where it was
  // acknowledged, and nothing that was not pushed.
  void Read(int couple) {
    const std::string& couple_id = kCouples[couple];
    auto entries = std::make_shared<std::vector<storage::LogEntry>>();
    Status read = relay->Run([couple_id, entries](storage::RelayStore& store) -> Status {
      auto got = store.ReadAfter(couple_id, 0, 1000);
      if (!got.ok()) return got.error();
      *entries = std::move(got).value();
      return Status::Ok();
    });
    if (!read.ok()) {
      failures.push_back("read: " + read.message());
      return;
    }
    std::map<std::uint64_t, std::string> by_seq;
    for (const auto& entry : *entries) {
      const std::string record_id = entry.envelope.substr(0, entry.envelope.find('|'));
      auto pushed = submitted.find(record_id);
      if (pushed == submitted.end() || pushed->second != couple_id ||
          entry.envelope != EnvelopeFor(record_id))
        problems.push_back("read returned a record not pushed: seq " + std::to_string(entry.seq));
      by_seq[entry.seq] = record_id;
    }
    for (const auto& [record_id, ack] : acked) {
      if (ack.couple_id != couple_id) continue;
      auto found = by_seq.find(ack.seq);
      if (found == by_seq.end() || found->second != record_id)
        problems.push_back("read misses acknowledged " + record_id);
    }
  }

  bool Open(const std::string& path) {
    auto store = storage::RelayStore::Open(path, /*synchronous_full=*/true, FaultVfs::kName);
    if (!store.ok()) {
      failures.push_back("open: " + store.error().message);
      return false;
    }
    relay = std::make_unique<RelayUnderTest>(std::move(store).value());
    return true;
  }
};

Workload RunWorkload(const std::string& path) {
  Workload w;
  if (!w.Open(path)) return w;
  for (const auto& couple_id : kCouples) {
    Status paired = w.relay->Run(PairJob(couple_id));
    if (!paired.ok()) w.failures.push_back("pair: " + paired.message());
  }
  for (int i = 0; i < 8; ++i) w.Push(i % 2, 1 + i % 3);
  w.Read(0);
  w.Read(1);
  w.relay.reset();  // the last connection closes: SQLite checkpoints the WAL
  if (!w.Open(path)) return w;
  w.Read(0);
  w.Read(1);
  for (int i = 0; i < 6; ++i) w.Push(i % 2, 1 + i % 3);
  return w;
}

struct FaultTally {
  std::uint64_t runs = 0;
  std::uint64_t faults = 0;        // operations failed on purpose
  std::uint64_t failed_steps = 0;  // opens and jobs told of a failure
  std::uint64_t acked = 0;
  std::map<std::string, int> messages;  // what the failed steps were told
};

class DiskFaultTest : public ::testing::Test {
 protected:
  std::uint64_t CountOperations() {
    TempDir dir;
    const std::uint64_t before = vfs_.operations();
    Workload w = RunWorkload(dir.File("relay.db"));
    const std::uint64_t operations = vfs_.operations() - before;
    w.relay.reset();
    EXPECT_TRUE(w.failures.empty()) << w.failures.front();
    EXPECT_TRUE(w.problems.empty()) << w.problems.front();
    return operations;
  }

  // Runs the workload with a fault at operation n, lets the disk recover,
  // and holds the relay and its file to what it acknowledged.
  void RunWithFaultAt(std::uint64_t n, DiskFault kind, FaultTally& tally) {
    SCOPED_TRACE("fault at operation " + std::to_string(n));
    TempDir dir;
    const std::string path = dir.File("relay.db");
    const std::uint64_t faults_before = vfs_.faults_injected();
    vfs_.FailAt(n, kind);
    Workload w = RunWorkload(path);
    vfs_.Recover();
    tally.runs++;
    tally.faults += vfs_.faults_injected() - faults_before;
    tally.failed_steps += w.failures.size();
    for (const auto& failure : w.failures) tally.messages[WithoutPath(failure, path)]++;
    for (const auto& problem : w.problems) ADD_FAILURE() << problem;

    // The disk recovered: the store that saw the fault serves again as it is.
    // (A store that never opened is opened now: there was nothing to keep.)
    if (!w.relay && !w.Open(path)) {
      ADD_FAILURE() << "after the disk recovered the store does not open: " << w.failures.back();
      return;
    }
    const std::size_t failures_before = w.failures.size();
    w.Push(0, 2);
    if (w.failures.size() != failures_before)
      ADD_FAILURE() << "after the disk recovered the same store cannot commit: "
                    << w.failures.back();
    w.relay.reset();
    tally.acked += w.acked.size();

    auto log = ReadStoredLog(path);
    ASSERT_TRUE(log.ok()) << log.error().message;
    LogCheck check = CheckLog(log.value(), w.acked, w.submitted);
    for (const auto& lost : check.lost) ADD_FAILURE() << "lost " << lost;
    for (const auto& problem : check.problems) ADD_FAILURE() << problem;
  }

  std::vector<std::uint64_t> Schedule(std::uint64_t operations) {
    std::vector<std::uint64_t> schedule;
    for (std::uint64_t n = 1; n <= operations; n += n < kEveryOperationUpTo ? 1 : kStrideAfterThat)
      schedule.push_back(n);
    return schedule;
  }

  void Report(const char* kind, std::uint64_t operations, const FaultTally& tally) {
    std::cout << kind << ": workload of " << operations << " operations; " << tally.runs
              << " runs, " << tally.faults << " faults injected, " << tally.failed_steps
              << " steps failed, " << tally.acked << " records acknowledged and kept\n";
    for (const auto& [message, count] : tally.messages)
      std::cout << "  " << count << " x " << message << "\n";
  }

  FaultVfs vfs_;
};

// Every failure the relay reports must say what went wrong with the disk.
void ExpectEachSays(const FaultTally& tally, const std::vector<std::string>& any_of) {
  for (const auto& [message, count] : tally.messages) {
    const bool says = std::any_of(any_of.begin(), any_of.end(), [&](const std::string& words) {
      return message.find(words) != std::string::npos;
    });
    EXPECT_TRUE(says) << "a failure that does not say what happened: " << message;
  }
}

TEST_F(DiskFaultTest, TheWorkloadMakesTheSameCallsEachRun) {
  EXPECT_EQ(CountOperations(), CountOperations());
}

TEST_F(DiskFaultTest, AnIoErrorAnywhereLosesNothingAcknowledgedAndIsReported) {
  const std::uint64_t operations = CountOperations();
  FaultTally tally;
  for (std::uint64_t n : Schedule(operations)) {
    RunWithFaultAt(n, DiskFault::kIoError, tally);
    if (HasFailure()) break;
  }
  Report("I/O error", operations, tally);
  EXPECT_GT(tally.failed_steps, 0u) << "no fault was ever noticed: the test does not bite";
  ExpectEachSays(tally, {"I/O error", "unable to open"});
}

TEST_F(DiskFaultTest, AFullDiskLosesNothingAcknowledgedAndTheStoreServesOnceItRecovers) {
  const std::uint64_t operations = CountOperations();
  FaultTally tally;
  for (std::uint64_t n : Schedule(operations)) {
    RunWithFaultAt(n, DiskFault::kDiskFull, tally);
    if (HasFailure()) break;
  }
  Report("disk full", operations, tally);
  EXPECT_GT(tally.failed_steps, 0u) << "no fault was ever noticed: the test does not bite";
  ExpectEachSays(tally, {"full"});
}

}  // namespace
}  // namespace duet::testing
