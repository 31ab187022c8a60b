// The relay's mailbox: devices, couples, invites and each couple's record log.
//
// It stores envelopes as opaque bytes: nothing here can read a record. Each
// couple's records are ordered by their sequence number, unique per couple,
// as is each record id: a retried push finds its record instead of storing
// it twice. Callers group many writes into one Begin()/Commit() (group
// commit). Two implementations: an SQLite file (RelayStore::Open, the
// default) and a PostgreSQL database (OpenPostgresRelayStore), which several
// relays may share. Each RelayStore object is used by one thread.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

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

// What a committed transaction changed that other relays sharing the store
// must act on (docs/architecture.md, "Several relays on one store"): a
// couple's log grew to `head`, a couple ended, a device was revoked. The
// PostgreSQL store announces them in the transaction that made them (NOTIFY,
// delivered only if it commits); the SQLite store has no other relay to tell.
struct StoreEvent {
  enum class Kind { kGrew, kEnded, kRevoked };
  Kind kind = Kind::kGrew;
  std::string couple_id;   // 16 bytes
  std::uint64_t head = 0;  // kGrew: the couple's highest sequence number
  std::string device_key;  // kRevoked: 32 bytes
  bool operator==(const StoreEvent&) const = default;
};
// The events as notification payloads, each at most kMaxEventPayload bytes
// (PostgreSQL refuses 8,000 and more), a couple's growth said once, at its
// highest head. `origin` names the relay that committed them (lower-case
// hex): a relay acts on its own commits at once, and skips their echo.
inline constexpr std::size_t kMaxEventPayload = 7900;
std::vector<std::string> EncodeStoreEvents(std::string_view origin, const std::vector<StoreEvent>& events);
struct StoreEventPayload {
  std::string origin;
  std::vector<StoreEvent> events;
};
// The origin and events of one payload; a line that is not an event is
// skipped (any role on the database may NOTIFY).
StoreEventPayload DecodeStoreEvents(std::string_view payload);

// Hears the events other relays commit to a shared store. Wait() returns
// what came within `timeout` (often nothing); an error means the connection
// was lost and events may have been missed: reconnect (a new feed) and catch
// up from the store.
class StoreEventFeed {
 public:
  virtual ~StoreEventFeed() = default;
  virtual Result<std::vector<StoreEvent>> Wait(std::chrono::milliseconds timeout) = 0;
};

// One table of the store as `duetd store copy` moves it from one
// implementation to the other: its name and its columns, each of a kind.
struct StoreColumn {
  enum class Kind { kInt, kBool, kBlob, kText };
  const char* name;
  Kind kind;
};
struct StoreTable {
  const char* name;
  std::vector<StoreColumn> columns;
};
// Every table, in an order a copy may write them (a couple before its devices).
const std::vector<StoreTable>& StoreTables();
// A cell of a copied row: NULL, an integer (kInt, kBool: 0 or 1) or bytes.
using StoreCell = std::variant<std::monostate, std::int64_t, std::string>;

struct LogEntry {
  std::uint64_t seq = 0;
  std::string envelope;  // serialized duet.v1.RecordEnvelope
};

class RelayStore {
 public:
  virtual ~RelayStore() = default;
  // `vfs` names a registered SQLite VFS; empty means the default one.
  static Result<std::unique_ptr<RelayStore>> Open(const std::string& path, bool synchronous_full,
                                                  const std::string& vfs = {});

  virtual Status Begin() = 0;
  // Begins a transaction that sees the whole store as of one moment (for
  // `duetd store copy`). On PostgreSQL it only reads, and relays may go on
  // committing; on SQLite it is Begin(): the file's one write lock, held
  // until the copy ends, so a running relay's writes wait meanwhile.
  virtual Status BeginSnapshot() { return Begin(); }
  // Commits; on SQLite, after a Purge it also truncates the write-ahead
  // log, so the erased envelopes linger in no old log frame (PostgreSQL
  // keeps old row versions until VACUUM: docs/threat-model.md).
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  // A nested unit inside the open transaction: EndSavepoint(false) undoes
  // everything since Savepoint() and leaves the rest of the batch intact.
  // When EndSavepoint fails, the savepoint may hold part of a job: the
  // caller must Rollback() the whole transaction.
  virtual Status Savepoint() = 0;
  virtual Status EndSavepoint(bool keep) = 0;

