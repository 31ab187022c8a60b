// Boundaries: versions proposed, countered, revised, accepted, declined and
// retired (docs/protocol.md §7.4).
#include <map>

#include "client/model/fold_parts.h"
#include "crypto/crypto.h"

namespace duet::model {
namespace {

void AppendU32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

class BoundaryFolder {
 public:
  BoundaryFolder(const std::string& my_key, CoupleState* state) : my_key_(my_key), state_(state) {}

  void Apply(const OpenedRecord& record) {
    const auto& body = record.body;
    if (body.has_boundary_proposal()) Propose(record, body.boundary_proposal());
    else if (body.has_boundary_accept()) Accept(record, body.boundary_accept());
    else if (body.has_boundary_decline()) Decline(record, body.boundary_decline());
    else if (body.has_boundary_retire()) Retire(record, body.boundary_retire());
  }

 private:
  struct Where {
    std::size_t boundary = 0;
    int version = 0;
  };

  BoundaryView* Find(const std::string& boundary_id) {
    auto it = boundaries_.find(boundary_id);
    return it == boundaries_.end() ? nullptr : &state_->boundaries[it->second];
  }

  void Event(BoundaryView& b, const OpenedRecord& record, std::string what, std::string version_id,
             std::string note = "") {
    b.history.push_back({record.record_id, record.author_key, record.body.created_at_ms(),
                         std::move(what), std::move(version_id), std::move(note)});
  }

  void Late(BoundaryView& b, const OpenedRecord& record, std::string what, std::string reason) {
    b.late.push_back({record.record_id, record.author_key, std::move(what), std::move(reason)});
  }

  BoundaryVersion MakeVersion(const OpenedRecord& record, const v1::BoundaryProposal& p,
                              const std::string& boundary_id) {
    BoundaryVersion v;
    v.version_id = record.record_id;
    v.author_key = record.author_key;
    v.created_at_ms = record.body.created_at_ms();
    v.kind = p.kind();
    v.text = p.text();
    if (p.has_quiet()) {
      v.quiet = WeeklyWindow{p.quiet().weekdays(), p.quiet().start_minute(), p.quiet().end_minute()};
      v.time_zone = p.quiet().time_zone();
    }
    v.hash = BoundaryVersionHash(boundary_id, record.record_id, p);
    v.settled = record.relay_seq.has_value();
    return v;
  }

  void Propose(const OpenedRecord& record, const v1::BoundaryProposal& p) {
    // Field rules were kept by the validator (validate.h) before the fold.
    if (versions_.count(record.record_id)) return;
    if (p.boundary_id().empty()) {
      BoundaryView b;
      b.boundary_id = record.record_id;
      b.proposer_key = record.author_key;
      b.mine = record.author_key == my_key_;
      b.versions.push_back(MakeVersion(record, p, b.boundary_id));
      b.pending = 0;
      Event(b, record, "proposed", record.record_id);
      boundaries_[b.boundary_id] = state_->boundaries.size();
      versions_[record.record_id] = {state_->boundaries.size(), 0};
      state_->boundaries.push_back(std::move(b));
      return;
    }
    BoundaryView* b = Find(p.boundary_id());
    if (b == nullptr) return;
    const std::string what = "new version";
    if (b->retired) return Late(*b, record, what, "the boundary was retired first");
    const int answered = VersionIndex(*b, p.replaces());
    std::string event;
    if (answered >= 0 && answered == b->pending) {
      BoundaryVersion& old = b->versions[answered];
      const bool own = old.author_key == record.author_key;
      old.status = own ? VersionStatus::kWithdrawn : VersionStatus::kCountered;
      old.answered_by = record.author_key;
      event = own ? "revised" : "countered";
    } else if (answered >= 0 && b->pending < 0 && answered == b->agreed) {
      event = "revised";
    } else {
      return Late(*b, record, what, "a newer version was proposed first");
    }
    const int index = static_cast<int>(b->versions.size());
    b->versions.push_back(MakeVersion(record, p, b->boundary_id));
    b->pending = index;
    versions_[record.record_id] = {boundaries_[b->boundary_id], index};
    Event(*b, record, event, record.record_id);
  }

  int VersionIndex(const BoundaryView& b, const std::string& version_id) {
    for (std::size_t i = 0; i < b.versions.size(); ++i)
      if (b.versions[i].version_id == version_id) return static_cast<int>(i);
    return -1;
  }

  // The boundary and version a record answers, when it may answer it.
  BoundaryView* Answerable(const OpenedRecord& record, const std::string& version_id,
                           const std::string& what, int* index) {
    auto it = versions_.find(version_id);
    if (it == versions_.end()) return nullptr;
    BoundaryView& b = state_->boundaries[it->second.boundary];
    *index = it->second.version;
    const BoundaryVersion& v = b.versions[*index];
    if (b.retired) return Late(b, record, what, "the boundary was retired first"), nullptr;
    if (v.author_key == record.author_key)
      return Late(b, record, what, "a version is answered by the partner, not its author"), nullptr;
    if (*index != b.pending)
      return Late(b, record, what,
                  v.status == VersionStatus::kPending ? "it is not the version being proposed"
                                                      : "that version was " + VersionStatusName(v.status) + " first"),
             nullptr;
    return &b;
  }

