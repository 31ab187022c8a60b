// Invites: how two devices become a couple (docs/protocol.md §4-§5), with
// the limits that keep a stranger from filling the invite table, and the
// tokens of an invite-only relay.
#include "daemon/relay_token.h"
#include "daemon/request_handler.h"
#include "proto/envelope.h"

namespace duet::daemon {
namespace {

constexpr std::uint32_t kMinInviteTtl = 60;
constexpr std::uint32_t kMaxInviteTtl = 7 * 24 * 3600;

// Why `device` cannot use an invite at `now`, or UNSPECIFIED when it can. The
// device that answered it may come back (a join interrupted after the relay
// paired it but before the device saved its partner).
v1::ErrorCode InviteProblem(const std::optional<storage::InviteRow>& invite,
                            const std::string& device, std::int64_t now) {
  if (!invite) return v1::ERROR_CODE_INVITE_NOT_FOUND;
  if (invite->replaced) return v1::ERROR_CODE_INVITE_REPLACED;
  if (invite->answered) {
    return invite->answerer_key == device ? v1::ERROR_CODE_UNSPECIFIED : v1::ERROR_CODE_INVITE_USED;
  }
  if (invite->expires_at <= now) return v1::ERROR_CODE_INVITE_EXPIRED;
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
    case v1::ERROR_CODE_INVITE_REPLACED:
      return "this invite was replaced by a newer one";
    default:
      return "invite cannot be used";
  }
}

// A refusal decided on the store thread, said on the network thread.
struct Refusal {
  v1::ErrorCode code = v1::ERROR_CODE_UNSPECIFIED;
  std::string message;
  std::chrono::milliseconds retry_after{};
  explicit operator bool() const { return code != v1::ERROR_CODE_UNSPECIFIED; }
};

}  // namespace

bool RequestHandler::AllowInviteLookup(const ConnectionPtr& c, std::uint64_t id) {
  // The limit stops guessing. A device in a couple learns nothing by
  // guessing (another couple's invite answers as if absent), and polls its
  // own link invite while the other device acts (protocol.md §5.1).
  if (c->paired()) return true;
  const auto wait = invite_lookups_.Take(c->peer_address(), clock_.steady());
  if (wait == RateLimiter::Clock::duration::zero()) return true;
  log_.Write(LogLevel::kWarning, "lookups", "invite lookups from " + c->peer_address() + " are being rate-limited");
  c->ReplyError(id, v1::ERROR_CODE_RATE_LIMITED,
                "too many invite lookups from this address; wait and try again",
                std::chrono::ceil<std::chrono::milliseconds>(wait));
  return false;
}

void RequestHandler::PurgeExpiredInvites(std::function<void()> then) {
  const std::int64_t now = clock_.unix_seconds();
  store_.Submit(
      [invites_before = now - limits_.expired_invite_kept.count(),
       couples_before = now - limits_.unpaired_kept.count()](storage::RelayStore& store) -> Status {
        DUET_RETURN_IF_ERROR(store.PurgeExpiredInvites(invites_before));
        return store.PurgeEndedMailboxes(couples_before);
      },
      [this, then = std::move(then)](const Status& status) {
        if (!status.ok())
          log_.Write(LogLevel::kError, "store", "could not purge expired invites and ended couples: " + status.error().message);
        if (then) then();
      });
}

