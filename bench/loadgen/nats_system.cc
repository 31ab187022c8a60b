// NATS JetStream as the couple's log: one file-stored stream for the run,
// each partner publishing to a subject of its own (js_Publish waits for the
// stream's acknowledgement) and reading the other's through a push consumer
// that delivers new messages. JetStream's file store does not fsync per
// acknowledgement (it syncs on an interval), which bench/run states next to
// the figure.
#include <nats/nats.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

#include "bench/loadgen/system.h"
#include "crypto/crypto.h"
#include "net/net.h"

namespace duet::bench {
namespace {

constexpr std::int64_t kTimeoutMs = 30'000;

Error Failed(const std::string& doing, natsStatus status, jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string message = "nats " + doing + ": " + natsStatus_GetText(status);
  if (code != 0) message += " (JetStream error " + std::to_string(code) + ")";
  return MakeError(ErrorKind::kNetwork, message);
}

// Acknowledgements (from libnats's publish-ack thread) and messages (from
// the subscription's delivery thread) meet here, stamped on arrival.
struct Inbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Event> events;  // guarded by mutex
  int arrived = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);  // readable while events may wait
  ~Inbox() { close(arrived); }
  void Put(Event event) {
    {
      std::lock_guard lock(mutex);
      events.push_back(std::move(event));
    }
    changed.notify_all();
    eventfd_write(arrived, 1);
  }
};

struct Connection {
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  ~Connection() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(connection);
  }
  // `acks`, when given, hears every asynchronous publish's acknowledgement
  // (a kAck event whose payload is empty, or says what failed).
  Status Open(const std::string& url, Inbox* acks = nullptr) {
    natsOptions* options = nullptr;
    natsStatus s = natsOptions_Create(&options);
    if (s == NATS_OK) s = natsOptions_SetURL(options, url.c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(options, kTimeoutMs);
    // Otherwise libnats holds a publish for its flusher thread (about 1 ms),
    // which would be counted as the server's latency.
    if (s == NATS_OK) s = natsOptions_SetSendAsap(options, true);
    // One delivery thread for every subscription instead of one each: a
    // thousand clients are not a thousand threads on the generator's core.
    if (s == NATS_OK) s = natsOptions_UseGlobalMessageDelivery(options, true);
    if (s == NATS_OK) s = natsConnection_Connect(&connection, options);
    natsOptions_Destroy(options);
    if (s != NATS_OK) return Failed("connect to " + url, s);
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = kTimeoutMs;
    if (acks != nullptr) {
      js_options.PublishAsync.AckHandler = [](jsCtx*, natsMsg* message, jsPubAck*, jsPubAckErr* failed, void* inbox) {
        const std::int64_t at = NowNanoseconds();
        std::string why;
        if (failed != nullptr) why = failed->ErrText != nullptr ? failed->ErrText : natsStatus_GetText(failed->Err);
        static_cast<Inbox*>(inbox)->Put({Event::Kind::kAck, at, std::move(why)});
        natsMsg_Destroy(message);
      };
      js_options.PublishAsync.AckHandlerClosure = acks;
    }
    s = natsConnection_JetStream(&js, connection, &js_options);
    if (s != NATS_OK) return Failed("JetStream context", s);
    return Status::Ok();
  }
};

class NatsClient final : public Client {
 public:
  explicit NatsClient(std::string own) : own_(std::move(own)) {}
  ~NatsClient() override {
    natsSubscription_Destroy(subscription_);
    c_.reset();  // closes the connection, so no callback runs after this
  }

  Status Open(const std::string& url, const std::string& stream, const std::string& partner) {
    DUET_RETURN_IF_ERROR(c_->Open(url, &inbox_));
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = stream.c_str();
    options.Config.DeliverPolicy = js_DeliverNew;
    options.Config.AckPolicy = js_AckNone;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s = js_Subscribe(
        &subscription_, c_->js, partner.c_str(),
        [](natsConnection*, natsSubscription*, natsMsg* message, void* inbox) {
          const std::int64_t at = NowNanoseconds();
          static_cast<Inbox*>(inbox)->Put(
              {Event::Kind::kPayload, at,
               std::string(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message)))});
          natsMsg_Destroy(message);
        },
        &inbox_, nullptr, &options, &code);
    if (s != NATS_OK) return Failed("subscribe", s, code);
    return Status::Ok();
  }

  Status Send(std::string_view payload) override {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    const natsStatus s = js_PublishAsync(c_->js, own_.c_str(), payload.data(), static_cast<int>(payload.size()), &options);
    if (s != NATS_OK) return Failed("publish", s);
    return Status::Ok();
  }

  std::vector<int> Descriptors() override { return {inbox_.arrived}; }

  Status Poll(std::chrono::milliseconds timeout, std::vector<Event>& events) override {
    eventfd_t ignored;
    eventfd_read(inbox_.arrived, &ignored);  // before taking the events: a later one signals again
    std::unique_lock lock(inbox_.mutex);
    inbox_.changed.wait_for(lock, timeout, [this] { return !inbox_.events.empty(); });
    for (auto& event : inbox_.events) {
      if (event.kind == Event::Kind::kAck && !event.payload.empty())
        return MakeError(ErrorKind::kRefused, "nats publish: " + event.payload);
      events.push_back(std::move(event));
    }
    inbox_.events.clear();
    return Status::Ok();
  }

 private:
  Inbox inbox_;
  std::unique_ptr<Connection> c_ = std::make_unique<Connection>();
  std::string own_;
  natsSubscription* subscription_ = nullptr;
};

class NatsSystem final : public System {
 public:
  explicit NatsSystem(const net::Endpoint& server)
      : url_("nats://" + server.ToString()), run_(crypto::Hex(crypto::RandomBytes(4))),
        stream_("DUET_" + run_) {}
  ~NatsSystem() override {
    if (admin_.js == nullptr) return;
    jsErrCode ignored;
    js_DeleteStream(admin_.js, stream_.c_str(), nullptr, &ignored);
  }
  std::string name() const override { return "nats"; }

  Status Prepare(int) override {
    DUET_RETURN_IF_ERROR(admin_.Open(url_));
    const std::string subjects = "duet." + run_ + ".>";
    const char* subject_list[] = {subjects.c_str()};
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = stream_.c_str();
    config.Subjects = subject_list;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s = js_AddStream(&info, admin_.js, &config, nullptr, &code);
    jsStreamInfo_Destroy(info);
    if (s != NATS_OK) return Failed("create stream", s, code);
    return Status::Ok();
  }

  Result<std::unique_ptr<Client>> Connect(int couple, int side) override {
    const std::string subject = "duet." + run_ + "." + std::to_string(couple) + ".";
    auto client = std::make_unique<NatsClient>(subject + std::to_string(side));
    DUET_RETURN_IF_ERROR(client->Open(url_, stream_, subject + std::to_string(1 - side)));
    return std::unique_ptr<Client>(std::move(client));
  }

 private:
  std::string url_, run_, stream_;
  Connection admin_;
};

}  // namespace

std::unique_ptr<System> MakeNatsSystem(const net::Endpoint& server) { return std::make_unique<NatsSystem>(server); }

}  // namespace duet::bench