  void Accept(const OpenedRecord& record, const v1::BoundaryAccept& accept) {
    int index = -1;
    BoundaryView* b = Answerable(record, accept.version_id(), "accept", &index);
    if (b == nullptr) return;
    BoundaryVersion& v = b->versions[index];
    if (!crypto::ConstantTimeEqual(accept.version_hash(), v.hash))
      return Late(*b, record, "accept", "it signed other words than the proposal's");
    if (b->agreed >= 0) b->versions[b->agreed].status = VersionStatus::kSuperseded;
    v.status = VersionStatus::kAgreed;
    v.answered_by = record.author_key;
    v.settled = record.relay_seq.has_value();
    b->agreed = index;
    b->pending = -1;
    Event(*b, record, "accepted", v.version_id);
  }

  void Decline(const OpenedRecord& record, const v1::BoundaryDecline& decline) {
    int index = -1;
    BoundaryView* b = Answerable(record, decline.version_id(), "decline", &index);
    if (b == nullptr) return;
    BoundaryVersion& v = b->versions[index];
    v.status = VersionStatus::kDeclined;
    v.answered_by = record.author_key;
    v.settled = record.relay_seq.has_value();
    b->pending = -1;
    Event(*b, record, "declined", v.version_id, decline.note());
  }

  void Retire(const OpenedRecord& record, const v1::BoundaryRetire& retire) {
    BoundaryView* b = Find(retire.boundary_id());
    if (b == nullptr) return;
    if (b->retired) return Late(*b, record, "retire", "the boundary was retired first");
    if (b->proposer_key != record.author_key)
      return Late(*b, record, "retire", "only the boundary's proposer retires it");
    b->retired = true;
    Event(*b, record, "retired", "", retire.note());
  }

  const std::string& my_key_;
  CoupleState* state_;
  std::map<std::string, std::size_t> boundaries_;  // boundary id -> index in state_->boundaries
  std::map<std::string, Where> versions_;          // version id -> where it is
};

}  // namespace

void FoldBoundaries(const Ordered& records, const std::string& my_key, CoupleState* state) {
  BoundaryFolder folder(my_key, state);
  for (const OpenedRecord* record : records)
    if (record->shared) folder.Apply(*record);
}

std::string BoundaryVersionHash(const std::string& boundary_id, const std::string& version_id,
                                const v1::BoundaryProposal& proposal) {
  std::string message = "duet/v1/boundary";
  message += boundary_id;
  message += version_id;
  message.push_back(static_cast<char>(proposal.kind()));
  const auto& w = proposal.quiet();
  AppendU32(message, proposal.has_quiet() ? w.weekdays() : 0);
  AppendU32(message, proposal.has_quiet() ? w.start_minute() : 0);
  AppendU32(message, proposal.has_quiet() ? w.end_minute() : 0);
  const std::string zone = proposal.has_quiet() ? w.time_zone() : "";
  AppendU32(message, static_cast<std::uint32_t>(zone.size()));
  message += zone;
  AppendU32(message, static_cast<std::uint32_t>(proposal.text().size()));
  message += proposal.text();
  return crypto::Hash(32, message);
}

BoundaryState BoundaryView::state() const {
  if (retired) return BoundaryState::kRetired;
  if (agreed >= 0) return BoundaryState::kAgreed;
  if (pending >= 0) return BoundaryState::kProposed;
  return BoundaryState::kDeclined;
}

std::string BoundaryStateName(BoundaryState state) {
  switch (state) {
    case BoundaryState::kProposed:
      return "proposed";
    case BoundaryState::kAgreed:
      return "agreed";
    case BoundaryState::kDeclined:
      return "declined";
    case BoundaryState::kRetired:
      return "retired";
  }
  return "unknown";
}

std::string VersionStatusName(VersionStatus status) {
  switch (status) {
    case VersionStatus::kPending:
      return "pending";
    case VersionStatus::kAgreed:
      return "agreed";
    case VersionStatus::kSuperseded:
      return "superseded";
    case VersionStatus::kCountered:
      return "countered";
    case VersionStatus::kWithdrawn:
      return "withdrawn";
    case VersionStatus::kDeclined:
      return "declined";
  }
  return "unknown";
}

std::string BoundaryKindName(v1::BoundaryKind kind) {
  switch (kind) {
    case v1::BOUNDARY_KIND_GENERAL:
      return "general";
    case v1::BOUNDARY_KIND_PRIVACY:
      return "privacy";
    case v1::BOUNDARY_KIND_TOPIC:
      return "topic";
    case v1::BOUNDARY_KIND_QUIET_HOURS:
      return "quiet-hours";
    default:
      return "";
  }
}

std::optional<v1::BoundaryKind> ParseBoundaryKind(const std::string& name) {
  for (auto kind : {v1::BOUNDARY_KIND_GENERAL, v1::BOUNDARY_KIND_PRIVACY, v1::BOUNDARY_KIND_TOPIC,
                    v1::BOUNDARY_KIND_QUIET_HOURS})
    if (BoundaryKindName(kind) == name) return kind;
  return std::nullopt;
}

}  // namespace duet::model
