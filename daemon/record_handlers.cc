// Push, Pull, Purge and Unpair: the couple's record log, with its quota and
// pacing, and its end.
#include "crypto/crypto.h"
#include "daemon/request_handler.h"
#include "proto/envelope.h"

namespace duet::daemon {
namespace {

constexpr std::size_t kMaxReplyBytes = proto::kMaxFrameBytes - 1024;

}  // namespace

void RequestHandler::HandlePush(const ConnectionPtr& c, std::uint64_t id, const v1::Push& request) {
  if (!c->paired()) return c->ReplyError(id, v1::ERROR_CODE_NOT_PAIRED, "pair first");
  if (request.records_size() < 1 || request.records_size() > proto::kMaxRecordsPerPush)
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "a push holds 1 to 100 records");
  // Paced per couple, in records, before any signature is checked: a couple
  // pushing as fast as it can gets a wait, not the relay's CPU or disk.
  const auto wait = push_pacing_.Take(c->couple_id(), clock_.steady(), request.records_size());
  if (wait > RateLimiter::Clock::duration::zero()) {
    log_.Write(LogLevel::kInfo, "paced", "paced couple " + RelayLog::CoupleTag(c->couple_id()) + ": it pushes faster than " +
                            "the relay allows");
    return c->ReplyError(id, v1::ERROR_CODE_RATE_LIMITED,
                         "this couple is sending faster than the relay allows; wait and retry",
                         std::chrono::ceil<std::chrono::milliseconds>(wait));
  }
  for (const auto& envelope : request.records()) {
    std::string why = proto::EnvelopeShapeError(envelope);
    if (why.empty() && envelope.couple_id() != c->couple_id()) why = "record is for another couple";
    if (why.empty() && envelope.author_key() != c->device_key())
      why = "record is signed by another device";
    if (why.empty() && !crypto::Verify(envelope.author_key(),
                                       proto::EnvelopeSignedBytes(envelope), envelope.signature()))
      why = "record signature did not verify";
    if (!why.empty()) return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, why);
  }
  struct Outcome {
    std::vector<std::uint64_t> seqs;
    v1::RecordBatch fresh;  // records new to the log, for the partner
    bool over_quota = false;
    bool ended = false;  // a partner ended the couple (Unpair)
  };
  auto outcome = std::make_shared<Outcome>();
  WithStore(
      c,
      [couple = c->couple_id(), request, outcome, max_records = limits_.max_records_per_couple,
       max_bytes = limits_.max_bytes_per_couple](storage::RelayStore& store) -> Status {
        // Asked in the same transaction that would store, with the couple
        // held (another relay on the same store waits): a push that races
        // the partner's Unpair never lands after the end, and two relays
        // never both pass the quota with the same usage.
        DUET_RETURN_IF_ERROR(store.LockCouple(couple));
        auto ended = store.CoupleEndedAt(couple);
        if (!ended.ok()) return ended.error();
        if (ended.value() != 0) {
          outcome->ended = true;
          return MakeError(ErrorKind::kRefused, "the couple ended");
        }
        auto usage = store.Usage(couple);
        if (!usage.ok()) return usage.error();
        for (const auto& envelope : request.records()) {
          const std::string bytes = envelope.SerializeAsString();
          bool appended = false;
          auto seq = store.Append(couple, envelope.record_id(), envelope.author_key(), bytes,
                                  &appended);
          if (!seq.ok()) return seq.error();
          outcome->seqs.push_back(seq.value());
          if (!appended) continue;
          usage.value().records += 1;
          usage.value().bytes += bytes.size();
          if (usage.value().records > max_records || usage.value().bytes > max_bytes) {
            // Refused whole: failing the job undoes what it appended.
            outcome->over_quota = true;
            return MakeError(ErrorKind::kRefused, "over the couple's quota");
          }
          auto* stored = outcome->fresh.add_records();
          stored->set_seq(seq.value());
          *stored->mutable_envelope() = envelope;
        }
        return Status::Ok();
      },
      [this, c, id, outcome](const Status& status) {
        if (outcome->ended)
          return c->ReplyError(id, v1::ERROR_CODE_UNPAIRED,
                               "your partner ended the pairing; nothing new is stored");
        if (outcome->over_quota) {
          log_.Write(LogLevel::kWarning, "quota", "couple " + RelayLog::CoupleTag(c->couple_id()) + " reached its storage quota");
          return c->ReplyError(id, v1::ERROR_CODE_QUOTA_EXCEEDED,
                               "this couple has reached the relay's storage limit; nothing of "
                               "this push was stored");
        }
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not commit a push: " + status.error().message);
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not commit; retry");
        }
        v1::Frame reply;
        for (auto seq : outcome->seqs) reply.mutable_push_ack()->add_seqs(seq);
        connections_.metrics().records_pushed += static_cast<std::uint64_t>(outcome->fresh.records_size());
        c->Reply(id, std::move(reply));
        DeliverToPartner(*c, outcome->fresh);
      },
      c->couple_id());
}

