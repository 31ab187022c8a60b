// The record model's core: folding opened records into what a couple sees.
//
// Pure: takes values, returns values, reads no clock and does no I/O, so two
// replicas holding the same records show the same state whatever order they
// learnt them in. Safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/model/timeplan.h"
#include "client/model/validate.h"
#include "model/record.pb.h"

namespace duet::model {

// A record after its signature and ciphertext were verified.
struct OpenedRecord {
  std::string record_id;
  std::string author_key;  // the person: their first device's key (protocol.md §5.1)
  std::string device_key;  // the device that wrote and signed it
  bool shared = false;
  std::optional<std::uint64_t> relay_seq;  // nullopt until the relay acknowledged it
  std::string envelope_hash;               // what the author's next record names
  v1::RecordBody body;  // only the header fields when `verdict` says unreadable
  Verdict verdict;      // a record that is not valid never reaches the fold
  // A partner's check-in for when its reader is ready, not opened yet: its
  // content was cleared before any command could show it (HoldBackUnopened).
  bool waiting = false;
};

struct CheckInView {
  std::string record_id;
  std::string author_key;
  bool mine = false;
  bool shared = false;
  bool synced = false;  // acknowledged by the relay
  std::int64_t created_at_ms = 0;
  std::uint32_t mood = 0;
  std::uint32_t energy = 0;  // 0: not given
  v1::Need need = v1::NEED_UNSPECIFIED;
  std::string note;
  std::int64_t shared_later_at_ms = 0;  // kept, then shared (`duet share`) at this time
  bool note_kept = false;               // ... without its note, which stayed with its author
  std::string kept_id;                  // for a share-later record: the kept one it shares
  bool when_ready = false;  // shared for when its reader is ready (`duet open`, protocol §7.10)
  bool waiting = false;     // ... and its reader has not opened it: mood, energy, need and note are blank
};

struct WindowView {
  std::string record_id;
  std::string author_key;
  bool mine = false;
  WeeklyWindow window;
  std::string time_zone;
};

struct BusyView {
  std::string record_id;
  std::string author_key;
  bool mine = false;
  LocalSpan span;
  std::string time_zone;
};

enum class TalkState { kProposed, kAgreed, kDeclined, kCancelled, kCountered };

// An answer that changed nothing, kept so both partners can see why.
struct LateAnswer {
  std::string record_id;
  std::string author_key;
  std::string what;    // "accept", "decline", "cancel", "counter", "reflection"
  std::string reason;  // "the talk was cancelled first", ...
};

struct ReflectionView {
  std::string record_id;    // empty: not written
  bool released = false;    // its key was sent to the partner
  bool readable = false;    // content below is known
  std::uint32_t felt = 0;
  std::string note;
};

struct TalkView {
  std::string talk_id;
  std::string author_key;
  bool mine = false;
  std::int64_t created_at_ms = 0;
  std::vector<std::int64_t> options;  // unix seconds
  std::uint32_t minutes = 0;
  std::string place;
  std::string topic;
  std::string time_zone;     // the proposer's
  std::string counters;      // the talk this one answered
  TalkState state = TalkState::kProposed;
  std::uint32_t chosen = 0;  // 1-based option, once agreed (kept if cancelled later)
  std::string decided_by;    // who agreed, declined, cancelled or countered it
  std::string countered_by;  // the proposal that replaced it
  std::string note;          // with a decline or cancel
  bool settled = true;       // false while the deciding record awaits the relay
  std::vector<LateAnswer> late;
  ReflectionView my_reflection;
  ReflectionView their_reflection;

  std::int64_t start() const { return chosen == 0 ? 0 : options[chosen - 1]; }
  std::int64_t end() const { return start() + std::int64_t{minutes} * 60; }
};

enum class VersionStatus { kPending, kAgreed, kSuperseded, kCountered, kWithdrawn, kDeclined };

// One version of a boundary: the words one partner proposed.
struct BoundaryVersion {
  std::string version_id;
  std::string author_key;
  std::int64_t created_at_ms = 0;
  v1::BoundaryKind kind = v1::BOUNDARY_KIND_GENERAL;
  std::string text;
  std::optional<WeeklyWindow> quiet;  // quiet hours, in `time_zone`
  std::string time_zone;
  std::string hash;                   // what an accept must sign
  VersionStatus status = VersionStatus::kPending;
  std::string answered_by;            // who agreed to or declined it
  bool settled = true;                // false while its deciding record awaits the relay
};

// Who did what to a boundary, in order: its history for `duet boundary show`.
struct BoundaryEvent {
  std::string record_id;
  std::string author_key;
  std::int64_t at_ms = 0;
  std::string what;        // "proposed", "countered", "revised", "accepted", "declined", "retired"
  std::string version_id;  // the version it proposed or answered
  std::string note;
};

enum class BoundaryState { kProposed, kAgreed, kDeclined, kRetired };

struct BoundaryView {
  std::string boundary_id;
  std::string proposer_key;  // who proposed its first version (and may retire it)
  bool mine = false;
  std::vector<BoundaryVersion> versions;  // oldest first
  int agreed = -1;   // index into versions, or -1
  int pending = -1;  // index into versions, or -1
  bool retired = false;
  std::vector<BoundaryEvent> history;
  std::vector<LateAnswer> late;

