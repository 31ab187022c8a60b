// The rules a record body must keep (docs/protocol.md §7.0, the table), in
// one place. Device::AddRecord runs them before anything is sealed or
// queued, so no command can save what the partner's device would refuse;
// sealing's OpenRecord runs them on every record it opens, so a record that
// breaks them is kept (its author's chain stays whole) but never reaches the
// fold: FoldOrder leaves it out, and `duet status` names it.
//
// Only what a single record says is checked here; what depends on other
// records (answering a talk that was cancelled first) is the fold's work.
// Pure: no clock, no zone database. Safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "model/record.pb.h"

namespace duet::model {

// The RecordBody schemas this version reads (1 and 2), and writes: 1, and
// 2 only for what a duet reading 1 alone must not show (a check-in shared
// when the partner is ready, protocol §7.10).
inline constexpr std::uint32_t kSchema = 2;
inline constexpr std::uint32_t kSchemaWritten = 1;
// When a record may say it was written: no clock of a working device is
// outside these, and no arithmetic on them can overflow.
inline constexpr std::int64_t kEarliestRecordMs = 946684800000;   // 2000-01-01T00:00Z
inline constexpr std::int64_t kLatestRecordMs = 4102444800000;    // 2100-01-01T00:00Z

enum class Validity {
  kValid,
  kInvalid,  // breaks a rule: kept, not shown, named by `duet status`
  kNewer,    // a schema or kind from a newer duet: kept, shown after an upgrade
};

struct Verdict {
  Validity validity = Validity::kValid;
  std::string field;    // the field at fault, as a person would name it ("note")
  std::string problem;  // "mood 9 is out of range 1-5"

  bool valid() const { return validity == Validity::kValid; }
};

Verdict ValidateBody(const v1::RecordBody& body);
// The schema a body must be written with: 2 when it holds a check-in kept
// for when the partner is ready, else 1.
std::uint32_t SchemaFor(const v1::RecordBody& body);

// The verdict for a body that authenticated but did not parse: a string that
// is not UTF-8, or fields of the wrong wire type. `schema` is what its
// header says: above kSchema, the body is newer rather than unreadable.
Verdict UnreadableBody(std::uint32_t schema);

// The rules for what a sealed reflection holds (protocol §7.3): felt 1..5,
// a note of UTF-8 text up to 2000 bytes. Checked before sealing, since the
// validator sees only the sealed bytes, and again when a reflection opens.
Verdict ValidateReflection(const v1::ReflectionContent& content);

// What people call a record of this kind: "check-in", "talk proposal", ...;
// "record" for one this version does not know.
std::string RecordKindName(const v1::RecordBody& body);

// One line for a record that is kept but not shown, naming its author and
// the author's own number for it: "an invalid check-in from Bob (their
// record #12: mood 9 is out of range 1-5); it is kept but not shown", or
// "a record from Bob (their record #13) is from a newer duet; update duet
// to read it". `by_partner` picks "their" or "your".
std::string DescribeUnshown(const v1::RecordBody& body, const Verdict& verdict, const std::string& author,
                            bool by_partner);

}  // namespace duet::model
