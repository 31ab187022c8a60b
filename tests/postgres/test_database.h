// A fresh, empty database on the tests' own PostgreSQL server, which ctest
// starts once for the whole run (the fixture "postgres":
// tests/postgres/pg_test_server). DUET_TEST_POSTGRES names the folder whose
// `conninfo` file says where the server listens.
#pragma once

#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <map>
#include <string>

#include "base/result.h"
#include "crypto/crypto.h"

namespace duet::testing {

inline Result<std::string> FreshPostgresDatabase() {
  const char* dir = std::getenv("DUET_TEST_POSTGRES");
#ifdef DUET_TEST_POSTGRES_DIR
  if (dir == nullptr || *dir == '\0') dir = DUET_TEST_POSTGRES_DIR;  // where ctest's fixture starts it
#endif
  if (dir == nullptr || *dir == '\0')
    return MakeError(ErrorKind::kNotFound,
                     "DUET_TEST_POSTGRES is not set: run the tests with ctest, which starts the tests' PostgreSQL "
                     "(or: tests/postgres/pg_test_server start DIR; DUET_TEST_POSTGRES=DIR)");
  std::ifstream file(std::string(dir) + "/conninfo");
  std::string server;
  if (!std::getline(file, server) || server.empty())
    return MakeError(ErrorKind::kNotFound, std::string("no PostgreSQL server for the tests in ") + dir +
                                               ": start one with tests/postgres/pg_test_server start " + dir);
  PGconn* admin = PQconnectdb(server.c_str());
  if (PQstatus(admin) != CONNECTION_OK) {
    std::string why = PQerrorMessage(admin);
    PQfinish(admin);
    return MakeError(ErrorKind::kIo, "the tests' PostgreSQL does not answer: " + why);
  }
  const std::string name = "duet_" + crypto::Hex(crypto::RandomBytes(8));
  PGresult* made = PQexec(admin, ("CREATE DATABASE " + name).c_str());
  const bool ok = PQresultStatus(made) == PGRES_COMMAND_OK;
  std::string why = ok ? "" : PQresultErrorMessage(made);
  PQclear(made);
  PQfinish(admin);
  if (!ok) return MakeError(ErrorKind::kIo, "could not create a test database: " + why);
  // The server's URL with this database in place of "postgres".
  return server.substr(0, server.rfind('/') + 1) + name;
}

// The PostgreSQL database a test relay with the store `db_path` uses
// instead of that SQLite file, when the suite runs with
// DUET_TEST_STORE=postgresql (ctest runs the relay tests once on each
// store); "" otherwise, and for a test of the SQLite file itself. The same
// path gets the same database again, so a restarted relay finds its records.
inline Result<std::string> TestPostgresFor(const std::string& db_path) {
  const char* store = std::getenv("DUET_TEST_STORE");
  if (store == nullptr || std::string(store) != "postgresql") return std::string();
  static std::map<std::string, std::string> databases;
  if (auto it = databases.find(db_path); it != databases.end()) return it->second;
  auto fresh = FreshPostgresDatabase();
  if (!fresh.ok()) return fresh.error();
  databases.emplace(db_path, fresh.value());
  return fresh.value();
}

}  // namespace duet::testing
