#include "daemon/session.h"

#include <ctime>

#include "crypto/crypto.h"
#include "net/net.h"
#include "proto/envelope.h"

namespace duet::daemon {
namespace {

// A client that stops reading must not make the relay buffer without bound.
constexpr std::size_t kMaxQueuedBytes = 8u << 20;
constexpr std::uint32_t kMinInviteTtl = 60;
constexpr std::uint64_t kMaxOpenInvitesPerDevice = 5;
constexpr std::size_t kMaxReplyBytes = proto::kMaxFrameBytes - 1024;
constexpr std::uint32_t kMaxInviteTtl = 7 * 24 * 3600;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

Session::Session(asio::ip::tcp::socket socket, RelayContext& context)
    : socket_(std::move(socket)), context_(context), timer_(context.io) {
  asio::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) peer_address_ = remote.address().to_string();
}

Session::~Session() = default;

bool Session::AllowInviteLookup(std::uint64_t id) {
  if (context_.invite_lookups.Allow(peer_address_, RateLimiter::Clock::now())) return true;
  ReplyError(id, v1::ERROR_CODE_RATE_LIMITED,
             "too many invite lookups from this address; wait a minute and try again");
  return false;
}

void Session::Start() {
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  ArmTimer(context_.handshake_timeout);
  ReadMore();
}

void Session::ArmTimer(std::chrono::seconds timeout) {
  timer_.expires_after(timeout);
  timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (!ec) self->Close();  // handshake or idle timeout
  });
}

void Session::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  if (!couple_id_.empty()) context_.registry.Leave(couple_id_, this);
  asio::error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void Session::ReadMore() {
  if (reading_ || phase_ == Phase::kClosed || close_after_write_) return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](
                                                          asio::error_code ec, std::size_t n) {
    self->reading_ = false;
    if (ec) {
      self->Close();
      return;
    }
    const std::string_view bytes(self->read_buffer_.data(), n);
    if (self->phase_ == Phase::kChannelHello || self->phase_ == Phase::kChannelHeader) {
      // Never more than the handshake's 61 bytes plus one read are held here.
      self->handshake_bytes_.append(bytes);
    } else {
      self->decoder_.Append(bytes);
    }
    if (self->phase_ == Phase::kReady) self->ArmTimer(self->context_.idle_timeout);
    self->ProcessFrames();
  });
}

bool Session::AdvanceHandshake() {
  if (phase_ == Phase::kChannelHello) {
    if (handshake_bytes_.size() < crypto::kClientHelloBytes) return false;
    const std::string_view hello(handshake_bytes_.data(), crypto::kClientHelloBytes);
    // Size, magic and version are checked before any public-key operation;
    // a stranger gets no answer at all.
    if (!crypto::IsClientHello(hello)) {
      Close();
      return false;
    }
    auto answer = crypto::RespondToHello(context_.relay_keys, hello, &sender_);
    if (!answer) {
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
      Close();
      return false;
    }
    decoder_.Append(std::string_view(handshake_bytes_).substr(crypto::kStreamHeaderBytes));
    handshake_bytes_.clear();
    handshake_bytes_.shrink_to_fit();
    phase_ = Phase::kHello;
  }
  return true;
}

void Session::ProcessFrames() {
  if (phase_ == Phase::kChannelHello || phase_ == Phase::kChannelHeader) {
    if (!AdvanceHandshake()) {
      ReadMore();
      return;
    }
  }
  while (!busy_ && phase_ != Phase::kClosed && !close_after_write_) {
    std::string payload;
    std::string why;
    switch (decoder_.NextPayload(&payload, &why)) {
      case proto::FrameDecoder::Outcome::kFrame: {
        bool final = false;
        auto plain = receiver_.Open(payload, &final);
        // Altered, dropped, replayed or reordered in transit: nothing it
        // carried is trusted, and the stream cannot be resynchronized.
        if (!plain) return Close();
        if (final) return plain->empty() ? Finish() : Close();
        v1::Frame frame;
        if (!proto::ParseFrame(*plain, &frame, &why)) return Fail(0, v1::ERROR_CODE_BAD_FRAME, why);
        Handle(frame);
        continue;
      }
      case proto::FrameDecoder::Outcome::kBad:
        Fail(0, v1::ERROR_CODE_BAD_FRAME, why);
        return;
      case proto::FrameDecoder::Outcome::kNeedMore:
        ReadMore();
        return;
    }
  }
}

