#include "storage/relay_store.h"

#include <unordered_map>

#include "storage/database.h"

#include <ctime>

namespace duet::storage {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE couples (
  couple_id BLOB PRIMARY KEY,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE devices (
  device_key BLOB PRIMARY KEY,
  couple_id BLOB NOT NULL REFERENCES couples(couple_id)
) WITHOUT ROWID;
CREATE TABLE invites (
  invite_id BLOB PRIMARY KEY,
  couple_id BLOB NOT NULL,
  creator_key BLOB NOT NULL,
  sealed_offer BLOB NOT NULL,
  expires_at INTEGER NOT NULL,
  answerer_key BLOB,
  sealed_answer BLOB
) WITHOUT ROWID;
CREATE TABLE records (
  id INTEGER PRIMARY KEY,
  couple_id BLOB NOT NULL,
  seq INTEGER NOT NULL,
  record_id BLOB NOT NULL,
  author_key BLOB NOT NULL,
  envelope BLOB NOT NULL
);
CREATE UNIQUE INDEX records_by_couple_seq ON records(couple_id, seq);
CREATE UNIQUE INDEX records_by_couple_record ON records(couple_id, record_id);
)sql";

// Quotas and who may open a mailbox (issue #11): what each couple stores is
// counted as it is appended, pending invites are counted per source address,
// and an invite-only relay keeps the hashes of the tokens its owner made.
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE couples ADD COLUMN records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE couples ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE couples SET
  records = (SELECT count(*) FROM records r WHERE r.couple_id = couples.couple_id),
  bytes = (SELECT coalesce(sum(length(envelope)), 0) FROM records r
           WHERE r.couple_id = couples.couple_id);
ALTER TABLE invites ADD COLUMN creator_address TEXT;
CREATE INDEX invites_by_address ON invites(creator_address);
CREATE TABLE relay_tokens (
  token_hash BLOB PRIMARY KEY,
  created_at INTEGER NOT NULL,
  spent_by BLOB
) WITHOUT ROWID;
CREATE INDEX relay_tokens_by_device ON relay_tokens(spent_by);
)sql";

// Version 3: a place for the relay's own small facts; /healthz writes the
// time of its last check here to prove the store takes writes.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE relay_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 4: an invite its creator replaced with a newer one (CreateInvite's
// replace_open) stays, so the old code is answered "replaced", not "unknown".
constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE invites ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 5: a couple either partner ended (Unpair) keeps when, until its
// last device has been told.
constexpr std::string_view kSchemaV5 = R"sql(
ALTER TABLE couples ADD COLUMN ended_at INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 6: an invite that links another device of a partner into the
// couple (protocol.md §5.1), and the keys its creator hands that device.
constexpr std::string_view kSchemaV6 = R"sql(
ALTER TABLE invites ADD COLUMN link INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invites ADD COLUMN sealed_keys BLOB;
)sql";

// Version 7: which partner each device is (1: the pairing invite's creator
// and the devices linked on that side, 2: the other), so only a partner's
// own devices can revoke one of theirs; and the devices revoked.
constexpr std::string_view kSchemaV7 = R"sql(
ALTER TABLE devices ADD COLUMN partner INTEGER NOT NULL DEFAULT 0;
UPDATE devices SET partner = 1 WHERE device_key IN
  (SELECT creator_key FROM invites WHERE answerer_key IS NOT NULL AND link = 0);
UPDATE devices SET partner = 2 WHERE device_key IN
  (SELECT answerer_key FROM invites WHERE answerer_key IS NOT NULL AND link = 0);
UPDATE devices SET partner = coalesce((SELECT d.partner FROM invites i JOIN devices d ON d.device_key = i.creator_key
                                       WHERE i.answerer_key = devices.device_key AND i.link = 1), 0)
  WHERE partner = 0 AND device_key IN (SELECT answerer_key FROM invites WHERE link = 1);
CREATE TABLE revoked_devices (
  device_key BLOB PRIMARY KEY,
  couple_id BLOB NOT NULL,
  revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_devices_by_couple ON revoked_devices(couple_id);
)sql";

