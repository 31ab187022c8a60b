// duetd's settings: the TOML file, flags over it, and the errors a
// self-hoster sees (line and key, one line each).
#include "daemon/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace duet::daemon {
namespace {

const Setting& Named(std::string_view key) {
  for (const auto& s : Settings())
    if (s.key == key) return s;
  throw std::runtime_error("no setting " + std::string(key));
}

TEST(RelayConfig, AFileSetsTopLevelAndSectionedKeys) {
  RelayConfig config;
  std::vector<std::string> set;
  const auto errors = ApplyConfigText(R"(
listen = "0.0.0.0:7707"
db = "/var/lib/duet/relay.db"
mode = "invite-only"
[log]
format = "json"
[connections]
per_address = 12
[couple]
max_mib = 64
push_per_minute = 60
[timeouts]
frame_seconds = 45
[invites]
expired_kept_hours = 48
)",
                                      "duetd.toml", config, &set);
  ASSERT_TRUE(errors.empty()) << errors.front().message;
  EXPECT_EQ(config.listen, "0.0.0.0:7707");
  EXPECT_EQ(config.db, "/var/lib/duet/relay.db");
  EXPECT_EQ(config.mode, "invite-only");
  EXPECT_EQ(config.log_format, "json");
  EXPECT_EQ(config.limits.max_connections_per_address, 12u);
  EXPECT_EQ(config.limits.max_bytes_per_couple, 64u << 20);
  EXPECT_EQ(config.limits.push_record_interval, std::chrono::seconds(1));
  EXPECT_EQ(config.limits.frame_timeout, std::chrono::seconds(45));
  EXPECT_EQ(config.limits.expired_invite_kept, std::chrono::hours(48));
  EXPECT_EQ(set.size(), 9u);
}

TEST(RelayConfig, EachProblemNamesItsLineAndKey) {
  RelayConfig config;
  const auto errors = ApplyConfigText("mode = \"closed\"\n"
                                      "[connections]\n"
                                      "per_adress = 12\n"
                                      "max = \"1024\"\n"
                                      "per_couple = 0\n"
                                      "[colour]\n"
                                      "x = 1\n",
                                      "duetd.toml", config);
  std::vector<std::string> lines;
  for (const auto& e : errors) lines.push_back(e.message);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "duetd.toml:1: mode: must be open or invite-only, not 'closed'");
  EXPECT_EQ(lines[1], "duetd.toml:3: connections.per_adress: unknown key; `duetd --help` lists the settings");
  EXPECT_EQ(lines[2], "duetd.toml:4: connections.max: must be a whole number (no quotes) from 8 to 1000000");
  EXPECT_EQ(lines[3], "duetd.toml:5: connections.per_couple: must be a whole number from 2 to 1000, not 0");
  EXPECT_EQ(lines[4], "duetd.toml:7: colour.x: unknown key; `duetd --help` lists the settings");
  for (const auto& line : lines) EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(RelayConfig, TextThatIsNotTomlIsOneErrorWithItsLine) {
  RelayConfig config;
  const auto errors = ApplyConfigText("listen = \"a\"\n[connections\nmax = 5\n", "f.toml", config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message.rfind("f.toml:2: not valid TOML: ", 0), 0u) << errors[0].message;
}

TEST(RelayConfig, AFlagsTextIsCheckedLikeTheFilesValue) {
  RelayConfig config;
  EXPECT_EQ(ApplySettingText(Named("couple.max_mib"), "abc", config),
            "must be a whole number from 1 to 1000000, not 'abc'");
  EXPECT_EQ(ApplySettingText(Named("couple.max_mib"), "12x", config),
            "must be a whole number from 1 to 1000000, not '12x'");
  EXPECT_EQ(ApplySettingText(Named("log.level"), "loud", config),
            "must be error, warning, info or debug, not 'loud'");
  EXPECT_EQ(ApplySettingText(Named("couple.max_mib"), "16", config), "");
  EXPECT_EQ(config.limits.max_bytes_per_couple, 16u << 20);
}