void Session::Handle(const v1::Frame& frame) {
  const std::uint64_t id = frame.request_id();
  switch (phase_) {
    case Phase::kChannelHello:
    case Phase::kChannelHeader:
      return;  // frames flow only once the channel is up
    case Phase::kHello:
      if (!frame.has_client_hello())
        return Fail(id, v1::ERROR_CODE_NOT_AUTHENTICATED, "send ClientHello first");
      return HandleHello(frame);
    case Phase::kAuthenticate:
      if (!frame.has_authenticate())
        return Fail(id, v1::ERROR_CODE_NOT_AUTHENTICATED, "send Authenticate after ServerHello");
      return HandleAuthenticate(frame);
    case Phase::kClosed:
      return;
    case Phase::kReady:
      break;
  }
  if (id == 0) return Fail(0, v1::ERROR_CODE_BAD_FRAME, "requests need a request_id above 0");
  switch (frame.body_case()) {
    case v1::Frame::kCreateInvite:
      return HandleCreateInvite(id, frame.create_invite());
    case v1::Frame::kFetchInvite:
      return HandleFetchInvite(id, frame.fetch_invite());
    case v1::Frame::kAnswerInvite:
      return HandleAnswerInvite(id, frame.answer_invite());
    case v1::Frame::kCheckInvite:
      return HandleCheckInvite(id, frame.check_invite());
    case v1::Frame::kPush:
      return HandlePush(id, frame.push());
    case v1::Frame::kPull:
      return HandlePull(id, frame.pull());
    case v1::Frame::kPing: {
      v1::Frame pong;
      pong.mutable_pong();
      return Reply(id, std::move(pong));
    }
    default:
      return Fail(id, v1::ERROR_CODE_UNEXPECTED_MESSAGE, "that message is not a request");
  }
}

void Session::HandleHello(const v1::Frame& frame) {
  const auto& hello = frame.client_hello();
  if (hello.agent().size() > 64)
    return Fail(frame.request_id(), v1::ERROR_CODE_BAD_FRAME, "agent is longer than 64 bytes");
  if (hello.min_version() > net::kProtocolVersion || hello.max_version() < net::kProtocolVersion)
    return Fail(frame.request_id(), v1::ERROR_CODE_UNSUPPORTED_VERSION,
                "this relay speaks protocol version 1 only");
  challenge_ = crypto::RandomBytes(32);
  v1::Frame reply;
  auto* server_hello = reply.mutable_server_hello();
  server_hello->set_version(net::kProtocolVersion);
  server_hello->set_relay_key(context_.relay_keys.public_key);
  server_hello->set_challenge(challenge_);
  phase_ = Phase::kAuthenticate;
  Reply(frame.request_id(), std::move(reply));
}

void Session::HandleAuthenticate(const v1::Frame& frame) {
  const auto& auth = frame.authenticate();
  const std::uint64_t id = frame.request_id();
  // Lengths first: a wrong-size key never reaches the signature check.
  if (auth.device_key().size() != proto::kKeyBytes ||
      auth.signature().size() != proto::kSignatureBytes ||
      !crypto::Verify(auth.device_key(),
                      net::AuthTranscript(channel_hash_, challenge_, context_.relay_keys.public_key,
                                          auth.device_key()),
                      auth.signature()))
    return Fail(id, v1::ERROR_CODE_AUTH_FAILED, "device signature did not verify");
  device_key_ = auth.device_key();
  auto couple = std::make_shared<std::string>();
  auto latest = std::make_shared<std::uint64_t>(0);
  WithStore(
      [device = device_key_, couple, latest](storage::RelayStore& store) -> Status {
        auto found = store.CoupleOfDevice(device);
        if (!found.ok()) return found.error();
        if (found.value()) {
          *couple = *found.value();
          auto seq = store.LatestSeq(*couple);
          if (!seq.ok()) return seq.error();
          *latest = seq.value();
        }
        return Status::Ok();
      },
      [this, id, couple, latest](const Status& status) {
        if (!status.ok()) return Fail(id, v1::ERROR_CODE_INTERNAL, "relay storage unavailable");
        phase_ = Phase::kReady;
        ArmTimer(context_.idle_timeout);
        if (!couple->empty()) JoinCouple(*couple);
        v1::Frame reply;
        reply.mutable_auth_ok()->set_couple_id(*couple);
        reply.mutable_auth_ok()->set_latest_seq(*latest);
        Reply(id, std::move(reply));
      });
}