// The store in one SQLite file (the default): WAL, synchronous as asked,
// prepared statements kept for the life of the connection.
class SqliteRelayStore final : public RelayStore {
 public:
  explicit SqliteRelayStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  Status Begin() override;
  // BEGIN IMMEDIATE made this connection the store's one writer already.
  Status LockCouple(const std::string&) override { return Status::Ok(); }
  Status Commit() override;
  void Rollback() override;
  Status Savepoint() override;
  Status EndSavepoint(bool keep) override;
  Result<std::optional<std::string>> CoupleOfDevice(const std::string& device_key) override;
  Result<std::uint64_t> LatestSeq(const std::string& couple_id) override;
  Result<int> PartnerOfDevice(const std::string& device_key) override;
  Result<std::optional<RevokedDeviceRow>> RevokedDevice(const std::string& device_key) override;
  Status RevokeDevice(const std::string& couple_id, const std::string& device_key, std::int64_t now) override;
  Result<std::int64_t> CoupleEndedAt(const std::string& couple_id) override;
  Result<std::int64_t> LeaveCouple(const std::string& couple_id, const std::string& device_key, std::int64_t now) override;
  Status PurgeEndedMailboxes(std::int64_t before) override;
  Result<std::optional<InviteRow>> FindInvite(const std::string& invite_id) override;
  Status CreateInvite(const InviteRow& invite) override;
  Result<std::uint64_t> OpenInvites(const std::string& creator_key, std::int64_t now) override;
  Result<std::uint64_t> PendingInvites(std::int64_t now) override;
  Result<std::uint64_t> PendingInvitesFrom(const std::string& address, std::int64_t now) override;
  Status PurgeExpiredInvites(std::int64_t before) override;
  Status ReplaceOpenInvites(const std::string& creator_key) override;
  Status CompleteLink(const std::string& invite_id, const std::string& sealed_keys, std::int64_t now) override;
  Result<std::uint64_t> DevicesOf(const std::string& couple_id) override;
  Status AnswerInvite(const std::string& invite_id, const std::string& answerer_key, const std::string& sealed_answer) override;
  Result<CoupleUsage> Usage(const std::string& couple_id) override;
  Result<StoreTotals> Totals(std::int64_t now) override;
  Status RecordHealthCheck(std::int64_t now) override;
  Status AddToken(const std::string& token_hash, std::int64_t created_at) override;
  Result<std::optional<TokenRow>> FindToken(const std::string& token_hash) override;
  Status SpendToken(const std::string& token_hash, const std::string& device_key) override;
  Result<bool> DeviceSpentToken(const std::string& device_key) override;
  Result<std::uint64_t> Append(const std::string& couple_id, const std::string& record_id, const std::string& author_key, const std::string& envelope, bool* appended) override;
  Result<std::uint32_t> Purge(const std::string& couple_id, const std::string& author_key, const std::vector<std::string>& record_ids) override;
  Result<std::vector<LogEntry>> ReadAfter(const std::string& couple_id, std::uint64_t after_seq, std::uint32_t limit, std::size_t max_bytes) override;
  Status ReadRows(const StoreTable& table, const std::function<Status(const std::vector<StoreCell>&)>& row) override;
  Status WriteRow(const StoreTable& table, const std::vector<StoreCell>& cells) override;
  Result<std::uint64_t> CountRows(const StoreTable& table) override;

 private:
  // Prepared once, reused: preparing costs more than a whole indexed insert.
  Result<Statement*> Cached(const char* sql);
  // A statement that stepped to a row still holds its read; end them all.
  void ResetStatements();
  std::unique_ptr<Database> db_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> statements_;
  std::optional<Transaction> txn_;
  bool erased_ = false;  // a Purge erased envelopes in this transaction
};

}  // namespace

Result<std::unique_ptr<RelayStore>> RelayStore::Open(const std::string& path,
                                                     bool synchronous_full,
                                                     const std::string& vfs) {
  auto db = Database::Open(path, OpenOptions{.create = true,
                                             .synchronous_full = synchronous_full,
                                             .damaged_hint = "restore it from a backup; duetd will not serve "
                                                             "from a damaged store",
                                             .vfs = vfs});
  if (!db.ok()) return db.error();
  DUET_RETURN_IF_ERROR(db.value()->Migrate({kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4, kSchemaV5, kSchemaV6, kSchemaV7}));
  // Who is paired with whom: damage here must stop the relay at start, not
  // turn a couple into strangers while it serves.
  for (const char* table : {"couples", "devices", "invites", "relay_tokens", "revoked_devices"})
    DUET_RETURN_IF_ERROR(db.value()->ReadWholeTable(table));
  return std::unique_ptr<RelayStore>(new SqliteRelayStore(std::move(db).value()));
}

