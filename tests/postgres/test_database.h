// A fresh, empty database on the tests' own PostgreSQL server, which ctest
// starts once for the whole run (the fixture "postgres":
// tests/postgres/pg_test_server). DUET_TEST_POSTGRES names the folder whose
// `conninfo` file says where the server listens.
#pragma once

#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "base/result.h"
#include "crypto/crypto.h"

namespace duet::testing {

inline Result<std::string> FreshPostgresDatabase() {
  const char* dir = std::getenv("DUET_TEST_POSTGRES");
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
  // The server's connection string with this database in place of "postgres".
  return server.substr(0, server.rfind("dbname=")) + "dbname=" + name;
}

}  // namespace duet::testing
