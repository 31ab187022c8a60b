// StoreEventListener: the thread that hears what other relays sharing the
// PostgreSQL store commit (storage::StoreEventFeed: a couple's log grew, a
// couple ended, a device was revoked) and hands it to the network thread.
// When its connection is lost it says so, and reconnects (1 s later, then
// up to 10 s apart). Each time it is listening again it calls `listening`,
// on which the relay catches up from the store on every couple it holds:
// a notification lost meanwhile never means a record not delivered.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

#include "base/result.h"
#include "storage/relay_store.h"

namespace duet::daemon {

class StoreEventListener {
 public:
  using Open = std::function<Result<std::unique_ptr<storage::StoreEventFeed>>()>;
  // Each runs on the network thread.
  struct Handlers {
    std::function<void(std::vector<storage::StoreEvent>)> events;
    std::function<void()> listening;               // (again): catch up
    std::function<void(const std::string&)> lost;  // why it is not listening
  };

  StoreEventListener(Open open, asio::io_context& network, Handlers handlers);
  ~StoreEventListener();
  void Stop();

 private:
  void Loop();
  // Sleeps up to `how_long`; false when stopping.
  bool Pause(std::chrono::milliseconds how_long);

  Open open_;
  asio::io_context& network_;
  Handlers handlers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace duet::daemon
