// The record model's core: folding opened records into what a couple sees.
//
// Pure: takes values, returns values, reads no clock and does no I/O, so two
// replicas holding the same records show the same state whatever order they
// learnt them in. Safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/record.pb.h"

namespace duet::model {

// A record after its signature and ciphertext were verified.
struct OpenedRecord {
  std::string record_id;
  std::string author_key;
  bool shared = false;
  std::optional<std::uint64_t> relay_seq;  // nullopt until the relay acknowledged it
  std::string envelope_hash;               // what the author's next record names
  v1::RecordBody body;
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
};

struct CoupleState {
  std::vector<CheckInView> checkins;  // oldest first
};

CoupleState Fold(const std::vector<OpenedRecord>& records, const std::string& my_key);

// "listen", "support", "space", "advice"; empty for unspecified.
std::string NeedName(v1::Need need);
std::optional<v1::Need> ParseNeed(const std::string& name);

}  // namespace duet::model
