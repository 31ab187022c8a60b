// The relay's store on PostgreSQL, through libpq: the same tables and the
// same answers as the SQLite store (relay_store.cc), so the relay tests run
// unchanged against both. Several relays may share one database: each
// couple's next sequence number is taken while its couple row is locked
// (SELECT ... FOR UPDATE), inside the transaction that stores the records,
// so two relays never hand out one number twice and a rolled-back batch
// leaves no gap. Byte strings travel as binary parameters and results; no
// value is ever spliced into SQL text. What a batch changed is announced to
// the other relays in its own transaction (NOTIFY duet_events), and heard
// on a connection of its own (PostgresEventFeed).
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <unordered_map>
#include <unordered_set>

#include "storage/relay_store.h"

namespace duet::storage {
namespace {

// Each schema version, applied in order inside one transaction that holds
// an advisory lock, so relays starting together migrate once.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE couples (
  couple_id bytea PRIMARY KEY,
  created_at bigint NOT NULL,
  records bigint NOT NULL DEFAULT 0,
  bytes bigint NOT NULL DEFAULT 0,
  ended_at bigint NOT NULL DEFAULT 0
);
CREATE TABLE devices (
  device_key bytea PRIMARY KEY,
  couple_id bytea NOT NULL REFERENCES couples(couple_id),
  partner integer NOT NULL DEFAULT 0
);
CREATE INDEX devices_by_couple ON devices(couple_id);
CREATE TABLE invites (
  invite_id bytea PRIMARY KEY,
  couple_id bytea NOT NULL,
  creator_key bytea NOT NULL,
  sealed_offer bytea NOT NULL,
  expires_at bigint NOT NULL,
  answerer_key bytea,
  sealed_answer bytea,
  creator_address text,
  replaced boolean NOT NULL DEFAULT false,
  link boolean NOT NULL DEFAULT false,
  sealed_keys bytea
);
CREATE INDEX invites_by_address ON invites(creator_address);
CREATE INDEX invites_by_creator ON invites(creator_key);
CREATE INDEX invites_by_couple ON invites(couple_id);
CREATE TABLE records (
  couple_id bytea NOT NULL,
  seq bigint NOT NULL,
  record_id bytea NOT NULL,
  author_key bytea NOT NULL,
  envelope bytea NOT NULL,
  PRIMARY KEY (couple_id, seq),
  UNIQUE (couple_id, record_id)
);
CREATE TABLE relay_tokens (
  token_hash bytea PRIMARY KEY,
  created_at bigint NOT NULL,
  spent_by bytea
);
CREATE INDEX relay_tokens_by_device ON relay_tokens(spent_by);
CREATE TABLE relay_meta (
  key text PRIMARY KEY,
  value bigint NOT NULL
);
CREATE TABLE revoked_devices (
  device_key bytea PRIMARY KEY,
  couple_id bytea NOT NULL,
  revoked_at bigint NOT NULL
);
CREATE INDEX revoked_devices_by_couple ON revoked_devices(couple_id);
)sql",
};

// Any number that no other user of the database takes as its lock.
// Where committed store events are announced (NOTIFY) and heard (LISTEN).
constexpr char kAnnounce[] = "SELECT pg_notify('duet_events', $1)";
constexpr char kListen[] = "LISTEN duet_events";

constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(7707001)";

// libpq's messages span lines ("...failed: Connection refused\n\tIs the
// server running..."): duetd says each problem in one.
std::string OneLine(std::string message) {
  std::string out;
  for (char c : message) {
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out += (c == '\n' ? "; " : " ");
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

// A connection that is ready for the store's statements, or why not.
// `application`: how it is named in pg_stat_activity, unless the URL says.
Result<PGconn*> Connect(const std::string& conninfo, const char* application = "duetd");

// One query's parameters: integers as text, byte strings as binary.
class Params {
 public:
  Params& Blob(std::string_view bytes) { return Add(std::string(bytes), 1); }
  Params& Text(std::string_view text) { return Add(std::string(text), 0); }
  Params& Int(std::int64_t value) { return Add(std::to_string(value), 0); }
  Params& Null() {
    values_.emplace_back();
    nulls_.push_back(true);
    formats_.push_back(0);
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into the values: valid while this object lives unchanged.
  void Arrays(std::vector<const char*>* values, std::vector<int>* lengths) const {
    for (std::size_t i = 0; i < values_.size(); ++i) {
      values->push_back(nulls_[i] ? nullptr : values_[i].data());
      lengths->push_back(static_cast<int>(values_[i].size()));
    }
  }
  const int* formats() const { return formats_.data(); }

 private:
  Params& Add(std::string value, int format) {
    values_.push_back(std::move(value));
    nulls_.push_back(false);
    formats_.push_back(format);
    return *this;
  }
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<int> formats_;
};

// A result in binary form, freed when it goes.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  Rows& operator=(Rows&&) = delete;
  ~Rows() {
    if (result_ != nullptr) PQclear(result_);
  }
  PGresult* get() const { return result_; }
  int count() const { return PQntuples(result_); }
  bool null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
  std::string Blob(int row, int column) const {
    return std::string(PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column)));
  }
  // bigint, integer or boolean, in network byte order.
  std::int64_t Int(int row, int column) const {
    const auto* bytes = reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column));
    const int length = PQgetlength(result_, row, column);
    std::uint64_t value = 0;
    for (int i = 0; i < length; ++i) value = (value << 8) | bytes[i];
    if (length == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
    return static_cast<std::int64_t>(value);
  }

 private:
  PGresult* result_;
};

