// Running duetd as a self-hoster does (issue #12): its folder and file
// modes, a port already taken, a host name to listen on, a config file with
// flags over it, SIGHUP, the log, and the metrics a Prometheus scrapes.
// Real duetd (and duet) processes on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

void Succeeds(const RunResult& r) { ASSERT_EQ(r.exit_code, 0) << r.out << r.err; }

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A socket listening on a free loopback port, as another program would hold it.
class HeldPort {
 public:
  HeldPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
      throw std::runtime_error("cannot hold a port");
    port_ = ntohs(address.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// GET over a plain socket: what curl or Prometheus would send.
HttpAnswer HttpGet(const std::string& address, const std::string& path) {
  const auto colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return {};
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: relay\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return {};
  }
  std::string response;
  char buffer[4096];
  pollfd pfd{fd, POLLIN, 0};
  while (::poll(&pfd, 1, 10000) > 0) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  HttpAnswer answer;
  if (response.rfind("HTTP/1.1 ", 0) != 0) return answer;
  answer.status = std::stoi(response.substr(9, 3));
  const auto body = response.find("\r\n\r\n");
  if (body != std::string::npos) answer.body = response.substr(body + 4);
  return answer;
}

// The value of one sample ("name" or "name{label=\"x\"}") in a scrape.
double Sample(const std::string& scrape, const std::string& series) {
  std::istringstream lines(scrape);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// duetd run as a service runs it: from a config file, its log on the
// same pipe as its "listening" line.
class ServedRelay {
 public:
  ServedRelay(const TempDir& dir, const std::string& config_file)
      : process_({"/bin/sh", "-c", std::string("exec ") + DUETD_PATH + " --config " + config_file + " 2>&1"},
                 dir.File("relay.err")) {
    if (!process_.WaitForLine("duetd listening on")) throw std::runtime_error("duetd did not start: " + process_.output());
    const std::string line = process_.output().substr(process_.output().find("listening on ") + 13);
    address_ = line.substr(0, line.find(' '));
  }
  const std::string& address() const { return address_; }
  LiveProcess& process() { return process_; }

 private:
  LiveProcess process_;
  std::string address_;
};

TEST(RelayFiles, ANewRelayMakesItsFolderAndKeepsEveryFilePrivate) {
  TempDir dir;
  const std::string db = dir.File("state/duet/relay.db");
  WriteText(dir.File("duetd.toml"), "listen = \"127.0.0.1:0\"\ndb = \"" + db + "\"\n");
  ServedRelay relay(dir, dir.File("duetd.toml"));
  Succeeds(RunProgram({DUET_PATH, "--home", dir.File("a"), "init", "--name", "A", "--relay",
                       relay.address()},
                      dir.path()));
  Succeeds(RunProgram({DUET_PATH, "--home", dir.File("a"), "invite"}, dir.path()));
  EXPECT_EQ(relay.process().Stop(), 0);
  EXPECT_EQ(ModeOf(dir.File("state")), 0700u);
  EXPECT_EQ(ModeOf(dir.File("state/duet")), 0700u);
  EXPECT_EQ(ModeOf(db), 0600u);
  EXPECT_EQ(ModeOf(db + ".key"), 0600u);
}

TEST(RelayFiles, AStoreOthersCouldReadIsMadePrivateAtStart) {
  TempDir dir;
  const std::string db = dir.File("relay.db");
  {
    RelayProcess relay(db);
    relay.Start();
    ASSERT_EQ(relay.Stop(), 0);
  }
  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);  // as an older duetd left it
  RelayProcess relay(db);
  relay.Start();
  EXPECT_EQ(ModeOf(db), 0600u);
  EXPECT_EQ(relay.Stop(), 0);
  EXPECT_NE(ReadFile(db + ".log").find("readable by its owner only"), std::string::npos);
}

TEST(RelayFiles, APortAlreadyTakenLeavesNoFileBehind) {
  TempDir dir;
  HeldPort taken;
  auto r = RunProgram({DUETD_PATH, "--listen", "127.0.0.1:" + std::to_string(taken.port()), "--db",
                       dir.File("fresh/relay.db")},
                      dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(taken.port())),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("fresh"))) << "nothing was created";
}

