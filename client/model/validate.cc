// The rules of docs/protocol.md §7.0, one function per record kind. Each
// check names the field as a person would and says what is wrong, because
// the same words reach the author (nothing saved) and the partner's
// `duet status` (a record kept but not shown).
#include "client/model/validate.h"

#include <date/date.h>

#include <set>

#include "base/utf8.h"
#include "client/model/fold.h"

namespace duet::model {
namespace {

constexpr std::size_t kIdBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kKeyIdBytes = 8;
constexpr std::size_t kSealedKeyBytes = 32 + 48;  // crypto_box_seal of a 32-byte key
constexpr std::size_t kKeyBytes = 32;  // Ed25519 and X25519 public keys
constexpr int kMaxDevicesPerCouple = 16;
constexpr std::size_t kMaxDeviceLabelBytes = 64;
constexpr std::size_t kMaxPromptIdBytes = 32;
constexpr std::size_t kMaxSealedReflectionBytes = 24 + 16 + 16 * 256;
constexpr std::size_t kMaxSealedAnswerBytes = 24 + 16 + 8 * 256;  // an answer of up to 1000 bytes, padded

// Collects the first broken rule; later checks do nothing once one failed.
class Rules {
 public:
  bool failed() const { return !verdict_.valid(); }
  Verdict verdict() const { return verdict_; }

  void Fail(const std::string& field, const std::string& problem) {
    if (failed()) return;
    verdict_ = {Validity::kInvalid, field, problem};
  }

  void Range(const std::string& field, std::int64_t value, std::int64_t low, std::int64_t high) {
    if (value < low || value > high)
      Fail(field, field + " " + std::to_string(value) + " is out of range " + std::to_string(low) + "-" +
                      std::to_string(high));
  }

  // UTF-8 text of `min`..`max` bytes.
  void Text(const std::string& field, const std::string& value, std::size_t min, std::size_t max) {
    if (auto bad = FirstInvalidUtf8(value))
      return Fail(field, field + " is not valid UTF-8 text (byte " + std::to_string(*bad + 1) + " of " +
                             std::to_string(value.size()) + ")");
    if (value.size() < min) return Fail(field, field + " is empty");
    if (value.size() > max)
      Fail(field, field + " is " + std::to_string(value.size()) + " bytes, over the limit of " +
                      std::to_string(max));
  }

  void Bytes(const std::string& field, const std::string& value, std::size_t exact, bool may_be_empty = false) {
    if (value.size() == exact || (may_be_empty && value.empty())) return;
    Fail(field, field + " is " + std::to_string(value.size()) + " bytes, not " + std::to_string(exact));
  }

  void Zone(const std::string& field, const std::string& value, bool may_be_empty = false) {
    if (value.empty() && may_be_empty) return;
    Text(field, value, 1, kMaxZoneNameBytes);
  }

  void Window(const v1::AvailabilityWindow& w) {
    Range("weekdays", w.weekdays(), 1, 127);
    Range("start minute", w.start_minute(), 0, 1439);
    Range("end minute", w.end_minute(), 0, 1440);
    // end < start crosses midnight, and end == start is the 24 hours from
    // start (earlier duets wrote such windows; `availability add` no longer
    // takes them, but a stored one keeps its meaning).
    Zone("time zone", w.time_zone());
  }

  void Time(const std::string& field, std::int64_t seconds) { Range(field, seconds, kEarliestTalk, kLatestTalk); }

