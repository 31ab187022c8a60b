// The relay's record log as the next duetd finds it on disk, and the check
// of it against what the relay acknowledged.
//
// The log is read with plain SQLite calls through the default VFS, apart
// from RelayStore, so a fault in the store's own reading cannot hide one in
// the file.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"

namespace duet::testing {

struct StoredRecord {
  std::string couple_id;
  std::uint64_t seq = 0;
  std::string record_id;
  std::string envelope;
};

struct StoredLog {
  std::string integrity;              // what PRAGMA integrity_check says: "ok" or the damage
  std::vector<StoredRecord> records;  // by couple, then seq
  std::set<std::string> couple_ids;   // the couples paired
  std::uint64_t devices = 0;
};

Result<StoredLog> ReadStoredLog(const std::string& path);

struct Ack {
  std::string couple_id;
  std::uint64_t seq = 0;
};
// What the relay acknowledged, by record id.
using Ledger = std::map<std::string, Ack>;
// Every record ever pushed: record id to couple id.
using Submitted = std::map<std::string, std::string>;

struct LogCheck {
  std::vector<std::string> lost;      // acknowledged, and not in the log
  std::vector<std::string> problems;  // anything else wrong with the log
};

// Every acknowledged record must be in the log once, in its couple, with the
// sequence number it was acknowledged with; each couple's sequence numbers
// run 1..n; every stored record was pushed, with its own envelope; and
// SQLite finds the file intact. Records pushed but never acknowledged may
// or may not be there: the client retries them.
LogCheck CheckLog(const StoredLog& log, const Ledger& acked, const Submitted& submitted);

// The log as a ledger: what a relay restarted on it will answer for.
Ledger LedgerOf(const StoredLog& log);

}  // namespace duet::testing
