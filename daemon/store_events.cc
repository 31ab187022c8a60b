#include "daemon/store_events.h"

#include <algorithm>

#include <asio/post.hpp>

namespace duet::daemon {
namespace {

// How long one wait for events lasts: how soon Stop() is noticed.
constexpr std::chrono::milliseconds kWaitSlice{200};
constexpr std::chrono::milliseconds kFirstRetry{1000};
constexpr std::chrono::milliseconds kLastRetry{10000};

}  // namespace

StoreEventListener::StoreEventListener(Open open, asio::io_context& network, Handlers handlers)
    : open_(std::move(open)), network_(network), handlers_(std::move(handlers)), thread_([this] { Loop(); }) {}

StoreEventListener::~StoreEventListener() { Stop(); }

void StoreEventListener::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool StoreEventListener::Pause(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, how_long, [this] { return stopping_; });
}

void StoreEventListener::Loop() {
  auto retry = kFirstRetry;
  bool said_lost = false;
  while (Pause(std::chrono::milliseconds(0))) {
    auto feed = open_();
    if (!feed.ok()) {
      // Said once per outage, not once per attempt.
      if (!said_lost) asio::post(network_, [lost = handlers_.lost, why = feed.error().message] { lost(why); });
      said_lost = true;
      if (!Pause(retry)) return;
      retry = std::min(retry * 2, kLastRetry);
      continue;
    }
    asio::post(network_, [listening = handlers_.listening] { listening(); });
    said_lost = false;
    retry = kFirstRetry;
    while (Pause(std::chrono::milliseconds(0))) {
      auto events = feed.value()->Wait(kWaitSlice);
      if (!events.ok()) {
        asio::post(network_, [lost = handlers_.lost, why = events.error().message] { lost(why); });
        said_lost = true;
        break;
      }
      if (!events->empty())
        asio::post(network_, [handle = handlers_.events, list = std::move(events).value()]() mutable {
          handle(std::move(list));
        });
    }
    if (!Pause(retry)) return;
  }
}

}  // namespace duet::daemon
