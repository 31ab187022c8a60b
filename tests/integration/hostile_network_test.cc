// Issue #11, fault test 4: a hostile network. Both partners reach the relay
// through a proxy that delays, splits, drops, duplicates and resets, while
// they write at the same time. Once the network is calm again and both have
// synced, both devices hold the same folded state, every record each of them
// wrote is there exactly once (on both devices and in the relay's log), and
// `duet status` shows nothing queued, refused or out of order.
//
// The suite writes for kDefaultSeconds; DUET_HOSTILE_SECONDS=n writes for n
// (the soak run: 60 or more). DUET_HOSTILE_SEED=n repeats a run's faults and
// writes (the timing of a real network is not repeated exactly); a failure
// names the seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "daemon/limits.h"
#include "tests/integration/couple_fixture.h"
#include "tests/integration/tamper_proxy.h"

namespace duet::testing {
namespace {

constexpr int kDefaultSeconds = 12;

// Per chunk. About one connection in two meets a fatal fault (drop, duplicate
// or reset) among its dozen chunks, so writes both go through and stay queued.
FaultPlan HostilePlan(std::uint64_t seed) {
  FaultPlan plan;
  plan.seed = seed;
  plan.delay = 0.08;
  plan.split = 0.08;
  plan.drop = 0.02;
  plan.duplicate = 0.02;
  plan.reset = 0.02;
  return plan;
}

int SecondsFromEnvironment() {
  const char* text = std::getenv("DUET_HOSTILE_SECONDS");
  return text != nullptr ? std::max(1, std::atoi(text)) : kDefaultSeconds;
}

std::uint64_t SeedFromEnvironment() {
  const char* text = std::getenv("DUET_HOSTILE_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : std::random_device{}();
}

// A record one partner wrote, as both devices must show it in the end.
struct Written {
  std::string kind;    // "checkin", "boundary" or "thanks"
  std::string author;  // "a" or "b"
  int number = 0;      // the command that wrote it, counted over both partners
  int mood = 0;
  std::string text;
};

// How the commands of the writing phase ended.
struct Tally {
  int writes_synced = 0;
  int writes_queued = 0;
  int syncs_ok = 0;
  int syncs_failed = 0;
  int held_back = 0;                    // the relay's pacing, not the network
  std::map<std::string, int> reasons;   // why writes stayed queued, by Gist
  std::map<std::string, int> failures;  // why syncs failed, by Gist
};

// A failure message with its numbers (ports, sizes, record numbers) as '#'
// and cut to one short line, so the kinds of failure can be counted.
std::string Gist(const std::string& message) {
  std::string gist;
  for (char c : FirstLine(message)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) gist.push_back(c);
    else if (gist.empty() || gist.back() != '#') gist.push_back('#');
  }
  return gist.size() > 100 ? gist.substr(0, 100) + "..." : gist;
}

class HostileNetworkTest : public CoupleTest {
 protected:
  std::vector<std::string> Argv(const std::string& who, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {DUET_PATH, "--home", dir_.File(who), "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // One partner's command in the writing phase; `tag` names a write.
  struct Command {
    std::vector<std::string> args;
    std::string tag;
  };

  // The next command of `who`: a write with a text nobody else wrote, or a
  // sync (always a sync unless `may_write`).
  Command NextCommand(const std::string& who, bool may_write) {
    const int n = ++commands_;
    const int draw = std::uniform_int_distribution<int>(0, 99)(random_);
    const std::string tag = who + "-" + std::to_string(n);
    if (!may_write || draw < 20) return {{"sync"}, ""};
    if (draw < 80) {
      const int mood = std::uniform_int_distribution<int>(1, 5)(random_);
      pending_[tag] = {"checkin", who, n, mood, tag + " checked in through a hostile network"};
      return {{"checkin", "--mood", std::to_string(mood), "--note", pending_[tag].text}, tag};
    }
    if (draw < 90) {
      pending_[tag] = {"boundary", who, n, 0, tag + " asks for a quiet hour"};
      return {{"boundary", "propose", pending_[tag].text}, tag};
    }
    pending_[tag] = {"thanks", who, n, 0, tag + " thanks you for waiting"};
    return {{"thanks", pending_[tag].text}, tag};
  }

  // Takes what one command printed: a write's id and how its sync went, or
  // how a sync went.
  void Took(const Command& command, const RunResult& r) {
    SCOPED_TRACE(command.args[0] + " " + command.tag);
    if (command.args[0] == "sync") {
      // 2: it could not run (the connection broke or arrived garbled), said
      // on one line. 1 would mean records refused, a chain out of order or
      // a quota: never the network's doing.
      if (r.exit_code == 2) {
        ++tally_.syncs_failed;
        ++tally_.failures[Gist(r.err.substr(r.err.find(": ") + 2))];
        return;
      }
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      ++tally_.syncs_ok;
      auto report = nlohmann::json::parse(r.out, nullptr, false);
      ASSERT_FALSE(report.is_discarded()) << r.out;
      EXPECT_EQ(report["refused"], 0) << r.out;
      if (!report["held_back"].is_null()) ++tally_.held_back;
      return;
    }
    // A write is saved before its sync, so it exits 0 whatever the network did.
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto result = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(result.is_discarded()) << r.out;
    ASSERT_TRUE(result["id"].is_string()) << r.out;
    const std::string id = result["id"];
    ASSERT_EQ(written_.count(id), 0u) << "two writes were given the id " << id;
    written_[id] = pending_.at(command.tag);
    pending_.erase(command.tag);
    if (result["sync"] == "synced") {
      ++tally_.writes_synced;
    } else {
      ++tally_.writes_queued;
      const std::string reason = result.value("reason", "");
      if (reason.find("paces") != std::string::npos) ++tally_.held_back;
      ++tally_.reasons[Gist(reason)];
      // Whatever the network did, the next sync sends it: never "not sent".
      EXPECT_NE(reason.rfind("not sent", 0), 0u) << reason;
    }
  }

  // Both partners at once, for `seconds`: Bob's command runs while Alice's
  // does, so their pushes and pulls cross at the relay.
  void WriteWhileHostile(int seconds) {
    const daemon::RelayLimits limits;
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
      // The relay paces a couple's pushes (a burst, then one record per
      // interval), and a record whose acknowledgement was lost is pushed
      // again: a quarter of the burst, then half the pace, keeps the pacing
      // out of the way (a sync takes a write's turn).
      const auto elapsed = std::chrono::steady_clock::now() - start;
      const double budget =
          limits.push_burst_records / 4 + 0.5 * static_cast<double>(elapsed / limits.push_record_interval);
      const bool may_write = static_cast<double>(written_.size()) + 2 <= budget;
      const Command b_command = NextCommand("b", may_write);
      const std::string b_err = dir_.File("b.err." + std::to_string(commands_));
      LiveProcess b(Argv("b", b_command.args), b_err);
      const Command a_command = NextCommand("a", may_write);
      const RunResult a = RunProgram(Argv("a", a_command.args), dir_.path());
      RunResult b_result;
      b_result.exit_code = b.Stop(0);  // signal 0 sends nothing: this only waits for the exit
      b_result.out = b.output();
      b_result.err = ReadFile(b_err);
      Took(a_command, a);
      Took(b_command, b_result);
      if (HasFatalFailure()) return;
    }
  }

  // Syncs on a calm network until neither device has anything queued: each
  // round sends Alice's, then Bob's (taking Alice's), then takes Bob's.
  void SyncUntilNothingQueued() {
    for (int round = 0; round < 5; ++round) {
      for (const char* who : {"a", "b", "a"}) {
        auto r = Duet(who, {"--json", "sync"});
        ASSERT_EQ(r.exit_code, 0) << who << " on a calm network: " << r.out << r.err;
        auto report = nlohmann::json::parse(r.out);
        ASSERT_TRUE(report["held_back"].is_null())
            << "the relay paced the couple: the writing outran the budget in WriteWhileHostile; " << r.out;
      }
      if (DuetJson("a", {"status"})["queued"] == 0 && DuetJson("b", {"status"})["queued"] == 0) return;
    }
    ADD_FAILURE() << "changes still queued after 5 rounds of syncs on a calm network";
  }

  std::mt19937_64 random_;
  int commands_ = 0;
  std::map<std::string, Written> pending_;  // by tag, until the write reports its id
  std::map<std::string, Written> written_;  // by record id (hex)
  Tally tally_;
};

TEST_F(HostileNetworkTest, BothPartnersConvergeWithEveryRecordOnceAndNothingStuck) {
  const std::uint64_t seed = SeedFromEnvironment();
  const int seconds = SecondsFromEnvironment();
  SCOPED_TRACE("DUET_HOSTILE_SEED=" + std::to_string(seed));
  std::printf("hostile network: seed %llu, writing for %d s\n", static_cast<unsigned long long>(seed), seconds);
  random_.seed(seed ^ 0x9e3779b97f4a7c15ull);  // the writes' own choices, apart from the faults'

  ASSERT_NO_FATAL_FAILURE(PairThroughProxy());
  const std::int64_t records_before = RelayRecordCount();
  proxy_->set_faults(HostilePlan(seed));
  const auto writing_started = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(WriteWhileHostile(seconds));
  const double wrote_for =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - writing_started).count();
  const FaultCounts faults = proxy_->fault_counts();
  proxy_->set_faults(std::nullopt);
  ASSERT_NO_FATAL_FAILURE(SyncUntilNothingQueued());

