#include "daemon/group_commit.h"

#include <algorithm>
#include <string_view>

#include <asio/post.hpp>

namespace duet::daemon {

GroupCommit::GroupCommit(std::unique_ptr<storage::RelayStore> store, asio::io_context& network,
                         RelayMetrics* metrics)
    : GroupCommit(
          [&] {
            std::vector<std::unique_ptr<storage::RelayStore>> one;
            one.push_back(std::move(store));
            return one;
          }(),
          network, metrics) {}

GroupCommit::GroupCommit(std::vector<std::unique_ptr<storage::RelayStore>> stores, asio::io_context& network,
                         RelayMetrics* metrics)
    : network_(network), metrics_(metrics) {
  for (auto& store : stores) {
    lanes_.push_back(std::make_unique<Lane>());
    lanes_.back()->store = std::move(store);
  }
  for (auto& lane : lanes_) lane->thread = std::thread([this, &lane = *lane] { Loop(lane); });
}

GroupCommit::~GroupCommit() { Stop(); }

std::size_t GroupCommit::LaneFor(const std::string& couple) {
  if (!couple.empty()) return std::hash<std::string>{}(couple) % lanes_.size();
  // An idle lane, looking from a different one each time; with every lane
  // busy, the one whose batch began last (one queued to start counts as
  // beginning now), the least likely to be stuck on a lock.
  const std::size_t start = turn_++ % lanes_.size();
  std::size_t freshest = start;
  auto freshest_began = std::chrono::steady_clock::time_point::min();
  for (std::size_t k = 0; k < lanes_.size(); ++k) {
    const std::size_t index = (start + k) % lanes_.size();
    Lane& lane = *lanes_[index];
    std::lock_guard lock(lane.mutex);
    if (!lane.running && lane.queue.empty()) return index;
    const auto began = lane.running ? lane.began : std::chrono::steady_clock::now();
    if (began > freshest_began) {
      freshest = index;
      freshest_began = began;
    }
  }
  return freshest;
}

void GroupCommit::Submit(Work work, Done done, std::string couple) {
  Lane& lane = *lanes_[LaneFor(couple)];
  {
    std::lock_guard lock(lane.mutex);
    lane.queue.push_back(Job{std::move(work), std::move(done), std::move(couple)});
  }
  lane.wake.notify_one();
}

void GroupCommit::Stop() {
  for (auto& lane : lanes_) {
    {
      std::lock_guard lock(lane->mutex);
      lane->stopping = true;
    }
    lane->wake.notify_one();
  }
  for (auto& lane : lanes_)
    if (lane->thread.joinable()) lane->thread.join();
}

void GroupCommit::Loop(Lane& lane) {
  for (;;) {
    std::deque<Job> batch;
    {
      std::unique_lock lock(lane.mutex);
      lane.wake.wait(lock, [&] { return lane.stopping || !lane.queue.empty(); });
      if (lane.queue.empty()) return;  // stopping, and nothing left to do
      batch.swap(lane.queue);
      lane.running = true;
      lane.began = std::chrono::steady_clock::now();
    }
    RunBatch(*lane.store, batch);
    std::lock_guard lock(lane.mutex);
    lane.running = false;
  }
}

Status GroupCommit::LockCouples(storage::RelayStore& store, const std::deque<Job>& batch,
                                const std::map<std::string, Status>& skipped, bool wait, std::string* failed) {
  std::vector<std::string_view> couples;
  for (const auto& job : batch)
    if (!job.couple.empty() && !skipped.contains(job.couple)) couples.push_back(job.couple);
  std::sort(couples.begin(), couples.end());
  couples.erase(std::unique(couples.begin(), couples.end()), couples.end());
  for (std::string_view couple : couples) {
    Status locked = wait ? store.LockCouple(std::string(couple)) : store.TryLockCouple(std::string(couple));
    if (!locked.ok()) {
      *failed = couple;
      return locked;
    }
  }
  return Status::Ok();
}

Status GroupCommit::BeginLocked(storage::RelayStore& store, const std::deque<Job>& batch,
                                std::map<std::string, Status>& unlocked) {
  for (;;) {  // at most once more than the batch has couples
    DUET_RETURN_IF_ERROR(store.Begin());
    std::string failed;
    Status locked = LockCouples(store, batch, unlocked, /*wait=*/unlocked.empty(), &failed);
    if (locked.ok()) return locked;
    // A failed statement spoiled the transaction: begin again without that couple.
    store.Rollback();
    if (failed.empty()) return locked;
    unlocked.emplace(failed, locked);
  }
}

void GroupCommit::RunBatch(storage::RelayStore& store, std::deque<Job>& batch) {
  std::vector<Status> outcomes;
  outcomes.reserve(batch.size());
  const auto started = std::chrono::steady_clock::now();
  std::map<std::string, Status> unlocked;
  Status commit = BeginLocked(store, batch, unlocked);
  if (commit.ok()) {
    for (auto& job : batch) {
      if (auto it = unlocked.find(job.couple); it != unlocked.end()) {
        outcomes.push_back(it->second);
        continue;
      }
      // A savepoint per job: a job that fails halfway leaves nothing behind.
      Status begun = store.Savepoint();
      Status outcome = begun.ok() ? job.work(store) : begun;
      if (begun.ok()) {
        // A savepoint that could not be undone may hold half a job: then
        // nothing of the batch is committed, and nothing acknowledged.
        if (Status ended = store.EndSavepoint(outcome.ok()); !ended.ok()) {
          // After an I/O error or a full disk SQLite rolls the whole
          // transaction back, savepoint and all: the job's error is the cause.
          commit = outcome.ok() ? ended : outcome;
          break;
        }
      }
      outcomes.push_back(std::move(outcome));
    }
    if (commit.ok()) commit = store.Commit();
    else store.Rollback();
  }
  ++batches_;
  jobs_ += batch.size();
  if (metrics_ != nullptr) {
    metrics_->commit_jobs.Observe(static_cast<double>(batch.size()));
    metrics_->commit_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // The cause goes with it: "disk full" calls for another fix than "I/O error".
    Status result = !commit.ok() ? Status(MakeError(ErrorKind::kIo, "relay could not commit: " +
                                                                        commit.message()))
                                 : outcomes[i];
    asio::post(network_, [done = std::move(batch[i].done), result] { done(result); });
  }
}

}  // namespace duet::daemon