class PostgresRelayStore final : public RelayStore {
 public:
  PostgresRelayStore(PGconn* connection, std::string conninfo, std::string origin)
      : db_(connection), conninfo_(std::move(conninfo)), origin_(std::move(origin)) {}
  ~PostgresRelayStore() override { PQfinish(db_); }

  Status Migrate();

  // A connection found lost (the server restarted, or failed over to its
  // standby) is made again first: with libpq's multi-host URL and
  // target_session_attrs=read-write that finds the new primary. A batch
  // that was under way when it was lost failed, and its clients retry it.
  Status Begin() override { return BeginWith("BEGIN"); }
  // One snapshot for every statement, not one per statement (READ COMMITTED).
  Status BeginSnapshot() override { return BeginWith("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
  Status BeginWith(const char* begin) {
    ForgetTransaction();
    if (PQstatus(db_) != CONNECTION_OK) DUET_RETURN_IF_ERROR(Reconnect());
    // A transaction some failure left open (aborted, or never ended) would
    // turn every later BEGIN into an error: end it first.
    if (PQtransactionStatus(db_) != PQTRANS_IDLE) (void)Exec("ROLLBACK");
    Status begun = Exec(begin);
    if (!begun.ok() && PQstatus(db_) != CONNECTION_OK) {  // lost since the last batch
      DUET_RETURN_IF_ERROR(Reconnect());
      begun = Exec(begin);
    }
    return begun;
  }
  Status Commit() override {
    // Announced in the transaction: other relays hear of it once it commits,
    // and never of a batch that did not.
    for (const auto& payload : EncodeStoreEvents(origin_, events_)) {
      if (Status announced = Run(kAnnounce, Params().Text(payload)); !announced.ok()) {
        Rollback();  // the transaction is aborted: end it, or the next BEGIN fails too
        return announced;
      }
    }
    ForgetTransaction();
    // A transaction PostgreSQL aborted answers COMMIT with ROLLBACK.
    Rows done(PQexec(db_, "COMMIT"));
    DUET_RETURN_IF_ERROR(Check(done, "COMMIT"));
    if (std::string(PQcmdStatus(done.get())) != "COMMIT")
      return MakeError(ErrorKind::kIo, "postgresql: the transaction was rolled back, not committed");
    return Status::Ok();
  }
  void Rollback() override {
    ForgetTransaction();
    (void)Exec("ROLLBACK");
  }
  Status Savepoint() override {
    events_at_savepoint_ = events_.size();
    in_savepoint_ = true;
    return Exec("SAVEPOINT job");
  }
  Status EndSavepoint(bool keep) override {
    in_savepoint_ = false;
    if (!keep) {
      events_.resize(events_at_savepoint_);
      DUET_RETURN_IF_ERROR(Exec("ROLLBACK TO SAVEPOINT job"));
    }
    return Exec("RELEASE SAVEPOINT job");
  }

  // A couple locked for the whole batch (GroupCommit locks them all first,
  // outside any job's savepoint) is not asked for again: a round trip saved
  // on every write. One locked inside a job is asked each time, since
  // undoing the job's savepoint may release it.
  Status LockCouple(const std::string& couple_id) override {
    return Lock(couple_id, "SELECT 1 FROM couples WHERE couple_id = $1 FOR UPDATE");
  }
  Status TryLockCouple(const std::string& couple_id) override {
    return Lock(couple_id, "SELECT 1 FROM couples WHERE couple_id = $1 FOR UPDATE NOWAIT");
  }
  Status Lock(const std::string& couple_id, const char* sql) {
    if (locked_.count(couple_id) != 0) return Status::Ok();
    DUET_RETURN_IF_ERROR(Run(sql, Params().Blob(couple_id)));
    if (!in_savepoint_) locked_.insert(couple_id);
    return Status::Ok();
  }
  Result<std::optional<std::string>> CoupleOfDevice(const std::string& device_key) override {
    auto rows = Query("SELECT couple_id FROM devices WHERE device_key = $1", Params().Blob(device_key));
    if (!rows.ok()) return rows.error();
    if (rows->count() == 0) return std::optional<std::string>();
    return std::optional<std::string>(rows->Blob(0, 0));
  }
  Result<std::uint64_t> LatestSeq(const std::string& couple_id) override {
    return Count("SELECT coalesce(max(seq), 0)::bigint FROM records WHERE couple_id = $1", Params().Blob(couple_id));
  }
  Result<int> PartnerOfDevice(const std::string& device_key) override {
    auto rows = Query("SELECT partner FROM devices WHERE device_key = $1", Params().Blob(device_key));
    if (!rows.ok()) return rows.error();
    return rows->count() == 0 ? 0 : static_cast<int>(rows->Int(0, 0));
  }
  Result<std::optional<RevokedDeviceRow>> RevokedDevice(const std::string& device_key) override {
    auto rows =
        Query("SELECT couple_id, revoked_at FROM revoked_devices WHERE device_key = $1", Params().Blob(device_key));
    if (!rows.ok()) return rows.error();
    if (rows->count() == 0) return std::optional<RevokedDeviceRow>();
    return std::optional<RevokedDeviceRow>(RevokedDeviceRow{rows->Blob(0, 0), rows->Int(0, 1)});
  }
  Status RevokeDevice(const std::string& couple_id, const std::string& device_key, std::int64_t now) override {
    DUET_RETURN_IF_ERROR(Run("DELETE FROM devices WHERE device_key = $1 AND couple_id = $2",
                             Params().Blob(device_key).Blob(couple_id)));
    DUET_RETURN_IF_ERROR(Run("INSERT INTO revoked_devices (device_key, couple_id, revoked_at) VALUES ($1, $2, $3)",
                             Params().Blob(device_key).Blob(couple_id).Int(now)));
    events_.push_back(StoreEvent{StoreEvent::Kind::kRevoked, couple_id, 0, device_key});
    return Status::Ok();
  }
  Result<std::int64_t> CoupleEndedAt(const std::string& couple_id) override {
    auto rows = Query("SELECT ended_at FROM couples WHERE couple_id = $1", Params().Blob(couple_id));
    if (!rows.ok()) return rows.error();
    return rows->count() == 0 ? std::int64_t{0} : rows->Int(0, 0);
  }
  Result<std::int64_t> LeaveCouple(const std::string& couple_id, const std::string& device_key,
                                   std::int64_t now) override {
    auto ended_or = CoupleEndedAt(couple_id);
    if (!ended_or.ok()) return ended_or.error();
    const std::int64_t ended = ended_or.value() != 0 ? ended_or.value() : now;
    DUET_RETURN_IF_ERROR(
        Run("UPDATE couples SET ended_at = $1 WHERE couple_id = $2", Params().Int(ended).Blob(couple_id)));
    DUET_RETURN_IF_ERROR(Run("DELETE FROM devices WHERE device_key = $1", Params().Blob(device_key)));
    events_.push_back(StoreEvent{StoreEvent::Kind::kEnded, couple_id, 0, {}});
    auto left = Count("SELECT count(*) FROM devices WHERE couple_id = $1", Params().Blob(couple_id));
    if (!left.ok()) return left.error();
    if (left.value() > 0) return ended;
    // Everyone was told: nothing of the couple is kept.
    for (const char* sql : {"DELETE FROM records WHERE couple_id = $1", "DELETE FROM invites WHERE couple_id = $1",
                            "DELETE FROM revoked_devices WHERE couple_id = $1",
                            "DELETE FROM couples WHERE couple_id = $1"})
      DUET_RETURN_IF_ERROR(Run(sql, Params().Blob(couple_id)));
    return ended;
  }
  // The couples it purges are locked here, not declared to the batch: it
  // skips any another transaction holds (the next purge takes them), so it
  // never waits on a couple and cannot close a cycle of waits between
  // relays.
  Status PurgeEndedMailboxes(std::int64_t before) override {
    return Run(
        "WITH due AS (SELECT couple_id FROM couples WHERE ended_at > 0 AND ended_at < $1 FOR UPDATE SKIP LOCKED), "
        "gone_records AS (DELETE FROM records WHERE couple_id IN (SELECT couple_id FROM due)), "
        "gone_invites AS (DELETE FROM invites WHERE couple_id IN (SELECT couple_id FROM due)) "
        "UPDATE couples SET records = 0, bytes = 0 WHERE couple_id IN (SELECT couple_id FROM due)",
        Params().Int(before));
  }

  Result<std::optional<InviteRow>> FindInvite(const std::string& invite_id) override {
    auto rows = Query(
        "SELECT couple_id, creator_key, sealed_offer, expires_at, answerer_key IS NOT NULL, "
        "sealed_answer, answerer_key, replaced, link, sealed_keys FROM invites WHERE invite_id = $1",
        Params().Blob(invite_id));
    if (!rows.ok()) return rows.error();
    if (rows->count() == 0) return std::optional<InviteRow>();
    const Rows& r = rows.value();
    InviteRow invite;
    invite.invite_id = invite_id;
    invite.couple_id = r.Blob(0, 0);
    invite.creator_key = r.Blob(0, 1);
    invite.sealed_offer = r.Blob(0, 2);
    invite.expires_at = r.Int(0, 3);
    invite.answered = r.Int(0, 4) != 0;
    invite.sealed_answer = r.Blob(0, 5);
    invite.answerer_key = r.Blob(0, 6);
    invite.replaced = r.Int(0, 7) != 0;
    invite.link = r.Int(0, 8) != 0;
    invite.sealed_keys = r.Blob(0, 9);
    return std::optional<InviteRow>(std::move(invite));
  }
  Status CreateInvite(const InviteRow& invite) override {
    Params p;
    p.Blob(invite.invite_id).Blob(invite.couple_id).Blob(invite.creator_key).Blob(invite.sealed_offer);
    p.Int(invite.expires_at);
    if (invite.creator_address.empty())
      p.Null();
    else
      p.Text(invite.creator_address);
    p.Text(invite.link ? "true" : "false");
    return Run(
        "INSERT INTO invites (invite_id, couple_id, creator_key, sealed_offer, expires_at, creator_address, link) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        p);
  }
  Result<std::uint64_t> OpenInvites(const std::string& creator_key, std::int64_t now) override {
    return Count(
        "SELECT count(*) FROM invites WHERE creator_key = $1 AND answerer_key IS NULL AND NOT replaced AND "
        "expires_at > $2",
        Params().Blob(creator_key).Int(now));
  }
  Result<std::uint64_t> PendingInvites(std::int64_t now) override {
    return Count("SELECT count(*) FROM invites WHERE answerer_key IS NULL AND NOT replaced AND expires_at > $1",
                 Params().Int(now));
  }
  Result<std::uint64_t> PendingInvitesFrom(const std::string& address, std::int64_t now) override {
    return Count(
        "SELECT count(*) FROM invites WHERE creator_address = $1 AND answerer_key IS NULL AND NOT replaced AND "
        "expires_at > $2",
        Params().Text(address).Int(now));
  }
  Status PurgeExpiredInvites(std::int64_t before) override {
    DUET_RETURN_IF_ERROR(
        Run("DELETE FROM invites WHERE answerer_key IS NULL AND expires_at < $1", Params().Int(before)));
    // An answered invite's address is not needed any more: keep no more of it.
    DUET_RETURN_IF_ERROR(Run(
        "UPDATE invites SET creator_address = NULL WHERE answerer_key IS NOT NULL AND creator_address IS NOT NULL",
        Params()));
    // A linked device had a day past the expiry to fetch its keys.
    return Run("UPDATE invites SET sealed_keys = NULL WHERE sealed_keys IS NOT NULL AND expires_at < $1",
               Params().Int(before));
  }
  Status ReplaceOpenInvites(const std::string& creator_key) override {
    return Run(
        "UPDATE invites SET replaced = true, creator_address = NULL "
        "WHERE creator_key = $1 AND answerer_key IS NULL AND NOT replaced",
        Params().Blob(creator_key));
  }
  Status CompleteLink(const std::string& invite_id, const std::string& sealed_keys, std::int64_t now) override {
    return Run("UPDATE invites SET sealed_keys = $1, expires_at = greatest(expires_at, $2) WHERE invite_id = $3",
               Params().Blob(sealed_keys).Int(now).Blob(invite_id));
  }
  Result<std::uint64_t> DevicesOf(const std::string& couple_id) override {
    return Count("SELECT count(*) FROM devices WHERE couple_id = $1", Params().Blob(couple_id));
  }
  Status AnswerInvite(const std::string& invite_id, const std::string& answerer_key,
                      const std::string& sealed_answer) override {
    // Locked, so two relays answering one invite at once answer it once.
    auto rows = Query("SELECT 1 FROM invites WHERE invite_id = $1 FOR UPDATE", Params().Blob(invite_id));
    if (!rows.ok()) return rows.error();
    auto invite = FindInvite(invite_id);
    if (!invite.ok()) return invite.error();
    if (!invite.value() || invite.value()->answered || invite.value()->replaced)
      return MakeError(ErrorKind::kNotFound, "invite is not open");
    const InviteRow& row = *invite.value();
    DUET_RETURN_IF_ERROR(Run(
        "UPDATE invites SET answerer_key = $1, sealed_answer = $2, creator_address = NULL WHERE invite_id = $3",
        Params().Blob(answerer_key).Blob(sealed_answer).Blob(invite_id)));
    if (row.link) {  // one more device of the creator's couple, on the creator's side
      auto side = PartnerOfDevice(row.creator_key);
      if (!side.ok()) return side.error();
      // A device of the couple already (joining again through a new code)
      // keeps its row.
      return Run(
          "INSERT INTO devices (device_key, couple_id, partner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
          Params().Blob(answerer_key).Blob(row.couple_id).Int(side.value()));
    }
    DUET_RETURN_IF_ERROR(Run("INSERT INTO couples (couple_id, created_at) VALUES ($1, $2)",
                             Params().Blob(row.couple_id).Int(static_cast<std::int64_t>(std::time(nullptr)))));
    const char* device = "INSERT INTO devices (device_key, couple_id, partner) VALUES ($1, $2, $3)";
    DUET_RETURN_IF_ERROR(Run(device, Params().Blob(row.creator_key).Blob(row.couple_id).Int(1)));
    return Run(device, Params().Blob(answerer_key).Blob(row.couple_id).Int(2));
  }

  Result<CoupleUsage> Usage(const std::string& couple_id) override {
    auto rows = Query("SELECT records, bytes FROM couples WHERE couple_id = $1", Params().Blob(couple_id));
    if (!rows.ok()) return rows.error();
    if (rows->count() == 0) return CoupleUsage{};
    return CoupleUsage{static_cast<std::uint64_t>(rows->Int(0, 0)), static_cast<std::uint64_t>(rows->Int(0, 1))};
  }
  Result<StoreTotals> Totals(std::int64_t now) override {
    auto couples = Query(
        "SELECT count(*), coalesce(sum(records), 0)::bigint, coalesce(sum(bytes), 0)::bigint FROM couples", Params());
    if (!couples.ok()) return couples.error();
    StoreTotals totals;
    totals.couples = static_cast<std::uint64_t>(couples->Int(0, 0));
    totals.records = static_cast<std::uint64_t>(couples->Int(0, 1));
    totals.bytes = static_cast<std::uint64_t>(couples->Int(0, 2));
    auto devices = Count("SELECT count(*) FROM devices", Params());
    if (!devices.ok()) return devices.error();
    totals.devices = devices.value();
    auto pending = PendingInvites(now);
    if (!pending.ok()) return pending.error();
    totals.pending_invites = pending.value();
    return totals;
  }
  Status RecordHealthCheck(std::int64_t now) override {
    return Run(
        "INSERT INTO relay_meta (key, value) VALUES ('health_checked_at', $1) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        Params().Int(now));
  }

  Status AddToken(const std::string& token_hash, std::int64_t created_at) override {
    return Run("INSERT INTO relay_tokens (token_hash, created_at) VALUES ($1, $2)",
               Params().Blob(token_hash).Int(created_at));
  }
  Result<std::optional<TokenRow>> FindToken(const std::string& token_hash) override {
    // Locked until the batch ends: two relays offered one token at once
    // cannot both find it unspent.
    auto rows =
        Query("SELECT spent_by FROM relay_tokens WHERE token_hash = $1 FOR UPDATE", Params().Blob(token_hash));
    if (!rows.ok()) return rows.error();
    if (rows->count() == 0) return std::optional<TokenRow>();
    return std::optional<TokenRow>(TokenRow{rows->Blob(0, 0)});
  }
  Status SpendToken(const std::string& token_hash, const std::string& device_key) override {
    return Run("UPDATE relay_tokens SET spent_by = $1 WHERE token_hash = $2 AND spent_by IS NULL",
               Params().Blob(device_key).Blob(token_hash));
  }
  Result<bool> DeviceSpentToken(const std::string& device_key) override {
    auto rows = Query("SELECT 1 FROM relay_tokens WHERE spent_by = $1 LIMIT 1", Params().Blob(device_key));
    if (!rows.ok()) return rows.error();
    return rows->count() > 0;
  }

  Result<std::uint64_t> Append(const std::string& couple_id, const std::string& record_id,
                               const std::string& author_key, const std::string& envelope, bool* appended) override {
    *appended = false;
    // The couple's row is locked until this transaction ends: a relay
    // appending for the same couple waits here, then sees this one's records.
    DUET_RETURN_IF_ERROR(LockCouple(couple_id));
    // Found, or numbered, stored and counted, in one round trip: a record
    // already stored (a retried push) is answered with its number.
    auto stored = Query(
        "WITH existing AS (SELECT seq FROM records WHERE couple_id = $1 AND record_id = $2), "
        "next AS (SELECT coalesce(max(seq), 0) + 1 AS seq FROM records WHERE couple_id = $1), "
        "added AS (INSERT INTO records (couple_id, seq, record_id, author_key, envelope) "
        "  SELECT $1, next.seq, $2, $3, $4 FROM next WHERE NOT EXISTS (SELECT 1 FROM existing) RETURNING seq), "
        "counted AS (UPDATE couples SET records = records + 1, bytes = bytes + length($4) "
        "  WHERE couple_id = $1 AND EXISTS (SELECT 1 FROM added)) "
        "SELECT coalesce((SELECT seq FROM existing), (SELECT seq FROM added)), EXISTS (SELECT 1 FROM added)",
        Params().Blob(couple_id).Blob(record_id).Blob(author_key).Blob(envelope));
    if (!stored.ok()) return stored.error();
    if (stored->count() != 1 || stored->null(0, 0))
      return MakeError(ErrorKind::kIo, "postgresql: a record was neither found nor stored");
    const auto seq = static_cast<std::uint64_t>(stored->Int(0, 0));
    if (stored->Int(0, 1) == 0) return seq;
    *appended = true;
    events_.push_back(StoreEvent{StoreEvent::Kind::kGrew, couple_id, seq, {}});
    return seq;
  }
  Result<std::uint32_t> Purge(const std::string& couple_id, const std::string& author_key,
                              const std::vector<std::string>& record_ids) override {
    std::uint32_t purged = 0;
    for (const auto& record_id : record_ids) {
      auto found = Query("SELECT author_key, length(envelope) FROM records WHERE couple_id = $1 AND record_id = $2",
                         Params().Blob(couple_id).Blob(record_id));
      if (!found.ok()) return found.error();
      if (found->count() == 0) continue;
      if (found->Blob(0, 0) != author_key)
        return MakeError(ErrorKind::kRefused, "a record to purge was written by another device");
      const std::int64_t length = found->Int(0, 1);
      if (length == 0) continue;
      DUET_RETURN_IF_ERROR(Run("UPDATE records SET envelope = ''::bytea WHERE couple_id = $1 AND record_id = $2",
                               Params().Blob(couple_id).Blob(record_id)));
      DUET_RETURN_IF_ERROR(Run("UPDATE couples SET bytes = bytes - $1 WHERE couple_id = $2",
                               Params().Int(length).Blob(couple_id)));
      ++purged;
    }
    return purged;
  }
  // The table and column names come from StoreTables(), never from input.
  // Read through a cursor, a page at a time: a table may not fit memory.
  Status ReadRows(const StoreTable& table, const std::function<Status(const std::vector<StoreCell>&)>& row) override {
    std::string sql = "DECLARE duet_copy NO SCROLL CURSOR FOR SELECT ";
    for (std::size_t i = 0; i < table.columns.size(); ++i) sql += (i == 0 ? "" : ", ") + std::string(table.columns[i].name);
    sql += " FROM " + std::string(table.name);
    DUET_RETURN_IF_ERROR(Exec(sql.c_str()));
    std::vector<StoreCell> cells(table.columns.size());
    for (;;) {
      Rows page(PQexecParams(db_, "FETCH 1000 FROM duet_copy", 0, nullptr, nullptr, nullptr, nullptr,
                             /*resultFormat=*/1));
      DUET_RETURN_IF_ERROR(Check(page, "FETCH"));
      if (page.count() == 0) break;
      for (int r = 0; r < page.count(); ++r) {
        for (std::size_t i = 0; i < table.columns.size(); ++i) {
          const int column = static_cast<int>(i);
          const auto kind = table.columns[i].kind;
          if (page.null(r, column)) cells[i] = std::monostate();
          else if (kind == StoreColumn::Kind::kInt || kind == StoreColumn::Kind::kBool) cells[i] = page.Int(r, column);
          else cells[i] = page.Blob(r, column);
        }
        DUET_RETURN_IF_ERROR(row(cells));
      }
    }
    return Exec("CLOSE duet_copy");
  }
  Status WriteRow(const StoreTable& table, const std::vector<StoreCell>& cells) override {
    std::string sql = "INSERT INTO " + std::string(table.name) + " (";
    std::string values;
    Params params;
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      sql += (i == 0 ? "" : ", ") + std::string(table.columns[i].name);
      values += (i == 0 ? "$" : ", $") + std::to_string(i + 1);
      const StoreCell& cell = i < cells.size() ? cells[i] : StoreCell();
      const auto kind = table.columns[i].kind;
      if (const auto* number = std::get_if<std::int64_t>(&cell))
        kind == StoreColumn::Kind::kBool ? params.Text(*number != 0 ? "true" : "false") : params.Int(*number);
      else if (const auto* bytes = std::get_if<std::string>(&cell))
        kind == StoreColumn::Kind::kText ? params.Text(*bytes) : params.Blob(*bytes);
      else params.Null();
    }
    sql += ") VALUES (" + values + ")";
    std::vector<const char*> pointers;
    std::vector<int> lengths;
    params.Arrays(&pointers, &lengths);
    Rows done(PQexecParams(db_, sql.c_str(), params.size(), nullptr, pointers.data(), lengths.data(),
                           params.formats(), /*resultFormat=*/1));
    return Check(done, "copy a row");
  }
  Result<std::uint64_t> CountRows(const StoreTable& table) override {
    const std::string sql = "SELECT count(*) FROM " + std::string(table.name);
    Rows rows(PQexecParams(db_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, /*resultFormat=*/1));
    DUET_RETURN_IF_ERROR(Check(rows, "count rows"));
    return static_cast<std::uint64_t>(rows.Int(0, 0));
  }

  Result<std::vector<LogEntry>> ReadAfter(const std::string& couple_id, std::uint64_t after_seq,
                                          std::uint32_t limit, std::size_t max_bytes) override {
    // The byte limit applies in the server, so a page of large records is
    // not fetched whole to be cut here: a row comes while the rows two and
    // more before it hold less than `max_bytes` (what the loop below keeps).
    const auto budget = static_cast<std::int64_t>(std::min<std::size_t>(max_bytes, INT64_MAX));
    auto rows = Query(
        "SELECT seq, envelope FROM (SELECT seq, envelope, coalesce(sum(length(envelope)) OVER ("
        "ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 2 PRECEDING), 0) AS ahead FROM records "
        "WHERE couple_id = $1 AND seq > $2 AND length(envelope) > 0 ORDER BY seq LIMIT $3) page "
        "WHERE ahead < $4 ORDER BY seq",
        Params().Blob(couple_id).Int(static_cast<std::int64_t>(after_seq)).Int(limit).Int(budget));
    if (!rows.ok()) return rows.error();
    std::vector<LogEntry> out;
    std::size_t bytes = 0;
    for (int i = 0; i < rows->count(); ++i) {
      out.push_back(LogEntry{static_cast<std::uint64_t>(rows->Int(i, 0)), rows->Blob(i, 1)});
      if (bytes >= max_bytes) break;  // this one only says that more remain
      bytes += out.back().envelope.size();
    }
    return out;
  }

 private:
  Error ErrorOf(const PGresult* result, std::string_view what) const {
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string message = OneLine(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(db_));
    // Class 23: a constraint (a key held already), as SQLite's constraint.
    const ErrorKind kind = state != nullptr && std::strncmp(state, "23", 2) == 0 ? ErrorKind::kAlreadyExists
                                                                                  : ErrorKind::kIo;
    return MakeError(kind, "postgresql: " + std::string(what) + ": " + message);
  }
  Status Exec(const char* sql) {
    Rows rows(PQexec(db_, sql));
    return Check(rows, sql);
  }
  // Prepared on first use for this connection, under a name of its own.
  Result<std::string> Prepared(const char* sql, int params) {
    auto it = prepared_.find(sql);
    if (it != prepared_.end()) return it->second;
    std::string name("q");
    name += std::to_string(prepared_.size());
    Rows made(PQprepare(db_, name.c_str(), sql, params, nullptr));
    DUET_RETURN_IF_ERROR(Check(made, "prepare"));
    prepared_.emplace(sql, name);
    return name;
  }
  Result<Rows> Query(const char* sql, const Params& params) {
    auto name = Prepared(sql, params.size());
    if (!name.ok()) return name.error();
    std::vector<const char*> values;
    std::vector<int> lengths;
    params.Arrays(&values, &lengths);
    Rows rows(PQexecPrepared(db_, name->c_str(), params.size(), values.data(), lengths.data(), params.formats(),
                             /*resultFormat=*/1));
    DUET_RETURN_IF_ERROR(Check(rows, sql));
    return rows;
  }
  Status Run(const char* sql, const Params& params) {
    auto rows = Query(sql, params);
    return rows.ok() ? Status::Ok() : Status(rows.error());
  }
  Result<std::uint64_t> Count(const char* sql, const Params& params) {
    auto rows = Query(sql, params);
    if (!rows.ok()) return rows.error();
    return static_cast<std::uint64_t>(rows->count() == 0 ? 0 : rows->Int(0, 0));
  }
  Status Check(const Rows& rows, std::string_view what);

  Status Reconnect();
  // What this object keeps about the open transaction, dropped as it ends.
  void ForgetTransaction() {
    events_.clear();
    locked_.clear();
    in_savepoint_ = false;
  }

  PGconn* db_;
  const std::string conninfo_;
  const std::string origin_;
  std::unordered_map<const char*, std::string> prepared_;  // on db_'s server
  std::vector<StoreEvent> events_;  // this transaction's, announced at Commit()
  std::size_t events_at_savepoint_ = 0;
  std::unordered_set<std::string> locked_;  // couples locked for this whole transaction
  bool in_savepoint_ = false;
};

Status PostgresRelayStore::Check(const Rows& rows, std::string_view what) {
  const ExecStatusType status = rows.get() != nullptr ? PQresultStatus(rows.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::Ok();
  return ErrorOf(rows.get(), what);
}

Status PostgresRelayStore::Reconnect() {
  auto connection = Connect(conninfo_);
  if (!connection.ok()) return connection.error();
  PQfinish(db_);
  db_ = connection.value();
  prepared_.clear();  // statements are prepared per connection
  return Status::Ok();
}

Status PostgresRelayStore::Migrate() {
  DUET_RETURN_IF_ERROR(Exec("BEGIN"));
  auto migrated = [&]() -> Status {
    DUET_RETURN_IF_ERROR(Exec(kMigrationLock));
    DUET_RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS duet_schema (version integer NOT NULL)"));
    auto rows = Query("SELECT version FROM duet_schema", Params());
    if (!rows.ok()) return rows.error();
    std::int64_t version = rows->count() == 0 ? 0 : rows->Int(0, 0);
    constexpr std::int64_t kLatest = static_cast<std::int64_t>(std::size(kMigrations));
    if (version > kLatest)
      return MakeError(ErrorKind::kInvalidInput, "the database's duet schema is version " + std::to_string(version) +
                                                     ", newer than this duetd knows (" + std::to_string(kLatest) +
                                                     "); run the newer duetd");
    for (; version < kLatest; ++version) DUET_RETURN_IF_ERROR(Exec(kMigrations[version]));
    DUET_RETURN_IF_ERROR(Exec("DELETE FROM duet_schema"));
    return Run("INSERT INTO duet_schema (version) VALUES ($1)", Params().Int(version));
  }();
  if (!migrated.ok()) {
    Rollback();
    return migrated;
  }
  return Exec("COMMIT");
}

}  // namespace

namespace {

Result<PGconn*> Connect(const std::string& conninfo, const char* application) {
  // libpq quotes a URL it cannot parse, password and all: say only that.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    if (parse_error != nullptr) PQfreemem(parse_error);
    return MakeError(ErrorKind::kInvalidInput,
                     "the PostgreSQL URL is malformed: write it as postgresql://USER@HOST[:PORT][,HOST2...]/DB "
                     "(a password belongs in PGPASSWORD or PGPASSFILE)");
  }
  PQconninfoFree(parsed);
  // A host that never answers fails within 10 s unless the URL says
  // otherwise (what comes after a keyword wins). A peer that vanished (its
  // machine lost, the network cut) is noticed within about a minute, not
  // TCP's two hours: a listener would stop hearing, a batch would hang.
  const char* keywords[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                            "keepalives_count", "tcp_user_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "1", "20", "10", "3", "60000", application, conninfo.c_str(), nullptr};
  PGconn* connection = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (connection == nullptr) return MakeError(ErrorKind::kIo, "postgresql: out of memory connecting");
  if (PQstatus(connection) != CONNECTION_OK) {
    const std::string message = OneLine(PQerrorMessage(connection));
    PQfinish(connection);
    return MakeError(ErrorKind::kIo, "cannot reach the PostgreSQL store: " + message);
  }
  // libpq prints the server's notices on stderr unless told otherwise.
  PQsetNoticeProcessor(connection, [](void*, const char*) {}, nullptr);
  // Errors without their DETAIL line, which quotes the key values (invite
  // ids, device keys) that the relay's log never names.
  PQsetErrorVerbosity(connection, PQERRORS_TERSE);
  // A batch waits at most this long for a row another relay holds, and
  // then fails (the client retries), rather than stalling every couple.
  // A backend whose relay vanished mid-batch lets its couples go after a
  // minute rather than hold their locks.
  PGresult* set = PQexec(connection, "SET lock_timeout = '5s'; SET idle_in_transaction_session_timeout = '60s'");
  const bool set_ok = PQresultStatus(set) == PGRES_COMMAND_OK;
  PQclear(set);
  if (!set_ok) {
    const std::string message = OneLine(PQerrorMessage(connection));
    PQfinish(connection);
    return MakeError(ErrorKind::kIo, "postgresql: cannot set the session's timeouts: " + message);
  }
  return connection;
}

class PostgresEventFeed final : public StoreEventFeed {
 public:
  PostgresEventFeed(PGconn* connection, std::string origin) : db_(connection), origin_(std::move(origin)) {}
  ~PostgresEventFeed() override { PQfinish(db_); }

  Result<std::vector<StoreEvent>> Wait(std::chrono::milliseconds timeout) override {
    std::vector<StoreEvent> events;
    DUET_RETURN_IF_ERROR(Take(events));
    if (!events.empty()) return events;
    pollfd socket{PQsocket(db_), POLLIN, 0};
    if (socket.fd < 0) return Lost();
    const int ready = ::poll(&socket, 1, static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR) return MakeError(ErrorKind::kIo, "postgresql: cannot wait for events");
    if (ready > 0) DUET_RETURN_IF_ERROR(Take(events));
    return events;
  }

 private:
  // Reads what arrived; the notifications in it become events.
  Status Take(std::vector<StoreEvent>& events) {
    if (PQconsumeInput(db_) == 0 || PQstatus(db_) != CONNECTION_OK) return Lost();
    while (PGnotify* notice = PQnotifies(db_)) {
      auto decoded = DecodeStoreEvents(notice->extra);
      PQfreemem(notice);
      // This relay's own ends and revocations were acted on already (acting
      // again could close a connection before its answer). Its own growth is
      // kept: cheap when its records were delivered, and the way they still
      // are when the pushing connection closed before its answer came.
      for (auto& event : decoded.events)
        if (origin_.empty() || decoded.origin != origin_ || event.kind == StoreEvent::Kind::kGrew)
          events.push_back(std::move(event));
    }
    return Status::Ok();
  }
  Error Lost() const {
    return MakeError(ErrorKind::kIo, "lost the PostgreSQL store's events: " + OneLine(PQerrorMessage(db_)));
  }

  PGconn* db_;
  const std::string origin_;
};

}  // namespace

Result<std::unique_ptr<RelayStore>> OpenPostgresRelayStore(const std::string& conninfo, const std::string& origin) {
  auto connection = Connect(conninfo);
  if (!connection.ok()) return connection.error();
  auto store = std::make_unique<PostgresRelayStore>(connection.value(), conninfo, origin);
  DUET_RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<RelayStore>(std::move(store));
}

Result<std::unique_ptr<StoreEventFeed>> ListenToPostgresStore(const std::string& conninfo, const std::string& origin) {
  auto connection = Connect(conninfo, "duetd events");
  if (!connection.ok()) return connection.error();
  auto feed = std::make_unique<PostgresEventFeed>(connection.value(), origin);
  Rows listening(PQexec(connection.value(), kListen));
  if (PQresultStatus(listening.get()) != PGRES_COMMAND_OK)
    return MakeError(ErrorKind::kIo, "postgresql: cannot listen for events: " +
                                         OneLine(PQerrorMessage(connection.value())));
  return std::unique_ptr<StoreEventFeed>(std::move(feed));
}

Result<std::string> DescribePostgresStore(const std::string& conninfo) {
  auto connection = Connect(conninfo);
  if (!connection.ok()) return connection.error();
  PGconn* db = connection.value();
  std::string where = std::string("PostgreSQL ") + std::to_string(PQserverVersion(db) / 10000) + " at " +
                      PQhost(db) + ":" + PQport(db) + ", database " + PQdb(db);
  Rows exists(PQexec(db, "SELECT to_regclass('duet_schema') IS NOT NULL"));
  std::string schema;
  if (PQresultStatus(exists.get()) != PGRES_TUPLES_OK) {
    schema = "its duet schema could not be read: " + std::string(PQerrorMessage(db));
  } else if (std::string(PQgetvalue(exists.get(), 0, 0)) != "t") {
    schema = "no duet schema yet (duetd creates it when it starts)";
  } else {
    Rows version(PQexec(db, "SELECT version FROM duet_schema"));
    if (PQresultStatus(version.get()) != PGRES_TUPLES_OK || PQntuples(version.get()) != 1) {
      schema = "its duet schema has no version row";
    } else {
      const long found = std::strtol(PQgetvalue(version.get(), 0, 0), nullptr, 10);
      const long known = static_cast<long>(std::size(kMigrations));
      if (found > known) {
        PQfinish(db);
        return MakeError(ErrorKind::kInvalidInput, where + ": its duet schema is version " + std::to_string(found) +
                                                       ", newer than this duetd knows (" + std::to_string(known) +
                                                       "); run the newer duetd");
      }
      schema = "duet schema version " + std::to_string(found) + " of " + std::to_string(known);
    }
  }
  PQfinish(db);
  return where + ": reachable, " + OneLine(schema);
}

}  // namespace duet::storage