  // Nothing stuck: nothing queued, refused, out of order or unshown.
  for (const char* who : {"a", "b"}) {
    auto status = DuetJson(who, {"status"});
    EXPECT_EQ(status["queued"], 0) << who;
    EXPECT_TRUE(status["refused"].empty()) << who << " " << status["refused"].dump();
    EXPECT_TRUE(status["findings"].empty()) << who << " " << status["findings"].dump();
    EXPECT_TRUE(status["not_shown"].empty()) << who << " " << status["not_shown"].dump();
  }

  // The same folded state on both devices.
  const std::string state_a = FoldedState("a");
  const std::string state_b = FoldedState("b");
  EXPECT_EQ(state_a, state_b);
  const std::string hash_a = crypto::Hex(crypto::Hash(16, state_a));
  EXPECT_EQ(hash_a, crypto::Hex(crypto::Hash(16, state_b)));

  // Every record written is there exactly once, as written, and nothing else.
  std::map<std::string, int> wrote_by_kind;
  for (const auto& [id, w] : written_) ++wrote_by_kind[w.kind];
  for (const char* who : {"a", "b"}) {
    SCOPED_TRACE(std::string("on ") + who);
    std::map<std::string, int> seen;  // record id -> times listed
    std::map<std::string, int> notes;
    for (const auto& c : Checkins(who)) {
      const std::string id = c["id"];
      ++seen[id];
      ++notes[c["note"].get<std::string>()];
      auto it = written_.find(id);
      if (it == written_.end() || it->second.kind != "checkin") {
        ADD_FAILURE() << "a check-in nobody wrote: " << c.dump();
        continue;
      }
      EXPECT_EQ(c["author"], it->second.author == "a" ? "Alice" : "Bob") << id;
      EXPECT_EQ(c["mood"], it->second.mood) << id;
      EXPECT_EQ(c["note"], it->second.text) << id;
      if (c["mine"] == true) {
        EXPECT_EQ(c["synced"], true) << id;
      }
    }
    for (const auto& b : DuetJson(who, {"boundary", "list", "--all"})) {
      const std::string id = b["id"];
      ++seen[id];
      auto it = written_.find(id);
      if (it == written_.end() || it->second.kind != "boundary") {
        ADD_FAILURE() << "a boundary nobody proposed: " << b.dump();
        continue;
      }
      EXPECT_EQ(b["text"], it->second.text) << id;
      EXPECT_EQ(b["state"], "proposed") << id;
    }
    for (const auto& [note, times] : notes) EXPECT_EQ(times, 1) << "listed " << times << " times: " << note;
    for (const auto& [id, w] : written_) {
      if (w.kind == "thanks") continue;
      EXPECT_EQ(seen[id], 1) << w.kind << " " << id << " (" << w.text << ") listed " << seen[id] << " times";
    }
  }
  // Thanks have no list: each side shows the other's latest.
  std::map<std::string, const Written*> newest_thanks;  // by author
  for (const auto& [id, w] : written_)
    if (w.kind == "thanks" && (!newest_thanks[w.author] || w.number > newest_thanks[w.author]->number))
      newest_thanks[w.author] = &w;
  for (const auto& [author, w] : newest_thanks) {
    const std::string reader = author == "a" ? "b" : "a";
    EXPECT_EQ(DuetJson(reader, {"status"})["latest_thanks"], w->text) << "as " << reader << " sees it";
  }