  BoundaryState state() const;
  // The version that applies: the agreed one, else the pending one.
  const BoundaryVersion& current() const { return versions[agreed >= 0 ? agreed : pending >= 0 ? pending : versions.size() - 1]; }
};

struct ReadinessView {
  std::string record_id;
  std::string author_key;
  bool mine = false;
  std::int64_t set_at_ms = 0;
  v1::ReadinessState state = v1::READINESS_STATE_UNSPECIFIED;
  std::int64_t until = 0;  // unix seconds; 0: until changed
  std::string note;
};

struct ThanksView {
  std::string record_id;
  std::string author_key;
  bool mine = false;
  std::int64_t created_at_ms = 0;
  std::optional<std::uint64_t> relay_seq;
  std::string text;
};

struct PromptShareView {
  std::string record_id;
  std::string author_key;
  bool mine = false;
  std::int64_t created_at_ms = 0;
  std::string prompt_id;
  std::string text;
};

// One side of a question both partners answer (protocol §7.9).
struct AnswerView {
  std::string record_id;  // empty: not answered
  std::int64_t written_at_ms = 0;
  bool passed = false;    // let go instead (no record_id then)
  bool released = false;  // its key was sent to the partner
  bool readable = false;  // `text` is known
  std::string text;
};

// A question of the deck, answered (or let go) by one partner or both. The
// k-th answer or pass of each partner to one question meet in its k-th
// QuestionView, so a question that comes round again is a new one.
struct QuestionView {
  std::string prompt_id;
  std::size_t round = 0;  // 0 the first time it was answered, 1 the next ...
  std::int64_t first_at_ms = 0;
  AnswerView mine;
  AnswerView theirs;

  bool answered_together() const { return !mine.record_id.empty() && !theirs.record_id.empty(); }
};

struct CoupleState {
  std::vector<CheckInView> checkins;  // oldest first
  std::vector<WindowView> windows;    // in the order written
  std::vector<BusyView> busy;
  std::vector<TalkView> talks;        // in the order proposed
  std::vector<BoundaryView> boundaries;  // in the order proposed
  std::optional<ReadinessView> my_readiness;     // the latest of each partner
  std::optional<ReadinessView> their_readiness;
  std::vector<ThanksView> thanks;     // in fold order
  std::vector<PromptShareView> prompts;
  std::vector<QuestionView> questions;  // in the order first answered or let go
};

inline constexpr std::size_t kMaxAnswerBytes = 1000;

// Holds back what the partner shared for when this reader is ready and the
// reader has not opened (`opened`: record ids): in `records` and `state`
// alike, the check-in's content is cleared and it is marked waiting, so no
// view can print it (protocol §7.10).
void HoldBackUnopened(std::vector<OpenedRecord>& records, CoupleState& state, const std::string& my_key,
                      const std::set<std::string>& opened);

inline constexpr std::size_t kMaxBoundaryTextBytes = 500;
inline constexpr std::size_t kMaxShortTextBytes = 500;  // thanks, readiness notes, prompts
inline constexpr std::size_t kMaxZoneNameBytes = 64;     // the longest IANA name is 32
inline constexpr std::size_t kMaxCouldNotReadReasonBytes = 300;

// What an accept of a boundary version signs (docs/protocol.md §7.4).
std::string BoundaryVersionHash(const std::string& boundary_id, const std::string& version_id,
                                const v1::BoundaryProposal& proposal);
std::string BoundaryStateName(BoundaryState state);
std::string VersionStatusName(VersionStatus status);
// "general", "privacy", "topic", "quiet-hours"; and back.
std::string BoundaryKindName(v1::BoundaryKind kind);
std::optional<v1::BoundaryKind> ParseBoundaryKind(const std::string& name);
// The readiness that holds at `now`: nullopt when none was set or it lapsed.
std::optional<ReadinessView> ReadinessAt(const std::optional<ReadinessView>& readiness,
                                         std::int64_t now_seconds);
std::string ReadinessName(v1::ReadinessState state);  // "ready", "later", "not now"

// The fold's limits, shared with the CLI that checks input against them.
inline constexpr std::size_t kMaxTalkOptions = 3;
inline constexpr std::uint32_t kMinTalkMinutes = 5;
inline constexpr std::uint32_t kMaxTalkMinutes = 240;
inline constexpr std::size_t kMaxTalkTextBytes = 200;
inline constexpr std::size_t kMaxNoteBytes = 2000;
// Talk times outside 2000..2400 are refused, so no arithmetic on a
// partner's times can overflow.
inline constexpr std::int64_t kEarliestTalk = 946684800;    // 2000-01-01T00:00Z
inline constexpr std::int64_t kLatestTalk = 13569465600;    // 2400-01-01T00:00Z

CoupleState Fold(const std::vector<OpenedRecord>& records, const std::string& my_key);

// The valid records in fold order (docs/protocol.md §7): acknowledged ones
// by relay sequence, then unacknowledged ones by time and id; each id once.
std::vector<const OpenedRecord*> FoldOrder(const std::vector<OpenedRecord>& records);

// "proposed", "agreed", "declined", "cancelled", "countered".
std::string TalkStateName(TalkState state);
// What to call a talk at `now`: its state, or "upcoming", "now", "held"
// for an agreed talk.
std::string TalkPhase(const TalkView& talk, std::int64_t now_seconds);

// "listen", "support", "space", "advice"; empty for unspecified.
std::string NeedName(v1::Need need);
std::optional<v1::Need> ParseNeed(const std::string& name);

}  // namespace duet::model
