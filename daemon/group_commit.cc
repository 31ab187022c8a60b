#include "daemon/group_commit.h"

#include <algorithm>
#include <string_view>

#include <asio/post.hpp>

namespace duet::daemon {

GroupCommit::GroupCommit(std::unique_ptr<storage::RelayStore> store, asio::io_context& network,
                         RelayMetrics* metrics)
    : store_(std::move(store)), network_(network), metrics_(metrics), thread_([this] { Loop(); }) {}

GroupCommit::~GroupCommit() { Stop(); }

void GroupCommit::Submit(Work work, Done done, std::string couple) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Job{std::move(work), std::move(done), std::move(couple)});
  }
  wake_.notify_one();
}

void GroupCommit::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void GroupCommit::Loop() {
  for (;;) {
    std::deque<Job> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to do
      batch.swap(queue_);
    }
    RunBatch(batch);
  }
}

Status GroupCommit::LockCouples(const std::deque<Job>& batch) {
  std::vector<std::string_view> couples;
  for (const auto& job : batch)
    if (!job.couple.empty()) couples.push_back(job.couple);
  std::sort(couples.begin(), couples.end());
  couples.erase(std::unique(couples.begin(), couples.end()), couples.end());
  for (std::string_view couple : couples) DUET_RETURN_IF_ERROR(store_->LockCouple(std::string(couple)));
  return Status::Ok();
}

void GroupCommit::RunBatch(std::deque<Job>& batch) {
  std::vector<Status> outcomes;
  outcomes.reserve(batch.size());
  const auto started = std::chrono::steady_clock::now();
  Status commit = store_->Begin();
  if (commit.ok()) {
    commit = LockCouples(batch);
    if (!commit.ok()) store_->Rollback();
  }
  if (commit.ok()) {
    for (auto& job : batch) {
      // A savepoint per job: a job that fails halfway leaves nothing behind.
      Status begun = store_->Savepoint();
      Status outcome = begun.ok() ? job.work(*store_) : begun;
      if (begun.ok()) {
        // A savepoint that could not be undone may hold half a job: then
        // nothing of the batch is committed, and nothing acknowledged.
        if (Status ended = store_->EndSavepoint(outcome.ok()); !ended.ok()) {
          // After an I/O error or a full disk SQLite rolls the whole
          // transaction back, savepoint and all: the job's error is the cause.
          commit = outcome.ok() ? ended : outcome;
          break;
        }
      }
      outcomes.push_back(std::move(outcome));
    }
    if (commit.ok()) commit = store_->Commit();
    else store_->Rollback();
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
