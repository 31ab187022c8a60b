#include "storage/replica_store.h"

#include <charconv>
#include <ctime>

namespace duet::storage {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE records (
  id INTEGER PRIMARY KEY,
  record_id BLOB NOT NULL UNIQUE,
  author_key BLOB NOT NULL,
  envelope BLOB NOT NULL,
  shared INTEGER NOT NULL,
  relay_seq INTEGER
);
CREATE TABLE outbox (
  record_id BLOB PRIMARY KEY REFERENCES records(record_id),
  queued_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE rejected (
  id INTEGER PRIMARY KEY,
  relay_seq INTEGER NOT NULL,
  record_id BLOB NOT NULL,
  reason TEXT NOT NULL
);
)sql";

// Version 2: records restored from an export (duet import), kept apart
// from the log this device syncs: they have no envelope to verify.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE archive (
  id INTEGER PRIMARY KEY,
  record_id BLOB NOT NULL UNIQUE,
  author_key BLOB NOT NULL,
  shared INTEGER NOT NULL,
  relay_seq INTEGER,
  sealed BLOB NOT NULL
);
)sql";

// Version 3: what the records decrypt to, kept between commands (sealed
// by the client, opaque here), and a count of changes to what it was made
// from. The triggers run inside every transaction that changes records,
// restored records or a setting, so a kept copy is never read after the
// state it came from changed, and its bytes are gone (secure_delete) with
// the change: a deleted note does not linger in it.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE state_generation (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
);
INSERT INTO state_generation (id, value) VALUES (1, 0);
CREATE TABLE opened_cache (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL,
  sealed BLOB NOT NULL
);
CREATE TRIGGER records_added AFTER INSERT ON records BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
CREATE TRIGGER records_changed AFTER UPDATE ON records BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
CREATE TRIGGER records_removed AFTER DELETE ON records BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
CREATE TRIGGER archive_added AFTER INSERT ON archive BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
CREATE TRIGGER archive_changed AFTER UPDATE ON archive BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
CREATE TRIGGER archive_removed AFTER DELETE ON archive BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
CREATE TRIGGER meta_added AFTER INSERT ON meta BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
CREATE TRIGGER meta_changed AFTER UPDATE ON meta WHEN OLD.value IS NOT NEW.value BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
CREATE TRIGGER meta_removed AFTER DELETE ON meta BEGIN
  UPDATE state_generation SET value = value + 1; DELETE FROM opened_cache; END;
)sql";

constexpr char kCursorKey[] = "sync.cursor";

ReplicaRecord ReadRecord(const Statement& stmt) {
  ReplicaRecord record;
  record.record_id = stmt.ColumnBlob(0);
  record.author_key = stmt.ColumnBlob(1);
  record.envelope = stmt.ColumnBlob(2);
  record.shared = stmt.ColumnInt(3) != 0;
  if (!stmt.ColumnIsNull(4)) record.relay_seq = static_cast<std::uint64_t>(stmt.ColumnInt(4));
  return record;
}

Result<std::vector<ReplicaRecord>> ReadRecords(Database& db, std::string_view sql) {
  auto stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.error();
  std::vector<ReplicaRecord> out;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!row.value()) break;
    out.push_back(ReadRecord(stmt.value()));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<ReplicaStore>> ReplicaStore::Open(const std::string& path, bool create) {
  auto db = Database::Open(path, OpenOptions{.create = create,
                                             .synchronous_full = true,
                                             .damaged_hint = "restore it from a backup, or set up duet again in "
                                                             "a new --home and pair again",
                                             .vfs = {}});
  if (!db.ok()) return db.error();
  DUET_RETURN_IF_ERROR(db.value()->Migrate({kSchemaV1, kSchemaV2, kSchemaV3}));
  // Every command decides on what meta says (paired or not, the chain
  // head): damage there must be an error, never a missing value.
  DUET_RETURN_IF_ERROR(db.value()->ReadWholeTable("meta"));
  return std::unique_ptr<ReplicaStore>(new ReplicaStore(std::move(db).value()));
}