Status SqliteRelayStore::Begin() {
  ResetStatements();
  txn_.emplace(*db_);
  auto status = txn_->Begin();
  if (!status.ok()) txn_.reset();
  return status;
}

void SqliteRelayStore::ResetStatements() {
  for (auto& [sql, statement] : statements_) statement->Reset();
}

Status SqliteRelayStore::Commit() {
  ResetStatements();
  if (!txn_) return MakeError(ErrorKind::kInternal, "commit without a transaction");
  auto status = txn_->Commit();
  txn_.reset();  // rolls back if the commit failed
  if (status.ok() && erased_) (void)db_->TruncateLog();  // erased either way; this tidies the log
  erased_ = false;
  return status;
}

void SqliteRelayStore::Rollback() {
  ResetStatements();
  erased_ = false;
  txn_.reset();
}

Result<Statement*> SqliteRelayStore::Cached(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto prepared = db_->Prepare(sql);
    if (!prepared.ok()) return prepared.error();
    it = statements_.emplace(sql, std::make_unique<Statement>(std::move(prepared).value())).first;
  }
  it->second->Reset();
  return it->second.get();
}

Status SqliteRelayStore::Savepoint() { return db_->Exec("SAVEPOINT job"); }

Status SqliteRelayStore::EndSavepoint(bool keep) {
  ResetStatements();
  // Releasing after a failed ROLLBACK TO would keep half a job: stop there.
  if (!keep) DUET_RETURN_IF_ERROR(db_->Exec("ROLLBACK TO job"));
  return db_->Exec("RELEASE job");
}

Result<std::optional<std::string>> SqliteRelayStore::CoupleOfDevice(const std::string& device_key) {
  auto stmt_or = Cached("SELECT couple_id FROM devices WHERE device_key = ?");
  if (!stmt_or.ok()) return stmt_or.error();
  Statement* stmt = stmt_or.value();
  stmt->BindBlob(1, device_key);
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  if (!row.value()) return std::optional<std::string>();
  return std::optional<std::string>(stmt->ColumnBlob(0));
}

Result<int> SqliteRelayStore::PartnerOfDevice(const std::string& device_key) {
  auto stmt = Cached("SELECT partner FROM devices WHERE device_key = ?");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->BindBlob(1, device_key);
  auto row = stmt.value()->Step();
  if (!row.ok()) return row.error();
  return row.value() ? static_cast<int>(stmt.value()->ColumnInt(0)) : 0;
}

Result<std::optional<RevokedDeviceRow>> SqliteRelayStore::RevokedDevice(const std::string& device_key) {
  auto stmt = Cached("SELECT couple_id, revoked_at FROM revoked_devices WHERE device_key = ?");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->BindBlob(1, device_key);
  auto row = stmt.value()->Step();
  if (!row.ok()) return row.error();
  if (!row.value()) return std::optional<RevokedDeviceRow>();
  return std::optional<RevokedDeviceRow>(RevokedDeviceRow{stmt.value()->ColumnBlob(0), stmt.value()->ColumnInt(1)});
}

Status SqliteRelayStore::RevokeDevice(const std::string& couple_id, const std::string& device_key, std::int64_t now) {
  auto leave = db_->Prepare("DELETE FROM devices WHERE device_key = ? AND couple_id = ?");
  if (!leave.ok()) return leave.error();
  leave->BindBlob(1, device_key).BindBlob(2, couple_id);
  DUET_RETURN_IF_ERROR(leave->Run());
  auto keep = db_->Prepare("INSERT INTO revoked_devices (device_key, couple_id, revoked_at) VALUES (?, ?, ?)");
  if (!keep.ok()) return keep.error();
  keep->BindBlob(1, device_key).BindBlob(2, couple_id).Bind(3, now);
  return keep->Run();
}

Result<std::uint64_t> SqliteRelayStore::LatestSeq(const std::string& couple_id) {
  auto stmt_or = Cached("SELECT coalesce(max(seq), 0) FROM records WHERE couple_id = ?");
  if (!stmt_or.ok()) return stmt_or.error();
  Statement* stmt = stmt_or.value();
  stmt->BindBlob(1, couple_id);
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  return static_cast<std::uint64_t>(stmt->ColumnInt(0));
}