  // The relay's log holds each record once: its record ids are unique, so
  // the count says no write was lost and none stored twice.
  const std::int64_t relay_records = RelayRecordCount() - records_before;
  EXPECT_EQ(relay_records, static_cast<std::int64_t>(written_.size()));

  std::string reasons, failures;
  for (const auto& [gist, n] : tally_.reasons) reasons += "\n    " + std::to_string(n) + "x " + gist;
  for (const auto& [gist, n] : tally_.failures) failures += "\n    " + std::to_string(n) + "x " + gist;
  std::printf(
      "hostile network: seed %llu, wrote for %.1f s\n"
      "  faults: %s\n"
      "  records written: %zu (%d check-ins, %d boundaries, %d thanks); %d synced at once, %d queued:%s\n"
      "  syncs during faults: %d ok, %d failed:%s\n"
      "  held back by the relay's pacing: %d\n"
      "  converged: %lld records in the relay's log; state hash %s on both devices\n",
      static_cast<unsigned long long>(seed), wrote_for, faults.ToString().c_str(), written_.size(),
      wrote_by_kind["checkin"], wrote_by_kind["boundary"], wrote_by_kind["thanks"], tally_.writes_synced,
      tally_.writes_queued, reasons.c_str(), tally_.syncs_ok, tally_.syncs_failed, failures.c_str(),
      tally_.held_back, static_cast<long long>(relay_records), hash_a.c_str());
  RecordProperty("seed", std::to_string(seed));
  RecordProperty("faults", faults.ToString());
  RecordProperty("records_written", static_cast<int>(written_.size()));
  RecordProperty("records_converged", static_cast<int>(relay_records));
  EXPECT_GT(faults.dropped + faults.duplicated + faults.reset, 0u) << "the network was never hostile";
  EXPECT_GT(tally_.writes_queued, 0) << "no write met a fault: the test proves nothing";
  if (HasFailure()) std::printf("relay log:\n%s\n", ReadFile(dir_.File("relay.db.log")).c_str());
}

}  // namespace
}  // namespace duet::testing
