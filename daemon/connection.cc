#include "daemon/connection.h"

#include <cctype>

#include "crypto/crypto.h"
#include "daemon/connection_manager.h"
#include "daemon/request_handler.h"

namespace duet::daemon {
namespace {

// A client that stops reading must not make the relay buffer without bound:
// past the first mark its further requests wait; past the second (its
// partner's records pile up unread) it is closed and pulls later.
constexpr std::size_t kStopServingAbove = 64u << 10;
constexpr std::size_t kMaxQueuedBytes = 8u << 20;

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, std::string peer_address,
                       std::uint64_t serial, ConnectionContext& context)
    : socket_(std::move(socket)),
      context_(context),
      peer_address_(std::move(peer_address)),
      serial_(serial),
      decoder_(proto::kChannelOverheadBytes,
               context.limits.max_stranger_frame_bytes + proto::kChannelOverheadBytes) {}

Connection::~Connection() = default;

void Connection::Start() {
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);  // ReadMore reads only what is there
  handshake_deadline_ = context_.clock.steady() + context_.limits.handshake_timeout;
  deadline_ = handshake_deadline_;
  ReadMore();
}

void Connection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  context_.manager.Forget(*this);
}

void Connection::set_phase(Phase phase) {
  phase_ = phase;
  if (phase_ == Phase::kReady) {
    context_.manager.Authenticated(*this);
    idle_deadline_ = context_.clock.steady() + context_.limits.idle_timeout;
    UpdateDeadline();
  }
}

void Connection::BecomePaired(std::string couple_id, std::uint64_t seen_seq) {
  couple_id_ = std::move(couple_id);
  decoder_.set_max_payload(proto::kMaxSealedFrameBytes);
  context_.manager.Paired(shared_from_this(), seen_seq);
}

void Connection::UpdateDeadline() {
  if (phase_ != Phase::kReady) {
    deadline_ = handshake_deadline_;
    return;
  }
  if (decoder_.buffered() == 0) {
    frame_started_ = false;
    deadline_ = idle_deadline_;
    return;
  }
  // Counted from the frame's first byte: bytes that trickle in after it do
  // not move the deadline.
  if (!frame_started_) {
    frame_started_ = true;
    frame_deadline_ = context_.clock.steady() + context_.limits.frame_timeout;
  }
  deadline_ = frame_deadline_;
}

// Waits until the socket is readable and only then reads, into one buffer
// per network thread: an idle connection holds no read buffer of its own
// (16 KiB each once, most of an idle connection's memory; docs/performance.md).
void Connection::ReadMore() {
  if (reading_ || closed() || close_after_write_) return;
  reading_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](asio::error_code ec) {
    self->reading_ = false;
    if (ec) return self->Close();
    if (self->closed()) return;
    thread_local std::array<char, 16 * 1024> scratch;
    const std::size_t n = self->socket_.read_some(asio::buffer(scratch), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return self->ReadMore();
    if (ec) return self->Close();
    self->OnRead(std::string_view(scratch.data(), n));
  });
}

void Connection::OnRead(std::string_view bytes) {
  context_.manager.metrics().bytes_received += bytes.size();
  if (phase_ == Phase::kChannelHello || phase_ == Phase::kChannelHeader) {
    // Never more than the handshake's 61 bytes plus one read are held here.
    handshake_bytes_.append(bytes);
  } else {
    decoder_.Append(bytes);
  }
  // Over the relay's receive budget someone is shed; it may be us.
  if (!context_.manager.Charge(*this)) return;
  ProcessFrames();
}

bool Connection::AdvanceHandshake() {
  if (phase_ == Phase::kChannelHello) {
    if (handshake_bytes_.size() < crypto::kClientHelloBytes) return false;
    const std::string_view hello(handshake_bytes_.data(), crypto::kClientHelloBytes);
    // Size, magic and version are checked before any public-key operation;
    // a stranger gets no answer at all.
    if (!crypto::IsClientHello(hello)) {
      context_.manager.metrics().handshakes.Add("bad_hello");
      Close();
      return false;
    }
    auto answer = crypto::RespondToHello(context_.relay_keys, hello, &sender_);
    if (!answer) {
      context_.manager.metrics().handshakes.Add("bad_hello");
      Close();
      return false;
    }
    client_to_relay_ = answer->keys.client_to_relay;
    channel_hash_ = answer->transcript_hash;
    handshake_bytes_.erase(0, crypto::kClientHelloBytes);
    phase_ = Phase::kChannelHeader;
    queued_bytes_ += answer->server_hello.size();
    write_queue_.push_back(std::move(answer->server_hello));
    if (!writing_) WriteNext();
  }
  if (phase_ == Phase::kChannelHeader) {
    if (handshake_bytes_.size() < crypto::kStreamHeaderBytes) return false;
    const bool started = receiver_.Start(
        client_to_relay_, std::string_view(handshake_bytes_.data(), crypto::kStreamHeaderBytes));
    client_to_relay_.Wipe();
    if (!started) {
      context_.manager.metrics().handshakes.Add("bad_hello");
      Close();
      return false;
    }
    decoder_.Append(std::string_view(handshake_bytes_).substr(crypto::kStreamHeaderBytes));
    std::string().swap(handshake_bytes_);
    phase_ = Phase::kHello;
  }
  return true;
}