void Session::JoinCouple(const std::string& couple_id) {
  couple_id_ = couple_id;
  context_.registry.Join(couple_id_, shared_from_this());
}

void Session::HandleCreateInvite(std::uint64_t id, const v1::CreateInvite& request) {
  if (!couple_id_.empty())
    return ReplyError(id, v1::ERROR_CODE_ALREADY_PAIRED, "this device is already paired");
  if (request.invite_id().size() != proto::kIdBytes ||
      request.couple_id().size() != proto::kIdBytes || request.sealed_offer().empty() ||
      request.sealed_offer().size() > proto::kMaxSealedInviteBytes ||
      request.ttl_seconds() < kMinInviteTtl || request.ttl_seconds() > kMaxInviteTtl)
    return ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "malformed invite");
  storage::InviteRow invite;
  invite.invite_id = request.invite_id();
  invite.couple_id = request.couple_id();
  invite.creator_key = device_key_;
  invite.sealed_offer = request.sealed_offer();
  invite.expires_at = Now() + request.ttl_seconds();
  auto outcome = std::make_shared<v1::ErrorCode>(v1::ERROR_CODE_UNSPECIFIED);
  WithStore(
      [invite, outcome](storage::RelayStore& store) -> Status {
        // Expired, unanswered invites are kept a day (so a late join hears
        // "expired", not "unknown"), then dropped: the table cannot grow
        // without bound.
        DUET_RETURN_IF_ERROR(store.PurgeExpiredInvites(Now() - 86400));
        auto open = store.OpenInvites(invite.creator_key, Now());
        if (!open.ok()) return open.error();
        if (open.value() >= kMaxOpenInvitesPerDevice) {
          *outcome = v1::ERROR_CODE_RATE_LIMITED;
          return Status::Ok();
        }
        auto existing = store.FindInvite(invite.invite_id);
        if (!existing.ok()) return existing.error();
        if (existing.value()) {
          *outcome = v1::ERROR_CODE_INVITE_EXISTS;
          return Status::Ok();
        }
        return store.CreateInvite(invite);
      },
      [this, id, outcome, expires = invite.expires_at](const Status& status) {
        if (!status.ok()) return ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not store invite");
        if (*outcome == v1::ERROR_CODE_RATE_LIMITED)
          return ReplyError(id, *outcome, "this device has 5 open invites; use one or let them expire");
        if (*outcome != v1::ERROR_CODE_UNSPECIFIED)
          return ReplyError(id, *outcome, "an invite with that id exists");
        v1::Frame reply;
        reply.mutable_invite_created()->set_expires_at(expires);
        Reply(id, std::move(reply));
      });
}

namespace {

// Why `device` cannot use an invite now, or UNSPECIFIED when it can. The
// device that answered it may come back (a join interrupted after the relay
// paired it but before the device saved its partner).
v1::ErrorCode InviteProblem(const std::optional<storage::InviteRow>& invite,
                            const std::string& device) {
  if (!invite) return v1::ERROR_CODE_INVITE_NOT_FOUND;
  if (invite->answered) {
    return invite->answerer_key == device ? v1::ERROR_CODE_UNSPECIFIED : v1::ERROR_CODE_INVITE_USED;
  }
  if (invite->expires_at <= Now()) return v1::ERROR_CODE_INVITE_EXPIRED;
  return v1::ERROR_CODE_UNSPECIFIED;
}

std::string InviteProblemText(v1::ErrorCode code) {
  switch (code) {
    case v1::ERROR_CODE_INVITE_NOT_FOUND:
      return "no such invite on this relay";
    case v1::ERROR_CODE_INVITE_USED:
      return "this invite was used already";
    case v1::ERROR_CODE_INVITE_EXPIRED:
      return "this invite has expired";
    default:
      return "invite cannot be used";
  }
}

}  // namespace