TEST(RelayFiles, AHostNameIsLookedUp) {
  TempDir dir;
  RelayProcess relay(dir.File("relay.db"), "localhost:0");
  relay.Start();
  EXPECT_NE(relay.first_line().find("duetd listening on "), std::string::npos);
  EXPECT_GT(relay.port(), 0);
  EXPECT_EQ(relay.Stop(), 0);
  auto unknown = RunProgram({DUETD_PATH, "--listen", "no-such-host.invalid:7707", "--db",
                             dir.File("relay.db")},
                            dir.path());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(LineCount(unknown.err), 1) << unknown.err;
  EXPECT_NE(unknown.err.find("no-such-host.invalid"), std::string::npos) << unknown.err;
}

TEST(RelayConfigFile, CheckConfigNamesTheLineAndKeyOfEachProblem) {
  TempDir dir;
  const std::string good = dir.File("good.toml");
  WriteText(good, "db = \"" + dir.File("relay.db") + "\"\n[couple]\nmax_records = 10\n");
  auto ok = RunProgram({DUETD_PATH, "--check-config", "--config", good}, dir.path());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, good + ": ok\n");

  const std::string bad = dir.File("bad.toml");
  WriteText(bad, "db = \"x.db\"\nmode = \"closed\"\n[connections]\nper_adress = 3\n");
  auto check = RunProgram({DUETD_PATH, "--check-config", "--config", bad}, dir.path());
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_EQ(check.err,
            "duetd: " + bad + ":2: mode: must be open or invite-only, not 'closed'\n"
            "duetd: " + bad + ":4: connections.per_adress: unknown key; `duetd --help` lists the settings\n");
  // Starting with it: one line, and nothing created.
  auto start = RunProgram({DUETD_PATH, "--config", bad}, dir.path());
  EXPECT_EQ(start.exit_code, 2);
  EXPECT_EQ(LineCount(start.err), 1) << start.err;
  EXPECT_NE(start.err.find("and 1 more; `duetd --check-config --config " + bad + "` lists them"),
            std::string::npos)
      << start.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("x.db")));

  auto missing = RunProgram({DUETD_PATH, "--config", dir.File("none.toml")}, dir.path());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(LineCount(missing.err), 1) << missing.err;
  EXPECT_NE(missing.err.find("cannot read the config file"), std::string::npos) << missing.err;
}