void RequestHandler::DeliverToPartner(const Connection& author, const v1::RecordBatch& fresh) {
  if (fresh.records_size() == 0) return;
  for (const auto& stored : fresh.records()) Deliver(author.couple_id(), stored, &author);
  // One push's new records have consecutive numbers. Had another relay
  // stored some just before, the feed stays behind them: its catch-up
  // sends those, and these again (a device keeps a record once, by seq).
  auto* feed = connections_.FeedOf(author.couple_id());
  if (feed == nullptr) return;
  if (fresh.records(0).seq() == feed->delivered + 1) feed->delivered = fresh.records(fresh.records_size() - 1).seq();
  else if (fresh.records(0).seq() > feed->delivered + 1) CatchUp(author.couple_id());
}

void RequestHandler::Deliver(const std::string& couple_id, const v1::StoredRecord& stored, const Connection* skip) {
  // One record a frame: each fits, whatever the push's total size.
  v1::Frame deliver;
  *deliver.mutable_record_batch()->add_records() = stored;
  for (const auto& member : connections_.CoupleMembers(couple_id))
    if (member.get() != skip) member->Deliver(deliver);
}

void RequestHandler::StoreChanged(const std::vector<storage::StoreEvent>& events) {
  for (const auto& event : events) {
    switch (event.kind) {
      case storage::StoreEvent::Kind::kGrew:
        if (auto* feed = connections_.FeedOf(event.couple_id); feed != nullptr && event.head > feed->delivered)
          CatchUp(event.couple_id);
        break;
      case storage::StoreEvent::Kind::kEnded:
        // As after an Unpair here: each device hears of the end from AuthOk.
        for (const auto& member : connections_.CoupleMembers(event.couple_id)) member->Finish();
        break;
      case storage::StoreEvent::Kind::kRevoked:
        for (const auto& member : connections_.CoupleMembers(event.couple_id))
          if (member->device_key() == event.device_key) member->Finish();
        break;
    }
  }
}

void RequestHandler::CatchUpAll() {
  for (const auto& couple_id : connections_.CouplesHeld()) CatchUp(couple_id);
}

void RequestHandler::CatchUp(const std::string& couple_id) {
  auto* feed = connections_.FeedOf(couple_id);
  if (feed == nullptr) return;
  if (feed->reading) {
    feed->again = true;
    return;
  }
  feed->reading = true;
  feed->again = false;
  auto entries = std::make_shared<std::vector<storage::LogEntry>>();
  store_.Submit(
      [couple_id, after = feed->delivered, entries](storage::RelayStore& store) -> Status {
        auto read = store.ReadAfter(couple_id, after, proto::kMaxPullLimit, kMaxReplyBytes);
        if (!read.ok()) return read.error();
        *entries = std::move(read).value();
        return Status::Ok();
      },
      [this, couple_id, entries](const Status& status) {
        auto* feed = connections_.FeedOf(couple_id);
        if (feed == nullptr) return;  // the couple's last connection here closed meanwhile
        feed->reading = false;
        if (!status.ok()) {
          // The devices still hold their cursors: their next sync reads it.
          log_.Write(LogLevel::kError, "store", "could not read records another relay stored: " +
                                                    status.error().message);
          return;
        }
        // The feed is settled before anything is sent: a connection that
        // closes as it is sent to may take the couple's feed with it.
        const std::uint64_t sent_before = feed->delivered;
        std::size_t bytes = 0;
        for (const auto& entry : *entries) {
          bytes += entry.envelope.size();
          feed->delivered = std::max(feed->delivered, entry.seq);
        }
        const bool again = entries->size() >= proto::kMaxPullLimit || bytes >= kMaxReplyBytes || feed->again;
        for (const auto& entry : *entries) {
          if (entry.seq <= sent_before) continue;  // sent meanwhile, by a push here
          v1::StoredRecord stored;
          stored.set_seq(entry.seq);
          if (stored.mutable_envelope()->ParseFromString(entry.envelope)) Deliver(couple_id, stored, nullptr);
        }
        if (again) CatchUp(couple_id);
      });
}