void Session::WithInvite(std::uint64_t id, const std::string& invite_id,
                         std::function<void(const std::optional<storage::InviteRow>&)> then) {
  if (invite_id.size() != proto::kIdBytes)
    return ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "invite_id must be 16 bytes");
  if (!AllowInviteLookup(id)) return;
  auto invite = std::make_shared<std::optional<storage::InviteRow>>();
  WithStore(
      [invite_id, invite](storage::RelayStore& store) -> Status {
        auto found = store.FindInvite(invite_id);
        if (!found.ok()) return found.error();
        *invite = std::move(found).value();
        return Status::Ok();
      },
      [this, id, invite, then = std::move(then)](const Status& status) {
        if (!status.ok()) return ReplyError(id, v1::ERROR_CODE_INTERNAL, "relay storage unavailable");
        then(*invite);
      });
}

void Session::HandleFetchInvite(std::uint64_t id, const v1::FetchInvite& request) {
  WithInvite(id, request.invite_id(), [this, id](const std::optional<storage::InviteRow>& invite) {
    if (!couple_id_.empty() && !(invite && invite->couple_id == couple_id_))
      return ReplyError(id, v1::ERROR_CODE_ALREADY_PAIRED, "this device is already paired");
    const v1::ErrorCode problem = InviteProblem(invite, device_key_);
    if (problem != v1::ERROR_CODE_UNSPECIFIED)
      return ReplyError(id, problem, InviteProblemText(problem));
    v1::Frame reply;
    reply.mutable_invite_offer()->set_sealed_offer(invite->sealed_offer);
    Reply(id, std::move(reply));
  });
}

void Session::HandleAnswerInvite(std::uint64_t id, const v1::AnswerInvite& request) {
  if (request.invite_id().size() != proto::kIdBytes || request.sealed_answer().empty() ||
      request.sealed_answer().size() > proto::kMaxSealedInviteBytes)
    return ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "malformed answer");
  if (!AllowInviteLookup(id)) return;
  auto problem = std::make_shared<v1::ErrorCode>(v1::ERROR_CODE_UNSPECIFIED);
  auto couple = std::make_shared<std::string>();
  WithStore(
      [invite_id = request.invite_id(), answer = request.sealed_answer(), device = device_key_,
       paired_to = couple_id_, problem, couple](storage::RelayStore& store) -> Status {
        auto found = store.FindInvite(invite_id);
        if (!found.ok()) return found.error();
        if (!paired_to.empty() && !(found.value() && found.value()->couple_id == paired_to)) {
          *problem = v1::ERROR_CODE_ALREADY_PAIRED;
          return Status::Ok();
        }
        *problem = InviteProblem(found.value(), device);
        if (*problem != v1::ERROR_CODE_UNSPECIFIED) return Status::Ok();
        if (found.value()->creator_key == device) {
          *problem = v1::ERROR_CODE_INVALID_ARGUMENT;
          return Status::Ok();
        }
        *couple = found.value()->couple_id;
        if (found.value()->answered) return Status::Ok();  // this device, again
        return store.AnswerInvite(invite_id, device, answer);
      },
      [this, id, problem, couple](const Status& status) {
        if (!status.ok()) return ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not pair");
        if (*problem == v1::ERROR_CODE_INVALID_ARGUMENT)
          return ReplyError(id, *problem, "a device cannot answer its own invite");
        if (*problem == v1::ERROR_CODE_ALREADY_PAIRED)
          return ReplyError(id, *problem, "this device is already paired");
        if (*problem != v1::ERROR_CODE_UNSPECIFIED)
          return ReplyError(id, *problem, InviteProblemText(*problem));
        if (couple_id_.empty()) JoinCouple(*couple);
        v1::Frame reply;
        reply.mutable_paired()->set_couple_id(*couple);
        Reply(id, std::move(reply));
      });
}

