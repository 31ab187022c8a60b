// Redis Streams as a couple's log: each partner XADDs to a stream of its
// own and reads the other's with XREAD BLOCK, over two connections (a
// blocked XREAD holds its connection). The durability is the server's
// appendonly/appendfsync setting, chosen by bench/run.
#include <hiredis/hiredis.h>
#include <poll.h>

#include <memory>

#include "bench/loadgen/system.h"
#include "crypto/crypto.h"
#include "net/net.h"

namespace duet::bench {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

Error Failed(redisContext* context, const std::string& doing) {
  return MakeError(ErrorKind::kNetwork, "redis " + doing + ": " +
                                            (context->err != 0 ? context->errstr : "no reply"));
}

Result<Context> Open(const net::Endpoint& server) {
  const timeval timeout{30, 0};
  Context context(redisConnectWithTimeout(server.host.c_str(), server.port, timeout));
  if (!context) return MakeError(ErrorKind::kNetwork, "redis: out of memory");
  if (context->err != 0) return Failed(context.get(), "connect to " + server.ToString());
  redisSetTimeout(context.get(), timeout);
  return context;
}

// An error reply as an Error; ok for any other reply.
Status Check(redisContext* context, const Reply& reply, const std::string& doing) {
  if (!reply) return Failed(context, doing);
  if (reply->type == REDIS_REPLY_ERROR)
    return MakeError(ErrorKind::kRefused, "redis " + doing + ": " + std::string(reply->str, reply->len));
  return Status::Ok();
}

// Reads what the socket has now and hands over every whole reply.
Status TakeReplies(redisContext* context, const std::function<Status(Reply)>& handle) {
  if (redisBufferRead(context) != REDIS_OK) return Failed(context, "read");
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context, &raw) != REDIS_OK) return Failed(context, "parse");
    if (raw == nullptr) return Status::Ok();
    DUET_RETURN_IF_ERROR(handle(Reply(static_cast<redisReply*>(raw))));
  }
}

Status Flush(redisContext* context) {
  for (int done = 0; !done;)
    if (redisBufferWrite(context, &done) != REDIS_OK) return Failed(context, "write");
  return Status::Ok();
}

class RedisClient final : public Client {
 public:
  RedisClient(Context writer, Context reader, std::string own, std::string partner)
      : writer_(std::move(writer)), reader_(std::move(reader)), own_(std::move(own)),
        partner_(std::move(partner)) {}

  // The reader always has an XREAD BLOCK outstanding, so its socket turns
  // readable when the partner appends.
  Status Start() { return ReadNext(); }
  std::vector<int> Descriptors() override { return {reader_->fd, writer_->fd}; }

  Status Send(std::string_view payload) override {
    redisAppendCommand(writer_.get(), "XADD %b * p %b", own_.data(), own_.size(), payload.data(), payload.size());
    ++pending_;
    return Flush(writer_.get());
  }

  Status AppendMany(const std::vector<std::string>& payloads) override {
    constexpr std::size_t kPipelined = 100;
    for (std::size_t i = 0; i < payloads.size(); i += kPipelined) {
      const std::size_t end = std::min(payloads.size(), i + kPipelined);
      for (std::size_t j = i; j < end; ++j)
        redisAppendCommand(writer_.get(), "XADD %b * p %b", own_.data(), own_.size(), payloads[j].data(),
                           payloads[j].size());
      for (std::size_t j = i; j < end; ++j) {
        void* raw = nullptr;
        if (redisGetReply(writer_.get(), &raw) != REDIS_OK) return Failed(writer_.get(), "XADD");
        DUET_RETURN_IF_ERROR(Check(writer_.get(), Reply(static_cast<redisReply*>(raw)), "XADD"));
      }
    }
    return Status::Ok();
  }

