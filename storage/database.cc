#include "storage/database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace duet::storage {

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ != nullptr) db_->Recycle(stmt_);
}

Statement& Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view value) {
  // A zero-length blob must still be a blob, not NULL.
  sqlite3_bind_blob(stmt_, index, value.empty() ? "" : value.data(),
                    static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->ErrorFor(rc, "step");
}

Status Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row.ok()) {
      Reset();
      return row.error();
    }
    if (!row.value()) break;
  }
  Reset();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, OpenOptions options) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) {
    flags |= SQLITE_OPEN_CREATE;
    // SQLite would create the file 0644 (less the umask), and its -wal and
    // -shm files copy the database's mode: made 0600 here, none of the
    // three is readable by other users of the machine.
    if (path != ":memory:" && !path.empty()) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) {
        // SQLite gives its -wal and -shm files the database's owner itself.
        GiveToFolderOwner(fd, path);
        ::close(fd);
      }
    }
  }
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags,
                                 options.vfs.empty() ? nullptr : options.vfs.c_str());
  if (rc != SQLITE_OK) {
    std::string message = "cannot open database " + path + ": " +
                          (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_close(raw);
    return MakeError(ErrorKind::kIo, message);
  }
  std::unique_ptr<Database> db(new Database(raw, path, std::move(options.damaged_hint)));
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 0);
  DUET_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  DUET_RETURN_IF_ERROR(db->Exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                         : "PRAGMA synchronous=NORMAL"));
  DUET_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  // Deleted content is overwritten, not left in free pages: a record its
  // author deleted (docs/protocol.md §7.8) must not be recoverable from the
  // file by anyone who copies it later.
  DUET_RETURN_IF_ERROR(db->Exec("PRAGMA secure_delete=ON"));
  return db;
}

Database::~Database() {
  for (auto& [sql, idle] : idle_statements_)
    for (sqlite3_stmt* stmt : idle) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void Database::Recycle(sqlite3_stmt* stmt) const {
  // Reset at once: a statement that stepped to a row holds a read open.
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  auto& idle = idle_statements_[sqlite3_sql(stmt)];
  if (idle.size() < kIdleStatementsPerQuery) {
    idle.push_back(stmt);
  } else {
    sqlite3_finalize(stmt);
  }
}

void GiveToFolderOwner(int fd, const std::string& path) {
  if (::geteuid() != 0) return;
  const auto slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0 || st.st_uid == 0) return;
  (void)!::fchown(fd, st.st_uid, st.st_gid);
}

Error Database::ErrorFor(int rc, std::string_view what) const {
  const int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    return MakeError(ErrorKind::kDamaged, "the database " + path_ + " is damaged (SQLite: " +
                                              sqlite3_errstr(rc) + "); it was left as it is: " + damaged_hint_);
  const ErrorKind kind = primary == SQLITE_CONSTRAINT ? ErrorKind::kAlreadyExists : ErrorKind::kIo;
  return MakeError(kind, "database: " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status Database::Exec(std::string_view sql) {
  std::string owned(sql);
  const int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return ErrorFor(rc, "exec");
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  if (auto idle = idle_statements_.find(std::string(sql)); idle != idle_statements_.end() && !idle->second.empty()) {
    sqlite3_stmt* stmt = idle->second.back();
    idle->second.pop_back();
    return Statement(this, stmt);
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorFor(rc, "prepare");
  return Statement(this, stmt);
}

std::int64_t Database::SchemaVersion() {
  auto stmt = Prepare("PRAGMA user_version");
  if (!stmt.ok()) return -1;
  auto row = stmt->Step();
  return (row.ok() && row.value()) ? stmt->ColumnInt(0) : -1;
}

Status Database::ReadWholeTable(std::string_view table) {
  auto stmt = Prepare("SELECT * FROM " + std::string(table));
  if (!stmt.ok()) return stmt.error();
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return row.error();
    if (!row.value()) return Status::Ok();
  }
}

Status Database::Migrate(const std::vector<std::string_view>& migrations) {
  const std::int64_t current = SchemaVersion();
  if (current < 0) return ErrorFor(sqlite3_errcode(db_), "read schema version");
  if (current > static_cast<std::int64_t>(migrations.size()))
    return MakeError(ErrorKind::kIo, "database schema version " + std::to_string(current) +
                                         " is newer than this program knows (" +
                                         std::to_string(migrations.size()) +
                                         "); upgrade duet");
  for (std::size_t i = static_cast<std::size_t>(current); i < migrations.size(); ++i) {
    Transaction txn(*this);
    DUET_RETURN_IF_ERROR(txn.Begin());
    DUET_RETURN_IF_ERROR(Exec(migrations[i]));
    DUET_RETURN_IF_ERROR(Exec("PRAGMA user_version=" + std::to_string(i + 1)));
    DUET_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::Ok();
}

Transaction::~Transaction() {
  if (!open_) return;
  if (!nested_) {
    (void)db_.Exec("ROLLBACK");
    db_.nested_rollback_failed_ = false;
    return;
  }
  // Releasing a savepoint that could not be rolled back would keep half of
  // its work in the outer transaction; leave it, and poison the outer one.
  if (db_.Exec("ROLLBACK TO nested").ok()) (void)db_.Exec("RELEASE nested");
  else db_.nested_rollback_failed_ = true;
}

Status Database::TruncateLog() { return Exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

Status Transaction::Begin() {
  nested_ = db_.InTransaction();
  DUET_RETURN_IF_ERROR(db_.Exec(nested_ ? "SAVEPOINT nested" : "BEGIN IMMEDIATE"));
  if (!nested_) db_.nested_rollback_failed_ = false;
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  if (!nested_ && db_.nested_rollback_failed_)
    return MakeError(ErrorKind::kIo, "database: a nested change could not be undone; nothing was saved");
  DUET_RETURN_IF_ERROR(db_.Exec(nested_ ? "RELEASE nested" : "COMMIT"));
  open_ = false;
  return Status::Ok();
}

}  // namespace duet::storage