void Session::HandleCheckInvite(std::uint64_t id, const v1::CheckInvite& request) {
  WithInvite(id, request.invite_id(), [this, id](const std::optional<storage::InviteRow>& invite) {
    // Only the creator may learn the answer; to anyone else it does not exist.
    if (!invite || invite->creator_key != device_key_)
      return ReplyError(id, v1::ERROR_CODE_INVITE_NOT_FOUND, "no such invite on this relay");
    v1::Frame reply;
    auto* state = reply.mutable_invite_state();
    state->set_answered(invite->answered);
    if (invite->answered) {
      state->set_sealed_answer(invite->sealed_answer);
      if (couple_id_.empty()) JoinCouple(invite->couple_id);
    } else if (invite->expires_at <= Now()) {
      return ReplyError(id, v1::ERROR_CODE_INVITE_EXPIRED, "this invite has expired");
    }
    Reply(id, std::move(reply));
  });
}

void Session::HandlePush(std::uint64_t id, const v1::Push& request) {
  if (couple_id_.empty()) return ReplyError(id, v1::ERROR_CODE_NOT_PAIRED, "pair first");
  if (request.records_size() < 1 || request.records_size() > proto::kMaxRecordsPerPush)
    return ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "a push holds 1 to 100 records");
  for (const auto& envelope : request.records()) {
    std::string why = proto::EnvelopeShapeError(envelope);
    if (why.empty() && envelope.couple_id() != couple_id_) why = "record is for another couple";
    if (why.empty() && envelope.author_key() != device_key_)
      why = "record is signed by another device";
    if (why.empty() && !crypto::Verify(envelope.author_key(),
                                       proto::EnvelopeSignedBytes(envelope), envelope.signature()))
      why = "record signature did not verify";
    if (!why.empty()) return ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, why);
  }
  struct Outcome {
    std::vector<std::uint64_t> seqs;
    v1::RecordBatch fresh;  // records new to the log, for the partner
  };
  auto outcome = std::make_shared<Outcome>();
  WithStore(
      [couple = couple_id_, request, outcome](storage::RelayStore& store) -> Status {
        for (const auto& envelope : request.records()) {
          bool appended = false;
          auto seq = store.Append(couple, envelope.record_id(), envelope.author_key(),
                                  envelope.SerializeAsString(), &appended);
          if (!seq.ok()) return seq.error();
          outcome->seqs.push_back(seq.value());
          if (appended) {
            auto* stored = outcome->fresh.add_records();
            stored->set_seq(seq.value());
            *stored->mutable_envelope() = envelope;
          }
        }
        return Status::Ok();
      },
      [this, id, outcome](const Status& status) {
        if (!status.ok()) return ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not commit; retry");
        v1::Frame reply;
        for (auto seq : outcome->seqs) reply.mutable_push_ack()->add_seqs(seq);
        Reply(id, std::move(reply));
        if (outcome->fresh.records_size() == 0) return;
        // One record a frame: each fits, whatever the push's total size.
        for (const auto& member : context_.registry.Members(couple_id_)) {
          if (member.get() == this) continue;
          for (const auto& stored : outcome->fresh.records()) {
            v1::Frame deliver;
            *deliver.mutable_record_batch()->add_records() = stored;
            member->Deliver(deliver);
          }
        }
      });
}

