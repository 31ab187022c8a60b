// CoupleTest: a real relay on loopback and two partners, "a" (Alice) and
// "b" (Bob), each with their own home, run as real duet processes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/relay_store_sql.h"
#include "tests/integration/tamper_proxy.h"

namespace duet::testing {

class CoupleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    relay_ = std::make_unique<RelayProcess>(dir_.File("relay.db"), "127.0.0.1:0", RelayArgs());
    relay_->Start();
  }
  // duetd's options beyond --listen and --db, for fixtures that need a
  // relay set up otherwise.
  virtual std::vector<std::string> RelayArgs() const { return {}; }

  RunResult Duet(const std::string& who, std::vector<std::string> args,
                 const std::vector<std::string>& env = {}, const std::string& input = {}) {
    std::vector<std::string> argv = {DUET_PATH, "--home", dir_.File(who)};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, dir_.path(), env, input);
  }

  static void Ok(const RunResult& r) { ASSERT_EQ(r.exit_code, 0) << r.out << r.err; }
  // A bad input: exit 2 and exactly one line on stderr, naming the problem.
  static void Refused(const RunResult& r, const std::string& says) {
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  }

  // Runs duet and parses its --json output, failing the test on a non-zero exit.
  nlohmann::json DuetJson(const std::string& who, std::vector<std::string> args,
                          const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), "--json");
    auto r = Duet(who, args, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto parsed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << r.out;
    return parsed;
  }

  void Init(const std::string& who, const std::string& name) {
    auto r = Duet(who, {"init", "--name", name, "--relay", relay_->address()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Alice invites, Bob joins, Alice syncs; returns both safety numbers.
  std::pair<std::string, std::string> Pair() {
    Init("a", "Alice");
    Init("b", "Bob");
    auto invite = Duet("a", {"invite"});
    EXPECT_EQ(invite.exit_code, 0) << invite.err;
    code_ = FirstLine(invite.out);
    auto join = Duet("b", {"--json", "join", code_});
    EXPECT_EQ(join.exit_code, 0) << join.err;
    auto sync = Duet("a", {"--json", "sync"});
    EXPECT_EQ(sync.exit_code, 0) << sync.err;
    EXPECT_EQ(nlohmann::json::parse(sync.out)["paired_with"], "Bob");
    auto a = nlohmann::json::parse(Duet("a", {"--json", "partner"}).out);
    auto b = nlohmann::json::parse(join.out);
    EXPECT_EQ(a["name"], "Bob");
    EXPECT_EQ(b["partner"], "Alice");
    return {a["safety_number"], b["safety_number"]};
  }

  nlohmann::json Checkins(const std::string& who) {
    auto r = Duet(who, {"--json", "checkins"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }

  // The folded state both devices must agree on, in one canonical text:
  // check-ins and boundaries by id, with who wrote them and what they say.
  std::string FoldedState(const std::string& who) {
    std::vector<std::string> lines;
    for (const auto& c : Checkins(who))
      lines.push_back("checkin " + c["id"].get<std::string>() + " " + c["author"].get<std::string>() + " mood " +
                      std::to_string(c["mood"].get<int>()) + " " + c["note"].get<std::string>());
    for (const auto& b : DuetJson(who, {"boundary", "list", "--all"}))
      lines.push_back("boundary " + b["id"].get<std::string>() + " " + b["proposer"].get<std::string>() + " " +
                      b["state"].get<std::string>() + " " + b["text"].get<std::string>());
    std::sort(lines.begin(), lines.end());
    std::string state;
    for (const auto& line : lines) state += line + "\n";
    return state;
  }

  // SQL spoken to the relay's store behind its back, as an operator could,
  // on either store (relay_store_sql.h).
  RelayStoreSql RelayStore() { return RelayStoreSql(dir_.File("relay.db")); }
  void RelaySql(const std::string& sql) { RelayStore().Exec(sql); }
  std::int64_t RelayNumber(const std::string& sql) { return RelayStore().Number(sql); }
  std::int64_t RelayRecordCount() { return RelayNumber("SELECT count(*) FROM records"); }

  // Every envelope the relay stores, in its order.
  std::vector<std::string> RelayEnvelopes() {
    std::vector<std::string> out;
    for (auto& row : RelayStore().Rows("SELECT envelope FROM records ORDER BY seq")) out.push_back(row.at(0));
    return out;
  }

  // What the relay's store holds: on SQLite its whole database, main file
  // and write-ahead log; on PostgreSQL every value of every table, since
  // the server's files are its own (docs/threat-model.md says what a
  // PostgreSQL relay keeps of a deleted record).
  std::string RelayBytes() {
    auto store = RelayStore();
    if (!store.postgres()) return ReadFile(dir_.File("relay.db")) + ReadFile(dir_.File("relay.db-wal"));
    std::string bytes;
    for (const auto& table : store.Rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
      for (const auto& row : store.Rows("SELECT * FROM " + table.at(0)))
        for (const auto& value : row) bytes += value;
    return bytes;
  }

  // Pairs on a calm network with both devices knowing the relay only by a
  // proxy's address, the relay's key pinned: the proxy (proxy_) can break
  // connections but never read or forge them.
  void PairThroughProxy() {
    proxy_ = std::make_unique<TamperProxy>(relay_->port());
    for (auto [who, name] : {std::pair{"a", "Alice"}, std::pair{"b", "Bob"}}) {
      auto r = Duet(who, {"init", "--name", name, "--relay", proxy_->address(), "--relay-key",
                          relay_->key()});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    auto invite = Duet("a", {"invite"});
    ASSERT_EQ(invite.exit_code, 0) << invite.err;
    ASSERT_EQ(Duet("b", {"join", FirstLine(invite.out)}).exit_code, 0);
    ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  }

  TempDir dir_;
  std::unique_ptr<RelayProcess> relay_;
  std::unique_ptr<TamperProxy> proxy_;
  std::string code_;
};

// A couple paired before each test, everyone in UTC: for tests whose
// subject is not time zones.
class PairedInUtcTest : public CoupleTest {
 protected:
  void SetUp() override {
    CoupleTest::SetUp();
    Pair();
  }
  RunResult As(const std::string& who, std::vector<std::string> args,
               const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--tz", "UTC"});
    return Duet(who, args, env);
  }
  nlohmann::json AsJson(const std::string& who, std::vector<std::string> args,
                        const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--tz", "UTC"});
    return DuetJson(who, args, env);
  }
};

}  // namespace duet::testing