void RequestHandler::HandleCreateInvite(const ConnectionPtr& c, std::uint64_t id,
                                        const v1::CreateInvite& request) {
  const bool link = request.link_device();
  if (c->paired() && !link)
    return c->ReplyError(id, v1::ERROR_CODE_ALREADY_PAIRED, "this device is already paired");
  if (link && (!c->paired() || request.couple_id() != c->couple_id()))
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT,
                         "a device links others into its own couple only: pair first");
  if (request.invite_id().size() != proto::kIdBytes ||
      request.couple_id().size() != proto::kIdBytes || request.sealed_offer().empty() ||
      request.sealed_offer().size() > proto::kMaxSealedInviteBytes ||
      request.ttl_seconds() < kMinInviteTtl || request.ttl_seconds() > kMaxInviteTtl ||
      request.relay_token().size() > 64)
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "malformed invite");
  const std::int64_t now = clock_.unix_seconds();
  storage::InviteRow invite;
  invite.invite_id = request.invite_id();
  invite.couple_id = request.couple_id();
  invite.creator_key = c->device_key();
  invite.sealed_offer = request.sealed_offer();
  invite.expires_at = now + request.ttl_seconds();
  invite.creator_address = c->peer_address();
  invite.link = link;
  const std::string token_hash =
      request.relay_token().empty() ? std::string() : RelayTokenHash(request.relay_token());
  auto refusal = std::make_shared<Refusal>();
  WithStore(
      c,
      [invite, now, refusal, token_hash, invite_only = admission_ == Admission::kInviteOnly,
       limits = limits_, replace = request.replace_open()](storage::RelayStore& store) -> Status {
        DUET_RETURN_IF_ERROR(store.PurgeExpiredInvites(now - limits.expired_invite_kept.count()));
        auto mine = store.OpenInvites(invite.creator_key, now);
        if (!mine.ok()) return mine.error();
        // Invites about to be replaced do not count against the new one.
        if (!replace && mine.value() >= limits.max_open_invites_per_device) {
          *refusal = {v1::ERROR_CODE_RATE_LIMITED,
                      "this device has " + std::to_string(limits.max_open_invites_per_device) +
                          " open invites; use one or let them expire"};
          return Status::Ok();
        }
        auto from_address = store.PendingInvitesFrom(invite.creator_address, now);
        if (!from_address.ok()) return from_address.error();
        auto everyone = store.PendingInvites(now);
        if (!everyone.ok()) return everyone.error();
        if (from_address.value() >= limits.max_pending_invites_per_address ||
            everyone.value() >= limits.max_pending_invites) {
          *refusal = {v1::ERROR_CODE_RATE_LIMITED,
                      "the relay holds as many open invites as it takes; try again later",
                      std::chrono::minutes(1)};
          return Status::Ok();
        }
        auto existing = store.FindInvite(invite.invite_id);
        if (!existing.ok()) return existing.error();
        if (existing.value()) {
          *refusal = {v1::ERROR_CODE_INVITE_EXISTS, "an invite with that id exists"};
          return Status::Ok();
        }
        if (invite.link) {
          auto ended = store.CoupleEndedAt(invite.couple_id);
          if (!ended.ok()) return ended.error();
          if (ended.value() != 0) {
            *refusal = {v1::ERROR_CODE_UNPAIRED, "this couple has ended; it links no new device"};
            return Status::Ok();
          }
        }
        // A linked device joins a couple whose mailbox is open already.
        if (invite_only && !invite.link) {
          // Last, so a refusal above never spends a token.
          auto spent = store.DeviceSpentToken(invite.creator_key);
          if (!spent.ok()) return spent.error();
          if (!spent.value()) {
            std::optional<storage::TokenRow> token;
            if (!token_hash.empty()) {
              auto found = store.FindToken(token_hash);
              if (!found.ok()) return found.error();
              token = found.value();
            }
            if (!token) {
              *refusal = {v1::ERROR_CODE_TOKEN_REQUIRED,
                          token_hash.empty()
                              ? "this relay is invite-only: a new couple needs a token from its owner"
                              : "this relay does not know that token"};
              return Status::Ok();
            }
            if (!token->spent_by.empty()) {
              *refusal = {v1::ERROR_CODE_TOKEN_REQUIRED, "that token was used already"};
              return Status::Ok();
            }
            DUET_RETURN_IF_ERROR(store.SpendToken(token_hash, invite.creator_key));
          }
        }
        // Only now, with the new invite sure to be stored: a refused one
        // must leave the old code working.
        if (replace) DUET_RETURN_IF_ERROR(store.ReplaceOpenInvites(invite.creator_key));
        return store.CreateInvite(invite);
      },
      [this, c, id, refusal, expires = invite.expires_at](const Status& status) {
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not store an invite: " + status.error().message);
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not store invite");
        }
        if (*refusal) {
          if (refusal->code == v1::ERROR_CODE_RATE_LIMITED)
            log_.Write(LogLevel::kInfo, "invites", "refused an invite from " + c->peer_address() + ": " +
                                      refusal->message);
          return c->ReplyError(id, refusal->code, refusal->message, refusal->retry_after);
        }
        v1::Frame reply;
        reply.mutable_invite_created()->set_expires_at(expires);
        c->Reply(id, std::move(reply));
      });
}

void RequestHandler::WithInvite(const ConnectionPtr& c, std::uint64_t id,
                                const std::string& invite_id,
                                std::function<void(const std::optional<storage::InviteRow>&)> then) {
  if (invite_id.size() != proto::kIdBytes)
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "invite_id must be 16 bytes");
  if (!AllowInviteLookup(c, id)) return;
  auto invite = std::make_shared<std::optional<storage::InviteRow>>();
  WithStore(
      c,
      [invite_id, invite](storage::RelayStore& store) -> Status {
        auto found = store.FindInvite(invite_id);
        if (!found.ok()) return found.error();
        *invite = std::move(found).value();
        return Status::Ok();
      },
      [c, id, invite, then = std::move(then)](const Status& status) {
        if (!status.ok())
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "relay storage unavailable");
        then(*invite);
      });
}

