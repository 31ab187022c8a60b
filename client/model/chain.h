// Checking each author's chain of records (docs/protocol.md §4): every shared
// record carries its author's sequence number, the hash of the author's
// previous record and the author's view of the partner's head. From the
// records held, CheckChains finds what a relay that drops, reorders or forks
// records leaves behind, and what a partner who never saw my records shows.
//
// Pure: values in, values out; the same records give the same findings in
// the same order. Detection never blocks: findings are reported, records are
// still applied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace duet::model {

struct ChainEntry {
  std::string author_key;
  std::string record_id;
  std::uint64_t author_seq = 0;
  std::string prev_hash;
  std::string hash;                        // of this record's envelope
  std::optional<std::uint64_t> relay_seq;  // nullopt: not yet acknowledged
  std::uint64_t partner_seq = 0;           // the author's view of the other's head
  std::uint64_t relay_cursor = 0;          // what the author had pulled when writing
  // Not held: a record its author deleted, known from their Deletion
  // (docs/protocol.md §7.8) by its number and hash alone.
  bool deleted = false;
};

struct ChainHead {
  std::uint64_t seq = 0;  // highest seq with every record before it held
  std::string hash;
};

struct ChainReport {
  std::vector<std::string> findings;  // one line each, naming the records
  std::size_t gaps = 0;               // runs of missing records, either author
  ChainHead my_head;
  ChainHead partner_head;
};

// Findings name my records with `my_label` ("your") and the partner's with
// their name ("Bob's").
// `my_key` and `partner_key` are the two first devices, whose heads each
// record names (partner_seq); `other_chains` are further devices (protocol.md
// §5.1), each checked on its own and named by its label.
ChainReport CheckChains(const std::vector<ChainEntry>& entries, const std::string& my_key,
                        const std::string& partner_key, const std::string& my_label,
                        const std::string& partner_name,
                        const std::vector<std::pair<std::string, std::string>>& other_chains = {});

}  // namespace duet::model
