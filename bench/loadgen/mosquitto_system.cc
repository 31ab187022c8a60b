// Mosquitto as the couple's channel: each partner publishes at QoS 1 to a
// topic of its own and subscribes at QoS 1 to the other's. An append is
// acknowledged by the broker's PUBACK. Mosquitto keeps messages in memory
// (persistence is a periodic snapshot at best): the figure it gives is the
// cost of forwarding without a disk, the floor for duet's live forward.
//
// libmosquitto's own loop thread waits with select(), which fails past
// descriptor 1023; one thread here drives every client's socket with epoll
// instead, so a run can hold thousands. A publish from a client's thread is
// written at once: libmosquitto writes it itself unless one of its
// callbacks is running on the loop thread, and then Send writes what it
// queued (mosquitto_want_write), so no publish waits for the loop's sweep.
#include <mosquitto.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "bench/loadgen/system.h"
#include "crypto/crypto.h"
#include "net/net.h"

namespace duet::bench {
namespace {

using namespace std::chrono_literals;
constexpr auto kTimeout = 30s;

class MosquittoClient;

// The one thread that reads every client's socket (epoll: a pass costs what
// is ready, not what is connected) and, every few milliseconds, writes what
// a partial write left queued and keeps the sessions alive.
class SocketLoop {
 public:
  SocketLoop() : epoll_(epoll_create1(EPOLL_CLOEXEC)), thread_([this] { Run(); }) {}
  ~SocketLoop() {
    stop_ = true;
    thread_.join();
    close(epoll_);
  }
  void Add(mosquitto* handle) {
    std::lock_guard lock(mutex_);
    handles_.insert(handle);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = handle;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, mosquitto_socket(handle), &event);
  }
  // Once this returns the loop never touches `handle` again.
  void Remove(mosquitto* handle) {
    std::lock_guard lock(mutex_);
    epoll_ctl(epoll_, EPOLL_CTL_DEL, mosquitto_socket(handle), nullptr);
    handles_.erase(handle);
  }

 private:
  void Run() {
    std::array<epoll_event, 256> ready{};
    auto last_sweep = std::chrono::steady_clock::now(), last_keepalive = last_sweep;
    while (!stop_) {
      const int n = epoll_wait(epoll_, ready.data(), static_cast<int>(ready.size()), 5);
      std::lock_guard lock(mutex_);  // Remove waits until this pass is done
      for (int i = 0; i < n; ++i) {
        auto* handle = static_cast<mosquitto*>(ready[i].data.ptr);
        if (handles_.count(handle) != 0) mosquitto_loop_read(handle, 1);
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_sweep < 5ms) continue;
      const bool keepalive = now - last_keepalive > 1s;
      last_sweep = now;
      if (keepalive) last_keepalive = now;
      for (mosquitto* handle : handles_) {
        if (mosquitto_want_write(handle)) mosquitto_loop_write(handle, 1);
        if (keepalive) mosquitto_loop_misc(handle);
      }
    }
  }

  int epoll_;
  std::mutex mutex_;
  std::unordered_set<mosquitto*> handles_;  // guarded by mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class MosquittoClient final : public Client {
 public:
  MosquittoClient(SocketLoop& loop, std::string own, std::string partner)
      : loop_(loop), own_(std::move(own)), partner_(std::move(partner)) {}

  ~MosquittoClient() override {
    if (handle_ != nullptr) {
      loop_.Remove(handle_);
      mosquitto_disconnect(handle_);
      mosquitto_destroy(handle_);
    }
    if (arrived_ >= 0) close(arrived_);
  }

  // Made on first use: a client only connected (the idle figure) keeps to
  // the three descriptors libmosquitto holds.
  std::vector<int> Descriptors() override {
    std::lock_guard lock(mutex_);
    if (arrived_ < 0) arrived_ = eventfd(inbox_.empty() ? 0 : 1, EFD_CLOEXEC | EFD_NONBLOCK);
    return {arrived_};
  }