void RequestHandler::HandleFetchInvite(const ConnectionPtr& c, std::uint64_t id,
                                       const v1::FetchInvite& request) {
  WithInvite(c, id, request.invite_id(), [this, c, id](const std::optional<storage::InviteRow>& invite) {
    if (c->paired() && !(invite && invite->couple_id == c->couple_id()))
      return c->ReplyError(id, v1::ERROR_CODE_ALREADY_PAIRED, "this device is already paired");
    const v1::ErrorCode problem = InviteProblem(invite, c->device_key(), clock_.unix_seconds());
    if (problem != v1::ERROR_CODE_UNSPECIFIED)
      return c->ReplyError(id, problem, InviteProblemText(problem));
    v1::Frame reply;
    reply.mutable_invite_offer()->set_sealed_offer(invite->sealed_offer);
    // Only to the device it was sealed to (InviteProblem let only the
    // answerer past an answered invite).
    if (invite->link && invite->answered) reply.mutable_invite_offer()->set_sealed_keys(invite->sealed_keys);
    c->Reply(id, std::move(reply));
  });
}

void RequestHandler::HandleAnswerInvite(const ConnectionPtr& c, std::uint64_t id,
                                        const v1::AnswerInvite& request) {
  if (request.invite_id().size() != proto::kIdBytes || request.sealed_answer().empty() ||
      request.sealed_answer().size() > proto::kMaxSealedInviteBytes)
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "malformed answer");
  if (!AllowInviteLookup(c, id)) return;
  auto problem = std::make_shared<v1::ErrorCode>(v1::ERROR_CODE_UNSPECIFIED);
  auto couple = std::make_shared<std::string>();
  auto linked = std::make_shared<bool>(false);
  auto latest = std::make_shared<std::uint64_t>(0);
  WithStore(
      c,
      [invite_id = request.invite_id(), answer = request.sealed_answer(), device = c->device_key(),
       paired_to = c->couple_id(), now = clock_.unix_seconds(), problem, couple, linked, latest,
       max_devices = limits_.max_devices_per_couple](storage::RelayStore& store) -> Status {
        auto found = store.FindInvite(invite_id);
        if (!found.ok()) return found.error();
        if (!paired_to.empty() && !(found.value() && found.value()->couple_id == paired_to)) {
          *problem = v1::ERROR_CODE_ALREADY_PAIRED;
          return Status::Ok();
        }
        *problem = InviteProblem(found.value(), device, now);
        if (*problem != v1::ERROR_CODE_UNSPECIFIED) return Status::Ok();
        if (found.value()->creator_key == device) {
          *problem = v1::ERROR_CODE_INVALID_ARGUMENT;
          return Status::Ok();
        }
        *couple = found.value()->couple_id;
        *linked = found.value()->link;
        // A linked device joins a couple that may have a history already.
        auto seq = store.LatestSeq(*couple);
        if (!seq.ok()) return seq.error();
        *latest = seq.value();
        if (found.value()->answered) return Status::Ok();  // this device, again
        // A device of the couple already answers only a link code: one that
        // joined through an earlier code whose keys never came.
        if (!paired_to.empty() && !found.value()->link) {
          *problem = v1::ERROR_CODE_ALREADY_PAIRED;
          return Status::Ok();
        }
        auto creator_couple = store.CoupleOfDevice(found.value()->creator_key);
        if (!creator_couple.ok()) return creator_couple.error();
        if (found.value()->link) {
          // The creator must still be in the couple it links into, the
          // couple must last, and hold room for one more device.
          auto ended = store.CoupleEndedAt(found.value()->couple_id);
          if (!ended.ok()) return ended.error();
          auto devices = store.DevicesOf(found.value()->couple_id);
          if (!devices.ok()) return devices.error();
          if (creator_couple.value() != found.value()->couple_id || ended.value() != 0)
            *problem = v1::ERROR_CODE_UNPAIRED;
          else if (paired_to.empty() && devices.value() >= max_devices)
            *problem = v1::ERROR_CODE_QUOTA_EXCEEDED;
          if (*problem != v1::ERROR_CODE_UNSPECIFIED) return Status::Ok();
        } else if (creator_couple.value()) {
          // Its creator paired meanwhile through another of its invites.
          *problem = v1::ERROR_CODE_INVITE_USED;
          return Status::Ok();
        }
        return store.AnswerInvite(invite_id, device, answer);
      },
      [this, c, id, problem, couple, linked, latest](const Status& status) {
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not pair: " + status.error().message);
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not pair");
        }
        if (*problem == v1::ERROR_CODE_INVALID_ARGUMENT)
          return c->ReplyError(id, *problem, "a device cannot answer its own invite");
        if (*problem == v1::ERROR_CODE_ALREADY_PAIRED)
          return c->ReplyError(id, *problem, "this device is already paired");
        if (*problem == v1::ERROR_CODE_UNPAIRED)
          return c->ReplyError(id, *problem,
                               "the device that made this code is no longer in its couple (the pairing ended, or "
                               "that device was revoked)");
        if (*problem == v1::ERROR_CODE_QUOTA_EXCEEDED)
          return c->ReplyError(id, *problem,
                               "this couple has " + std::to_string(limits_.max_devices_per_couple) +
                                   " devices, as many as this relay holds for one couple");
        if (*problem != v1::ERROR_CODE_UNSPECIFIED)
          return c->ReplyError(id, *problem, InviteProblemText(*problem));
        if (!c->paired()) {
          if (*linked) {
            log_.Write(LogLevel::kInfo, "linked", "a device joined couple " + RelayLog::CoupleTag(*couple));
          } else {
            ++connections_.metrics().pairings;
            log_.Write(LogLevel::kInfo, "paired", "a couple paired (couple " + RelayLog::CoupleTag(*couple) + ")");
          }
          c->BecomePaired(*couple, *latest);
        }
        v1::Frame reply;
        reply.mutable_paired()->set_couple_id(*couple);
        c->Reply(id, std::move(reply));
      });
}