TEST(RelayOnPostgres, CheckConfigSaysWhetherTheDatabaseAnswersAndItsSchemaAndTheRelayKeepsItsRecords) {
  TempDir dir;
  auto url = FreshPostgresDatabase();
  ASSERT_TRUE(url.ok()) << url.error().message;
  const std::vector<std::string> store = {"--store", url.value(), "--key", dir.File("relay.key")};
  auto check = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {DUETD_PATH, "--check-config"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, dir.path());
  };
  auto fresh = check(store);
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_NE(fresh.out.find("reachable, no duet schema yet"), std::string::npos) << fresh.out;

  // A real relay on it: a couple pairs and writes, the relay restarts, the
  // records are still there and the schema is at its version.
  RelayProcess relay(dir.File("relay.db"), "127.0.0.1:0", store);
  relay.Start();
  auto duet = [&](const std::string& who, std::vector<std::string> args) {
    std::vector<std::string> argv = {DUET_PATH, "--home", dir.File(who)};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, dir.path());
  };
  ASSERT_EQ(duet("a", {"init", "--name", "Alice", "--relay", relay.address()}).exit_code, 0);
  ASSERT_EQ(duet("b", {"init", "--name", "Bob", "--relay", relay.address()}).exit_code, 0);
  auto invite = duet("a", {"invite"});
  ASSERT_EQ(duet("b", {"join", FirstLine(invite.out)}).exit_code, 0);
  ASSERT_EQ(duet("a", {"checkin", "--mood", "4", "--note", "kept in postgres"}).exit_code, 0);
  ASSERT_EQ(duet("a", {"sync"}).exit_code, 0);
  relay.Stop();
  EXPECT_FALSE(std::filesystem::exists(dir.File("relay.db"))) << "no SQLite file beside it";
  relay.Start();
  auto synced = duet("b", {"sync"});
  EXPECT_EQ(synced.exit_code, 0) << synced.err;
  EXPECT_NE(duet("b", {"checkins"}).out.find("kept in postgres"), std::string::npos);
  relay.Stop();
  auto migrated = check(store);
  EXPECT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_NE(migrated.out.find("duet schema version 1 of 1"), std::string::npos) << migrated.out;

  // A URL libpq cannot parse: one line, and never the password in it.
  auto malformed = check({"--store", "postgresql://duet:s3cret%zz@127.0.0.1:1/duet", "--key", dir.File("relay.key")});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_EQ(LineCount(malformed.err), 1) << malformed.err;
  EXPECT_NE(malformed.err.find("malformed"), std::string::npos) << malformed.err;
  EXPECT_EQ(malformed.err.find("s3cret"), std::string::npos) << malformed.err;

  // A database that does not answer: one line, exit 2.
  auto away = check({"--store", "postgresql://duet@127.0.0.1:1/duet", "--key", dir.File("relay.key")});
  EXPECT_EQ(away.exit_code, 2);
  EXPECT_EQ(LineCount(away.err), 1) << away.err;
  EXPECT_NE(away.err.find("cannot reach the PostgreSQL store"), std::string::npos) << away.err;
}