 private:
  Verdict verdict_;
};

// "YYYY-MM-DD", a day that exists.
bool IsDate(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return false;
  const date::year_month_day day{date::year{std::stoi(text.substr(0, 4))},
                                 date::month{static_cast<unsigned>(std::stoi(text.substr(5, 2)))},
                                 date::day{static_cast<unsigned>(std::stoi(text.substr(8, 2)))}};
  return day.ok();
}

void CheckIn(Rules& r, const v1::CheckIn& c) {
  r.Range("mood", c.mood(), 1, 5);
  r.Range("energy", c.energy(), 0, 5);
  r.Range("need", c.need(), v1::NEED_UNSPECIFIED, v1::NEED_ADVICE);
  r.Text("note", c.note(), 0, kMaxNoteBytes);
}

void TalkProposal(Rules& r, const v1::TalkProposal& p) {
  r.Range("number of times", p.options_size(), 1, static_cast<std::int64_t>(kMaxTalkOptions));
  for (auto start : p.options()) r.Time("start time", start);
  if (std::set<std::int64_t>(p.options().begin(), p.options().end()).size() !=
      static_cast<std::size_t>(p.options_size()))
    r.Fail("start time", "the same start time is offered twice");
  r.Range("minutes", p.minutes(), kMinTalkMinutes, kMaxTalkMinutes);
  r.Text("place", p.place(), 0, kMaxTalkTextBytes);
  r.Text("topic", p.topic(), 0, kMaxTalkTextBytes);
  r.Zone("time zone", p.time_zone(), /*may_be_empty=*/true);
  r.Bytes("countered talk", p.counters(), kIdBytes, /*may_be_empty=*/true);
}

// Committed words (protocol §7.3): a 32-byte commitment, and nonce, padded
// text and tag: 40 + 256·k bytes, k from 1 to what `max_bytes` allows.
void Committed(Rules& r, const std::string& what, const std::string& commitment, std::size_t sealed,
               std::size_t max_bytes) {
  r.Bytes("commitment", commitment, kHashBytes);
  if (sealed < 24 + 16 + 256 || (sealed - 40) % 256 != 0 || sealed > max_bytes)
    r.Fail("sealed " + what, "the sealed " + what + " is " + std::to_string(sealed) + " bytes, not 40 + 256 to " +
                                 std::to_string(max_bytes - 40) + " in steps of 256");
}

void TalkReflection(Rules& r, const v1::TalkReflection& t) {
  r.Bytes("talk", t.talk_id(), kIdBytes);
  Committed(r, "reflection", t.commitment(), t.sealed().size(), kMaxSealedReflectionBytes);
}

void BoundaryProposal(Rules& r, const v1::BoundaryProposal& p) {
  r.Bytes("boundary", p.boundary_id(), kIdBytes, /*may_be_empty=*/true);
  r.Bytes("replaced version", p.replaces(), kIdBytes, /*may_be_empty=*/true);
  if (p.boundary_id().empty() != p.replaces().empty())
    r.Fail("replaced version", "a new version names both its boundary and the version it replaces");
  r.Range("kind", p.kind(), v1::BOUNDARY_KIND_GENERAL, v1::BOUNDARY_KIND_QUIET_HOURS);
  r.Text("text", p.text(), 1, kMaxBoundaryTextBytes);
  if (p.kind() == v1::BOUNDARY_KIND_QUIET_HOURS) {
    if (!p.has_quiet()) r.Fail("window", "quiet hours need a window");
    r.Window(p.quiet());
  } else if (p.has_quiet()) {
    r.Fail("window", "only quiet hours carry a window");
  }
}

void Readiness(Rules& r, const v1::Readiness& x) {
  r.Range("state", x.state(), v1::READINESS_STATE_READY, v1::READINESS_STATE_NOT_NOW);
  if (x.until() != 0) r.Time("until", x.until());
  r.Text("note", x.note(), 0, kMaxShortTextBytes);
}

// A key sealed for each of up to 16 devices (protocol.md §5.1).
void SealedForDevices(Rules& r, const google::protobuf::RepeatedPtrField<v1::SealedForDevice>& sealed) {
  if (sealed.size() > kMaxDevicesPerCouple)
    r.Fail("devices", "the key is sealed for more than " + std::to_string(kMaxDevicesPerCouple) + " devices");
  for (const auto& entry : sealed) {
    r.Bytes("device key", entry.device_key(), kKeyBytes);
    r.Bytes("sealed key", entry.sealed_key(), kSealedKeyBytes);
  }
}

void Kind(Rules& r, const v1::RecordBody& body) {
  using B = v1::RecordBody;
  switch (body.kind_case()) {
    case B::kCheckin:
      return CheckIn(r, body.checkin());
    case B::kRekey:
      r.Bytes("key id", body.rekey().key_id(), kKeyIdBytes);
      // Empty only when the partner's first device was revoked: then
      // `sealed_for` carries the key for every device.
      r.Bytes("sealed key", body.rekey().sealed_key(), kSealedKeyBytes,
              /*may_be_empty=*/body.rekey().sealed_for_size() > 0);
      return SealedForDevices(r, body.rekey().sealed_for());
    case B::kDeviceRevoked: {
      const auto& d = body.device_revoked();
      r.Bytes("device key", d.sign_key(), kKeyBytes);
      r.Bytes("own key id", d.own_key_id(), kKeyIdBytes);
      return SealedForDevices(r, d.own_key_for());
    }
    case B::kDeviceLinked: {
      const auto& d = body.device_linked();
      r.Bytes("device key", d.sign_key(), kKeyBytes);
      r.Bytes("key exchange key", d.kx_key(), kKeyBytes);
      r.Text("label", d.label(), 1, kMaxDeviceLabelBytes);
      if (d.label().find('\n') != std::string::npos) r.Fail("label", "the label is more than one line");
      return r.Bytes("own key id", d.own_key_id(), kKeyIdBytes);
    }
    case B::kAvailability:
      return r.Window(body.availability());
    case B::kBusy: {
      const auto& b = body.busy();
      if (!IsDate(b.date())) r.Fail("date", "the date is not a day of the calendar (YYYY-MM-DD)");
      r.Range("start minute", b.start_minute(), 0, 1439);
      r.Range("end minute", b.end_minute(), b.start_minute() + 1, 1440);
      return r.Zone("time zone", b.time_zone());
    }
    case B::kWithdraw:
      return r.Bytes("withdrawn record", body.withdraw().target_id(), kIdBytes);
    case B::kTalkProposal:
      return TalkProposal(r, body.talk_proposal());
    case B::kTalkAccept:
      r.Bytes("talk", body.talk_accept().talk_id(), kIdBytes);
      return r.Range("option", body.talk_accept().option(), 1, static_cast<std::int64_t>(kMaxTalkOptions));
    case B::kTalkDecline:
      r.Bytes("talk", body.talk_decline().talk_id(), kIdBytes);
      return r.Text("note", body.talk_decline().note(), 0, kMaxNoteBytes);
    case B::kTalkCancel:
      r.Bytes("talk", body.talk_cancel().talk_id(), kIdBytes);
      return r.Text("note", body.talk_cancel().note(), 0, kMaxNoteBytes);
    case B::kTalkReflection:
      return TalkReflection(r, body.talk_reflection());
    case B::kReflectionKey:
      r.Bytes("reflection", body.reflection_key().reflection_id(), kIdBytes);
      return r.Bytes("key", body.reflection_key().key(), kHashBytes);
    case B::kBoundaryProposal:
      return BoundaryProposal(r, body.boundary_proposal());
    case B::kBoundaryAccept:
      r.Bytes("version", body.boundary_accept().version_id(), kIdBytes);
      return r.Bytes("version hash", body.boundary_accept().version_hash(), kHashBytes);
    case B::kBoundaryDecline:
      r.Bytes("version", body.boundary_decline().version_id(), kIdBytes);
      return r.Text("note", body.boundary_decline().note(), 0, kMaxNoteBytes);
    case B::kBoundaryRetire:
      r.Bytes("boundary", body.boundary_retire().boundary_id(), kIdBytes);
      return r.Text("note", body.boundary_retire().note(), 0, kMaxNoteBytes);
    case B::kReadiness:
      return Readiness(r, body.readiness());
    case B::kThanks:
      return r.Text("text", body.thanks().text(), 1, kMaxShortTextBytes);
    case B::kPromptShare:
      r.Text("prompt id", body.prompt_share().prompt_id(), 1, kMaxPromptIdBytes);
      return r.Text("text", body.prompt_share().text(), 1, kMaxShortTextBytes);
    case B::kSharedLater: {
      const auto& s = body.shared_later();
      r.Bytes("kept check-in", s.kept_id(), kIdBytes);
      CheckIn(r, s.checkin());
      if (s.written_at_ms() < kEarliestRecordMs || s.written_at_ms() > body.created_at_ms())
        r.Fail("time written", "the kept check-in says it was written after it was shared, or before 2000");
      if (s.note_kept() && !s.checkin().note().empty())
        r.Fail("note", "the note is said to be kept back, yet it is here");
      return;
    }
    case B::kPromptAnswer: {
      const auto& a = body.prompt_answer();
      r.Text("prompt id", a.prompt_id(), 1, kMaxPromptIdBytes);
      return Committed(r, "answer", a.commitment(), a.sealed().size(), kMaxSealedAnswerBytes);
    }
    case B::kPromptPass:
      return r.Text("prompt id", body.prompt_pass().prompt_id(), 1, kMaxPromptIdBytes);
    case B::kDeletion: {
      const auto& d = body.deletion();
      r.Bytes("deleted record", d.record_id(), kIdBytes);
      // 0 names a kept note: it is in no chain (protocol.md §7.8).
      return r.Bytes("record hash", d.record_hash(), kHashBytes);
    }
    case B::kCouldNotRead: {
      const auto& n = body.could_not_read();
      r.Bytes("record", n.record_id(), kIdBytes);
      if (n.author_seq() == 0) r.Fail("record number", "record number 0 is no record's number");
      r.Text("reason", n.reason(), 1, kMaxCouldNotReadReasonBytes);
      if (n.reason().find('\n') != std::string::npos) r.Fail("reason", "the reason is more than one line");
      return;
    }
    case B::KIND_NOT_SET:
      return r.Fail("kind", "the record holds nothing");
  }
}

}  // namespace

Verdict ValidateBody(const v1::RecordBody& body) {
  if (body.schema() > kSchema ||
      (body.kind_case() == v1::RecordBody::KIND_NOT_SET &&
       !body.GetReflection()->GetUnknownFields(body).empty()))
    return {Validity::kNewer, "schema", "it is from a newer duet; update duet to read it"};
  Rules r;
  if (body.schema() == 0) r.Fail("schema", "schema 0 is not a schema");
  else if (body.schema() < SchemaFor(body))
    r.Fail("schema", "a check-in for when its reader is ready says schema 1, so an older duet would show it");
  if (body.created_at_ms() < kEarliestRecordMs || body.created_at_ms() >= kLatestRecordMs)
    r.Fail("time written", "it says it was written outside the years 2000-2099 (is the device's clock right?)");
  Kind(r, body);
  return r.verdict();
}

std::uint32_t SchemaFor(const v1::RecordBody& body) {
  const bool when_ready = (body.has_checkin() && body.checkin().when_ready()) ||
                          (body.has_shared_later() && body.shared_later().checkin().when_ready());
  return when_ready ? 2 : kSchemaWritten;
}

Verdict UnreadableBody(std::uint32_t schema) {
  if (schema > kSchema) return {Validity::kNewer, "schema", "it is from a newer duet; update duet to read it"};
  return {Validity::kInvalid, "text", "its text is not valid UTF-8, or its fields are malformed"};
}

Verdict ValidateReflection(const v1::ReflectionContent& content) {
  Rules r;
  r.Range("felt", content.felt(), 1, 5);
  r.Text("note", content.note(), 0, kMaxNoteBytes);
  return r.verdict();
}

std::string DescribeUnshown(const v1::RecordBody& body, const Verdict& verdict, const std::string& author,
                            bool by_partner) {
  // Private records are not in the chain: they have no number.
  const std::string number = body.author_seq() == 0 ? std::string("a private record")
                                                    : std::string(by_partner ? "their" : "your") + " record #" +
                                                          std::to_string(body.author_seq());
  if (verdict.validity == Validity::kNewer)
    return "a record from " + author + " (" + number + ") is from a newer duet; update duet to read it";
  return "an invalid " + RecordKindName(body) + " from " + author + " (" + number + ": " + verdict.problem + "); it is kept but not shown";
}

std::string RecordKindName(const v1::RecordBody& body) {
  using B = v1::RecordBody;
  switch (body.kind_case()) {
    case B::kCheckin: return "check-in";
    case B::kRekey: return "new couple key";
    case B::kAvailability: return "availability window";
    case B::kBusy: return "busy time";
    case B::kWithdraw: return "withdrawal";
    case B::kTalkProposal: return "talk proposal";
    case B::kTalkAccept: return "talk acceptance";
    case B::kTalkDecline: return "talk decline";
    case B::kTalkCancel: return "talk cancellation";
    case B::kTalkReflection: return "talk reflection";
    case B::kReflectionKey: return "reflection key";
    case B::kBoundaryProposal: return "boundary";
    case B::kBoundaryAccept: return "boundary acceptance";
    case B::kBoundaryDecline: return "boundary decline";
    case B::kBoundaryRetire: return "boundary retirement";
    case B::kReadiness: return "readiness";
    case B::kThanks: return "thanks";
    case B::kPromptShare: return "shared prompt";
    case B::kCouldNotRead: return "could-not-read notice";
    case B::kSharedLater: return "check-in shared later";
    case B::kDeletion: return "deletion";
    case B::kPromptAnswer: return "answer";
    case B::kPromptPass: return "pass";
    case B::kDeviceLinked: return "new device";
    case B::kDeviceRevoked: return "revoked device";
    case B::KIND_NOT_SET: return "record";
  }
  return "record";
}

}  // namespace duet::model