Result<std::int64_t> SqliteRelayStore::CoupleEndedAt(const std::string& couple_id) {
  auto stmt_or = Cached("SELECT ended_at FROM couples WHERE couple_id = ?");
  if (!stmt_or.ok()) return stmt_or.error();
  Statement* stmt = stmt_or.value();
  stmt->BindBlob(1, couple_id);
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  return row.value() ? stmt->ColumnInt(0) : std::int64_t{0};
}

Result<std::int64_t> SqliteRelayStore::LeaveCouple(const std::string& couple_id, const std::string& device_key,
                                             std::int64_t now) {
  auto ended_or = CoupleEndedAt(couple_id);
  if (!ended_or.ok()) return ended_or.error();
  const std::int64_t ended = ended_or.value() != 0 ? ended_or.value() : now;
  auto end = db_->Prepare("UPDATE couples SET ended_at = ? WHERE couple_id = ?");
  if (!end.ok()) return end.error();
  end->Bind(1, ended).BindBlob(2, couple_id);
  DUET_RETURN_IF_ERROR(end->Run());
  auto leave = db_->Prepare("DELETE FROM devices WHERE device_key = ?");
  if (!leave.ok()) return leave.error();
  leave->BindBlob(1, device_key);
  DUET_RETURN_IF_ERROR(leave->Run());
  auto left = db_->Prepare("SELECT count(*) FROM devices WHERE couple_id = ?");
  if (!left.ok()) return left.error();
  left->BindBlob(1, couple_id);
  auto row = left->Step();
  if (!row.ok()) return row.error();
  if (left->ColumnInt(0) > 0) return ended;
  left->Reset();
  // Everyone was told: nothing of the couple is kept.
  for (const char* sql : {"DELETE FROM records WHERE couple_id = ?", "DELETE FROM invites WHERE couple_id = ?",
                          "DELETE FROM revoked_devices WHERE couple_id = ?", "DELETE FROM couples WHERE couple_id = ?"}) {
    auto stmt = db_->Prepare(sql);
    if (!stmt.ok()) return stmt.error();
    stmt->BindBlob(1, couple_id);
    DUET_RETURN_IF_ERROR(stmt->Run());
  }
  erased_ = true;
  return ended;
}

Status SqliteRelayStore::PurgeEndedMailboxes(std::int64_t before) {
  for (const char* sql :
       {"DELETE FROM records WHERE couple_id IN (SELECT couple_id FROM couples WHERE ended_at > 0 AND ended_at < ?)",
        "DELETE FROM invites WHERE couple_id IN (SELECT couple_id FROM couples WHERE ended_at > 0 AND ended_at < ?)",
        "UPDATE couples SET records = 0, bytes = 0 WHERE ended_at > 0 AND ended_at < ?"}) {
    auto stmt = db_->Prepare(sql);
    if (!stmt.ok()) return stmt.error();
    stmt->Bind(1, before);
    DUET_RETURN_IF_ERROR(stmt->Run());
  }
  erased_ = true;
  return Status::Ok();
}

Result<std::optional<InviteRow>> SqliteRelayStore::FindInvite(const std::string& invite_id) {
  auto stmt_or = Cached(
      "SELECT couple_id, creator_key, sealed_offer, expires_at, answerer_key IS NOT NULL, "
      "sealed_answer, answerer_key, replaced, link, sealed_keys FROM invites WHERE invite_id = ?");
  if (!stmt_or.ok()) return stmt_or.error();
  Statement* stmt = stmt_or.value();
  stmt->BindBlob(1, invite_id);
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  if (!row.value()) return std::optional<InviteRow>();
  InviteRow invite;
  invite.invite_id = invite_id;
  invite.couple_id = stmt->ColumnBlob(0);
  invite.creator_key = stmt->ColumnBlob(1);
  invite.sealed_offer = stmt->ColumnBlob(2);
  invite.expires_at = stmt->ColumnInt(3);
  invite.answered = stmt->ColumnInt(4) != 0;
  invite.sealed_answer = stmt->ColumnBlob(5);
  invite.answerer_key = stmt->ColumnBlob(6);
  invite.replaced = stmt->ColumnInt(7) != 0;
  invite.link = stmt->ColumnInt(8) != 0;
  invite.sealed_keys = stmt->ColumnBlob(9);
  return std::optional<InviteRow>(std::move(invite));
}

