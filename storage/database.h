// A small RAII layer over one SQLite connection: open with duet's pragmas,
// prepared statements, transactions and schema migrations.
//
// Errors are values (Status/Result); nothing here throws. A Database and its
// Statements belong to one thread at a time (SQLite's serialized mode is not
// relied upon). Migrations are numbered by position and tracked in
// PRAGMA user_version, each applied in its own transaction, so a crash leaves
// the schema at a whole version.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace duet::storage {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
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
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

struct OpenOptions {
  bool create = true;
  // synchronous=FULL makes a committed transaction survive power loss; the
  // relay must keep it on, since it acknowledges only what is committed.
  bool synchronous_full = true;
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& path, OpenOptions options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // Brings the schema to migrations.size(), applying those not yet applied.
  Status Migrate(const std::vector<std::string_view>& migrations);
  std::int64_t SchemaVersion();
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  Error LastError(std::string_view what) const;
  sqlite3* db_;
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

}  // namespace duet::storage