void Connection::ProcessFrames() {
  if (phase_ == Phase::kChannelHello || phase_ == Phase::kChannelHeader) {
    if (!AdvanceHandshake()) {
      if (!closed()) ReadMore();
      return;
    }
  }
  while (!suspended_ && !closed() && !close_after_write_) {
    // A client that does not read its answers gets no more until it does.
    if (queued_bytes_ > kStopServingAbove) return;
    std::string payload;
    std::string why;
    switch (decoder_.NextPayload(&payload, &why)) {
      case proto::FrameDecoder::Outcome::kFrame: {
        if (phase_ == Phase::kReady) {
          idle_deadline_ = context_.clock.steady() + context_.limits.idle_timeout;
          frame_started_ = false;
        }
        bool final = false;
        auto plain = receiver_.Open(payload, &final);
        // Altered, dropped, replayed or reordered in transit: nothing it
        // carried is trusted, and the stream cannot be resynchronized.
        if (!plain) return Close();
        if (final) return plain->empty() ? Finish() : Close();
        v1::Frame frame;
        if (!proto::ParseFrame(*plain, &frame, &why))
          return Fail(0, v1::ERROR_CODE_BAD_FRAME, why);
        context_.handler.Handle(shared_from_this(), frame);
        continue;
      }
      case proto::FrameDecoder::Outcome::kBad:
        context_.manager.log().Write(LogLevel::kInfo, "bad-frame", "closed a connection from " + peer_address_ +
                                                      ": " + why);
        Fail(0, v1::ERROR_CODE_BAD_FRAME, why);
        return;
      case proto::FrameDecoder::Outcome::kNeedMore:
        // What was consumed may have given memory back: count it now, not
        // at the next read (which may be a minute away).
        if (!context_.manager.Charge(*this)) return;
        UpdateDeadline();
        ReadMore();
        return;
    }
  }
}

void Connection::Resume() {
  suspended_ = false;
  if (!closed()) ProcessFrames();
}

void Connection::Reply(std::uint64_t id, v1::Frame frame) {
  frame.set_request_id(id);
  std::string plain = proto::SerializeFrame(frame);
  if (plain.empty()) {
    // Envelopes are bounded so every answer fits a frame; if one still does
    // not, say so rather than leave the client waiting.
    v1::Frame error;
    error.set_request_id(id);
    error.mutable_error()->set_code(v1::ERROR_CODE_INTERNAL);
    error.mutable_error()->set_message("answer too large for one frame");
    CountRefusal(v1::ERROR_CODE_INTERNAL, "answer too large for one frame");
    plain = proto::SerializeFrame(error);
  }
  Send(std::move(plain));
}

void Connection::ReplyError(std::uint64_t id, v1::ErrorCode code, const std::string& message,
                            std::chrono::milliseconds retry_after) {
  CountRefusal(code, message);
  v1::Frame frame;
  frame.mutable_error()->set_code(code);
  frame.mutable_error()->set_message(message);
  if (retry_after.count() > 0)
    frame.mutable_error()->set_retry_after_ms(static_cast<std::uint32_t>(
        std::min<std::chrono::milliseconds::rep>(retry_after.count(), UINT32_MAX)));
  Reply(id, std::move(frame));
}

void Connection::CountRefusal(v1::ErrorCode code, const std::string& message) {
  RelayMetrics& metrics = context_.manager.metrics();
  // "ERROR_CODE_QUOTA_EXCEEDED" counts as "quota_exceeded": a fixed set of words.
  std::string reason = v1::ErrorCode_Name(code);
  reason.erase(0, std::string_view("ERROR_CODE_").size());
  for (char& ch : reason) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  metrics.refusals.Add(reason);
  if (code == v1::ERROR_CODE_INTERNAL) {
    ++metrics.internal_errors;
    context_.manager.log().Write(LogLevel::kError, "internal",
                                 "answered INTERNAL to a client from " + peer_address_ + ": " + message);
  }
}

void Connection::Fail(std::uint64_t id, v1::ErrorCode code, const std::string& message) {
  ReplyError(id, code, message);
  Finish();
}

void Connection::Finish() {
  if (closed() || close_after_write_) return;
  if (phase_ == Phase::kChannelHello || phase_ == Phase::kChannelHeader) return Close();
  const std::string final = sender_.Seal({}, /*final=*/true);
  final_sent_ = true;
  queued_bytes_ += final.size() + proto::kFrameHeaderBytes;
  write_queue_.push_back(proto::LengthPrefixed(final));
  close_after_write_ = true;
  if (!writing_) WriteNext();
}

void Connection::Send(std::string plain) {
  // Nothing may follow TAG_FINAL, and nothing precedes the channel.
  if (closed() || phase_ == Phase::kChannelHello || phase_ == Phase::kChannelHeader ||
      final_sent_) {
    crypto::WipeString(plain);
    return;
  }
  std::string wire = proto::LengthPrefixed(sender_.Seal(plain));
  crypto::WipeString(plain);
  queued_bytes_ += wire.size();
  if (queued_bytes_ > kMaxQueuedBytes) return Close();
  write_queue_.push_back(std::move(wire));
  if (!writing_) WriteNext();
}

void Connection::WriteNext() {
  if (write_queue_.empty() || closed()) {
    if (close_after_write_) Close();
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_queue_.front()),
                    [self = shared_from_this()](asio::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) return self->Close();
                      self->context_.manager.metrics().bytes_sent += self->write_queue_.front().size();
                      self->queued_bytes_ -= self->write_queue_.front().size();
                      self->write_queue_.pop_front();
                      const bool was_held_back = !self->suspended_ && !self->reading_;
                      self->WriteNext();
                      // Answers drained: serve what waited meanwhile.
                      if (was_held_back && self->queued_bytes_ <= kStopServingAbove &&
                          !self->closed())
                        self->ProcessFrames();
                    });
}

}  // namespace duet::daemon