// Moving a relay (issue #17): pair and write on an SQLite relay, copy its
// store into PostgreSQL, serve it from two relays with the same key, and
// the couple carries on where it was, each partner on another relay.
TEST(RelayOnPostgres, AnSqliteRelayCopiedIntoPostgresKeepsItsCoupleAcrossTwoRelays) {
  TempDir dir;
  auto url = FreshPostgresDatabase();
  ASSERT_TRUE(url.ok()) << url.error().message;
  auto duet = [&](const std::string& who, std::vector<std::string> args) {
    std::vector<std::string> argv = {DUET_PATH, "--home", dir.File(who)};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, dir.path());
  };
  auto duetd = [&](std::vector<std::string> args) {
    args.insert(args.begin(), DUETD_PATH);
    return RunProgram(args, dir.path());
  };
  const std::string db = dir.File("relay.db");
  RelayProcess before(db);
  before.Start();
  ASSERT_EQ(duet("a", {"init", "--name", "Alice", "--relay", before.address()}).exit_code, 0);
  ASSERT_EQ(duet("b", {"init", "--name", "Bob", "--relay", before.address()}).exit_code, 0);
  auto invite = duet("a", {"invite"});
  ASSERT_EQ(duet("b", {"join", FirstLine(invite.out)}).exit_code, 0);
  ASSERT_EQ(duet("a", {"checkin", "--mood", "4", "--note", "written before the move"}).exit_code, 0);
  ASSERT_EQ(duet("a", {"sync"}).exit_code, 0);
  ASSERT_EQ(duet("b", {"sync"}).exit_code, 0);
  before.Stop();

  auto missing = duetd({"store", "copy", "--from", "sqlite:" + dir.File("none.db"), "--to", url.value()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(LineCount(missing.err), 1) << missing.err;
  EXPECT_NE(missing.err.find("there is no relay store at"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("none.db")));

  auto copied = duetd({"store", "copy", "--from", "sqlite:" + db, "--to", url.value()});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_NE(copied.out.find("copied 1 couples, 2 devices, "), std::string::npos) << copied.out;
  auto twice = duetd({"store", "copy", "--from", "sqlite:" + db, "--to", url.value()});
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_EQ(LineCount(twice.err), 1) << twice.err;
  EXPECT_NE(twice.err.find("already holds couples"), std::string::npos) << twice.err;

  // Two relays on the copy, with the SQLite relay's key: Alice follows
  // one, Bob the other, and neither pairs again.
  const std::vector<std::string> store = {"--store", url.value(), "--key", db + ".key"};
  RelayProcess one(dir.File("one.db"), "127.0.0.1:0", store);
  RelayProcess two(dir.File("two.db"), "127.0.0.1:0", store);
  one.Start();
  two.Start();
  ASSERT_EQ(duet("a", {"relay", "move", one.address()}).exit_code, 0);
  ASSERT_EQ(duet("b", {"relay", "move", two.address()}).exit_code, 0);
  ASSERT_EQ(duet("a", {"checkin", "--mood", "5", "--note", "written after the move"}).exit_code, 0);
  ASSERT_EQ(duet("a", {"sync"}).exit_code, 0);
  auto bob = duet("b", {"sync"});
  EXPECT_EQ(bob.exit_code, 0) << bob.err;
  const std::string seen = duet("b", {"checkins"}).out;
  EXPECT_NE(seen.find("written before the move"), std::string::npos) << seen;
  EXPECT_NE(seen.find("written after the move"), std::string::npos) << seen;
  ASSERT_EQ(duet("b", {"checkin", "--mood", "3", "--note", "Bob, on the other relay"}).exit_code, 0);
  ASSERT_EQ(duet("b", {"sync"}).exit_code, 0);
  auto alice = duet("a", {"sync"});
  EXPECT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_NE(duet("a", {"checkins"}).out.find("Bob, on the other relay"), std::string::npos);
}

TEST(RelayConfigFile, FlagsWinOverTheFile) {
  TempDir dir;
  const std::string file = dir.File("duetd.toml");
  WriteText(file, "db = \"/srv/a.db\"\nmode = \"invite-only\"\n[couple]\nmax_records = 10\nmax_mib = 4\n");
  auto printed = RunProgram({DUETD_PATH, "--config", file, "--couple-max-records", "20", "--print-config"},
                            dir.path());
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("max_records = 20\n"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("max_mib = 4\n"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("mode = \"invite-only\"\n"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("db = \"/srv/a.db\"\n"), std::string::npos) << printed.out;
  // What it printed is itself a good config file.
  const std::string copy = dir.File("copy.toml");
  WriteText(copy, printed.out);
  EXPECT_EQ(RunProgram({DUETD_PATH, "--check-config", "--config", copy}, dir.path()).exit_code, 0);
}

TEST(RelayConfigFile, TheRelayRunsFromTheFileAlone) {
  TempDir dir;
  const std::string file = dir.File("duetd.toml");
  WriteText(file, "listen = \"127.0.0.1:0\"\ndb = \"" + dir.File("relay.db") +
                      "\"\nmode = \"invite-only\"\n");
  ServedRelay served(dir, file);
  LiveProcess& relay = served.process();
  const std::string address = served.address();
  Succeeds(RunProgram({DUET_PATH, "--home", dir.File("a"), "init", "--name", "A", "--relay", address},
                dir.path()));
  auto invite = RunProgram({DUET_PATH, "--home", dir.File("a"), "invite"}, dir.path());
  EXPECT_NE(invite.exit_code, 0) << "the file's invite-only mode is in force";
  EXPECT_NE(invite.err.find("invite-only"), std::string::npos) << invite.err;
  // `duetd token create` finds the database through the same file.
  auto token = RunProgram({DUETD_PATH, "token", "create", "--config", file}, dir.path());
  ASSERT_EQ(token.exit_code, 0) << token.err;
  Succeeds(RunProgram({DUET_PATH, "--home", dir.File("a"), "invite", "--relay-token",
                 FirstLine(token.out)},
                dir.path()));
  EXPECT_EQ(relay.Stop(), 0);
}

TEST(RelaySignals, SighupReloadsTheLogSettingsAndTheRelayKeepsServing) {
  TempDir dir;
  const std::string file = dir.File("duetd.toml");
  WriteText(file, "listen = \"127.0.0.1:0\"\ndb = \"" + dir.File("relay.db") + "\"\n");
  ServedRelay served(dir, file);
  LiveProcess& relay = served.process();
  const std::string address = served.address();

  WriteText(file, "listen = \"127.0.0.1:0\"\ndb = \"" + dir.File("relay.db") + "\"\n[log]\nformat = \"json\"\n");
  ::kill(relay.pid(), SIGHUP);
  ASSERT_TRUE(relay.WaitForLine("reloaded the log settings")) << relay.output();
  const std::string output = relay.output();
  const std::string reloaded = output.substr(output.rfind('\n', output.find("reloaded the log")) + 1);
  const auto json = nlohmann::json::parse(FirstLine(reloaded));
  EXPECT_EQ(json["event"], "reload");
  EXPECT_EQ(json["level"], "info");

  // A broken file keeps what runs, and says why.
  WriteText(file, "[log]\nlevel = \"loud\"\n");
  ::kill(relay.pid(), SIGHUP);
  ASSERT_TRUE(relay.WaitForLine("kept the running settings")) << relay.output();
  EXPECT_NE(relay.output().find("log.level: must be error, warning, info or debug, not 'loud'"),
            std::string::npos)
      << relay.output();
  // Still serving.
  Succeeds(RunProgram({DUET_PATH, "--home", dir.File("a"), "init", "--name", "A", "--relay", address},
                dir.path()));
  Succeeds(RunProgram({DUET_PATH, "--home", dir.File("a"), "invite"}, dir.path()));
  EXPECT_EQ(relay.Stop(), 0);
}

class RelayMetricsTest : public CoupleTest {
 protected:
  std::vector<std::string> RelayArgs() const override {
    return {"--metrics", "127.0.0.1:0", "--couple-max-records", "4"};
  }
};

TEST_F(RelayMetricsTest, AScrapeIsValidPrometheusTextAndCountsWhatHappened) {
  Pair();
  for (int i = 0; i < 5; ++i) Ok(Duet("a", {"checkin", "--mood", "3"}));  // the fifth is over quota
  Ok(Duet("b", {"sync"}));
  const auto scrape = HttpGet(relay_->metrics_address(), "/metrics");
  ASSERT_EQ(scrape.status, 200) << scrape.body;
  auto lint = RunProgram({"/usr/bin/promtool", "check", "metrics"}, dir_.path(), {}, scrape.body);
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err << scrape.body;
  EXPECT_EQ(Sample(scrape.body, "duetd_couples"), 1);
  EXPECT_EQ(Sample(scrape.body, "duetd_devices"), 2);
  EXPECT_GE(Sample(scrape.body, "duetd_records"), 4);
  EXPECT_EQ(Sample(scrape.body, "duetd_pairings_total"), 1);
  EXPECT_GE(Sample(scrape.body, "duetd_handshakes_total{outcome=\"ok\"}"), 5);
  EXPECT_GE(Sample(scrape.body, "duetd_refusals_total{reason=\"quota_exceeded\"}"), 1);
  EXPECT_GE(Sample(scrape.body, "duetd_requests_total{kind=\"push\"}"), 4);
  EXPECT_GT(Sample(scrape.body, "duetd_commit_duration_seconds_count"), 0);
  EXPECT_GT(Sample(scrape.body, "duetd_received_bytes_total"), 0);
  EXPECT_EQ(Sample(scrape.body, "duetd_store_readable"), 1);

  const auto health = HttpGet(relay_->metrics_address(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(HttpGet(relay_->metrics_address(), "/other").status, 404);

  // `duetd health`, as Docker's HEALTHCHECK runs it.
  auto healthy = RunProgram({DUETD_PATH, "health", "--metrics", relay_->metrics_address()}, dir_.path());
  EXPECT_EQ(healthy.exit_code, 0) << healthy.err;
  EXPECT_EQ(healthy.out, "healthy\n");
  std::uint16_t closed_port = 0;
  {
    HeldPort gone;
    closed_port = gone.port();
  }
  auto unreachable = RunProgram({DUETD_PATH, "health", "--metrics", "127.0.0.1:" + std::to_string(closed_port)},
                                dir_.path());
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_EQ(LineCount(unreachable.err), 1) << unreachable.err;
  EXPECT_NE(unreachable.err.find("unhealthy: cannot reach"), std::string::npos) << unreachable.err;
}

// The backup docs/ops.md describes: SQLite's online backup while pushes run,
// then a restore in place of the live store.
class RelayBackupTest : public CoupleTest {
 protected:
  // Records in a relay store file, by a read-only connection.
  static int RecordsIn(const std::string& path) {
    auto r = RunProgram({"/usr/bin/sqlite3", "-readonly", path, "SELECT count(*) FROM records;"}, "/tmp");
    return r.exit_code == 0 ? std::stoi(r.out) : -1;
  }
};

TEST_F(RelayBackupTest, ABackupTakenWhilePushesRunRestoresAndServes) {
  Pair();
  Ok(Duet("b", {"sync"}));
  // Alice writes while the owner backs up; every check-in she was told
  // was sent before the backup began must be in it.
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::thread writer([&] {
    while (!stop) {
      auto r = Duet("a", {"--json", "checkin", "--mood", "4"});
      if (r.exit_code == 0 && nlohmann::json::parse(r.out).value("sync", "") == "synced") ++acknowledged;
    }
  });
  while (acknowledged < 5) std::this_thread::yield();
  const int before_backup = acknowledged;
  auto backup = RunProgram({"/usr/bin/sqlite3", dir_.File("relay.db"),
                            ".backup '" + dir_.File("backup.db") + "'"},
                           dir_.path());
  while (acknowledged < before_backup + 3) std::this_thread::yield();  // pushes ran on
  stop = true;
  writer.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  auto check = RunProgram({"/usr/bin/sqlite3", dir_.File("backup.db"), "PRAGMA integrity_check;"},
                          dir_.path());
  EXPECT_EQ(check.out, "ok\n");
  EXPECT_GE(RecordsIn(dir_.File("backup.db")), before_backup);
  EXPECT_LT(RecordsIn(dir_.File("backup.db")), RecordsIn(dir_.File("relay.db")))
      << "the pushes after the backup are not in it";

  // Restore: stop, put the backup in place of the store, start.
  EXPECT_EQ(relay_->Stop(), 0);
  for (const char* f : {"relay.db-wal", "relay.db-shm"}) std::filesystem::remove(dir_.File(f));
  std::filesystem::copy_file(dir_.File("backup.db"), dir_.File("relay.db"),
                             std::filesystem::copy_options::overwrite_existing);
  relay_->Start();
  // Bob, who had seen nothing since pairing, gets everything the backup holds.
  auto bob = Duet("b", {"sync"});
  ASSERT_EQ(bob.exit_code, 0) << bob.err;
  const auto bob_sees = Checkins("b").size();
  EXPECT_GE(bob_sees, static_cast<std::size_t>(before_backup));
  EXPECT_LT(bob_sees, static_cast<std::size_t>(acknowledged.load()));
  // Alice saw the relay hand out numbers past the backup: her device says
  // the relay went back, keeps everything, and sends nothing into the gap.
  auto alice = Duet("a", {"sync"});
  EXPECT_NE((alice.out + alice.err).find("rolled back or replaced"), std::string::npos)
      << alice.out << alice.err;
  EXPECT_GE(Checkins("a").size(), static_cast<std::size_t>(acknowledged.load()));
}

}  // namespace
}  // namespace duet::testing
