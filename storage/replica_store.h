// A client's local replica: its settings (meta), every record it holds as a
// sealed envelope, the outbox of records not yet acknowledged by the relay,
// the sync cursor, and the records it refused.
//
// Records are kept sealed (shared ones under the couple key, private ones
// under the device's local key), so this file holds no plaintext note. Every
// change that touches more than one table is one transaction, so a crash
// never leaves a record without its outbox entry or a cursor past what was
// stored. Used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "storage/database.h"

namespace duet::storage {

struct ReplicaRecord {
  std::string record_id;
  std::string author_key;
  std::string envelope;          // serialized duet.v1.RecordEnvelope
  bool shared = false;           // false: kept on this device only
  std::optional<std::uint64_t> relay_seq;
};

struct PulledRecord {
  std::uint64_t seq = 0;
  std::string record_id;
  std::string author_key;
  std::string envelope;
};

// A record restored from an export (`duet import`): its body sealed under
// the device's local key, with what the export said of it.
struct ArchivedRecord {
  std::string record_id;
  std::string author_key;
  bool shared = false;
  std::optional<std::uint64_t> relay_seq;
  std::string sealed;
};

struct RejectedRecord {
  std::uint64_t seq = 0;
  std::string record_id;
  std::string reason;
};

class ReplicaStore {
 public:
  // Opens an existing replica, or creates one when `create` is true.
  static Result<std::unique_ptr<ReplicaStore>> Open(const std::string& path, bool create);

  Result<std::optional<std::string>> GetMeta(const std::string& key);
  Status SetMeta(const std::string& key, const std::string& value);
  // Every setting whose key starts with `prefix`, in key order.
  Result<std::vector<std::pair<std::string, std::string>>> MetasWithPrefix(const std::string& prefix);
  // Several settings in one transaction: all of them or none.
  Status SetMetas(const std::vector<std::pair<std::string, std::string>>& entries);

  // Stores a record this device wrote; a shared one is also queued for push.
  Status AddLocal(const ReplicaRecord& record);
  // Shared records not yet acknowledged, oldest first.
  Result<std::vector<ReplicaRecord>> Outbox();
  Status MarkPushed(const std::string& record_id, std::uint64_t seq);

  // Stores what a pull verified, notes what it refused, and moves the cursor,
  // all in one transaction.
  Status ApplyPulled(const std::vector<PulledRecord>& accepted,
                     const std::vector<RejectedRecord>& rejected, std::uint64_t new_cursor);
  Result<std::uint64_t> Cursor();

  // Forgets records (a deleted one, docs/protocol.md §7.8): their rows and
  // any outbox entry go, in one transaction. Ids not held are skipped.
  // Their bytes are overwritten in the file; EraseLeftovers() after the
  // outermost transaction clears them from the write-ahead log too.
  Status Forget(const std::vector<std::string>& record_ids);
  // Inside a transaction it does nothing: the caller runs it after.
  Status EraseLeftovers() { return db_->InTransaction() ? Status::Ok() : db_->TruncateLog(); }
  Result<std::vector<ReplicaRecord>> AllRecords();  // in insertion order
  // Restored records, in the order they were added (one transaction).
  Status AddArchived(const std::vector<ArchivedRecord>& records);
  Result<std::vector<ArchivedRecord>> Archived();
  // The relay sequence number of a record held: nullopt when it is not
  // held or not acknowledged yet.
  Result<std::optional<std::uint64_t>> RelaySeqOf(const std::string& record_id);
  // Highest relay sequence number of any record held (0 when none).
  Result<std::uint64_t> HighestRelaySeq();
  // A copy of what the records decrypt to, sealed by the client, kept so
  // the next command need not open every record again. It belongs to one
  // state: `generation` counts every change to the records, the restored
  // records and the settings, and a change drops the copy in the same
  // transaction. Read CurrentOpened() before the records it stands for,
  // then KeepOpened() what was made from them: it is kept only if nothing
  // changed in between.
  struct KeptOpened {
    std::uint64_t generation = 0;
    std::optional<std::string> sealed;  // none kept for this generation
  };
  Result<KeptOpened> CurrentOpened();
  Status KeepOpened(std::uint64_t generation, const std::string& sealed);
  // Runs `body` in one transaction: its reads see one state, its writes land
  // together or not at all (and two processes cannot interleave).
  Status InTransaction(const std::function<Status()>& body);
  Result<std::vector<RejectedRecord>> Rejected();

 private:
  explicit ReplicaStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  Status SetMetaUnlocked(const std::string& key, const std::string& value);
  std::unique_ptr<Database> db_;
};

}  // namespace duet::storage
