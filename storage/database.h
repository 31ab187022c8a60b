// A small RAII layer over one SQLite connection: open with duet's pragmas,
// prepared statements, transactions and schema migrations.
//
// Errors are values (Status/Result); nothing here throws. SQLite's
// SQLITE_CORRUPT and SQLITE_NOTADB, wherever they arise, become kDamaged
// errors naming the file and what to do (OpenOptions::damaged_hint); a
// damaged file is never written to on purpose, and nothing here deletes one. A Database and its
// Statements belong to one thread at a time (SQLite's serialized mode is not
// relied upon). Migrations are numbered by position and tracked in
// PRAGMA user_version, each applied in its own transaction, so a crash leaves
// the schema at a whole version.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace duet::storage {

class Database;

class Statement {
 public:
  Statement(const Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Bind parameters by 1-based index. Blobs and text are copied by SQLite.
  Statement& Bind(int index, std::int64_t value);
  Statement& BindBlob(int index, std::string_view value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindNull(int index);

  // Steps once: true when a row is ready, false when done.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows.
  Status Run();
  void Reset();

  std::int64_t ColumnInt(int column) const;
  std::string ColumnBlob(int column) const;  // also reads text
  bool ColumnIsNull(int column) const;

 private:
  const Database* db_;
  sqlite3_stmt* stmt_;
};

struct OpenOptions {
  bool create = true;
  // synchronous=FULL makes a committed transaction survive power loss; the
  // relay must keep it on, since it acknowledges only what is committed.
  bool synchronous_full = true;
  // What to do about a damaged file, said after "the database F is damaged".
  std::string damaged_hint = "restore it from a backup";
  // An SQLite VFS registered under this name, or empty for the default one.
  // Tests pass a fault-injecting VFS (power cuts, I/O errors, a full disk).
  std::string vfs{};
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& path, OpenOptions options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status Exec(std::string_view sql);
  // A statement for `sql`: one this connection prepared before and that is
  // no longer in use when there is one (preparing costs more than running
  // most of duet's queries), else a new one.
  Result<Statement> Prepare(std::string_view sql);
  // Brings the schema to migrations.size(), applying those not yet applied.
  Status Migrate(const std::vector<std::string_view>& migrations);
  std::int64_t SchemaVersion();
  // Reads every row of `table`: at open, for the small tables every decision
  // rests on, so damage there is a kDamaged error and never a missing row.
  // (PRAGMA quick_check would cover all, at 8 ms per 10,000 records.)
  Status ReadWholeTable(std::string_view table);
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  // How long a statement waits for another connection's write lock before
  // it fails with "busy" (5 s from Open).
  void SetBusyTimeout(std::chrono::milliseconds wait) { sqlite3_busy_timeout(db_, static_cast<int>(wait.count())); }
  // Copies the write-ahead log into the main file and truncates it, so
  // content deleted since (overwritten in the main file, secure_delete)
  // lingers in no old log frame either. Outside a transaction only; a
  // reader holding the log open makes it partial, which is not an error.
  Status TruncateLog();
  // The error for SQLite result code `rc` while doing `what`.
  Error ErrorFor(int rc, std::string_view what) const;

 private:
  Database(sqlite3* db, std::string path, std::string damaged_hint)
      : db_(db), path_(std::move(path)), damaged_hint_(std::move(damaged_hint)) {}
  friend class Transaction;
  friend class Statement;
  // Takes back a statement whose Statement ended: reset, for the next
  // Prepare of the same text.
  void Recycle(sqlite3_stmt* stmt) const;
  static constexpr std::size_t kIdleStatementsPerQuery = 4;
  mutable std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle_statements_;
  sqlite3* db_;
  // A nested transaction whose ROLLBACK TO failed may have left part of its
  // work inside the outer one: the outer one must then not commit.
  bool nested_rollback_failed_ = false;
  std::string path_;
  std::string damaged_hint_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
// Inside another transaction it becomes a savepoint, so a unit of work can
// be composed into a larger one and still be all-or-nothing.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  Database& db_;
  bool open_ = false;
  bool nested_ = false;
};

// A file root has just created (fd) in a folder owned by another user, such
// as the relay's service user, is given to that user, so the service can
// still open it: `duetd token create` or `duetd key rotate` run by an owner
// as root must not lock the relay out of its own files. Does nothing for
// any other caller.
void GiveToFolderOwner(int fd, const std::string& path);

}  // namespace duet::storage