  Status Start(const net::Endpoint& broker) {
    handle_ = mosquitto_new(nullptr, true, this);
    if (handle_ == nullptr) return MakeError(ErrorKind::kInternal, "mosquitto_new failed");
    mosquitto_connect_callback_set(handle_, [](mosquitto*, void* self, int rc) {
      static_cast<MosquittoClient*>(self)->Change([&](MosquittoClient& c) { c.connect_rc_ = rc; });
    });
    mosquitto_subscribe_callback_set(handle_, [](mosquitto*, void* self, int, int, const int*) {
      static_cast<MosquittoClient*>(self)->Change([](MosquittoClient& c) { c.subscribed_ = true; });
    });
    mosquitto_publish_callback_set(handle_, [](mosquitto*, void* self, int) {
      const std::int64_t at = NowNanoseconds();
      static_cast<MosquittoClient*>(self)->Change([at](MosquittoClient& c) {
        c.inbox_.push_back({Event::Kind::kAck, at, {}});
      });
    });
    mosquitto_message_callback_set(handle_, [](mosquitto*, void* self, const mosquitto_message* message) {
      const std::int64_t at = NowNanoseconds();
      static_cast<MosquittoClient*>(self)->Change([&](MosquittoClient& c) {
        c.inbox_.push_back({Event::Kind::kPayload, at,
                            std::string(static_cast<const char*>(message->payload), message->payloadlen)});
      });
    });
    // Without it Nagle holds a lone PUBACK up to 40 ms (the broker is started
    // with set_tcp_nodelay too, as duet and Redis set it on their sockets).
    mosquitto_int_option(handle_, MOSQ_OPT_TCP_NODELAY, 1);
    const int rc = mosquitto_connect(handle_, broker.host.c_str(), broker.port, 600);
    if (rc != MOSQ_ERR_SUCCESS)
      return MakeError(ErrorKind::kNetwork, "mosquitto connect to " + broker.ToString() + ": " + mosquitto_strerror(rc));
    loop_.Add(handle_);
    if (!WaitFor([this] { return connect_rc_ >= 0; }) || connect_rc_ != 0)
      return MakeError(ErrorKind::kRefused, "mosquitto did not accept the connection (CONNACK " +
                                                std::to_string(connect_rc_) + ")");
    if (mosquitto_subscribe(handle_, nullptr, partner_.c_str(), 1) != MOSQ_ERR_SUCCESS ||
        !WaitFor([this] { return subscribed_; }))
      return MakeError(ErrorKind::kNetwork, "mosquitto did not confirm the subscription");
    return Status::Ok();
  }

  Status Send(std::string_view payload) override {
    const int rc = mosquitto_publish(handle_, nullptr, own_.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS)
      return MakeError(ErrorKind::kNetwork, std::string("mosquitto publish: ") + mosquitto_strerror(rc));
    if (mosquitto_want_write(handle_)) mosquitto_loop_write(handle_, 1);
    return Status::Ok();
  }

  Status Poll(std::chrono::milliseconds timeout, std::vector<Event>& events) override {
    std::unique_lock lock(mutex_);
    eventfd_t ignored;
    if (arrived_ >= 0) eventfd_read(arrived_, &ignored);  // before taking the inbox: a later event signals again
    changed_.wait_for(lock, timeout, [this] { return !inbox_.empty(); });
    for (auto& event : inbox_) events.push_back(std::move(event));
    inbox_.clear();
    return Status::Ok();
  }

 private:
  template <typename Changer>
  void Change(Changer change) {
    {
      std::lock_guard lock(mutex_);
      change(*this);
      if (arrived_ >= 0) eventfd_write(arrived_, 1);
    }
    changed_.notify_all();
  }
  template <typename Predicate>
  bool WaitFor(Predicate done) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kTimeout, done);
  }

  SocketLoop& loop_;
  int arrived_ = -1;  // readable while the inbox may hold events; guarded by mutex_
  mosquitto* handle_ = nullptr;
  std::string own_, partner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int connect_rc_ = -1;  // guarded by mutex_, as is all below
  bool subscribed_ = false;
  std::vector<Event> inbox_;
};

class MosquittoSystem final : public System {
 public:
  explicit MosquittoSystem(net::Endpoint broker)
      : broker_(std::move(broker)), prefix_("duet/" + crypto::Hex(crypto::RandomBytes(4)) + "/") {
    mosquitto_lib_init();
    loop_ = std::make_unique<SocketLoop>();
  }
  ~MosquittoSystem() override {
    loop_.reset();
    mosquitto_lib_cleanup();
  }
  std::string name() const override { return "mosquitto"; }
  Status Prepare(int) override { return Status::Ok(); }

  Result<std::unique_ptr<Client>> Connect(int couple, int side) override {
    const std::string topic = prefix_ + std::to_string(couple) + "/";
    auto client =
        std::make_unique<MosquittoClient>(*loop_, topic + std::to_string(side), topic + std::to_string(1 - side));
    DUET_RETURN_IF_ERROR(client->Start(broker_));
    return std::unique_ptr<Client>(std::move(client));
  }

 private:
  net::Endpoint broker_;
  std::string prefix_;
  std::unique_ptr<SocketLoop> loop_;
};

}  // namespace

std::unique_ptr<System> MakeMosquittoSystem(const net::Endpoint& broker) { return std::make_unique<MosquittoSystem>(broker); }

}  // namespace duet::bench
