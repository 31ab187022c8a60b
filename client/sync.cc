#include "client/sync.h"

#include <chrono>
#include <map>
#include <set>

#include "base/crash_point.h"
#include "client/model/could_not_read.h"
#include "client/model/deletion.h"
#include "client/linking.h"
#include "client/relay_session.h"
#include "client/sealing.h"
#include "proto/envelope.h"
#include "proto/frame_codec.h"

namespace duet::client {
namespace {

constexpr std::size_t kPushBytesBudget = proto::kMaxFrameBytes / 2;

std::string PartnerName(Device& device) {
  auto partner = device.partner();
  return partner ? partner->name : "your partner";
}

model::v1::PairingIdentity MyIdentity(Device& device) {
  model::v1::PairingIdentity identity;
  identity.set_name(device.name());
  identity.set_sign_key(device.keys().identity.public_key);
  identity.set_kx_key(device.keys().exchange.public_key);
  return identity;
}

Status FinishPairing(Device& device, const crypto::SymmetricKey& secret,
                     const model::v1::PairingIdentity& partner, PairingRole role) {
  if (partner.sign_key() == device.my_key())
    return MakeError(ErrorKind::kInvalidInput, "this invite is your own; give it to your partner");
  auto couple_key = DeriveCoupleKey(secret, device.keys().exchange, partner.kx_key(), role);
  if (!couple_key.ok()) return couple_key.error();
  return device.CompletePairing(couple_key.value(), DeriveInviteKeys(secret).couple_id,
                                Partner{partner.name(), partner.sign_key(), partner.kx_key()});
}

// Asks the relay whether the partner answered this device's invite.
Status CheckPendingInvite(Device& device, RelaySession& session, SyncReport& report) {
  const crypto::SymmetricKey secret = *device.pending_invite();
  const InviteKeys keys = DeriveInviteKeys(secret);
  v1::Frame request;
  request.mutable_check_invite()->set_invite_id(keys.invite_id);
  RelayRefusal refusal;
  auto reply = session.Call(std::move(request), &refusal);
  if (!reply.ok()) {
    if (refusal.code == v1::ERROR_CODE_INVITE_EXPIRED || refusal.code == v1::ERROR_CODE_INVITE_NOT_FOUND) {
      DUET_RETURN_IF_ERROR(device.ClearPendingInvite());
      report.warnings.push_back(
          "your invite expired before your partner used it; make a new one with: duet invite");
      return Status::Ok();
    }
    return reply.error();
  }
  if (!reply->has_invite_state())
    return MakeError(ErrorKind::kProtocol, "relay answered CheckInvite with something else");
  if (!reply->invite_state().answered()) {
    report.waiting_for_partner = true;
    return Status::Ok();
  }
  auto partner = OpenIdentity(keys, PairingRole::kJoiner, reply->invite_state().sealed_answer());
  if (!partner.ok()) return partner.error();
  DUET_RETURN_IF_ERROR(FinishPairing(device, secret, partner.value(), PairingRole::kCreator));
  report.paired_with = partner->name();
  return Status::Ok();
}

// The relay's pacing or quota, said so that nobody thinks a change is lost.
std::string HeldBackReason(const RelayRefusal& refusal, std::size_t waiting) {
  const std::string changes = std::to_string(waiting) + (waiting == 1 ? " change" : " changes");
  if (refusal.code == v1::ERROR_CODE_QUOTA_EXCEEDED)
    return changes + " stay queued here: your couple has reached this relay's storage limit; "
                     "ask the relay's owner to raise it (nothing is lost)";
  const std::uint32_t seconds = (refusal.retry_after_ms + 999) / 1000;
  return changes + " stay queued here: the relay paces how fast a couple sends; run `duet sync` " +
         (seconds > 0 ? "again in " + std::to_string(seconds) + " s" : "again in a minute") +
         " (nothing is lost)";
}

Status PushOutbox(Device& device, RelaySession& session, SyncReport& report) {
  auto outbox = device.store().Outbox();
  if (!outbox.ok()) return outbox.error();
  const auto& records = outbox.value();
  std::size_t next = 0;
  while (next < records.size()) {
    v1::Frame request;
    std::vector<const storage::ReplicaRecord*> sent;
    std::size_t bytes = 0;
    while (next < records.size() && sent.size() < static_cast<std::size_t>(proto::kMaxRecordsPerPush) &&
           (sent.empty() || bytes + records[next].envelope.size() < kPushBytesBudget)) {
      if (!request.mutable_push()->add_records()->ParseFromString(records[next].envelope))
        return MakeError(ErrorKind::kIo, "a queued record in the local database is damaged");
      bytes += records[next].envelope.size();
      sent.push_back(&records[next++]);
    }
    RelayRefusal refusal;
    auto reply = session.Call(std::move(request), &refusal);
    if (!reply.ok()) {
      const std::size_t waiting = records.size() - next + sent.size();
      if (refusal.code == v1::ERROR_CODE_RATE_LIMITED || refusal.code == v1::ERROR_CODE_QUOTA_EXCEEDED) {
        report.held_back = HeldBackReason(refusal, waiting);
        report.over_quota = refusal.code == v1::ERROR_CODE_QUOTA_EXCEEDED;
        return Status::Ok();  // what is queued stays queued; the pull still runs
      }
      return reply.error();
    }
    if (!reply->has_push_ack() || reply->push_ack().seqs_size() != static_cast<int>(sent.size()))
      return MakeError(ErrorKind::kProtocol, "relay acknowledged a different number of records");
    // Acknowledged but not yet marked: the next push sends them again, and
    // the relay answers with the same numbers.
    CrashPoint("sync-acknowledged");
    for (std::size_t i = 0; i < sent.size(); ++i)
      DUET_RETURN_IF_ERROR(device.store().MarkPushed(sent[i]->record_id, reply->push_ack().seqs(i)));
    report.pushed += sent.size();
  }
  return Status::Ok();
}

// Pulls the log after the cursor. With `rescan`, reads the whole log again
// instead, taking only records not held yet (a record the relay had lost
// may be back) and leaving the cursor and the refusals as they were.
Status PullNew(Device& device, RelaySession& session, SyncReport& report, bool rescan = false) {
  const Device::DeviceListsKept lists(device);
  auto held = device.store().AllRecords();
  if (!held.ok()) return held.error();
  std::set<std::string> known;
  for (const auto& record : held.value()) known.insert(record.record_id);
  // Where each revoked device's records stop counting: the place of the
  // record that revoked it, held or arriving in this very pull.
  std::map<std::string, std::uint64_t> revoked_from;
  auto revoked_since = [&](const std::string& key) -> std::optional<std::uint64_t> {
    if (auto it = revoked_from.find(key); it != revoked_from.end()) return it->second;
    return device.RevokedSince(key);
  };
  std::uint64_t after = 0;
  for (;;) {
    auto cursor = device.store().Cursor();
    if (!cursor.ok()) return cursor.error();
    if (!rescan) after = cursor.value();
    v1::Frame request;
    request.mutable_pull()->set_after_seq(after);
    request.mutable_pull()->set_limit(proto::kMaxPullLimit);
    auto reply = session.Call(std::move(request));
    if (!reply.ok()) return reply.error();
    if (!reply->has_record_batch())
      return MakeError(ErrorKind::kProtocol, "relay answered Pull with something else");
    const auto& batch = reply->record_batch();
    std::vector<storage::PulledRecord> accepted;
    std::vector<storage::RejectedRecord> rejected;
    std::uint64_t last = after;
    for (const auto& stored : batch.records()) {
      if (stored.seq() <= last)
        return MakeError(ErrorKind::kProtocol, "relay sent records out of order");
      last = stored.seq();
      const auto& envelope = stored.envelope();
      if (rescan && known.count(envelope.record_id())) continue;
      Result<OpenedBody> opened = MakeError(ErrorKind::kRefused,
                                            "written by a device that was revoked before it (it no longer counts)");
      if (auto since = revoked_since(envelope.author_key()); !since || stored.seq() < *since)
        opened = device.VerifyIncoming(envelope);
      // A kept note of the partner's, between their own devices: not ours
      // to read, and nothing is wrong with it (protocol.md §5.1). Asked only
      // of what did not open, so the common record costs no lookup.
      if (!opened.ok() && device.IsPartnersOwnNote(envelope)) continue;
      if (!opened.ok()) {
        if (rescan) continue;  // refused already when it was first pulled
        rejected.push_back({stored.seq(), envelope.record_id(), opened.error().message});
        ++report.refused;
        report.warnings.push_back("refused the relay's record #" + std::to_string(stored.seq()) + ": " +
                                  opened.error().message +
                                  (opened.error().kind == ErrorKind::kRefused
                                       ? " (the other records synced)"
                                       : " (altered or forged; the other records synced)"));
        continue;
      }
      const bool from_partner = device.PersonOf(envelope.author_key()) != device.my_key();
      if (from_partner && !known.count(envelope.record_id())) ++report.pulled;
      // Authentic but against the rules, or from a newer duet: stored (the
      // author's chain stays whole), said once here, never shown.
      if (!opened->verdict.valid())
        report.warnings.push_back(model::DescribeUnshown(opened->body, opened->verdict,
                                                         from_partner ? PartnerName(device) : "you", from_partner));
      // A new key must be in place before the records sealed under it. Even
      // from a record not shown: the key proves itself (its id must match),
      // and without it every later record of the partner would be lost.
      // A key not sealed for this device (its author did not know it yet)
      // is said, not fatal: the other records still sync.
      if (Status applied = device.ApplyRekey(opened->body, envelope.author_key()); !applied.ok()) {
        if (applied.error().kind != ErrorKind::kVerification) return applied;
        report.warnings.push_back(applied.error().message);
      }
      // So is a new device before what it writes.
      if (opened->verdict.valid()) {
        DUET_RETURN_IF_ERROR(device.ApplyDeviceLinked(opened->body, envelope.author_key()));
        DUET_RETURN_IF_ERROR(device.ApplyDeviceRevoked(opened->body, envelope.author_key(), envelope.record_id()));
        if (opened->body.has_device_revoked()) {
          const std::string& target = opened->body.device_revoked().sign_key();
          for (bool mine : {true, false})
            for (const auto& d : device.Devices(mine))
              if (d.sign_key() == target && d.revoked_by() == envelope.record_id()) revoked_from[target] = stored.seq();
        }
      }
      known.insert(envelope.record_id());
      accepted.push_back(
          {stored.seq(), envelope.record_id(), envelope.author_key(), envelope.SerializeAsString()});
      // This very device was revoked: what follows is not for it.
      if (opened->body.has_device_revoked() && device.revoked_at()) break;
    }
    // Verified but not yet stored: the cursor has not moved, so the next
    // pull fetches them again.
    CrashPoint("sync-received");
    if (rescan) {
      if (!accepted.empty())
        DUET_RETURN_IF_ERROR(device.store().ApplyPulled(accepted, {}, cursor.value()));
      after = last;
    } else if (last != cursor.value()) {
      DUET_RETURN_IF_ERROR(device.store().ApplyPulled(accepted, rejected, last));
    }
    if (!batch.more() || batch.records_size() == 0 || device.revoked_at()) return Status::Ok();
  }
}

// Says each line once, when it first appears under `meta_key`; returns how
// many were new. `duet status` keeps showing every one that still holds.
Result<std::size_t> SayOnce(Device& device, const std::string& meta_key, const std::vector<std::string>& lines,
                            SyncReport& report) {
  auto said = device.store().GetMeta(meta_key);
  if (!said.ok()) return said.error();
  const std::string before = said.value().value_or("");
  std::set<std::string_view> already;
  for (std::size_t start = 0, end; (end = before.find('\n', start)) != std::string::npos; start = end + 1)
    already.insert(std::string_view(before).substr(start, end - start));
  std::string now;
  std::size_t fresh = 0;
  for (const auto& line : lines) {
    now += line + "\n";
    if (!already.count(line)) {
      report.warnings.push_back(line);
      ++fresh;
    }
  }
  if (now != before) DUET_RETURN_IF_ERROR(device.store().SetMeta(meta_key, now));
  return fresh;
}

Status ReportChainFindings(Device& device, SyncReport& report) {
  auto chains = device.CheckChains();
  if (!chains.ok()) return chains.error();
  auto fresh = SayOnce(device, "chain.reported", chains->findings, report);
  if (!fresh.ok()) return fresh.error();
  report.new_chain_findings += fresh.value();
  return Status::Ok();
}

// Commit, then reveal: my key goes out only once the partner's own sealed
// reflection (or answer) is in the log, so neither can write theirs after
// reading mine.
Status ReleaseReflectionKeys(Device& device, const std::vector<model::OpenedRecord>& records,
                             SyncReport& report) {
  const model::CoupleState state = model::Fold(records, device.my_key());
  // My sealed words (a reflection on a talk, an answer to a question) whose
  // counterpart by the partner is in the log, and whose key is still mine.
  std::vector<std::string> owed;
  for (const auto& talk : state.talks)
    if (!talk.my_reflection.record_id.empty() && !talk.my_reflection.released &&
        !talk.their_reflection.record_id.empty())
      owed.push_back(talk.my_reflection.record_id);
  for (const auto& question : state.questions)
    if (question.answered_together() && !question.mine.released) owed.push_back(question.mine.record_id);
  for (const auto& sealed : owed) {
    for (const auto& record : records) {
      if (record.shared || !record.body.has_reflection_key() ||
          record.body.reflection_key().reflection_id() != sealed)
        continue;
      model::v1::RecordBody body;
      *body.mutable_reflection_key() = record.body.reflection_key();
      auto id = device.AddRecord(body, /*shared=*/true);
      if (!id.ok()) return id.error();
      ++report.keys_released;
      break;
    }
  }
  return Status::Ok();
}

// Forgets records their authors deleted (protocol §7.8) that are still
// held: pulled before their Deletion came, or after it, from a relay that
// had not purged them yet.
// They leave `records` too, so nothing after answers for them.
Status ForgetDeleted(Device& device, std::vector<model::OpenedRecord>& records) {
  std::set<std::string> ids;
  for (const auto& deleted : model::Deletions(records))
    if (deleted.held) ids.insert(deleted.record_id);
  if (ids.empty()) return Status::Ok();
  DUET_RETURN_IF_ERROR(device.store().Forget({ids.begin(), ids.end()}));
  (void)device.store().EraseLeftovers();
  std::erase_if(records, [&](const model::OpenedRecord& r) { return ids.count(r.record_id) > 0; });
  return Status::Ok();
}

// Asks the relay to erase what this device deleted, once the Deletion that
// explains the hole is in the log (so the partner never sees a gap it
// cannot account for). Owed until the relay confirms, so a crash or a lost
// connection only delays it.
Status PurgeDeleted(Device& device, RelaySession& session, SyncReport& report) {
  const auto owed = device.PendingPurges();
  if (owed.empty()) return Status::Ok();
  auto outbox = device.store().Outbox();
  if (!outbox.ok()) return outbox.error();
  std::set<std::string> queued;
  for (const auto& record : outbox.value()) queued.insert(record.record_id);
  v1::Frame request;
  std::vector<std::string> ids;
  for (const auto& [deleted, deletion] : owed) {
    if (queued.count(deletion) || ids.size() == static_cast<std::size_t>(proto::kMaxRecordsPerPush)) continue;
    ids.push_back(deleted);
    request.mutable_purge()->add_record_ids(deleted);
  }
  if (ids.empty()) return Status::Ok();
  RelayRefusal refusal;
  auto reply = session.Call(std::move(request), &refusal);
  if (!reply.ok()) {
    if (refusal.code != v1::ERROR_CODE_UNEXPECTED_MESSAGE && refusal.code != v1::ERROR_CODE_BAD_FRAME)
      return reply.error();
    auto said = SayOnce(device, "purge.unsupported",
                        {"this relay's duetd is too old to erase deleted records: they stay there, sealed, "
                         "until its owner updates it and you sync again"},
                        report);
    return said.ok() ? Status::Ok() : said.error();
  }
  if (!reply->has_purged()) return MakeError(ErrorKind::kProtocol, "relay answered Purge with something else");
  report.purged += ids.size();
  return device.PurgesDone(ids);
}

// What a pull may leave owed between the two devices: my reflection keys,
// a CouldNotRead for each partner record this device cannot show, and,
// once, what the partner's device could not read of mine (protocol §7.6).
// Derived from what is stored, so a crash between the pull and here loses
// nothing: the next sync owes the same.
Status AnswerPartner(Device& device, SyncReport& report) {
  int unreadable = 0;
  auto records = device.OpenRecords(&unreadable);
  if (!records.ok()) return records.error();
  DUET_RETURN_IF_ERROR(ForgetDeleted(device, records.value()));
  DUET_RETURN_IF_ERROR(ReleaseReflectionKeys(device, records.value(), report));
  for (auto& notice : model::CouldNotReadOwed(records.value(), device.my_key())) {
    auto id = device.AddRecord(std::move(notice), /*shared=*/true);
    if (!id.ok()) return id.error();
    ++report.notices_sent;
  }
  auto told = SayOnce(device, "could_not_read.reported",
                      model::CouldNotReadByPartner(records.value(), device.my_key(), PartnerName(device)), report);
  return told.ok() ? Status::Ok() : told.error();
}

// Tells the relay of the devices revoked here, once the records that
// explain it (the revocation and the new epoch) are in the log.
Status SendRevocations(Device& device, RelaySession& session, SyncReport& report) {
  const auto owed = device.RevokesOwed();
  if (owed.empty()) return Status::Ok();
  auto outbox = device.store().Outbox();
  if (!outbox.ok()) return outbox.error();
  if (!outbox->empty()) return Status::Ok();  // held back; the next sync sends it
  for (const auto& key : owed) {
    v1::Frame request;
    request.mutable_revoke_device()->set_device_key(key);
    RelayRefusal refusal;
    auto reply = session.Call(std::move(request), &refusal);
    if (!reply.ok() && refusal.code == v1::ERROR_CODE_INVALID_ARGUMENT) {
      // The relay does not count it among this partner's devices (it never
      // joined there): nothing to shut out; the records already say it.
      DUET_RETURN_IF_ERROR(device.RevokeDone(key));
      report.warnings.push_back("the relay did not know a device you revoked as yours; your devices and your "
                                "partner's ignore it all the same");
      continue;
    }
    if (!reply.ok()) return reply.error();
    if (!reply->has_device_revoked())
      return MakeError(ErrorKind::kProtocol, "relay answered RevokeDevice with something else");
    DUET_RETURN_IF_ERROR(device.RevokeDone(key));
    ++report.devices_revoked;
  }
  return Status::Ok();
}

// Leaves the couple at the relay and remembers when it ended.
// `ended_at`: when it ended as far as this device knows (the relay's word,
// or now for the one ending it), kept in case the answer is lost.
Status TellRelayUnpaired(Device& device, RelaySession& session, SyncReport& report, std::int64_t ended_at) {
  DUET_RETURN_IF_ERROR(device.MarkUnpairing(ended_at));
  v1::Frame request;
  request.mutable_unpair();
  RelayRefusal refusal;
  auto reply = session.Call(std::move(request), &refusal);
  if (!reply.ok() && refusal.code == v1::ERROR_CODE_NOT_PAIRED) {
    // The relay removed this device already: an earlier Unpair's answer was lost.
    DUET_RETURN_IF_ERROR(device.MarkUnpaired(ended_at));
    report.unpaired_at = ended_at;
    return Status::Ok();
  }
  if (!reply.ok()) return reply.error();
  // The relay removed this device, and the answer is here but not yet
  // kept: as if it had been lost on the way.
  CrashPoint("unpair-answered");
  if (!reply->has_unpaired() || reply->unpaired().ended_at() <= 0)
    return MakeError(ErrorKind::kProtocol, "relay answered Unpair with something else");
  DUET_RETURN_IF_ERROR(device.MarkUnpaired(reply->unpaired().ended_at()));
  report.unpaired_at = reply->unpaired().ended_at();
  return Status::Ok();
}

// The partner ended the pairing: keep what they sent before the end (and
// drop what they deleted), then leave the couple, which lets the relay
// delete its mailbox. Nothing of this device's is sent.
Status FinishUnpairing(Device& device, RelaySession& session, SyncReport& report) {
  DUET_RETURN_IF_ERROR(PullNew(device, session, report));
  int unreadable = 0;
  auto records = device.OpenRecords(&unreadable);
  if (!records.ok()) return records.error();
  DUET_RETURN_IF_ERROR(ForgetDeleted(device, records.value()));
  return TellRelayUnpaired(device, session, report, session.ended_at());
}

}  // namespace

Result<std::unique_ptr<RelaySession>> OpenRelay(Device& device, std::chrono::milliseconds timeout) {
  const std::vector<net::Endpoint> relays = device.relays();
  const std::string pinned = device.pinned_relay_key().value_or("");
  const std::string next = device.next_relay_key().value_or("");
  auto session = RelaySession::OpenAny(device, relays, crypto::PinnedRelayKeys(pinned, next), timeout);
  if (!session.ok()) return session;
  const RelaySession& s = *session.value();
  // First contact pins the key; a relay now presenting the next key it
  // announced has moved to it (protocol.md §3.1): pin it, forget the old.
  if (pinned.empty() || s.relay_key() != pinned) {
    DUET_RETURN_IF_ERROR(device.PinRelay(relays, s.relay_key()));
  }
  if (s.next_relay_key() != device.next_relay_key().value_or(""))
    DUET_RETURN_IF_ERROR(device.SetNextRelayKey(s.next_relay_key()));
  return session;
}

Error ArchiveOnly() {
  return MakeError(ErrorKind::kInvalidInput,
                   "this home is an archive restored with `duet import`: it syncs and pairs with nobody; set up "
                   "a device with `duet init` in another --home for that");
}

Result<SyncReport> Sync(Device& device, std::chrono::milliseconds timeout) {
  if (device.archive()) return ArchiveOnly();
  SyncReport report;
  if ((report.unpaired_at = device.unpaired_at())) return report;  // nothing moves any more
  if ((report.revoked_at = device.revoked_at())) return report;
  const auto link = device.pending_link();
  if (!device.paired() && !device.pending_invite() && !link) {
    report.not_paired = true;
    return report;
  }
  auto session = OpenRelay(device, timeout);
  if (!session.ok()) return session.error();
  // Revoked: nothing else is asked of the relay, which would refuse it all.
  if (session.value()->revoked_at() != 0) {
    DUET_RETURN_IF_ERROR(device.MarkRevoked(session.value()->revoked_at()));
    report.revoked_at = device.revoked_at();
    return report;
  }
  if (!device.paired() && link) {
    auto linked = FetchLinkKeys(device, *session.value());
    if (!linked.ok()) return linked.error();
    if (!linked.value()) {
      report.waiting_for_device = true;
      return report;
    }
    report.linked = true;
  } else if (!device.paired()) {
    DUET_RETURN_IF_ERROR(CheckPendingInvite(device, *session.value(), report));
    if (!device.paired()) {
      report.not_paired = !report.waiting_for_partner;
      return report;
    }
  }
  if (link && link->role == PairingRole::kCreator) {
    auto added = ContinueLink(device, *session.value(), report);
    if (!added.ok()) return added.error();
    if (added.value()) report.linked_device = added.value()->name();
  }
  auto over = SyncOver(device, *session.value());
  if (!over.ok()) return over.error();
  SyncReport merged = std::move(over).value();
  merged.paired_with = report.paired_with;
  merged.linked = report.linked;
  merged.linked_device = report.linked_device;
  if (!merged.held_back) merged.held_back = report.held_back;
  merged.warnings.insert(merged.warnings.begin(), report.warnings.begin(), report.warnings.end());
  return merged;
}

Result<SyncReport> SyncOver(Device& device, RelaySession& session) {
  SyncReport report;
  if ((report.unpaired_at = device.unpaired_at())) return report;
  if (session.revoked_at() != 0) DUET_RETURN_IF_ERROR(device.MarkRevoked(session.revoked_at()));
  if ((report.revoked_at = device.revoked_at())) return report;
  // This device sent Unpair and the relay no longer knows it: the answer
  // was lost, not the couple's log.
  if (auto ending = device.unpairing(); ending && session.couple_id().empty()) {
    DUET_RETURN_IF_ERROR(device.MarkUnpaired(*ending));
    report.unpaired_at = *ending;
    return report;
  }
  // Before anything else: an ended couple's mailbox may be gone already, so
  // its log would look rolled back.
  if (session.ended_at() != 0) {
    DUET_RETURN_IF_ERROR(FinishUnpairing(device, session, report));
    return report;
  }
  // A relay whose log ends before what this device already pulled was rolled
  // back or replaced. Pushing now would give new records numbers that clash
  // with ones already seen, so nothing moves until it is sorted out.
  auto cursor = device.store().Cursor();
  if (!cursor.ok()) return cursor.error();
  // What this device knows the relay had: what it pulled, and the numbers
  // the relay gave its own pushes.
  auto highest = device.store().HighestRelaySeq();
  if (!highest.ok()) return highest.error();
  const std::uint64_t seen = std::max(cursor.value(), highest.value());
  if (session.latest_seq() < seen) {
    report.relay_rolled_back = true;
    report.warnings.push_back(
        "the relay's log ends at its record #" + std::to_string(session.latest_seq()) +
        " but this device already saw its record #" + std::to_string(seen) +
        ": the relay was rolled back or replaced; everything held here is kept and nothing "
        "is sent until its operator restores it");
    return report;
  }
  DUET_RETURN_IF_ERROR(PushOutbox(device, session, report));
  DUET_RETURN_IF_ERROR(PullNew(device, session, report));
  if ((report.revoked_at = device.revoked_at())) return report;
  // A gap in a chain: fetch what is missing, in case the relay has it after all.
  auto chains = device.CheckChains();
  if (!chains.ok()) return chains.error();
  if (chains->gaps > 0) DUET_RETURN_IF_ERROR(PullNew(device, session, report, /*rescan=*/true));
  DUET_RETURN_IF_ERROR(AnswerPartner(device, report));
  if (report.keys_released + report.notices_sent > 0) DUET_RETURN_IF_ERROR(PushOutbox(device, session, report));
  DUET_RETURN_IF_ERROR(PurgeDeleted(device, session, report));
  DUET_RETURN_IF_ERROR(SendRevocations(device, session, report));
  DUET_RETURN_IF_ERROR(ReportChainFindings(device, report));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  DUET_RETURN_IF_ERROR(device.store().SetMeta("sync.last", std::to_string(now)));
  return report;
}

Result<Unpairing> Unpair(Device& device, std::chrono::milliseconds timeout) {
  if (auto ended = device.unpaired_at()) return Unpairing{*ended, true};
  if (!device.paired()) return MakeError(ErrorKind::kInvalidInput, "not paired, so there is nothing to end");
  auto session = OpenRelay(device, timeout);
  if (!session.ok()) return session.error();
  const bool retried = device.unpairing().has_value();
  auto synced = SyncOver(device, *session.value());
  if (!synced.ok()) return synced.error();
  if (synced->unpaired_at) return Unpairing{*synced->unpaired_at, !retried};
  // What was written or deleted before the end must reach the partner and
  // the relay first, or it never will.
  auto queued = device.store().Outbox();
  if (!queued.ok()) return queued.error();
  if (!queued->empty() || !device.PendingPurges().empty())
    return MakeError(ErrorKind::kRefused,
                     "not unpaired yet: " + (synced->held_back ? *synced->held_back
                                                               : std::string("changes are still on their way")) +
                         "; once `duet sync` has sent them, run `duet unpair` again");
  SyncReport report;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  DUET_RETURN_IF_ERROR(TellRelayUnpaired(device, *session.value(), report, now));
  return Unpairing{*report.unpaired_at, false};
}

// A device whose pairing ended keeps that couple's history and keys; a new
// pairing on top of them would mix two couples' records.
Error EndedAlready() {
  return MakeError(ErrorKind::kInvalidInput,
                   "this device's pairing has ended; to pair again, set up a new home (keep a copy with "
                   "`duet export`, then `duet wipe` and `duet init`, or use another --home)");
}

Result<CreatedInvite> CreateInvite(Device& device, std::uint32_t ttl_seconds, bool replace,
                                   std::chrono::milliseconds timeout) {
  if (device.archive()) return ArchiveOnly();
  if (device.unpaired_at()) return EndedAlready();
  if (device.paired())
    return MakeError(ErrorKind::kInvalidInput,
                     "this device is already paired with " + device.partner()->name);
  if (device.pending_invite() && !replace)
    return MakeError(ErrorKind::kInvalidInput,
                     "an invite of yours is still open: give your partner that code and run "
                     "`duet sync` once they joined, or `duet invite --replace` for a new code "
                     "(the old one then stops working)");
  auto session = OpenRelay(device, timeout);
  if (!session.ok()) return session.error();
  const crypto::SymmetricKey secret = crypto::RandomKey();
  const InviteKeys keys = DeriveInviteKeys(secret);
  v1::Frame request;
  auto* create = request.mutable_create_invite();
  create->set_invite_id(keys.invite_id);
  create->set_couple_id(keys.couple_id);
  create->set_sealed_offer(SealIdentity(keys, PairingRole::kCreator, MyIdentity(device)));
  create->set_ttl_seconds(ttl_seconds);
  // This device waits on one invite only: any older code it gave out is
  // replaced, so whoever uses it hears so instead of pairing unseen.
  create->set_replace_open(true);
  if (auto token = device.relay_token()) create->set_relay_token(*token);
  RelayRefusal refusal;
  auto reply = session.value()->Call(std::move(request), &refusal);
  if (!reply.ok()) {
    if (refusal.code == v1::ERROR_CODE_TOKEN_REQUIRED)
      return MakeError(ErrorKind::kRefused,
                       reply.error().message +
                           "; this relay is invite-only: ask its owner for a token (they run "
                           "`duetd token create`), then `duet invite --relay-token TOKEN`");
    return reply.error();
  }
  if (!reply->has_invite_created())
    return MakeError(ErrorKind::kProtocol, "relay answered CreateInvite with something else");
  DUET_RETURN_IF_ERROR(device.SetPendingInvite(secret));
  InviteCode code{secret, session.value()->relay_key(), net::EndpointsToString(device.relays())};
  return CreatedInvite{FormatInviteCode(code), reply->invite_created().expires_at()};
}

Error InviteUsedAlready() {
  return MakeError(ErrorKind::kRefused,
                   "this invite code was used already; ask your partner for a new one");
}

Error InviteReplaced() {
  return MakeError(ErrorKind::kRefused,
                   "this invite code was replaced by a newer one; ask your partner for it");
}

Result<JoinedCouple> JoinInvite(Device& device, const std::string& code_text,
                                std::chrono::milliseconds timeout) {
  auto code = ParseInviteCode(code_text);
  if (!code.ok()) return code.error();
  auto relays = net::ParseEndpoints(code->relay_address);
  if (!relays.ok())
    return MakeError(ErrorKind::kInvalidInput, "malformed invite code: its relay address is not valid");
  if (device.archive()) return ArchiveOnly();
  if (device.unpaired_at()) return EndedAlready();
  if (device.paired())
    return MakeError(ErrorKind::kInvalidInput,
                     "this device is already paired with " + device.partner()->name);
  auto session = RelaySession::OpenAny(device, relays.value(), code->relay_key, timeout);
  if (!session.ok()) return session.error();
  const InviteKeys keys = DeriveInviteKeys(code->secret);

  v1::Frame fetch;
  fetch.mutable_fetch_invite()->set_invite_id(keys.invite_id);
  RelayRefusal refusal;
  auto offer = session.value()->Call(std::move(fetch), &refusal);
  if (!offer.ok()) {
    switch (refusal.code) {
      case v1::ERROR_CODE_INVITE_NOT_FOUND:
        return MakeError(ErrorKind::kNotFound,
                         "the relay at " + session.value()->endpoint().ToString() +
                             " does not know this invite code; check it, or ask your partner for a new one");
      case v1::ERROR_CODE_INVITE_USED:
        return InviteUsedAlready();
      case v1::ERROR_CODE_INVITE_REPLACED:
        return InviteReplaced();
      case v1::ERROR_CODE_INVITE_EXPIRED:
        return MakeError(ErrorKind::kRefused,
                         "this invite code has expired; ask your partner for a new one");
      default:
        return offer.error();
    }
  }
  if (!offer->has_invite_offer())
    return MakeError(ErrorKind::kProtocol, "relay answered FetchInvite with something else");
  auto partner = OpenIdentity(keys, PairingRole::kCreator, offer->invite_offer().sealed_offer());
  if (!partner.ok()) return partner.error();
  if (partner->sign_key() == device.my_key())
    return MakeError(ErrorKind::kInvalidInput, "this invite is your own; give it to your partner");

  v1::Frame answer;
  answer.mutable_answer_invite()->set_invite_id(keys.invite_id);
  answer.mutable_answer_invite()->set_sealed_answer(
      SealIdentity(keys, PairingRole::kJoiner, MyIdentity(device)));
  auto paired = session.value()->Call(std::move(answer), &refusal);
  if (!paired.ok()) {
    if (refusal.code == v1::ERROR_CODE_INVITE_USED) return InviteUsedAlready();
    if (refusal.code == v1::ERROR_CODE_INVITE_REPLACED) return InviteReplaced();
    return paired.error();
  }
  if (!paired->has_paired() || paired->paired().couple_id() != keys.couple_id)
    return MakeError(ErrorKind::kProtocol, "relay confirmed pairing for another couple");
  DUET_RETURN_IF_ERROR(FinishPairing(device, code->secret, partner.value(), PairingRole::kJoiner));
  DUET_RETURN_IF_ERROR(device.PinRelay(relays.value(), code->relay_key));
  return JoinedCouple{partner->name(), device.safety_number()};
}

}  // namespace duet::client
