// duetd: the duet relay. Stores and forwards sealed records; reads none.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "crypto/crypto.h"
#include "daemon/config.h"
#include "daemon/metrics_server.h"
#include "daemon/relay.h"
#include "daemon/relay_key.h"
#include "daemon/relay_token.h"
#include "net/net.h"
#include "proto/protobuf_log.h"
#include "storage/relay_store.h"

namespace {

using duet::daemon::ConfigError;
using duet::daemon::RelayConfig;
using duet::daemon::Settings;

constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

// Everything the command line said about settings: the file and each flag.
struct SettingSources {
  std::string config_path;
  std::vector<std::string> flag_values;  // one per Settings() entry
  std::vector<CLI::Option*> flags;
};

// Defaults, then the file, then the flags; every problem is collected.
std::vector<ConfigError> LoadSettings(const SettingSources& sources, RelayConfig& config,
                                      bool require_db = true) {
  std::vector<ConfigError> errors;
  std::vector<std::string> given;
  if (!sources.config_path.empty()) {
    std::ifstream file(sources.config_path, std::ios::binary);
    std::error_code ec;
    const auto size = std::filesystem::file_size(sources.config_path, ec);
    if (!file || ec) {
      errors.push_back({"cannot read the config file " + sources.config_path + ": " +
                        (ec ? ec.message() : "it cannot be opened")});
      return errors;
    }
    if (size > kMaxConfigBytes) {
      errors.push_back({sources.config_path + ": larger than 1 MiB; is it a config file?"});
      return errors;
    }
    std::stringstream text;
    text << file.rdbuf();
    errors = duet::daemon::ApplyConfigText(text.str(), sources.config_path, config, &given);
  }
  for (std::size_t i = 0; i < Settings().size(); ++i) {
    if (sources.flags[i]->count() == 0) continue;
    const auto& setting = Settings()[i];
    given.emplace_back(setting.key);
    std::string problem = duet::daemon::ApplySettingText(setting, sources.flag_values[i], config);
    if (!problem.empty()) errors.push_back({std::string(setting.flag) + ": " + problem});
  }
  auto finished = duet::daemon::FinishConfig(config, given, require_db);
  errors.insert(errors.end(), finished.begin(), finished.end());
  return errors;
}

duet::daemon::ReloadableSettings LogSettings(const RelayConfig& config) {
  return {*duet::daemon::ParseLogLevel(config.log_level),
          config.log_format == "json" ? duet::daemon::LogFormat::kJson : duet::daemon::LogFormat::kText};
}

std::string FirstOf(const std::vector<ConfigError>& errors, const SettingSources& sources) {
  std::string line = errors.front().message;
  if (errors.size() > 1)
    line += " (and " + std::to_string(errors.size() - 1) + " more; `duetd --check-config" +
            (sources.config_path.empty() ? "" : " --config " + sources.config_path) +
            "` lists them)";
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  // `systemctl reload` may come while the settings load: until the relay
  // listens for it, a SIGHUP must not end the process (its default).
  std::signal(SIGHUP, SIG_IGN);
  duet::proto::RouteProtobufLog("duetd");
  CLI::App app{"duetd: the duet relay. It stores and forwards sealed records and can read none.", "duetd"};
  app.set_help_all_flag("--help-all", "show help for every subcommand");
  app.fallthrough();  // `duetd token create --db F` takes --db after the subcommand
  app.set_version_flag("--version", "duetd " DUET_VERSION " (protocol 1)");
  SettingSources sources;
  const RelayConfig defaults;
  sources.flag_values.resize(Settings().size());
  app.add_option("--config", sources.config_path,
                 "TOML file of settings (duetd(8) lists every key); flags win over it");
  bool check_config = false;
  app.add_flag("--check-config", check_config,
               "check the settings (file and flags), print each problem with its line, and exit");
  bool print_config = false;
  app.add_flag("--print-config", print_config,
               "print a complete config file holding the settings given, and exit");
  for (std::size_t i = 0; i < Settings().size(); ++i) {
    const auto& setting = Settings()[i];
    auto* option = app.add_option(std::string(setting.flag), sources.flag_values[i],
                                  std::string(setting.help) + " [" + std::string(setting.key) + "]");
    const std::string value = setting.get(defaults);
    if (!value.empty()) option->default_str(value);
    if (setting.kind == duet::daemon::Setting::Kind::kNumber) {
      option->type_name("N");
    } else if (setting.kind == duet::daemon::Setting::Kind::kChoice) {
      std::string choices;
      for (auto choice : setting.choices) choices += (choices.empty() ? "" : "|") + std::string(choice);
      option->type_name(choices);
    } else {
      option->type_name(setting.key == "listen" || setting.key == "metrics" ? "HOST:PORT" : "PATH");
    }
    sources.flags.push_back(option);
  }
  auto* token = app.add_subcommand("token", "one-time tokens for an invite-only relay");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand(
      "create", "print a new token; a couple passes it to `duet init --relay-token`");
  auto* key = app.add_subcommand("key", "the relay's key: show it, or move to a new one without re-pairing");
  key->require_subcommand(1);
  auto* key_show = key->add_subcommand("show", "print the relay key, and the next one while a rotation is under way");
  auto* key_rotate = key->add_subcommand(
      "rotate", "make the next key; the relay announces it from its next start, and clients learn it as they sync");
  auto* key_promote = key->add_subcommand(
      "promote", "switch to the next key (the old one is kept as KEY.old); restart the relay after");
  auto* store = app.add_subcommand("store", "the relay's store: move it between an SQLite file and PostgreSQL");
  store->require_subcommand(1);
  auto* store_copy = store->add_subcommand(
      "copy", "copy every couple's records, devices, invites and tokens into an empty store (stop the relay first); "
              "the couples keep their pairing if the relays that serve it use the same key file");
  std::string copy_from;
  std::string copy_to;
  store_copy->add_option("--from", copy_from, "the store to copy: sqlite:PATH or postgresql://...")->required();
  store_copy->add_option("--to", copy_to, "an empty store: sqlite:PATH (created) or postgresql://...")->required();
  auto* health = app.add_subcommand(
      "health", "ask the running relay's /healthz (at its metrics address); exit 0 when its store takes writes");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "duetd: %s; `duetd --help` lists the options\n", e.what());
    return 2;
  }

  RelayConfig config;
  // A health check asks a running relay, and a copy names both its stores:
  // neither needs a database of its own.
  const auto errors = LoadSettings(sources, config, /*require_db=*/!health->parsed() && !store_copy->parsed());
  if (check_config) {
    for (const auto& error : errors) std::fprintf(stderr, "duetd: %s\n", error.message.c_str());
    if (!errors.empty()) return 2;
    std::printf("%s: ok\n", sources.config_path.empty() ? "settings" : sources.config_path.c_str());
    if (!config.store.empty()) {
      // Only asked, never changed: the schema is made or migrated at start.
      auto store = duet::storage::DescribePostgresStore(config.store);
      if (!store.ok()) {
        std::fprintf(stderr, "duetd: store: %s\n", store.error().message.c_str());
        return 2;
      }
      std::printf("store: %s\n", store.value().c_str());
    }
    return 0;
  }
  if (print_config) {
    // Problems are reported, but a file is still printed for the others.
    for (const auto& error : errors) std::fprintf(stderr, "duetd: %s\n", error.message.c_str());
    std::fputs(duet::daemon::ConfigFileText(config).c_str(), stdout);
    return errors.empty() ? 0 : 2;
  }
  if (!errors.empty()) {
    std::fprintf(stderr, "duetd: %s\n", FirstOf(errors, sources).c_str());
    return 2;
  }

  if (health->parsed()) {
    if (config.metrics.empty()) {
      std::fprintf(stderr, "duetd: health needs the metrics address: give --metrics HOST:PORT or --config FILE\n");
      return 2;
    }
    auto where = duet::net::ParseEndpoint(config.metrics, /*allow_port_zero=*/true).value();
    if (where.port == 0) {
      std::fprintf(stderr, "duetd: health needs the metrics port the relay serves; %s has port 0\n",
                   config.metrics.c_str());
      return 2;
    }
    auto answer = duet::daemon::ProbeHealth(where, std::chrono::seconds(5));
    if (!answer.ok()) {
      std::fprintf(stderr, "duetd: unhealthy: %s\n", answer.error().message.c_str());
      return 1;
    }
    std::printf("healthy\n");
    return 0;
  }

  if (key->parsed()) {
    duet::Result<std::string> done = std::string();
    if (key_show->parsed()) {
      auto current = duet::daemon::LoadRelayKey(config.key);
      auto next = duet::daemon::LoadRelayKey(duet::daemon::NextKeyPath(config.key));
      if (!current.ok() || !next.ok()) {
        std::fprintf(stderr, "duetd: %s\n", (!current.ok() ? current : next).error().message.c_str());
        return 2;
      }
      if (!current.value()) {
        std::fprintf(stderr, "duetd: there is no relay key at %s yet: start the relay once first\n",
                     config.key.c_str());
        return 2;
      }
      std::printf("relay-key %s\n", duet::crypto::Base64UrlEncode(current.value()->public_key).c_str());
      if (next.value())
        std::printf("next-key %s\n", duet::crypto::Base64UrlEncode(next.value()->public_key).c_str());
      return 0;
    }
    if (key_rotate->parsed()) done = duet::daemon::StartRelayKeyRotation(config.key);
    if (key_promote->parsed()) done = duet::daemon::PromoteNextRelayKey(config.key);
    if (!done.ok()) {
      std::fprintf(stderr, "duetd: %s\n", done.error().message.c_str());
      return 2;
    }
    if (key_rotate->parsed())
      std::printf("next-key %s\nrestart the relay: it announces this key to every client that syncs; "
                  "once they have, `duetd key promote`\n",
                  duet::crypto::Base64UrlEncode(done.value()).c_str());
    else
      std::printf("relay-key %s\nrestart the relay to use it; the old key is kept as %s.old\n",
                  duet::crypto::Base64UrlEncode(done.value()).c_str(), config.key.c_str());
    return 0;
  }

  if (store_copy->parsed()) {
    auto copied = duet::daemon::CopyStore(copy_from, copy_to);
    if (!copied.ok()) {
      std::fprintf(stderr, "duetd: %s\n", copied.error().message.c_str());
      return 2;
    }
    std::printf("%s\n", copied.value().c_str());
    return 0;
  }

  if (token_create->parsed()) {
    auto made = duet::daemon::CreateRelayToken(config.db, config.store, static_cast<std::int64_t>(std::time(nullptr)));
    if (!made.ok()) {
      std::fprintf(stderr, "duetd: %s\n", made.error().message.c_str());
      return 2;
    }
    std::printf("%s\n", made.value().c_str());
    return 0;
  }

  duet::daemon::RelayOptions options;
  options.listen = duet::net::ParseEndpoint(config.listen, /*allow_port_zero=*/true).value();
  if (!config.metrics.empty())
    options.metrics = duet::net::ParseEndpoint(config.metrics, /*allow_port_zero=*/true).value();
  options.db_path = config.db;
  options.postgres = config.store;  // a PostgreSQL URL, or empty (FinishConfig)
  options.store_connections = static_cast<int>(config.store_connections);
  options.key_path = config.key;
  options.synchronous_full = config.sync == "full";
  options.admission = config.mode == "open" ? duet::daemon::Admission::kOpen
                                            : duet::daemon::Admission::kInviteOnly;
  options.limits = config.limits;
  options.log = LogSettings(config);
  if (!sources.config_path.empty()) {
    options.reload = [sources]() -> duet::Result<duet::daemon::ReloadableSettings> {
      RelayConfig fresh;
      const auto problems = LoadSettings(sources, fresh);
      if (!problems.empty())
        return duet::MakeError(duet::ErrorKind::kInvalidInput, FirstOf(problems, sources));
      return LogSettings(fresh);
    };
  }
  auto relay = duet::daemon::Relay::Create(options);
  if (!relay.ok()) {
    std::fprintf(stderr, "duetd: %s\n", relay.error().message.c_str());
    return 2;
  }
  std::printf("duetd listening on %s relay-key %s\n",
              relay.value()->listening().ToString().c_str(),
              duet::crypto::Base64UrlEncode(relay.value()->public_key()).c_str());
  if (auto metrics = relay.value()->metrics_listening())
    std::printf("duetd metrics on http://%s/metrics\n", metrics->ToString().c_str());
  std::fflush(stdout);
  if (duet::crypto::MemoryLockFailed())
    std::fprintf(stderr, "duetd: warning: the relay key's memory could not be locked (see ulimit -l)\n");
  relay.value()->Run();
  std::fprintf(stderr, "duetd: stopped\n");
  return 0;
}