TEST(RelayConfig, FinishingFillsTheKeyPathAndFitsTheUnpairedPool) {
  RelayConfig config;
  EXPECT_EQ(FinishConfig(config, {}).size(), 1u) << "no database";
  config.db = "/srv/relay.db";
  config.limits.max_connections = 100;
  EXPECT_TRUE(FinishConfig(config, {}).empty());
  EXPECT_EQ(config.key, "/srv/relay.db.key");
  EXPECT_EQ(config.limits.max_stranger_connections, 25u) << "a quarter of the table when not set";

  RelayConfig explicit_pool;
  explicit_pool.db = "x.db";
  explicit_pool.limits.max_connections = 100;
  explicit_pool.limits.max_stranger_connections = 200;
  const auto errors = FinishConfig(explicit_pool, {"connections.max_unpaired"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "connections.max_unpaired: 200 is more than connections.max (100)");

  RelayConfig bad_listen;
  bad_listen.db = "x.db";
  bad_listen.listen = "[::1";
  ASSERT_EQ(FinishConfig(bad_listen, {}).size(), 1u);
  EXPECT_EQ(FinishConfig(bad_listen, {})[0].message.rfind("listen: ", 0), 0u);
}

TEST(RelayConfig, TheStoreIsAnSqliteFileOrAPostgresUrlWithAKeyAndNeverBothPlaces) {
  RelayConfig sqlite;
  sqlite.store = "sqlite:/var/lib/duet/relay.db";
  ASSERT_TRUE(FinishConfig(sqlite, {}).empty());
  EXPECT_EQ(sqlite.db, "/var/lib/duet/relay.db") << "the same as --db";
  EXPECT_EQ(sqlite.key, "/var/lib/duet/relay.db.key");
  EXPECT_TRUE(sqlite.store.empty());

  RelayConfig postgres;
  postgres.store = "postgresql://duet@db.example/duet";
  postgres.key = "/etc/duet/relay.key";
  EXPECT_TRUE(FinishConfig(postgres, {}).empty());
  EXPECT_TRUE(postgres.db.empty());

  auto only_error = [](RelayConfig config, const std::string& says) {
    const auto errors = FinishConfig(config, {});
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find(says), std::string::npos) << errors[0].message;
    EXPECT_EQ(errors[0].message.find("secret"), std::string::npos) << "a password is never repeated";
  };
  RelayConfig keyless;
  keyless.store = "postgresql://duet@db.example/duet";
  only_error(keyless, "needs --key PATH");
  RelayConfig both = postgres;
  both.db = "relay.db";
  only_error(both, "not both");
  RelayConfig unknown;
  unknown.store = "mysql://duet:secret@db.example/duet";
  only_error(unknown, "'mysql:...' is neither sqlite:PATH nor a PostgreSQL URL");
}

TEST(RelayConfig, SeveralStoreConnectionsNeedPostgres) {
  RelayConfig postgres;
  postgres.store = "postgresql://duet@db.example/duet";
  postgres.key = "/etc/duet/relay.key";
  postgres.store_connections = 8;
  EXPECT_TRUE(FinishConfig(postgres, {"store_connections"}).empty());

  RelayConfig sqlite;
  sqlite.db = "/srv/relay.db";
  EXPECT_TRUE(FinishConfig(sqlite, {}).empty()) << "the default is for PostgreSQL; an SQLite relay takes 1";
  EXPECT_EQ(sqlite.store_connections, 1);
  sqlite.store_connections = 2;
  const auto errors = FinishConfig(sqlite, {"store_connections"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message.rfind("store_connections: an SQLite store takes one writer", 0), 0u)
      << errors[0].message;
  sqlite.store_connections = 1;
  EXPECT_TRUE(FinishConfig(sqlite, {"store_connections"}).empty());
}

TEST(RelayConfig, TheExampleFileReadsBackToTheSameSettings) {
  RelayConfig config;
  config.db = "/var/lib/duet/relay.db";
  config.metrics = "127.0.0.1:9707";
  config.limits.max_records_per_couple = 1234;
  const std::string text = ConfigFileText(config);
  RelayConfig read;
  std::vector<std::string> set;
  const auto errors = ApplyConfigText(text, "example.toml", read, &set);
  ASSERT_TRUE(errors.empty()) << errors.front().message << "\n" << text;
  EXPECT_EQ(ConfigFileText(read), text);
  EXPECT_EQ(read.limits.max_records_per_couple, 1234u);
  // Every setting is in the file; the key path and the unpaired pool, which
  // follow other settings, are commented out so they keep following them,
  // and so is the store, which is the db file unless given.
  EXPECT_EQ(set.size(), Settings().size() - 3);
  EXPECT_NE(text.find("# max_unpaired = 256\n"), std::string::npos) << text;
}

TEST(RelayConfig, APrintedFileLetsTheKeyFollowTheDatabase) {
  RelayConfig config;
  config.db = "/var/lib/duet/relay.db";
  ASSERT_TRUE(FinishConfig(config, {}).empty());
  RelayConfig read;
  ASSERT_TRUE(ApplyConfigText(ConfigFileText(config), "f.toml", read).empty());
  read.db = "/srv/elsewhere.db";  // as a later --db would
  ASSERT_TRUE(FinishConfig(read, {}).empty());
  EXPECT_EQ(read.key, "/srv/elsewhere.db.key");
  read.limits.max_connections = 100;
  ASSERT_TRUE(FinishConfig(read, {}).empty()) << "a smaller table still fits the unpaired pool";
}

TEST(RelayConfig, EveryKeyAndFlagIsUniqueAndHelped) {
  std::set<std::string_view> keys, flags;
  for (const auto& s : Settings()) {
    EXPECT_TRUE(keys.insert(s.key).second) << s.key;
    EXPECT_TRUE(flags.insert(s.flag).second) << s.flag;
    EXPECT_EQ(s.flag.substr(0, 2), "--");
    EXPECT_FALSE(s.help.empty()) << s.key;
  }
}

TEST(RelayConfig, EveryKeyAndFlagIsInTheOperatorsGuide) {
  std::ifstream file(OPS_DOC_PATH);
  std::stringstream text;
  text << file.rdbuf();
  ASSERT_FALSE(text.str().empty());
  for (const auto& s : Settings()) {
    EXPECT_NE(text.str().find("| `" + std::string(s.key) + "` | `" + std::string(s.flag) + "` |"),
              std::string::npos)
        << s.key << " is missing from docs/ops.md's table of settings";
  }
}

}  // namespace
}  // namespace duet::daemon