  // The writer's replies are acknowledgements; the reader's XREAD is
  // renewed as each returns.
  Status Poll(std::chrono::milliseconds timeout, std::vector<Event>& events) override {
    pollfd fds[2] = {{reader_->fd, POLLIN, 0}, {writer_->fd, POLLIN, 0}};
    const int ready = poll(fds, pending_ > 0 ? 2 : 1, static_cast<int>(timeout.count()));
    if (ready < 0) return MakeError(ErrorKind::kNetwork, "poll failed");
    if (pending_ > 0 && fds[1].revents != 0)
      DUET_RETURN_IF_ERROR(TakeReplies(writer_.get(), [&](Reply reply) -> Status {
        DUET_RETURN_IF_ERROR(Check(writer_.get(), reply, "XADD"));
        --pending_;
        events.push_back({Event::Kind::kAck, NowNanoseconds(), {}});
        return Status::Ok();
      }));
    if (fds[0].revents != 0)
      DUET_RETURN_IF_ERROR(TakeReplies(reader_.get(), [&](Reply reply) -> Status {
        DUET_RETURN_IF_ERROR(Check(reader_.get(), reply, "XREAD"));
        const std::int64_t at = NowNanoseconds();
        if (reply->type == REDIS_REPLY_ARRAY)  // nil: the block timed out empty
          for (std::size_t s = 0; s < reply->elements; ++s)
            Entries(reply->element[s]->element[1],
                    [&](std::string_view payload) { events.push_back({Event::Kind::kPayload, at, std::string(payload)}); });
        return ReadNext();
      }));
    return Status::Ok();
  }

  // On the writer: the reader is blocked in its XREAD.
  Result<std::uint64_t> CatchUp() override {
    std::uint64_t count = 0;
    std::string from = "-", last;
    for (;;) {
      Reply reply(static_cast<redisReply*>(redisCommand(writer_.get(), "XRANGE %b %s + COUNT 500", partner_.data(),
                                                        partner_.size(), from.c_str())));
      DUET_RETURN_IF_ERROR(Check(writer_.get(), reply, "XRANGE"));
      if (reply->elements == 0) return count;
      for (std::size_t i = 0; i < reply->elements; ++i, ++count)
        last.assign(reply->element[i]->element[0]->str, reply->element[i]->element[0]->len);
      from = "(" + last;
    }
  }

 private:
  Status ReadNext() {
    redisAppendCommand(reader_.get(), "XREAD BLOCK 100 STREAMS %b %s", partner_.data(), partner_.size(),
                       last_id_.c_str());
    return Flush(reader_.get());
  }

  // [[id, [field, value]], ...]
  void Entries(const redisReply* entries, const Deliver& deliver) {
    for (std::size_t i = 0; i < entries->elements; ++i) {
      const redisReply* entry = entries->element[i];
      last_id_.assign(entry->element[0]->str, entry->element[0]->len);
      const redisReply* fields = entry->element[1];
      if (fields->elements >= 2) deliver(std::string_view(fields->element[1]->str, fields->element[1]->len));
    }
  }

  Context writer_, reader_;
  std::string own_, partner_;
  // The first XREAD (sent on connecting) waits for what is appended from
  // then on, so a reader connected to a long history does not fetch it all.
  std::string last_id_ = "$";
  std::size_t pending_ = 0;  // XADDs sent, not yet answered
};

class RedisSystem final : public System {
 public:
  explicit RedisSystem(net::Endpoint server)
      : server_(std::move(server)), prefix_("duet:" + crypto::Hex(crypto::RandomBytes(4)) + ":") {}
  std::string name() const override { return "redis"; }
  Status Prepare(int) override { return Status::Ok(); }  // streams appear on first XADD

  Result<std::unique_ptr<Client>> Connect(int couple, int side) override {
    auto writer = Open(server_);
    if (!writer.ok()) return writer.error();
    auto reader = Open(server_);
    if (!reader.ok()) return reader.error();
    const std::string stream = prefix_ + std::to_string(couple) + ":";
    auto client = std::make_unique<RedisClient>(std::move(writer).value(), std::move(reader).value(),
                                                stream + std::to_string(side), stream + std::to_string(1 - side));
    DUET_RETURN_IF_ERROR(client->Start());
    return std::unique_ptr<Client>(std::move(client));
  }

 private:
  net::Endpoint server_;
  std::string prefix_;  // fresh each run, so runs never read each other's streams
};

}  // namespace

std::unique_ptr<System> MakeRedisSystem(const net::Endpoint& server) { return std::make_unique<RedisSystem>(server); }

}  // namespace duet::bench