  // Holds the couple until the transaction ends: another relay's batch for
  // the same couple on the same store waits, so a job's checks (the couple
  // ended? its quota?) still hold when it writes. SQLite's one writer holds
  // the whole store already; PostgreSQL locks the couple's row.
  virtual Status LockCouple(const std::string& couple_id) = 0;
  // The same, but fails at once, without waiting, when another transaction
  // holds the couple.
  virtual Status TryLockCouple(const std::string& couple_id) { return LockCouple(couple_id); }
  // The couple a device belongs to, or nullopt when it is not paired.
  virtual Result<std::optional<std::string>> CoupleOfDevice(const std::string& device_key) = 0;
  virtual Result<std::uint64_t> LatestSeq(const std::string& couple_id) = 0;
  // Which partner of its couple a device is (1 or 2; 0 when unknown or none).
  virtual Result<int> PartnerOfDevice(const std::string& device_key) = 0;
  virtual Result<std::optional<RevokedDeviceRow>> RevokedDevice(const std::string& device_key) = 0;
  // The device leaves its couple for good and is kept as revoked.
  virtual Status RevokeDevice(const std::string& couple_id, const std::string& device_key, std::int64_t now) = 0;
  // When the couple ended (docs/protocol.md §4, Unpair), or 0 while it lasts.
  virtual Result<std::int64_t> CoupleEndedAt(const std::string& couple_id) = 0;
  // `device_key` leaves its couple, which ends at `now` unless it ended
  // already; once no device is left, the couple's records, invites and row
  // go too. Returns when the couple ended.
  virtual Result<std::int64_t> LeaveCouple(const std::string& couple_id, const std::string& device_key,
                                           std::int64_t now) = 0;
  // Deletes the records and invites of couples that ended before `before`;
  // their row and any device not yet told stay, so that device learns when
  // it ended.
  virtual Status PurgeEndedMailboxes(std::int64_t before) = 0;

  virtual Result<std::optional<InviteRow>> FindInvite(const std::string& invite_id) = 0;
  virtual Status CreateInvite(const InviteRow& invite) = 0;
  // Invites of this creator that are neither answered nor expired at `now`.
  virtual Result<std::uint64_t> OpenInvites(const std::string& creator_key, std::int64_t now) = 0;
  // Unanswered invites not expired at `now`: all of them, or from one address.
  virtual Result<std::uint64_t> PendingInvites(std::int64_t now) = 0;
  virtual Result<std::uint64_t> PendingInvitesFrom(const std::string& address, std::int64_t now) = 0;
  // Drops invites nobody answered that expired before `before`.
  virtual Status PurgeExpiredInvites(std::int64_t before) = 0;
  // The creator's open invites are replaced by a newer one: they no longer
  // count as pending, and fetching or answering one says so.
  virtual Status ReplaceOpenInvites(const std::string& creator_key) = 0;
  // Keeps the keys the creator of an answered link invite hands the new device.
  virtual Status CompleteLink(const std::string& invite_id, const std::string& sealed_keys, std::int64_t now) = 0;
  // How many devices belong to the couple.
  virtual Result<std::uint64_t> DevicesOf(const std::string& couple_id) = 0;
  // Marks the invite answered and registers creator and answerer as its
  // couple; a link invite registers the answerer in the creator's couple
  // (or leaves it there, when it belongs to it already).
  virtual Status AnswerInvite(const std::string& invite_id, const std::string& answerer_key,
                      const std::string& sealed_answer) = 0;

  // Records and envelope bytes the couple stores (zero for no such couple).
  virtual Result<CoupleUsage> Usage(const std::string& couple_id) = 0;