Result<std::optional<std::string>> ReplicaStore::GetMeta(const std::string& key) {
  auto stmt = db_->Prepare("SELECT value FROM meta WHERE key = ?");
  if (!stmt.ok()) return stmt.error();
  stmt->BindText(1, key);
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  if (!row.value()) return std::optional<std::string>();
  return std::optional<std::string>(stmt->ColumnBlob(0));
}

Result<std::vector<std::pair<std::string, std::string>>> ReplicaStore::MetasWithPrefix(const std::string& prefix) {
  auto stmt = db_->Prepare("SELECT key, value FROM meta WHERE substr(key, 1, ?) = ? ORDER BY key");
  if (!stmt.ok()) return stmt.error();
  stmt->Bind(1, static_cast<std::int64_t>(prefix.size())).BindText(2, prefix);
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!row.value()) return out;
    out.emplace_back(stmt->ColumnBlob(0), stmt->ColumnBlob(1));
  }
}

Status ReplicaStore::SetMetaUnlocked(const std::string& key, const std::string& value) {
  // A value written again unchanged writes nothing: no page, no log frame,
  // no fsync (commands that only read rewrite what they check), and no
  // change for the kept opened records.
  auto stmt = db_->Prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value");
  if (!stmt.ok()) return stmt.error();
  stmt->BindText(1, key).BindBlob(2, value);
  return stmt->Run();
}

Status ReplicaStore::SetMeta(const std::string& key, const std::string& value) {
  return SetMetaUnlocked(key, value);
}

Status ReplicaStore::SetMetas(const std::vector<std::pair<std::string, std::string>>& entries) {
  Transaction txn(*db_);
  DUET_RETURN_IF_ERROR(txn.Begin());
  for (const auto& [key, value] : entries) DUET_RETURN_IF_ERROR(SetMetaUnlocked(key, value));
  return txn.Commit();
}

Status ReplicaStore::AddLocal(const ReplicaRecord& record) {
  Transaction txn(*db_);
  DUET_RETURN_IF_ERROR(txn.Begin());
  auto insert = db_->Prepare(
      "INSERT INTO records (record_id, author_key, envelope, shared) VALUES (?, ?, ?, ?)");
  if (!insert.ok()) return insert.error();
  insert->BindBlob(1, record.record_id)
      .BindBlob(2, record.author_key)
      .BindBlob(3, record.envelope)
      .Bind(4, record.shared ? 1 : 0);
  DUET_RETURN_IF_ERROR(insert->Run());
  if (record.shared) {
    auto queue = db_->Prepare("INSERT INTO outbox (record_id, queued_at) VALUES (?, ?)");
    if (!queue.ok()) return queue.error();
    queue->BindBlob(1, record.record_id).Bind(2, static_cast<std::int64_t>(std::time(nullptr)));
    DUET_RETURN_IF_ERROR(queue->Run());
  }
  return txn.Commit();
}

Result<std::vector<ReplicaRecord>> ReplicaStore::Outbox() {
  // CROSS JOIN makes SQLite walk the outbox (a few rows) and look each up,
  // instead of walking every record held to keep r.id's order.
  return ReadRecords(*db_,
                     "SELECT r.record_id, r.author_key, r.envelope, r.shared, r.relay_seq "
                     "FROM outbox o CROSS JOIN records r ON r.record_id = o.record_id ORDER BY r.id");
}

Status ReplicaStore::MarkPushed(const std::string& record_id, std::uint64_t seq) {
  Transaction txn(*db_);
  DUET_RETURN_IF_ERROR(txn.Begin());
  auto update = db_->Prepare("UPDATE records SET relay_seq = ? WHERE record_id = ?");
  if (!update.ok()) return update.error();
  update->Bind(1, static_cast<std::int64_t>(seq)).BindBlob(2, record_id);
  DUET_RETURN_IF_ERROR(update->Run());
  auto remove = db_->Prepare("DELETE FROM outbox WHERE record_id = ?");
  if (!remove.ok()) return remove.error();
  remove->BindBlob(1, record_id);
  DUET_RETURN_IF_ERROR(remove->Run());
  return txn.Commit();
}

