// The relay's store as duetd runs it: a daemon::GroupCommit over a real
// storage::RelayStore, whose completions run on a real asio::io_context
// driven by a thread of its own, the relay's network thread.
//
// Submit() may be called from any thread; Done callbacks run on the network
// thread. Destroying it (or Shutdown()) finishes the jobs already submitted,
// runs their callbacks and closes the store.
#pragma once

#include <future>
#include <memory>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "daemon/group_commit.h"
#include "storage/relay_store.h"

namespace duet::testing {

class RelayUnderTest {
 public:
  explicit RelayUnderTest(std::unique_ptr<storage::RelayStore> store)
      : commit_(std::make_unique<daemon::GroupCommit>(std::move(store), io_)),
        network_([this] { io_.run(); }) {}
  ~RelayUnderTest() { Shutdown(); }
  RelayUnderTest(const RelayUnderTest&) = delete;
  RelayUnderTest& operator=(const RelayUnderTest&) = delete;

  void Submit(daemon::GroupCommit::Work work, daemon::GroupCommit::Done done) {
    commit_->Submit(std::move(work), std::move(done));
  }

  // Submits one job and waits for what its Done callback is told.
  // REQUIRES: not called on the network thread.
  Status Run(daemon::GroupCommit::Work work) {
    auto done = std::make_shared<std::promise<Status>>();
    auto told = done->get_future();
    Submit(std::move(work), [done](const Status& status) { done->set_value(status); });
    return told.get();
  }

  void Shutdown() {
    if (!commit_) return;
    commit_->Stop();
    // Every completion is posted by now; run() returns once they have run.
    guard_.reset();
    network_.join();
    commit_.reset();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::unique_ptr<daemon::GroupCommit> commit_;
  std::thread network_;
};

}  // namespace duet::testing