void RequestHandler::HandlePull(const ConnectionPtr& c, std::uint64_t id, const v1::Pull& request) {
  if (!c->paired()) return c->ReplyError(id, v1::ERROR_CODE_NOT_PAIRED, "pair first");
  if (request.limit() < 1 || request.limit() > proto::kMaxPullLimit)
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "pull limit must be 1 to 500");
  auto entries = std::make_shared<std::vector<storage::LogEntry>>();
  WithStore(
      c,
      [couple = c->couple_id(), after = request.after_seq(), limit = request.limit(),
       entries](storage::RelayStore& store) -> Status {
        // One more than asked, to know whether more remain.
        auto read = store.ReadAfter(couple, after, limit + 1, kMaxReplyBytes);
        if (!read.ok()) return read.error();
        *entries = std::move(read).value();
        return Status::Ok();
      },
      [this, c, id, entries, limit = request.limit()](const Status& status) {
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not read records: " + status.error().message);
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "relay storage unavailable");
        }
        v1::Frame reply;
        auto* batch = reply.mutable_record_batch();
        // The frame's size so far, counted as records are added (asking the
        // reply for its size walks every record in it: quadratic in a page).
        // Each record adds its tag and length (at most 6 bytes); the frame
        // adds its request id, the batch's tag and length, and `more`.
        constexpr std::size_t kPerRecord = 6;
        constexpr std::size_t kPerFrame = 32;
        std::size_t reply_bytes = kPerFrame;
        std::size_t taken = 0;
        for (; taken < entries->size() && taken < limit; ++taken) {
          v1::StoredRecord stored;
          stored.set_seq((*entries)[taken].seq);
          if (!stored.mutable_envelope()->ParseFromString((*entries)[taken].envelope))
            return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "stored record is unreadable");
          // Stop before the answer would outgrow a frame; the client asks again.
          const std::size_t record_bytes = stored.ByteSizeLong() + kPerRecord;
          if (taken > 0 && reply_bytes + record_bytes > kMaxReplyBytes) break;
          reply_bytes += record_bytes;
          *batch->add_records() = std::move(stored);
        }
        batch->set_more(entries->size() > taken);
        c->Reply(id, std::move(reply));
      });
}

void RequestHandler::HandlePurge(const ConnectionPtr& c, std::uint64_t id, const v1::Purge& request) {
  if (!c->paired()) return c->ReplyError(id, v1::ERROR_CODE_NOT_PAIRED, "pair first");
  if (request.record_ids_size() < 1 || request.record_ids_size() > proto::kMaxRecordsPerPush)
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "a purge names 1 to 100 records");
  for (const auto& record_id : request.record_ids())
    if (record_id.size() != proto::kIdBytes)
      return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "a record id is 16 bytes");
  struct Outcome {
    std::uint32_t purged = 0;
    bool not_theirs = false;
  };
  auto outcome = std::make_shared<Outcome>();
  WithStore(
      c,
      [couple = c->couple_id(), author = c->device_key(),
       ids = std::vector<std::string>(request.record_ids().begin(), request.record_ids().end()),
       outcome](storage::RelayStore& store) -> Status {
        DUET_RETURN_IF_ERROR(store.LockCouple(couple));  // a purge counts each record's bytes once
        auto purged = store.Purge(couple, author, ids);
        if (!purged.ok()) {
          outcome->not_theirs = purged.error().kind == ErrorKind::kRefused;
          return purged.error();
        }
        outcome->purged = purged.value();
        return Status::Ok();
      },
      [this, c, id, outcome](const Status& status) {
        if (outcome->not_theirs)
          return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT,
                               "only a record's author may purge it; nothing was purged");
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not commit a purge: " + status.error().message);
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not commit; retry");
        }
        v1::Frame reply;
        reply.mutable_purged()->set_purged(outcome->purged);
        c->Reply(id, std::move(reply));
      },
      c->couple_id());
}