Status ReplicaStore::ApplyPulled(const std::vector<PulledRecord>& accepted,
                                 const std::vector<RejectedRecord>& rejected,
                                 std::uint64_t new_cursor) {
  Transaction txn(*db_);
  DUET_RETURN_IF_ERROR(txn.Begin());
  // A record this device pushed comes back in the pull: keep the copy it has
  // and just learn its sequence number. A record held already (a replay, at
  // another number) changes nothing.
  auto insert = db_->Prepare(
      "INSERT INTO records (record_id, author_key, envelope, shared, relay_seq) "
      "VALUES (?, ?, ?, 1, ?) ON CONFLICT(record_id) DO UPDATE SET relay_seq = "
      "coalesce(records.relay_seq, excluded.relay_seq)");
  if (!insert.ok()) return insert.error();
  for (const auto& record : accepted) {
    insert->BindBlob(1, record.record_id)
        .BindBlob(2, record.author_key)
        .BindBlob(3, record.envelope)
        .Bind(4, static_cast<std::int64_t>(record.seq));
    DUET_RETURN_IF_ERROR(insert->Run());
  }
  auto refuse = db_->Prepare("INSERT INTO rejected (relay_seq, record_id, reason) VALUES (?, ?, ?)");
  if (!refuse.ok()) return refuse.error();
  for (const auto& record : rejected) {
    refuse->Bind(1, static_cast<std::int64_t>(record.seq))
        .BindBlob(2, record.record_id)
        .BindText(3, record.reason);
    DUET_RETURN_IF_ERROR(refuse->Run());
  }
  DUET_RETURN_IF_ERROR(SetMetaUnlocked(kCursorKey, std::to_string(new_cursor)));
  return txn.Commit();
}

Result<std::uint64_t> ReplicaStore::Cursor() {
  auto value = GetMeta(kCursorKey);
  if (!value.ok()) return value.error();
  if (!value.value()) return std::uint64_t{0};
  std::uint64_t cursor = 0;
  const std::string& text = *value.value();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cursor);
  if (ec != std::errc() || end != text.data() + text.size())
    return MakeError(ErrorKind::kIo, "local database is damaged: bad sync cursor");
  return cursor;
}

Result<std::vector<ReplicaRecord>> ReplicaStore::AllRecords() {
  return ReadRecords(*db_,
                     "SELECT record_id, author_key, envelope, shared, relay_seq FROM records "
                     "ORDER BY id");
}

Result<std::optional<std::uint64_t>> ReplicaStore::RelaySeqOf(const std::string& record_id) {
  auto stmt = db_->Prepare("SELECT relay_seq FROM records WHERE record_id = ? AND relay_seq IS NOT NULL");
  if (!stmt.ok()) return stmt.error();
  stmt->BindBlob(1, record_id);
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  if (!row.value()) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(stmt->ColumnInt(0)));
}

Result<std::uint64_t> ReplicaStore::HighestRelaySeq() {
  auto stmt = db_->Prepare("SELECT coalesce(max(relay_seq), 0) FROM records");
  if (!stmt.ok()) return stmt.error();
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  return static_cast<std::uint64_t>(stmt->ColumnInt(0));
}

