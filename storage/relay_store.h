// The relay's mailbox: devices, couples, invites and each couple's record log.
//
// It stores envelopes as opaque bytes: nothing here can read a record. The
// records table is an append-ordered log (rowid order) with unique indexes on
// (couple, seq) and (couple, record_id): appends stay sequential on disk and a
// retried push finds its record instead of storing it twice. Callers group
// many writes into one Begin()/Commit() (group commit). Used by one thread.
#pragma once

#include <cstdint>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "storage/database.h"

namespace duet::storage {

struct InviteRow {
  std::string invite_id;
  std::string couple_id;
  std::string creator_key;
  std::string sealed_offer;
  std::int64_t expires_at = 0;
  bool answered = false;
  std::string answerer_key;
  std::string sealed_answer;
  bool replaced = false;  // its creator made a newer one (CreateInvite.replace_open)
  // Where it was created from, for the per-address limit; forgotten once
  // the invite is answered or purged.
  std::string creator_address;
  // Links one more device into the creator's couple (protocol.md §5.1).
  bool link = false;
  std::string sealed_keys;  // what the creator handed the linked device
};

// What one couple stores, counted as records are appended.
struct CoupleUsage {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
};

// What the whole relay stores (for its metrics).
struct StoreTotals {
  std::uint64_t couples = 0;
  std::uint64_t devices = 0;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t pending_invites = 0;
};

// A one-time token of an invite-only relay: unspent while spent_by is empty.
struct TokenRow {
  std::string spent_by;  // the device whose invites it allowed
};

// A device another device of its partner revoked (protocol.md §4).
struct RevokedDeviceRow {
  std::string couple_id;
  std::int64_t revoked_at = 0;
};

struct LogEntry {
  std::uint64_t seq = 0;
  std::string envelope;  // serialized duet.v1.RecordEnvelope
};

class RelayStore {
 public:
  // `vfs` names a registered SQLite VFS; empty means the default one.
  static Result<std::unique_ptr<RelayStore>> Open(const std::string& path, bool synchronous_full,
                                                  const std::string& vfs = {});

  Status Begin();
  // Commits; after a Purge it also truncates the write-ahead log, so the
  // erased envelopes linger in no old log frame.
  Status Commit();
  void Rollback();
  // A nested unit inside the open transaction: EndSavepoint(false) undoes
  // everything since Savepoint() and leaves the rest of the batch intact.
  // When EndSavepoint fails, the savepoint may hold part of a job: the
  // caller must Rollback() the whole transaction.
  Status Savepoint();
  Status EndSavepoint(bool keep);

  // The couple a device belongs to, or nullopt when it is not paired.
  Result<std::optional<std::string>> CoupleOfDevice(const std::string& device_key);
  Result<std::uint64_t> LatestSeq(const std::string& couple_id);
  // Which partner of its couple a device is (1 or 2; 0 when unknown or none).
  Result<int> PartnerOfDevice(const std::string& device_key);
  Result<std::optional<RevokedDeviceRow>> RevokedDevice(const std::string& device_key);
  // The device leaves its couple for good and is kept as revoked.
  Status RevokeDevice(const std::string& couple_id, const std::string& device_key, std::int64_t now);
  // When the couple ended (docs/protocol.md §4, Unpair), or 0 while it lasts.
  Result<std::int64_t> CoupleEndedAt(const std::string& couple_id);
  // `device_key` leaves its couple, which ends at `now` unless it ended
  // already; once no device is left, the couple's records, invites and row
  // go too. Returns when the couple ended.
  Result<std::int64_t> LeaveCouple(const std::string& couple_id, const std::string& device_key,
                                   std::int64_t now);
  // Deletes the records and invites of couples that ended before `before`;
  // their row and any device not yet told stay, so that device learns when
  // it ended.
  Status PurgeEndedMailboxes(std::int64_t before);

  Result<std::optional<InviteRow>> FindInvite(const std::string& invite_id);
  Status CreateInvite(const InviteRow& invite);
  // Invites of this creator that are neither answered nor expired at `now`.
  Result<std::uint64_t> OpenInvites(const std::string& creator_key, std::int64_t now);
  // Unanswered invites not expired at `now`: all of them, or from one address.
  Result<std::uint64_t> PendingInvites(std::int64_t now);
  Result<std::uint64_t> PendingInvitesFrom(const std::string& address, std::int64_t now);
  // Drops invites nobody answered that expired before `before`.
  Status PurgeExpiredInvites(std::int64_t before);
  // The creator's open invites are replaced by a newer one: they no longer
  // count as pending, and fetching or answering one says so.
  Status ReplaceOpenInvites(const std::string& creator_key);
  // Keeps the keys the creator of an answered link invite hands the new device.
  Status CompleteLink(const std::string& invite_id, const std::string& sealed_keys, std::int64_t now);
  // How many devices belong to the couple.
  Result<std::uint64_t> DevicesOf(const std::string& couple_id);
  // Marks the invite answered and registers creator and answerer as its
  // couple; a link invite registers the answerer in the creator's couple
  // (or leaves it there, when it belongs to it already).
  Status AnswerInvite(const std::string& invite_id, const std::string& answerer_key,
                      const std::string& sealed_answer);

  // Records and envelope bytes the couple stores (zero for no such couple).
  Result<CoupleUsage> Usage(const std::string& couple_id);

  // Tokens of an invite-only relay, stored as hashes: a copy of the database
  // does not hand out unspent tokens.
  Result<StoreTotals> Totals(std::int64_t now);
  // A small write that proves the store takes writes (the relay's /healthz).
  Status RecordHealthCheck(std::int64_t now);

  Status AddToken(const std::string& token_hash, std::int64_t created_at);
  Result<std::optional<TokenRow>> FindToken(const std::string& token_hash);
  // Binds an unspent token to the device that spent it.
  Status SpendToken(const std::string& token_hash, const std::string& device_key);
  // Whether `device_key` spent a token (so it may invite again, say after an
  // invite expired, without another: a device becomes one couple only).
  Result<bool> DeviceSpentToken(const std::string& device_key);

  // Appends a record and counts it in the couple's usage, or finds it when
  // (couple, record_id) is already there.
  // Returns its sequence number; `appended` says whether it is new.
  Result<std::uint64_t> Append(const std::string& couple_id, const std::string& record_id,
                               const std::string& author_key, const std::string& envelope,
                               bool* appended);
  // Erases the envelopes of records `author_key` wrote in the couple
  // (docs/protocol.md §4, Purge), keeping each one's seq and record_id so
  // neither is ever reused. Returns how many were erased now; ids not held,
  // or erased already, are skipped. A record by another author fails with
  // kRefused; the caller's job is then undone whole.
  Result<std::uint32_t> Purge(const std::string& couple_id, const std::string& author_key,
                              const std::vector<std::string>& record_ids);
  // Records with seq > after_seq in order, purged ones left out: at most `limit`, and no more once
  // `max_bytes` of envelopes are read, plus one more when there is one (so
  // the caller knows more remain without loading them all).
  Result<std::vector<LogEntry>> ReadAfter(const std::string& couple_id, std::uint64_t after_seq,
                                          std::uint32_t limit,
                                          std::size_t max_bytes = SIZE_MAX);

 private:
  explicit RelayStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  // Prepared once, reused: preparing costs more than a whole indexed insert.
  Result<Statement*> Cached(const char* sql);
  // A statement that stepped to a row still holds its read; end them all.
  void ResetStatements();
  std::unique_ptr<Database> db_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> statements_;
  std::optional<Transaction> txn_;
  bool erased_ = false;  // a Purge erased envelopes in this transaction
};

}  // namespace duet::storage