void Session::HandlePull(std::uint64_t id, const v1::Pull& request) {
  if (couple_id_.empty()) return ReplyError(id, v1::ERROR_CODE_NOT_PAIRED, "pair first");
  if (request.limit() < 1 || request.limit() > proto::kMaxPullLimit)
    return ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "pull limit must be 1 to 500");
  auto entries = std::make_shared<std::vector<storage::LogEntry>>();
  WithStore(
      [couple = couple_id_, after = request.after_seq(), limit = request.limit(),
       entries](storage::RelayStore& store) -> Status {
        // One more than asked, to know whether more remain.
        auto read = store.ReadAfter(couple, after, limit + 1, kMaxReplyBytes);
        if (!read.ok()) return read.error();
        *entries = std::move(read).value();
        return Status::Ok();
      },
      [this, id, entries, limit = request.limit()](const Status& status) {
        if (!status.ok()) return ReplyError(id, v1::ERROR_CODE_INTERNAL, "relay storage unavailable");
        v1::Frame reply;
        auto* batch = reply.mutable_record_batch();
        std::size_t taken = 0;
        for (; taken < entries->size() && taken < limit; ++taken) {
          v1::StoredRecord stored;
          stored.set_seq((*entries)[taken].seq);
          if (!stored.mutable_envelope()->ParseFromString((*entries)[taken].envelope))
            return ReplyError(id, v1::ERROR_CODE_INTERNAL, "stored record is unreadable");
          // Stop before the answer would outgrow a frame; the client asks again.
          if (taken > 0 && reply.ByteSizeLong() + stored.ByteSizeLong() + 16 > kMaxReplyBytes)
            break;
          *batch->add_records() = std::move(stored);
        }
        batch->set_more(entries->size() > taken);
        Reply(id, std::move(reply));
      });
}

void Session::WithStore(GroupCommit::Work work, std::function<void(const Status&)> done) {
  busy_ = true;
  context_.store.Submit(std::move(work),
                        [self = shared_from_this(), done = std::move(done)](const Status& status) {
                          self->busy_ = false;
                          if (self->phase_ == Phase::kClosed) return;
                          done(status);
                          self->ProcessFrames();
                        });
}

void Session::Deliver(const v1::Frame& frame) { Send(frame); }

void Session::Reply(std::uint64_t id, v1::Frame frame) {
  frame.set_request_id(id);
  Send(std::move(frame));
}

void Session::ReplyError(std::uint64_t id, v1::ErrorCode code, const std::string& message) {
  v1::Frame frame;
  frame.mutable_error()->set_code(code);
  frame.mutable_error()->set_message(message);
  Reply(id, std::move(frame));
}

void Session::Finish() {
  if (phase_ == Phase::kClosed || close_after_write_) return;
  if (phase_ == Phase::kChannelHello || phase_ == Phase::kChannelHeader) return Close();
  const std::string final = sender_.Seal({}, /*final=*/true);
  final_sent_ = true;
  queued_bytes_ += final.size() + proto::kFrameHeaderBytes;
  write_queue_.push_back(proto::LengthPrefixed(final));
  close_after_write_ = true;
  if (!writing_) WriteNext();
}

void Session::Fail(std::uint64_t id, v1::ErrorCode code, const std::string& message) {
  ReplyError(id, code, message);
  Finish();
}

void Session::Send(v1::Frame frame) {
  if (phase_ == Phase::kClosed) return;
  // Nothing may follow TAG_FINAL, and nothing precedes the channel.
  if (phase_ == Phase::kChannelHello || phase_ == Phase::kChannelHeader || final_sent_) return;
  std::string plain = proto::SerializeFrame(frame);
  if (plain.empty()) {
    // Envelopes are bounded so every answer fits a frame; if one still does
    // not, say so rather than leave the client waiting.
    v1::Frame error;
    error.set_request_id(frame.request_id());
    error.mutable_error()->set_code(v1::ERROR_CODE_INTERNAL);
    error.mutable_error()->set_message("answer too large for one frame");
    plain = proto::SerializeFrame(error);
  }
  std::string wire = proto::LengthPrefixed(sender_.Seal(plain));
  crypto::WipeString(plain);
  queued_bytes_ += wire.size();
  if (queued_bytes_ > kMaxQueuedBytes) return Close();
  write_queue_.push_back(std::move(wire));
  if (!writing_) WriteNext();
}

void Session::WriteNext() {
  if (write_queue_.empty() || phase_ == Phase::kClosed) {
    if (close_after_write_) Close();
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_queue_.front()),
                    [self = shared_from_this()](asio::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) return self->Close();
                      self->queued_bytes_ -= self->write_queue_.front().size();
                      self->write_queue_.pop_front();
                      self->WriteNext();
                    });
}

}  // namespace duet::daemon