Status ReplicaStore::AddArchived(const std::vector<ArchivedRecord>& records) {
  Transaction txn(*db_);
  DUET_RETURN_IF_ERROR(txn.Begin());
  auto insert = db_->Prepare(
      "INSERT INTO archive (record_id, author_key, shared, relay_seq, sealed) VALUES (?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.error();
  for (const auto& r : records) {
    insert->Reset();
    insert->BindBlob(1, r.record_id).BindBlob(2, r.author_key).Bind(3, r.shared ? 1 : 0);
    if (r.relay_seq) insert->Bind(4, static_cast<std::int64_t>(*r.relay_seq));
    insert->BindBlob(5, r.sealed);
    DUET_RETURN_IF_ERROR(insert->Run());
  }
  return txn.Commit();
}

Result<std::vector<ArchivedRecord>> ReplicaStore::Archived() {
  auto stmt = db_->Prepare("SELECT record_id, author_key, shared, relay_seq, sealed FROM archive ORDER BY id");
  if (!stmt.ok()) return stmt.error();
  std::vector<ArchivedRecord> out;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!row.value()) break;
    ArchivedRecord r;
    r.record_id = stmt->ColumnBlob(0);
    r.author_key = stmt->ColumnBlob(1);
    r.shared = stmt->ColumnInt(2) != 0;
    if (!stmt->ColumnIsNull(3)) r.relay_seq = static_cast<std::uint64_t>(stmt->ColumnInt(3));
    r.sealed = stmt->ColumnBlob(4);
    out.push_back(std::move(r));
  }
  return out;
}

Status ReplicaStore::Forget(const std::vector<std::string>& record_ids) {
  Transaction txn(*db_);
  DUET_RETURN_IF_ERROR(txn.Begin());
  for (const char* sql : {"DELETE FROM outbox WHERE record_id = ?", "DELETE FROM records WHERE record_id = ?"}) {
    auto remove = db_->Prepare(sql);
    if (!remove.ok()) return remove.error();
    for (const auto& record_id : record_ids) {
      remove->Reset();
      remove->BindBlob(1, record_id);
      DUET_RETURN_IF_ERROR(remove->Run());
    }
  }
  return txn.Commit();
}

Result<ReplicaStore::KeptOpened> ReplicaStore::CurrentOpened() {
  auto stmt = db_->Prepare(
      // By its key: a join on generation alone has SQLite build a temporary
      // index holding a copy of the whole blob.
      "SELECT g.value, c.sealed FROM state_generation g "
      "LEFT JOIN opened_cache c ON c.id = 1 AND c.generation = g.value");
  if (!stmt.ok()) return stmt.error();
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  if (!row.value()) return MakeError(ErrorKind::kDamaged, "the replica has lost its state generation row; restore it from a backup");
  KeptOpened kept;
  kept.generation = static_cast<std::uint64_t>(stmt->ColumnInt(0));
  if (!stmt->ColumnIsNull(1)) kept.sealed = stmt->ColumnBlob(1);
  return kept;
}

Status ReplicaStore::KeepOpened(std::uint64_t generation, const std::string& sealed) {
  // Only if nothing changed since `generation` was read: otherwise what
  // was opened is already out of date, and is not kept.
  auto stmt = db_->Prepare(
      "INSERT OR REPLACE INTO opened_cache (id, generation, sealed) "
      "SELECT 1, ?1, ?2 WHERE (SELECT value FROM state_generation) = ?1");
  if (!stmt.ok()) return stmt.error();
  stmt->Bind(1, static_cast<std::int64_t>(generation)).BindBlob(2, sealed);
  // Only worth keeping if it costs no wait: while another duet writes, a
  // command that only reads answers at once and the next one keeps it.
  db_->SetBusyTimeout(std::chrono::milliseconds(0));
  Status kept = stmt->Run();
  db_->SetBusyTimeout(std::chrono::seconds(5));
  return kept;
}

Status ReplicaStore::InTransaction(const std::function<Status()>& body) {
  Transaction txn(*db_);
  DUET_RETURN_IF_ERROR(txn.Begin());
  DUET_RETURN_IF_ERROR(body());
  return txn.Commit();
}

Result<std::vector<RejectedRecord>> ReplicaStore::Rejected() {
  auto stmt = db_->Prepare("SELECT relay_seq, record_id, reason FROM rejected ORDER BY id");
  if (!stmt.ok()) return stmt.error();
  std::vector<RejectedRecord> out;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!row.value()) break;
    out.push_back(RejectedRecord{static_cast<std::uint64_t>(stmt->ColumnInt(0)),
                                 stmt->ColumnBlob(1), stmt->ColumnBlob(2)});
  }
  return out;
}

}  // namespace duet::storage