Status SqliteRelayStore::CreateInvite(const InviteRow& invite) {
  auto stmt = db_->Prepare(
      "INSERT INTO invites (invite_id, couple_id, creator_key, sealed_offer, expires_at, "
      "creator_address, link) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!stmt.ok()) return stmt.error();
  stmt->BindBlob(1, invite.invite_id)
      .BindBlob(2, invite.couple_id)
      .BindBlob(3, invite.creator_key)
      .BindBlob(4, invite.sealed_offer)
      .Bind(5, invite.expires_at);
  if (invite.creator_address.empty())
    stmt->BindNull(6);
  else
    stmt->BindText(6, invite.creator_address);
  stmt->Bind(7, static_cast<std::int64_t>(invite.link ? 1 : 0));
  return stmt->Run();
}

Result<std::uint64_t> SqliteRelayStore::PendingInvites(std::int64_t now) {
  auto stmt = Cached(
      "SELECT count(*) FROM invites WHERE answerer_key IS NULL AND replaced = 0 AND expires_at > ?");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->Bind(1, now);
  auto row = stmt.value()->Step();
  if (!row.ok()) return row.error();
  return static_cast<std::uint64_t>(stmt.value()->ColumnInt(0));
}

Result<std::uint64_t> SqliteRelayStore::PendingInvitesFrom(const std::string& address,
                                                     std::int64_t now) {
  auto stmt = Cached(
      "SELECT count(*) FROM invites WHERE creator_address = ? AND answerer_key IS NULL AND replaced = 0 AND "
      "expires_at > ?");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->BindText(1, address).Bind(2, now);
  auto row = stmt.value()->Step();
  if (!row.ok()) return row.error();
  return static_cast<std::uint64_t>(stmt.value()->ColumnInt(0));
}

Result<CoupleUsage> SqliteRelayStore::Usage(const std::string& couple_id) {
  auto stmt = Cached("SELECT records, bytes FROM couples WHERE couple_id = ?");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->BindBlob(1, couple_id);
  auto row = stmt.value()->Step();
  if (!row.ok()) return row.error();
  if (!row.value()) return CoupleUsage{};
  return CoupleUsage{static_cast<std::uint64_t>(stmt.value()->ColumnInt(0)),
                     static_cast<std::uint64_t>(stmt.value()->ColumnInt(1))};
}

Result<StoreTotals> SqliteRelayStore::Totals(std::int64_t now) {
  StoreTotals totals;
  auto couples = Cached("SELECT count(*), coalesce(sum(records), 0), coalesce(sum(bytes), 0) FROM couples");
  if (!couples.ok()) return couples.error();
  auto row = couples.value()->Step();
  if (!row.ok()) return row.error();
  totals.couples = static_cast<std::uint64_t>(couples.value()->ColumnInt(0));
  totals.records = static_cast<std::uint64_t>(couples.value()->ColumnInt(1));
  totals.bytes = static_cast<std::uint64_t>(couples.value()->ColumnInt(2));
  auto devices = Cached("SELECT count(*) FROM devices");
  if (!devices.ok()) return devices.error();
  row = devices.value()->Step();
  if (!row.ok()) return row.error();
  totals.devices = static_cast<std::uint64_t>(devices.value()->ColumnInt(0));
  auto pending = PendingInvites(now);
  if (!pending.ok()) return pending.error();
  totals.pending_invites = pending.value();
  return totals;
}

Status SqliteRelayStore::RecordHealthCheck(std::int64_t now) {
  auto stmt = Cached("INSERT OR REPLACE INTO relay_meta (key, value) VALUES ('health_checked_at', ?)");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->Bind(1, now);
  return stmt.value()->Run();
}

Status SqliteRelayStore::AddToken(const std::string& token_hash, std::int64_t created_at) {
  auto stmt = db_->Prepare("INSERT INTO relay_tokens (token_hash, created_at) VALUES (?, ?)");
  if (!stmt.ok()) return stmt.error();
  stmt->BindBlob(1, token_hash).Bind(2, created_at);
  return stmt->Run();
}

Result<std::optional<TokenRow>> SqliteRelayStore::FindToken(const std::string& token_hash) {
  auto stmt = Cached("SELECT spent_by FROM relay_tokens WHERE token_hash = ?");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->BindBlob(1, token_hash);
  auto row = stmt.value()->Step();
  if (!row.ok()) return row.error();
  if (!row.value()) return std::optional<TokenRow>();
  return std::optional<TokenRow>(TokenRow{stmt.value()->ColumnBlob(0)});
}

Result<bool> SqliteRelayStore::DeviceSpentToken(const std::string& device_key) {
  auto stmt = Cached("SELECT 1 FROM relay_tokens WHERE spent_by = ?");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->BindBlob(1, device_key);
  auto row = stmt.value()->Step();
  if (!row.ok()) return row.error();
  return row.value();
}

Status SqliteRelayStore::SpendToken(const std::string& token_hash, const std::string& device_key) {
  auto stmt = db_->Prepare(
      "UPDATE relay_tokens SET spent_by = ? WHERE token_hash = ? AND spent_by IS NULL");
  if (!stmt.ok()) return stmt.error();
  stmt->BindBlob(1, device_key).BindBlob(2, token_hash);
  return stmt->Run();
}

Result<std::uint64_t> SqliteRelayStore::OpenInvites(const std::string& creator_key, std::int64_t now) {
  auto stmt = db_->Prepare(
      "SELECT count(*) FROM invites WHERE creator_key = ? AND answerer_key IS NULL AND "
      "replaced = 0 AND expires_at > ?");
  if (!stmt.ok()) return stmt.error();
  stmt->BindBlob(1, creator_key).Bind(2, now);
  auto row = stmt->Step();
  if (!row.ok()) return row.error();
  return static_cast<std::uint64_t>(stmt->ColumnInt(0));
}

Status SqliteRelayStore::ReplaceOpenInvites(const std::string& creator_key) {
  auto stmt = db_->Prepare(
      "UPDATE invites SET replaced = 1, creator_address = NULL "
      "WHERE creator_key = ? AND answerer_key IS NULL AND replaced = 0");
  if (!stmt.ok()) return stmt.error();
  stmt->BindBlob(1, creator_key);
  return stmt->Run();
}

Status SqliteRelayStore::PurgeExpiredInvites(std::int64_t before) {
  auto stmt = db_->Prepare("DELETE FROM invites WHERE answerer_key IS NULL AND expires_at < ?");
  if (!stmt.ok()) return stmt.error();
  stmt->Bind(1, before);
  DUET_RETURN_IF_ERROR(stmt->Run());
  // An answered invite's address is not needed any more: keep no more of it.
  auto forget = db_->Prepare(
      "UPDATE invites SET creator_address = NULL WHERE answerer_key IS NOT NULL AND "
      "creator_address IS NOT NULL");
  if (!forget.ok()) return forget.error();
  DUET_RETURN_IF_ERROR(forget->Run());
  // A linked device had a day past the expiry to fetch its keys.
  auto keys = db_->Prepare("UPDATE invites SET sealed_keys = NULL WHERE sealed_keys IS NOT NULL AND expires_at < ?");
  if (!keys.ok()) return keys.error();
  keys->Bind(1, before);
  return keys->Run();
}

Status SqliteRelayStore::CompleteLink(const std::string& invite_id, const std::string& sealed_keys, std::int64_t now) {
  // Kept a day past the later of its expiry and now: a link completed late
  // still leaves the new device a day to fetch its keys.
  auto stmt = db_->Prepare("UPDATE invites SET sealed_keys = ?, expires_at = max(expires_at, ?) WHERE invite_id = ?");
  if (!stmt.ok()) return stmt.error();
  stmt->BindBlob(1, sealed_keys).Bind(2, now).BindBlob(3, invite_id);
  return stmt->Run();
}

Result<std::uint64_t> SqliteRelayStore::DevicesOf(const std::string& couple_id) {
  auto stmt = Cached("SELECT count(*) FROM devices WHERE couple_id = ?");
  if (!stmt.ok()) return stmt.error();
  stmt.value()->BindBlob(1, couple_id);
  auto row = stmt.value()->Step();
  if (!row.ok()) return row.error();
  return static_cast<std::uint64_t>(stmt.value()->ColumnInt(0));
}

Status SqliteRelayStore::AnswerInvite(const std::string& invite_id, const std::string& answerer_key,
                                const std::string& sealed_answer) {
  auto invite = FindInvite(invite_id);
  if (!invite.ok()) return invite.error();
  if (!invite.value() || invite.value()->answered || invite.value()->replaced)
    return MakeError(ErrorKind::kNotFound, "invite is not open");
  const InviteRow& row = *invite.value();
  auto update = db_->Prepare(
      "UPDATE invites SET answerer_key = ?, sealed_answer = ?, creator_address = NULL "
      "WHERE invite_id = ?");
  if (!update.ok()) return update.error();
  update->BindBlob(1, answerer_key).BindBlob(2, sealed_answer).BindBlob(3, invite_id);
  DUET_RETURN_IF_ERROR(update->Run());
  auto device = db_->Prepare("INSERT INTO devices (device_key, couple_id, partner) VALUES (?, ?, ?)");
  if (!device.ok()) return device.error();
  if (row.link) {  // one more device of the creator's couple, on the creator's side
    auto side = PartnerOfDevice(row.creator_key);
    if (!side.ok()) return side.error();
    // A device of the couple already (joining again through a new code)
    // keeps its row.
    auto linked = db_->Prepare("INSERT OR IGNORE INTO devices (device_key, couple_id, partner) VALUES (?, ?, ?)");
    if (!linked.ok()) return linked.error();
    linked->BindBlob(1, answerer_key).BindBlob(2, row.couple_id).Bind(3, static_cast<std::int64_t>(side.value()));
    return linked->Run();
  }
  auto couple = db_->Prepare("INSERT INTO couples (couple_id, created_at) VALUES (?, ?)");
  if (!couple.ok()) return couple.error();
  couple->BindBlob(1, row.couple_id).Bind(2, static_cast<std::int64_t>(std::time(nullptr)));
  DUET_RETURN_IF_ERROR(couple->Run());
  device->BindBlob(1, row.creator_key).BindBlob(2, row.couple_id).Bind(3, std::int64_t{1});
  DUET_RETURN_IF_ERROR(device->Run());
  device->BindBlob(1, answerer_key).BindBlob(2, row.couple_id).Bind(3, std::int64_t{2});
  return device->Run();
}

Result<std::uint64_t> SqliteRelayStore::Append(const std::string& couple_id,
                                         const std::string& record_id,
                                         const std::string& author_key,
                                         const std::string& envelope, bool* appended) {
  *appended = false;
  auto existing_or = Cached("SELECT seq FROM records WHERE couple_id = ? AND record_id = ?");
  if (!existing_or.ok()) return existing_or.error();
  Statement* existing = existing_or.value();
  existing->BindBlob(1, couple_id).BindBlob(2, record_id);
  auto found = existing->Step();
  if (!found.ok()) return found.error();
  if (found.value()) return static_cast<std::uint64_t>(existing->ColumnInt(0));

  auto latest = LatestSeq(couple_id);
  if (!latest.ok()) return latest.error();
  const std::uint64_t seq = latest.value() + 1;
  auto insert_or = Cached(
      "INSERT INTO records (couple_id, seq, record_id, author_key, envelope) "
      "VALUES (?, ?, ?, ?, ?)");
  if (!insert_or.ok()) return insert_or.error();
  Statement* insert = insert_or.value();
  insert->BindBlob(1, couple_id)
      .Bind(2, static_cast<std::int64_t>(seq))
      .BindBlob(3, record_id)
      .BindBlob(4, author_key)
      .BindBlob(5, envelope);
  DUET_RETURN_IF_ERROR(insert->Run());
  auto count_or = Cached("UPDATE couples SET records = records + 1, bytes = bytes + ? "
                         "WHERE couple_id = ?");
  if (!count_or.ok()) return count_or.error();
  count_or.value()->Bind(1, static_cast<std::int64_t>(envelope.size())).BindBlob(2, couple_id);
  DUET_RETURN_IF_ERROR(count_or.value()->Run());
  *appended = true;
  return seq;
}

Result<std::uint32_t> SqliteRelayStore::Purge(const std::string& couple_id, const std::string& author_key,
                                        const std::vector<std::string>& record_ids) {
  std::uint32_t purged = 0;
  for (const auto& record_id : record_ids) {
    auto find_or = Cached("SELECT author_key, length(envelope) FROM records WHERE couple_id = ? AND record_id = ?");
    if (!find_or.ok()) return find_or.error();
    Statement* find = find_or.value();
    find->BindBlob(1, couple_id).BindBlob(2, record_id);
    auto found = find->Step();
    if (!found.ok()) return found.error();
    if (!found.value()) continue;
    const std::string author = find->ColumnBlob(0);
    const std::int64_t length = find->ColumnInt(1);
    find->Reset();
    if (author != author_key)
      return MakeError(ErrorKind::kRefused, "a record to purge was written by another device");
    if (length == 0) continue;
    auto erase_or = Cached("UPDATE records SET envelope = x'' WHERE couple_id = ? AND record_id = ?");
    if (!erase_or.ok()) return erase_or.error();
    erase_or.value()->BindBlob(1, couple_id).BindBlob(2, record_id);
    DUET_RETURN_IF_ERROR(erase_or.value()->Run());
    auto count_or = Cached("UPDATE couples SET bytes = bytes - ? WHERE couple_id = ?");
    if (!count_or.ok()) return count_or.error();
    count_or.value()->Bind(1, length).BindBlob(2, couple_id);
    DUET_RETURN_IF_ERROR(count_or.value()->Run());
    erased_ = true;
    ++purged;
  }
  return purged;
}

// The table and column names come from StoreTables(), never from input.
Status SqliteRelayStore::ReadRows(const StoreTable& table,
                                  const std::function<Status(const std::vector<StoreCell>&)>& row) {
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < table.columns.size(); ++i) sql += (i == 0 ? "" : ", ") + std::string(table.columns[i].name);
  sql += " FROM " + std::string(table.name);
  auto stmt = db_->Prepare(sql);
  if (!stmt.ok()) return stmt.error();
  std::vector<StoreCell> cells(table.columns.size());
  for (;;) {
    auto stepped = stmt.value().Step();
    if (!stepped.ok()) return stepped.error();
    if (!stepped.value()) return Status::Ok();
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      const int column = static_cast<int>(i);
      const auto kind = table.columns[i].kind;
      if (stmt.value().ColumnIsNull(column)) cells[i] = std::monostate();
      else if (kind == StoreColumn::Kind::kInt || kind == StoreColumn::Kind::kBool) cells[i] = stmt.value().ColumnInt(column);
      else cells[i] = stmt.value().ColumnBlob(column);
    }
    DUET_RETURN_IF_ERROR(row(cells));
  }
}

