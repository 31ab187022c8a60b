// SQL spoken to a test relay's store behind its back, as an operator could
// (to count what it holds, or to tamper with it), whichever store the run
// gives the relay: the SQLite file at db_path, or the PostgreSQL database
// TestPostgresFor(db_path) names in the suite's second run. Both stores
// have the same tables and columns, so most SQL reads the same on both.
// Parameters are written $1, $2, ... and bound as blobs (bytea): use them
// for ids and keys, and write numbers into the SQL. A value comes back as
// its bytes, a number as its decimal text. Errors are test failures.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/postgres/test_database.h"

namespace duet::testing {

class RelayStoreSql {
 public:
  using Row = std::vector<std::string>;

  explicit RelayStoreSql(std::string db_path) : db_path_(std::move(db_path)) {
    auto postgres = TestPostgresFor(db_path_);
    if (postgres.ok()) {
      postgres_url_ = postgres.value();
    } else {
      ADD_FAILURE() << postgres.error().message;
    }
  }

  bool postgres() const { return !postgres_url_.empty(); }

  // Runs `sql` and returns its rows. Without parameters it may hold several
  // statements separated by ';' (the rows are then the last one's).
  std::vector<Row> Rows(const std::string& sql, const std::vector<std::string>& params = {}) {
    return postgres() ? PostgresRows(sql, params) : SqliteRows(sql, params);
  }

  // Runs statements that change the store; returns how many rows the last changed.
  std::int64_t Exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    changed_ = -1;
    Rows(sql, params);
    return changed_;
  }

  // The one number a query answers (a count), or -1 after a failure.
  std::int64_t Number(const std::string& sql, const std::vector<std::string>& params = {}) {
    auto rows = Rows(sql, params);
    if (rows.empty() || rows[0].empty()) {
      ADD_FAILURE() << "no number from the relay's store: " << sql;
      return -1;
    }
    return std::stoll(rows[0][0]);
  }

 private:
  std::vector<Row> SqliteRows(const std::string& sql, const std::vector<std::string>& params) {
    std::vector<Row> rows;
    sqlite3* db = nullptr;
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> closer(nullptr, sqlite3_close);
    if (sqlite3_open(db_path_.c_str(), &db) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open the relay's store " << db_path_ << ": " << sqlite3_errmsg(db);
      sqlite3_close(db);
      return rows;
    }
    closer.reset(db);
    sqlite3_busy_timeout(db, 5000);
    const char* next = sql.c_str();
    while (*next != '\0') {
      sqlite3_stmt* stmt = nullptr;
      const char* tail = nullptr;
      if (sqlite3_prepare_v2(db, next, -1, &stmt, &tail) != SQLITE_OK) {
        ADD_FAILURE() << sqlite3_errmsg(db) << ": " << sql;
        return rows;
      }
      next = tail;
      if (stmt == nullptr) continue;  // only blanks or a comment were left
      for (std::size_t i = 0; i < params.size(); ++i) {
        std::string name = "$";  // appended piecewise: GCC 12 warns wrongly on "$" + std::string
        name += std::to_string(i + 1);
        const int index = sqlite3_bind_parameter_index(stmt, name.c_str());
        if (index > 0)
          sqlite3_bind_blob(stmt, index, params[i].data(), static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
      }
      rows.clear();
      int rc;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        Row row;
        for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
          const int bytes = sqlite3_column_bytes(stmt, c);
          const void* data = sqlite3_column_type(stmt, c) == SQLITE_BLOB ? sqlite3_column_blob(stmt, c)
                                                                         : sqlite3_column_text(stmt, c);
          row.emplace_back(data == nullptr ? "" : std::string(static_cast<const char*>(data), bytes));
        }
        rows.push_back(std::move(row));
      }
      if (rc != SQLITE_DONE) ADD_FAILURE() << sqlite3_errmsg(db) << ": " << sql;
      changed_ = sqlite3_changes(db);
      sqlite3_finalize(stmt);
    }
    return rows;
  }

  std::vector<Row> PostgresRows(const std::string& sql, const std::vector<std::string>& params) {
    std::vector<Row> rows;
    std::unique_ptr<PGconn, decltype(&PQfinish)> db(PQconnectdb(postgres_url_.c_str()), PQfinish);
    if (PQstatus(db.get()) != CONNECTION_OK) {
      ADD_FAILURE() << "cannot reach the relay's store: " << PQerrorMessage(db.get());
      return rows;
    }
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const auto& p : params) {
      values.push_back(p.data());
      lengths.push_back(static_cast<int>(p.size()));
      formats.push_back(1);  // binary: the bytes as they are
    }
    PGresult* result = params.empty() ? PQexec(db.get(), sql.c_str())
                                      : PQexecParams(db.get(), sql.c_str(), static_cast<int>(params.size()), nullptr,
                                                     values.data(), lengths.data(), formats.data(), 0);
    std::unique_ptr<PGresult, decltype(&PQclear)> owner(result, PQclear);
    const auto status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      ADD_FAILURE() << PQresultErrorMessage(result) << ": " << sql;
      return rows;
    }
    constexpr Oid kByteaOid = 17;
    for (int r = 0; r < PQntuples(result); ++r) {
      Row row;
      for (int c = 0; c < PQnfields(result); ++c) {
        const char* text = PQgetvalue(result, r, c);
        if (PQftype(result, c) != kByteaOid) {
          row.emplace_back(text, static_cast<std::size_t>(PQgetlength(result, r, c)));
          continue;
        }
        std::size_t length = 0;
        unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &length);
        row.emplace_back(reinterpret_cast<const char*>(bytes), length);
        PQfreemem(bytes);
      }
      rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(result);
    changed_ = *tuples == '\0' ? 0 : std::stoll(tuples);
    return rows;
  }

  std::string db_path_;
  std::string postgres_url_;
  std::int64_t changed_ = -1;
};

}  // namespace duet::testing
