#include "daemon/request_handler.h"

#include "crypto/crypto.h"
#include "net/net.h"
#include "proto/envelope.h"

namespace duet::daemon {

RequestHandler::RequestHandler(const crypto::KxKeyPair& relay_keys, const Clock& clock,
                               const RelayLimits& limits, Admission admission, GroupCommit& store,
                               ConnectionManager& connections, RelayLog& log,
                               std::string next_relay_key)
    : relay_keys_(relay_keys),
      next_relay_key_(std::move(next_relay_key)),
      clock_(clock),
      limits_(limits),
      admission_(admission),
      store_(store),
      connections_(connections),
      log_(log),
      invite_lookups_(limits.invite_lookup_burst, limits.invite_lookup_interval),
      push_pacing_(limits.push_burst_records, limits.push_record_interval) {}

namespace {

// For the metrics: a fixed word per request kind.
const char* RequestName(v1::Frame::BodyCase body) {
  switch (body) {
    case v1::Frame::kCreateInvite: return "create_invite";
    case v1::Frame::kFetchInvite: return "fetch_invite";
    case v1::Frame::kAnswerInvite: return "answer_invite";
    case v1::Frame::kCheckInvite: return "check_invite";
    case v1::Frame::kCompleteLink: return "complete_link";
    case v1::Frame::kPush: return "push";
    case v1::Frame::kPull: return "pull";
    case v1::Frame::kPurge: return "purge";
    case v1::Frame::kUnpair: return "unpair";
    case v1::Frame::kRevokeDevice: return "revoke_device";
    case v1::Frame::kPing: return "ping";
    default: return "other";
  }
}

}  // namespace

void RequestHandler::Handle(const ConnectionPtr& c, const v1::Frame& frame) {
  using Phase = Connection::Phase;
  const std::uint64_t id = frame.request_id();
  switch (c->phase()) {
    case Phase::kChannelHello:
    case Phase::kChannelHeader:
    case Phase::kClosed:
      return;  // frames flow only while the channel is up
    case Phase::kHello:
      if (!frame.has_client_hello())
        return c->Fail(id, v1::ERROR_CODE_NOT_AUTHENTICATED, "send ClientHello first");
      return HandleHello(c, frame);
    case Phase::kAuthenticate:
      if (!frame.has_authenticate())
        return c->Fail(id, v1::ERROR_CODE_NOT_AUTHENTICATED, "send Authenticate after ServerHello");
      return HandleAuthenticate(c, frame);
    case Phase::kReady:
      break;
  }
  if (id == 0) return c->Fail(0, v1::ERROR_CODE_BAD_FRAME, "requests need a request_id above 0");
  connections_.metrics().requests.Add(RequestName(frame.body_case()));
  if (c->revoked() && !frame.has_ping())
    return c->ReplyError(id, v1::ERROR_CODE_DEVICE_REVOKED,
                         "another device of yours revoked this one; it syncs nothing more");
  switch (frame.body_case()) {
    case v1::Frame::kCreateInvite:
      return HandleCreateInvite(c, id, frame.create_invite());
    case v1::Frame::kFetchInvite:
      return HandleFetchInvite(c, id, frame.fetch_invite());
    case v1::Frame::kAnswerInvite:
      return HandleAnswerInvite(c, id, frame.answer_invite());
    case v1::Frame::kCheckInvite:
      return HandleCheckInvite(c, id, frame.check_invite());
    case v1::Frame::kCompleteLink:
      return HandleCompleteLink(c, id, frame.complete_link());
    case v1::Frame::kPush:
      return HandlePush(c, id, frame.push());
    case v1::Frame::kPull:
      return HandlePull(c, id, frame.pull());
    case v1::Frame::kPurge:
      return HandlePurge(c, id, frame.purge());
    case v1::Frame::kUnpair:
      return HandleUnpair(c, id);
    case v1::Frame::kRevokeDevice:
      return HandleRevokeDevice(c, id, frame.revoke_device());
    case v1::Frame::kPing: {
      v1::Frame pong;
      pong.mutable_pong();
      return c->Reply(id, std::move(pong));
    }
    default:
      return c->Fail(id, v1::ERROR_CODE_UNEXPECTED_MESSAGE, "that message is not a request");
  }
}

void RequestHandler::HandleHello(const ConnectionPtr& c, const v1::Frame& frame) {
  const auto& hello = frame.client_hello();
  if (hello.agent().size() > 64)
    return c->Fail(frame.request_id(), v1::ERROR_CODE_BAD_FRAME, "agent is longer than 64 bytes");
  if (hello.min_version() > net::kProtocolVersion || hello.max_version() < net::kProtocolVersion)
    return c->Fail(frame.request_id(), v1::ERROR_CODE_UNSUPPORTED_VERSION,
                   "this relay speaks protocol version 1 only");
  c->challenge() = crypto::RandomBytes(32);
  v1::Frame reply;
  auto* server_hello = reply.mutable_server_hello();
  server_hello->set_version(net::kProtocolVersion);
  server_hello->set_relay_key(relay_keys_.public_key);
  server_hello->set_challenge(c->challenge());
  if (!next_relay_key_.empty()) server_hello->set_next_relay_key(next_relay_key_);
  c->set_phase(Connection::Phase::kAuthenticate);
  c->Reply(frame.request_id(), std::move(reply));
}

void RequestHandler::HandleAuthenticate(const ConnectionPtr& c, const v1::Frame& frame) {
  const auto& auth = frame.authenticate();
  const std::uint64_t id = frame.request_id();
  // Lengths first: a wrong-size key never reaches the signature check.
  if (auth.device_key().size() != proto::kKeyBytes ||
      auth.signature().size() != proto::kSignatureBytes ||
      !crypto::Verify(auth.device_key(),
                      net::AuthTranscript(c->channel_hash(), c->challenge(), relay_keys_.public_key,
                                          auth.device_key()),
                      auth.signature()))
  {
    connections_.metrics().handshakes.Add("refused");
    return c->Fail(id, v1::ERROR_CODE_AUTH_FAILED, "device signature did not verify");
  }
  c->set_device_key(auth.device_key());
  auto couple = std::make_shared<std::string>();
  auto latest = std::make_shared<std::uint64_t>(0);
  auto ended = std::make_shared<std::int64_t>(0);
  auto revoked = std::make_shared<std::int64_t>(0);
  WithStore(
      c,
      [device = auth.device_key(), couple, latest, ended, revoked](storage::RelayStore& store) -> Status {
        auto found = store.CoupleOfDevice(device);
        if (!found.ok()) return found.error();
        if (!found.value()) {
          auto gone = store.RevokedDevice(device);
          if (!gone.ok()) return gone.error();
          if (gone.value()) {
            *couple = gone.value()->couple_id;
            *revoked = gone.value()->revoked_at;
          }
          return Status::Ok();
        }
        if (found.value()) {
          *couple = *found.value();
          auto seq = store.LatestSeq(*couple);
          if (!seq.ok()) return seq.error();
          *latest = seq.value();
          auto ended_at = store.CoupleEndedAt(*couple);
          if (!ended_at.ok()) return ended_at.error();
          *ended = ended_at.value();
        }
        return Status::Ok();
      },
      [this, c, id, couple, latest, ended, revoked](const Status& status) {
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not look up a device: " + status.error().message);
          return c->Fail(id, v1::ERROR_CODE_INTERNAL, "relay storage unavailable");
        }
        connections_.metrics().handshakes.Add("ok");
        c->set_phase(Connection::Phase::kReady);
        if (*revoked != 0) c->BecomeRevoked();
        else if (!couple->empty()) c->BecomePaired(*couple, *latest);
        v1::Frame reply;
        reply.mutable_auth_ok()->set_couple_id(*couple);
        reply.mutable_auth_ok()->set_latest_seq(*latest);
        reply.mutable_auth_ok()->set_ended_at(*ended);
        reply.mutable_auth_ok()->set_revoked_at(*revoked);
        c->Reply(id, std::move(reply));
      });
}

void RequestHandler::WithStore(const ConnectionPtr& c, GroupCommit::Work work,
                               std::function<void(const Status&)> done, std::string couple,
                               std::function<void()> settled) {
  c->Suspend();
  store_.Submit(
      std::move(work),
      [c, done = std::move(done), settled = std::move(settled)](const Status& status) {
        if (!c->closed()) {
          done(status);
          c->Resume();
        }
        if (status.ok() && settled) settled();
      },
      std::move(couple));
}

}  // namespace duet::daemon