Status SqliteRelayStore::WriteRow(const StoreTable& table, const std::vector<StoreCell>& cells) {
  std::string sql = "INSERT INTO " + std::string(table.name) + " (";
  std::string values;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    sql += (i == 0 ? "" : ", ") + std::string(table.columns[i].name);
    values += i == 0 ? "?" : ", ?";
  }
  sql += ") VALUES (" + values + ")";
  auto stmt = db_->Prepare(sql);
  if (!stmt.ok()) return stmt.error();
  for (std::size_t i = 0; i < table.columns.size() && i < cells.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    if (const auto* number = std::get_if<std::int64_t>(&cells[i])) stmt.value().Bind(index, *number);
    else if (const auto* bytes = std::get_if<std::string>(&cells[i]))
      table.columns[i].kind == StoreColumn::Kind::kText ? stmt.value().BindText(index, *bytes)
                                                       : stmt.value().BindBlob(index, *bytes);
    else stmt.value().BindNull(index);
  }
  return stmt.value().Run();
}

Result<std::uint64_t> SqliteRelayStore::CountRows(const StoreTable& table) {
  auto stmt = db_->Prepare("SELECT count(*) FROM " + std::string(table.name));
  if (!stmt.ok()) return stmt.error();
  auto stepped = stmt.value().Step();
  if (!stepped.ok()) return stepped.error();
  return static_cast<std::uint64_t>(stmt.value().ColumnInt(0));
}

Result<std::vector<LogEntry>> SqliteRelayStore::ReadAfter(const std::string& couple_id,
                                                    std::uint64_t after_seq,
                                                    std::uint32_t limit,
                                                    std::size_t max_bytes) {
  auto stmt_or = Cached(
      "SELECT seq, envelope FROM records WHERE couple_id = ? AND seq > ? AND length(envelope) > 0 "
      "ORDER BY seq LIMIT ?");
  if (!stmt_or.ok()) return stmt_or.error();
  Statement* stmt = stmt_or.value();
  stmt->BindBlob(1, couple_id)
      .Bind(2, static_cast<std::int64_t>(after_seq))
      .Bind(3, static_cast<std::int64_t>(limit));
  std::vector<LogEntry> out;
  std::size_t bytes = 0;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!row.value()) break;
    out.push_back(LogEntry{static_cast<std::uint64_t>(stmt->ColumnInt(0)), stmt->ColumnBlob(1)});
    if (bytes >= max_bytes) break;  // this one only says that more remain
    bytes += out.back().envelope.size();
  }
  return out;
}

}  // namespace duet::storage
