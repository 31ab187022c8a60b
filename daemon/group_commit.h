// GroupCommit: the thread that owns the relay's store.
//
// Sessions submit jobs from the network thread. The store thread takes every
// job queued at that moment, runs them in one transaction (each inside its own
// SAVEPOINT, so a job that fails leaves no partial writes and does not spoil
// the others), commits once (one fsync for the whole batch), and only then
// posts each job's completion back to the network thread. So a push is
// acknowledged only after it is durable, and many concurrent pushes share one
// commit. If the commit fails, every job in the batch completes with the error;
// if one couple's lock cannot be had (PostgreSQL's lock timeout), only that
// couple's jobs do.
//
// On PostgreSQL it may own several connections to the store, each with its
// own thread and batches (lanes), so a relay is not held to one
// connection's round trips. A couple's jobs always go to the same lane and
// so commit in the order they were submitted; a job of no couple takes an
// idle lane, or else the one whose batch began last, so none waits behind
// a batch held up on a couple's lock while another lane moves.
// Lanes of one relay meet on the database as several relays do: each
// batch locks its couples in sorted order.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

#include "base/result.h"
#include "daemon/metrics.h"
#include "storage/relay_store.h"

namespace duet::daemon {

class GroupCommit {
 public:
  // Runs on the store thread inside the batch transaction.
  using Work = std::function<Status(storage::RelayStore&)>;
  // Runs on the network thread after the batch committed (or failed).
  using Done = std::function<void(const Status&)>;

  // `metrics` (may be null) receives each batch's size and commit time.
  GroupCommit(std::unique_ptr<storage::RelayStore> store, asio::io_context& network,
              RelayMetrics* metrics = nullptr);
  // One lane per store: several connections to one shared store.
  GroupCommit(std::vector<std::unique_ptr<storage::RelayStore>> stores, asio::io_context& network,
              RelayMetrics* metrics = nullptr);
  ~GroupCommit();

  // `couple`: the couple whose row the job will lock (its writes), if any.
  // A batch locks all its couples first, in one order (sorted), so two
  // relays' batches on a shared store never wait on each other in a cycle:
  // locking them job by job, a couple written from both relays at once
  // would deadlock the two batches, and PostgreSQL would fail one whole.
  void Submit(Work work, Done done, std::string couple = {});
  // Finishes every job already submitted, then stops the thread.
  void Stop();

  std::uint64_t batches() const { return batches_; }
  std::uint64_t jobs() const { return jobs_; }

 private:
  struct Job {
    Work work;
    Done done;
    std::string couple;
  };
  // One store connection and the thread that runs its batches.
  struct Lane {
    std::unique_ptr<storage::RelayStore> store;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> queue;  // guarded by mutex
    bool running = false;   // a batch is under way; guarded by mutex
    std::chrono::steady_clock::time_point began;  // that batch's start; guarded by mutex
    bool stopping = false;  // guarded by mutex
    std::thread thread;
  };
  std::size_t LaneFor(const std::string& couple);
  // Locks the batch's couples in order, but those in `skipped`, waiting for
  // each or (`wait` false) for none. When one couple's lock fails, names it
  // in `failed`.
  static Status LockCouples(storage::RelayStore& store, const std::deque<Job>& batch,
                            const std::map<std::string, Status>& skipped, bool wait, std::string* failed);
  // Begins the batch's transaction with its couples locked. A couple whose
  // lock fails (held elsewhere past the lock timeout) goes into `unlocked`
  // with the error, and the transaction begins again without it: its jobs
  // fail, the rest of the batch goes on. After one timeout the batch waits
  // for no other lock, so a stuck transaction holding several of its
  // couples costs it one lock timeout, not one each.
  static Status BeginLocked(storage::RelayStore& store, const std::deque<Job>& batch,
                            std::map<std::string, Status>& unlocked);
  void Loop(Lane& lane);
  void RunBatch(storage::RelayStore& store, std::deque<Job>& batch);

  asio::io_context& network_;
  RelayMetrics* metrics_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // fixed once the threads run
  std::atomic<std::size_t> turn_{0};          // where the next job of no couple starts looking
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> jobs_{0};
};

}  // namespace duet::daemon