void RequestHandler::HandleUnpair(const ConnectionPtr& c, std::uint64_t id) {
  if (!c->paired()) return c->ReplyError(id, v1::ERROR_CODE_NOT_PAIRED, "this device is in no couple");
  auto ended = std::make_shared<std::int64_t>(0);
  WithStore(
      c,
      [couple = c->couple_id(), device = c->device_key(), now = clock_.unix_seconds(),
       ended](storage::RelayStore& store) -> Status {
        DUET_RETURN_IF_ERROR(store.LockCouple(couple));  // both partners leaving at once: one end
        auto at = store.LeaveCouple(couple, device, now);
        if (!at.ok()) return at.error();
        *ended = at.value();
        return Status::Ok();
      },
      [this, c, id, ended](const Status& status) {
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not commit an unpairing: " + status.error().message);
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not commit; retry");
        }
        log_.Write(LogLevel::kInfo, "unpaired", "a device left couple " + RelayLog::CoupleTag(c->couple_id()));
        v1::Frame reply;
        reply.mutable_unpaired()->set_ended_at(*ended);
        c->Reply(id, std::move(reply));
      },
      c->couple_id(),
      // Every device of the couple reconnects and hears of the end from
      // AuthOk: none keeps a connection that still counts it paired.
      [this, couple = c->couple_id()] {
        for (const auto& member : connections_.CoupleMembers(couple)) member->Finish();
      });
}

void RequestHandler::HandleRevokeDevice(const ConnectionPtr& c, std::uint64_t id,
                                        const v1::RevokeDevice& request) {
  if (!c->paired()) return c->ReplyError(id, v1::ERROR_CODE_NOT_PAIRED, "this device is in no couple");
  if (request.device_key().size() != proto::kKeyBytes || request.device_key() == c->device_key())
    return c->ReplyError(id, v1::ERROR_CODE_INVALID_ARGUMENT, "name another device of yours, by its 32-byte key");
  auto problem = std::make_shared<v1::ErrorCode>(v1::ERROR_CODE_UNSPECIFIED);
  auto revoked_at = std::make_shared<std::int64_t>(0);
  WithStore(
      c,
      [couple = c->couple_id(), asking = c->device_key(), target = request.device_key(),
       now = clock_.unix_seconds(), problem, revoked_at](storage::RelayStore& store) -> Status {
        DUET_RETURN_IF_ERROR(store.LockCouple(couple));
        auto ended = store.CoupleEndedAt(couple);
        if (!ended.ok()) return ended.error();
        if (ended.value() != 0) {
          *problem = v1::ERROR_CODE_UNPAIRED;
          return Status::Ok();
        }
        auto gone = store.RevokedDevice(target);
        if (!gone.ok()) return gone.error();
        if (gone.value() && gone.value()->couple_id == couple) {  // asked again
          *revoked_at = gone.value()->revoked_at;
          return Status::Ok();
        }
        auto target_couple = store.CoupleOfDevice(target);
        if (!target_couple.ok()) return target_couple.error();
        auto mine = store.PartnerOfDevice(asking);
        if (!mine.ok()) return mine.error();
        auto theirs = store.PartnerOfDevice(target);
        if (!theirs.ok()) return theirs.error();
        // Only a partner's own devices may revoke one of theirs.
        if (target_couple.value() != couple || mine.value() == 0 || mine.value() != theirs.value()) {
          *problem = v1::ERROR_CODE_INVALID_ARGUMENT;
          return Status::Ok();
        }
        *revoked_at = now;
        return store.RevokeDevice(couple, target, now);
      },
      [this, c, id, problem, revoked_at](const Status& status) {
        if (!status.ok()) {
          log_.Write(LogLevel::kError, "store", "could not commit a revocation: " + status.error().message);
          return c->ReplyError(id, v1::ERROR_CODE_INTERNAL, "could not commit; retry");
        }
        if (*problem == v1::ERROR_CODE_UNPAIRED)
          return c->ReplyError(id, *problem, "the couple has ended");
        if (*problem != v1::ERROR_CODE_UNSPECIFIED)
          return c->ReplyError(id, *problem, "that is not another device of yours in this couple");
        log_.Write(LogLevel::kInfo, "revoked", "a device of couple " + RelayLog::CoupleTag(c->couple_id()) + " was revoked");
        v1::Frame reply;
        reply.mutable_device_revoked()->set_revoked_at(*revoked_at);
        c->Reply(id, std::move(reply));
      },
      c->couple_id(),
      // The revoked device's live connections end; it hears why when it
      // comes back (AuthOk.revoked_at).
      [this, problem, couple = c->couple_id(), target = request.device_key()] {
        if (*problem != v1::ERROR_CODE_UNSPECIFIED) return;  // nothing was revoked
        for (const auto& member : connections_.CoupleMembers(couple))
          if (member->device_key() == target) member->Finish();
      });
}

}  // namespace duet::daemon