void RequestHandler::HandleCheckInvite(const ConnectionPtr& c, std::uint64_t id,
                                       const v1::CheckInvite& request) {
  WithInvite(c, id, request.invite_id(), [this, c, id](const std::optional<storage::InviteRow>& invite) {
    // Only the creator may learn the answer; to anyone else it does not exist.
    if (!invite || invite->creator_key != c->device_key())
      return c->ReplyError(id, v1::ERROR_CODE_INVITE_NOT_FOUND, "no such invite on this relay");
    v1::Frame reply;
    auto* state = reply.mutable_invite_state();
    state->set_answered(invite->answered);
    if (invite->answered) {
      state->set_sealed_answer(invite->sealed_answer);
      // The couple is as new as its partner's answer: what the partner
      // wrote since, if anything, is delivered again rather than missed.
      if (!c->paired()) c->BecomePaired(invite->couple_id, 0);
    } else if (invite->expires_at <= clock_.unix_seconds()) {
      return c->ReplyError(id, v1::ERROR_CODE_INVITE_EXPIRED, "this invite has expired");
    }
    c->Reply(id, std::move(reply));
  });
}

void RequestHandler::HandleCompleteLink(const ConnectionPtr& c, std::uint64_t id,
                                        const v1::CompleteLink& request) {
  if (request.invite_id().size() != proto::kIdBytes || request.sealed_keys().empty() ||
      request.sealed_keys().size() > proto::kMaxSealedLinkKeysBytes)
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "malformed link keys");
  auto problem = std::make_shared<v1::ErrorCode>(v1::ERROR_CODE_UNSPECIFIED);
  WithStore(
      c,
      [invite_id = request.invite_id(), keys = request.sealed_keys(), device = c->device_key(),
       now = clock_.unix_seconds(), problem](storage::RelayStore& store) -> Status {
        auto found = store.FindInvite(invite_id);
        if (!found.ok()) return found.error();
        // Only the creator may complete it; to anyone else it does not exist.
        if (!found.value() || found.value()->creator_key != device) {
          *problem = v1::ERROR_CODE_INVITE_NOT_FOUND;
          return Status::Ok();
        }
        if (!found.value()->link || !found.value()->answered) {
          *problem = v1::ERROR_CODE_INVALID_ARGUMENT;
          return Status::Ok();
        }
        return store.CompleteLink(invite_id, keys, now);
      },
      [this, c, id, problem](const Status& status) {
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not keep link keys: " + status.error().message);
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not commit; retry");
        }
        if (*problem == v1::ERROR_CODE_INVITE_NOT_FOUND)
          return c->ReplyError(id, *problem, "no such invite on this relay");
        if (*problem != v1::ERROR_CODE_UNSPECIFIED)
          return c->ReplyError(id, *problem, "only an answered link invite can be completed");
        log_.Write(LogLevel::kInfo, "linked", "a device was linked (couple " + RelayLog::CoupleTag(c->couple_id()) + ")");
        v1::Frame reply;
        reply.mutable_link_completed();
        c->Reply(id, std::move(reply));
      });
}

}  // namespace duet::daemon