  // Tokens of an invite-only relay, stored as hashes: a copy of the database
  // does not hand out unspent tokens.
  virtual Result<StoreTotals> Totals(std::int64_t now) = 0;
  // A small write that proves the store takes writes (the relay's /healthz).
  virtual Status RecordHealthCheck(std::int64_t now) = 0;

  virtual Status AddToken(const std::string& token_hash, std::int64_t created_at) = 0;
  virtual Result<std::optional<TokenRow>> FindToken(const std::string& token_hash) = 0;
  // Binds an unspent token to the device that spent it.
  virtual Status SpendToken(const std::string& token_hash, const std::string& device_key) = 0;
  // Whether `device_key` spent a token (so it may invite again, say after an
  // invite expired, without another: a device becomes one couple only).
  virtual Result<bool> DeviceSpentToken(const std::string& device_key) = 0;

  // Appends a record and counts it in the couple's usage, or finds it when
  // (couple, record_id) is already there.
  // Returns its sequence number; `appended` says whether it is new.
  virtual Result<std::uint64_t> Append(const std::string& couple_id, const std::string& record_id,
                                       const std::string& author_key, const std::string& envelope,
                                       bool* appended) = 0;
  // Erases the envelopes of records `author_key` wrote in the couple
  // (docs/protocol.md §4, Purge), keeping each one's seq and record_id so
  // neither is ever reused. Returns how many were erased now; ids not held,
  // or erased already, are skipped. A record by another author fails with
  // kRefused; the caller's job is then undone whole.
  virtual Result<std::uint32_t> Purge(const std::string& couple_id, const std::string& author_key,
                                      const std::vector<std::string>& record_ids) = 0;
  // Records with seq > after_seq in order, purged ones left out: at most `limit`, and no more once
  // `max_bytes` of envelopes are read, plus one more when there is one (so
  // the caller knows more remain without loading them all).
  virtual Result<std::vector<LogEntry>> ReadAfter(const std::string& couple_id, std::uint64_t after_seq,
                                                  std::uint32_t limit, std::size_t max_bytes = SIZE_MAX) = 0;

  // For `duetd store copy`, inside Begin()/Commit(): each row of `table`,
  // its cells in the table's column order (read in pages, however large);
  // a row written as it was read; how many rows `table` holds.
  virtual Status ReadRows(const StoreTable& table,
                          const std::function<Status(const std::vector<StoreCell>&)>& row) = 0;
  virtual Status WriteRow(const StoreTable& table, const std::vector<StoreCell>& cells) = 0;
  virtual Result<std::uint64_t> CountRows(const StoreTable& table) = 0;
};

// Copies every row of `from` into `to`, which must hold nothing yet, in one
// transaction on each (all or nothing), then checks that each table holds
// as many rows on both sides. Returns each table's name and row count.
Result<std::vector<std::pair<std::string, std::uint64_t>>> CopyRelayStore(RelayStore& from, RelayStore& to);

// The store on PostgreSQL (storage/postgres_relay_store.cc, in the library
// duet_storage_postgres, which links libpq): `conninfo` is a libpq
// connection string or postgresql:// URL. Creates or migrates the schema,
// once however many relays start together. `origin`: the relay's name in
// the events it announces (EncodeStoreEvents).
Result<std::unique_ptr<RelayStore>> OpenPostgresRelayStore(const std::string& conninfo,
                                                           const std::string& origin = {});
// Listens to the events of the PostgreSQL store at `conninfo` (its own
// connection; LISTEN before the first Wait()), but those from `origin`.
Result<std::unique_ptr<StoreEventFeed>> ListenToPostgresStore(const std::string& conninfo,
                                                              const std::string& origin = {});
// For `duetd --check-config`: whether the database answers, and the version
// of duet's schema in it, in a line; changes nothing.
Result<std::string> DescribePostgresStore(const std::string& conninfo);

}  // namespace duet::storage
