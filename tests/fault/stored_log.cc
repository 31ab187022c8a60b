#include "tests/fault/stored_log.h"

#include <sqlite3.h>

#include <memory>

#include "tests/fault/pushes.h"

namespace duet::testing {
namespace {

using Connection = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;
using Query = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

std::string Text(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  return data == nullptr
             ? std::string()
             : std::string(static_cast<const char*>(data),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
}

// Runs `sql`, calling on_row for each row; the error names the query.
template <typename OnRow>
Status EachRow(sqlite3* db, const char* sql, OnRow on_row) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK)
    return MakeError(ErrorKind::kIo, std::string(sql) + ": " + sqlite3_errmsg(db));
  Query stmt(raw, &sqlite3_finalize);
  for (;;) {
    const int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW)
      return MakeError(ErrorKind::kIo, std::string(sql) + ": " + sqlite3_errmsg(db));
    on_row(raw);
  }
}

}  // namespace

Result<StoredLog> ReadStoredLog(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  Connection db(raw, &sqlite3_close);
  if (rc != SQLITE_OK)
    return MakeError(ErrorKind::kIo, "cannot open " + path + ": " + sqlite3_errstr(rc));
  StoredLog log;
  DUET_RETURN_IF_ERROR(EachRow(raw, "PRAGMA integrity_check", [&](sqlite3_stmt* row) {
    if (!log.integrity.empty()) log.integrity += '\n';
    log.integrity += Text(row, 0);
  }));
  DUET_RETURN_IF_ERROR(EachRow(
      raw, "SELECT couple_id, seq, record_id, envelope FROM records ORDER BY couple_id, seq",
      [&](sqlite3_stmt* row) {
        log.records.push_back(StoredRecord{Text(row, 0),
                                           static_cast<std::uint64_t>(sqlite3_column_int64(row, 1)),
                                           Text(row, 2), Text(row, 3)});
      }));
  DUET_RETURN_IF_ERROR(EachRow(raw, "SELECT couple_id FROM couples",
                               [&](sqlite3_stmt* row) { log.couple_ids.insert(Text(row, 0)); }));
  DUET_RETURN_IF_ERROR(EachRow(raw, "SELECT count(*) FROM devices", [&](sqlite3_stmt* row) {
    log.devices = static_cast<std::uint64_t>(sqlite3_column_int64(row, 0));
  }));
  return log;
}

LogCheck CheckLog(const StoredLog& log, const Ledger& acked, const Submitted& submitted) {
  LogCheck check;
  if (log.integrity != "ok") check.problems.push_back("integrity_check: " + log.integrity);
  std::map<std::string, const StoredRecord*> stored;
  std::string couple;
  std::uint64_t expected_seq = 0;
  for (const StoredRecord& record : log.records) {
    if (record.couple_id != couple) {
      couple = record.couple_id;
      expected_seq = 1;
    }
    const std::string where = record.couple_id + " seq " + std::to_string(record.seq);
    if (record.seq != expected_seq)
      check.problems.push_back(where + ": expected seq " + std::to_string(expected_seq));
    expected_seq = record.seq + 1;
    if (!stored.emplace(record.record_id, &record).second)
      check.problems.push_back(where + ": " + record.record_id + " is stored twice");
    auto pushed = submitted.find(record.record_id);
    if (pushed == submitted.end() || pushed->second != record.couple_id)
      check.problems.push_back(where + ": " + record.record_id + " was not pushed to this couple");
    if (record.envelope != EnvelopeFor(record.record_id))
      check.problems.push_back(where + ": " + record.record_id + " has another envelope");
  }
  for (const auto& [record_id, ack] : acked) {
    const std::string what =
        record_id + " (acknowledged as " + ack.couple_id + " seq " + std::to_string(ack.seq) + ")";
    auto found = stored.find(record_id);
    if (found == stored.end()) {
      check.lost.push_back(what);
      continue;
    }
    const StoredRecord& record = *found->second;
    if (record.couple_id != ack.couple_id || record.seq != ack.seq)
      check.problems.push_back(what + " is stored as " + record.couple_id + " seq " +
                               std::to_string(record.seq));
  }
  return check;
}

Ledger LedgerOf(const StoredLog& log) {
  Ledger ledger;
  for (const StoredRecord& record : log.records)
    ledger[record.record_id] = Ack{record.couple_id, record.seq};
  return ledger;
}

}  // namespace duet::testing
