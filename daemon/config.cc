#include "daemon/config.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <toml++/toml.h>

#include "net/net.h"
#include "proto/protobuf_log.h"

namespace duet::daemon {
namespace {

using Kind = Setting::Kind;

Setting Text(std::string_view key, std::string_view flag, std::string_view help,
             std::string RelayConfig::*field) {
  Setting s;
  s.key = key;
  s.flag = flag;
  s.help = help;
  s.get = [field](const RelayConfig& c) { return c.*field; };
  s.set_text = [field](RelayConfig& c, const std::string& v) { c.*field = v; };
  return s;
}

Setting Choice(std::string_view key, std::string_view flag, std::string_view help,
               std::vector<std::string_view> choices, std::string RelayConfig::*field) {
  Setting s = Text(key, flag, help, field);
  s.kind = Kind::kChoice;
  s.choices = std::move(choices);
  return s;
}

// What every number setting has: where it is written, and its range.
Setting NumberSetting(std::string_view key, std::string_view flag, std::string_view help, std::int64_t min,
                      std::int64_t max) {
  Setting s;
  s.key = key;
  s.flag = flag;
  s.help = help;
  s.kind = Kind::kNumber;
  s.min = min;
  s.max = max;
  return s;
}

// A number setting kept in RelayLimits as `T` (an integer type or a
// duration), written and read in `unit`s of it.
template <typename T>
Setting Number(std::string_view key, std::string_view flag, std::string_view help,
               std::int64_t min, std::int64_t max, T RelayLimits::*field, std::int64_t unit = 1) {
  Setting s = NumberSetting(key, flag, help, min, max);
  s.get = [field, unit](const RelayConfig& c) {
    if constexpr (std::is_arithmetic_v<T>) {
      return std::to_string(static_cast<std::int64_t>(c.limits.*field) / unit);
    } else {
      return std::to_string(static_cast<std::int64_t>((c.limits.*field).count()) / unit);
    }
  };
  s.set_number = [field, unit](RelayConfig& c, std::int64_t v) {
    if constexpr (std::is_arithmetic_v<T>) {
      c.limits.*field = static_cast<T>(v * unit);
    } else {
      c.limits.*field = T(v * unit);
    }
  };
  return s;
}

// A number setting of the relay itself, not one of its limits.
Setting Count(std::string_view key, std::string_view flag, std::string_view help, std::int64_t min,
              std::int64_t max, std::int64_t RelayConfig::*field) {
  Setting s = NumberSetting(key, flag, help, min, max);
  s.get = [field](const RelayConfig& c) { return std::to_string(c.*field); };
  s.set_number = [field](RelayConfig& c, std::int64_t v) { c.*field = v; };
  return s;
}

// A rate given per minute, kept as the interval between two tokens.
Setting PerMinute(std::string_view key, std::string_view flag, std::string_view help,
                  std::chrono::milliseconds RelayLimits::*field) {
  Setting s = NumberSetting(key, flag, help, 1, 60'000);
  s.get = [field](const RelayConfig& c) {
    return std::to_string(60'000 / std::max<std::int64_t>(1, (c.limits.*field).count()));
  };
  s.set_number = [field](RelayConfig& c, std::int64_t per_minute) {
    c.limits.*field = std::chrono::milliseconds(60'000 / per_minute);
  };
  return s;
}

constexpr std::int64_t kMiB = 1 << 20;

std::vector<Setting> MakeSettings() {
  using L = RelayLimits;
  return {
      Text("listen", "--listen",
           "address to listen on, HOST:PORT; a name such as localhost is looked up, port 0 picks a free one",
           &RelayConfig::listen),
      Text("db", "--db", "SQLite file holding the couples' sealed records; its folder is created 0700",
           &RelayConfig::db),
      Text("store", "--store",
           "where the records live instead: sqlite:PATH (as --db) or a PostgreSQL URL, postgresql://USER@HOST/DB "
           "(several relays may share one; libpq's multi-host form works; needs --key)",
           &RelayConfig::store),
      Count("store_connections", "--store-connections",
            "connections to a PostgreSQL store, each committing its own batches of writes (an SQLite file "
            "takes one writer: 1)",
            1, 64, &RelayConfig::store_connections),
      Text("key", "--key", "relay key file, created 0600 when missing (default: the db path + .key)",
           &RelayConfig::key),
      Choice("sync", "--sync",
             "full: an acknowledged record survives power loss; normal: faster, may lose the last "
             "commits on power loss",
             {"full", "normal"}, &RelayConfig::sync),
      Choice("mode", "--mode",
             "open: any device may open a couple's mailbox; invite-only: a new couple needs a "
             "token from `duetd token create`",
             {"open", "invite-only"}, &RelayConfig::mode),
      Text("metrics", "--metrics",
           "HOST:PORT serving Prometheus /metrics and /healthz over HTTP (default: off)",
           &RelayConfig::metrics),
      Choice("log.level", "--log-level", "least important events logged", {"error", "warning", "info", "debug"},
             &RelayConfig::log_level),
      Choice("log.format", "--log-format", "one line per event on stderr: text, or a JSON object",
             {"text", "json"}, &RelayConfig::log_format),
      Number("connections.max", "--max-connections", "connections held at once", 8, 1'000'000,
             &L::max_connections),
      Number("connections.max_unpaired", "--max-unpaired-connections",
             "of those, connections of no couple yet (oldest shed first; default: 256, at most a quarter of connections.max)",
             1, 1'000'000, &L::max_stranger_connections),
      Number("connections.per_address", "--max-connections-per-address",
             "connections from one IP address", 1, 1'000'000, &L::max_connections_per_address),
      Number("connections.unauthenticated_per_address", "--max-unauthenticated-per-address",
             "of those, connections still in the handshake", 1, 1'000'000,
             &L::max_unauthenticated_per_address),
      Number("connections.per_couple", "--max-connections-per-couple",
             "connections of one couple's devices (past it their oldest is closed)", 2, 1000,
             &L::max_connections_per_couple),
      Number("timeouts.handshake_seconds", "--handshake-timeout",
             "seconds a new connection has to finish the handshake and authenticate", 1, 600,
             &L::handshake_timeout),
      Number("timeouts.frame_seconds", "--frame-timeout",
             "seconds a frame may take from its first byte to its last", 1, 600, &L::frame_timeout),
      Number("timeouts.idle_seconds", "--idle-timeout",
             "seconds an authenticated connection may stay silent (clients ping)", 1, 86400,
             &L::idle_timeout),
      Number("memory.unpaired_frame_bytes", "--max-unpaired-frame-bytes",
             "largest frame from a device of no couple yet (paired: 1 MiB, the protocol's limit)",
             512, 1 << 20, &L::max_stranger_frame_bytes),
      Number("memory.receive_budget_mib", "--receive-budget-mib",
             "MiB all receive buffers together may hold (past it the newest unpaired connection is shed)",
             1, 65536, &L::receive_budget_bytes, kMiB),
      Number("couple.max_records", "--couple-max-records", "records one couple may store", 1,
             100'000'000, &L::max_records_per_couple),
      Number("couple.max_mib", "--couple-max-mib", "MiB of records one couple may store", 1,
             1'000'000, &L::max_bytes_per_couple, kMiB),
      Number("couple.unpaired_kept_days", "--unpaired-kept-days",
             "days an ended couple's records wait for the partner who was not there to be told", 1, 3650,
             &L::unpaired_kept, 86400),
      Number("couple.push_burst", "--couple-push-burst",
             "records a couple may push at once before pacing starts", 1, 1'000'000,
             &L::push_burst_records),
      PerMinute("couple.push_per_minute", "--couple-push-per-minute",
                "records a minute a couple may push once its burst is spent",
                &L::push_record_interval),
      Number("invites.per_device", "--invites-per-device", "open invites one device may hold", 1,
             1000, &L::max_open_invites_per_device),
      Number("invites.per_address", "--invites-per-address",
             "pending invites created from one IP address", 1, 1'000'000,
             &L::max_pending_invites_per_address),
      Number("invites.max_pending", "--max-pending-invites", "pending invites on the whole relay",
             1, 100'000'000, &L::max_pending_invites),
      Number("invites.lookups_burst", "--invite-lookups-burst",
             "invite lookups one IP address may make at once", 1, 10'000, &L::invite_lookup_burst),
      PerMinute("invites.lookups_per_minute", "--invite-lookups-per-minute",
                "invite lookups a minute from one IP address once its burst is spent",
                &L::invite_lookup_interval),
      Number("invites.expired_kept_hours", "--expired-invites-kept-hours",
             "hours an expired invite is kept, so a late join hears \"expired\"", 1, 24 * 365,
             &L::expired_invite_kept, 3600),
  };
}

const Setting* FindSetting(std::string_view key) {
  for (const Setting& s : Settings())
    if (s.key == key) return &s;
  return nullptr;
}

std::string Joined(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

std::string CheckText(const Setting& setting, const std::string& text) {
  if (setting.kind == Kind::kChoice &&
      std::find(setting.choices.begin(), setting.choices.end(), text) == setting.choices.end())
    return "must be " + Joined(setting.choices) + ", not '" + proto::EscapeForLog(text, 64) + "'";
  if (text.find_first_of(std::string("\0\n\r", 3)) != std::string::npos)
    return "must be one line";
  return {};
}

std::string CheckNumber(const Setting& setting, std::int64_t value) {
  if (value < setting.min || value > setting.max)
    return "must be a whole number from " + std::to_string(setting.min) + " to " +
           std::to_string(setting.max) + ", not " + std::to_string(value);
  return {};
}

std::string Where(const std::string& file_name, const toml::source_region& at) {
  return file_name + ":" + std::to_string(at.begin.line);
}

// A TOML basic string: "..." with \\, \" and control characters escaped.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = MakeSettings();
  return settings;
}

std::string ApplySettingText(const Setting& setting, const std::string& text, RelayConfig& config) {
  if (setting.kind != Kind::kNumber) {
    std::string problem = CheckText(setting, text);
    if (problem.empty()) setting.set_text(config, text);
    return problem;
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return "must be a whole number from " + std::to_string(setting.min) + " to " +
           std::to_string(setting.max) + ", not '" + proto::EscapeForLog(text, 64) + "'";
  std::string problem = CheckNumber(setting, value);
  if (problem.empty()) setting.set_number(config, value);
  return problem;
}

std::vector<ConfigError> ApplyConfigText(std::string_view text, const std::string& file_name,
                                         RelayConfig& config, std::vector<std::string>* keys_set) {
  std::vector<ConfigError> errors;
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    errors.push_back({Where(file_name, e.source()) + ": not valid TOML: " +
                          std::string(e.description()),
                      e.source().begin.line});
    return errors;
  }
  auto apply = [&](const std::string& key, const toml::node& value) {
    const std::string at = Where(file_name, value.source()) + ": " + proto::EscapeForLog(key, 64) + ": ";
    const Setting* setting = FindSetting(key);
    if (setting == nullptr) {
      errors.push_back({at + "unknown key; `duetd --help` lists the settings", value.source().begin.line});
      return;
    }
    std::string problem;
    if (setting->kind == Kind::kNumber) {
      if (const auto* number = value.as_integer()) {
        problem = CheckNumber(*setting, number->get());
        if (problem.empty()) setting->set_number(config, number->get());
        if (problem.empty() && keys_set != nullptr) keys_set->push_back(key);
      } else {
        problem = "must be a whole number (no quotes) from " + std::to_string(setting->min) +
                  " to " + std::to_string(setting->max);
      }
    } else if (const auto* string = value.as_string()) {
      problem = CheckText(*setting, string->get());
      if (problem.empty()) setting->set_text(config, string->get());
      if (problem.empty() && keys_set != nullptr) keys_set->push_back(key);
    } else {
      problem = "must be a quoted string";
    }
    if (!problem.empty()) errors.push_back({at + problem, value.source().begin.line});
  };
  // toml++ walks a table in key order; a reader wants the file's order.
  auto by_line = [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; };
  for (const auto& [name, node] : root) {
    const std::string section(name.str());
    if (const auto* table = node.as_table()) {
      for (const auto& [inner, value] : *table) {
        const std::string key = section + "." + std::string(inner.str());
        if (value.is_table())
          errors.push_back({Where(file_name, value.source()) + ": " + proto::EscapeForLog(key, 64) + ": unknown section",
                            value.source().begin.line});
        else
          apply(key, value);
      }
    } else {
      apply(section, node);
    }
  }
  std::stable_sort(errors.begin(), errors.end(), by_line);
  return errors;
}

Result<StoreLocation> ParseStoreLocation(const std::string& text) {
  if (text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0) return StoreLocation{{}, text};
  if (text.rfind("sqlite:", 0) == 0 && text.size() > 7) return StoreLocation{text.substr(7), {}};
  // Only its scheme is repeated: the rest of a URL may hold a password.
  const std::size_t colon = text.find(':');
  const std::string shown = colon == std::string::npos ? text : text.substr(0, colon + 1) + "...";
  return MakeError(ErrorKind::kInvalidInput,
                   "'" + shown + "' is neither sqlite:PATH nor a PostgreSQL URL (postgresql://USER@HOST/DB)");
}

std::vector<ConfigError> FinishConfig(RelayConfig& config,
                                      const std::vector<std::string>& explicitly_set, bool require_db) {
  std::vector<ConfigError> errors;
  auto given = [&](std::string_view key) {
    return std::find(explicitly_set.begin(), explicitly_set.end(), key) != explicitly_set.end();
  };
  if (!config.store.empty()) {
    auto location = ParseStoreLocation(config.store);
    if (!config.db.empty())
      errors.push_back({"store: give the store (--store) or the database file (--db), not both"});
    else if (!location.ok())
      errors.push_back({"store: " + location.error().message});
    else if (!location.value().db_path.empty()) {
      config.db = location.value().db_path;  // the same as --db from here on
      config.store.clear();
    } else if (config.key.empty())
      errors.push_back({"key: a relay on PostgreSQL needs --key PATH: every relay sharing the database serves "
                        "with the same key file"});
  } else if (config.db.empty() && require_db) {
    errors.push_back({"db: no database path; give --db PATH or db = \"PATH\" in the config file (or --store URL)"});
  }
  if (config.store.empty()) {  // an SQLite file, which takes one writer
    if (given("store_connections") && config.store_connections > 1)
      errors.push_back({"store_connections: an SQLite store takes one writer; more than 1 needs a PostgreSQL "
                        "store (--store postgresql://...)"});
    config.store_connections = 1;
  }
  if (config.key.empty() && !config.db.empty()) config.key = config.db + ".key";
  if (auto listen = net::ParseEndpoint(config.listen, /*allow_port_zero=*/true); !listen.ok())
    errors.push_back({"listen: " + listen.error().message});
  if (!config.metrics.empty())
    if (auto metrics = net::ParseEndpoint(config.metrics, /*allow_port_zero=*/true); !metrics.ok())
      errors.push_back({"metrics: " + metrics.error().message});
  RelayLimits& limits = config.limits;
  if (!given("connections.max_unpaired"))
    limits.max_stranger_connections =
        std::min(limits.max_stranger_connections, std::max<std::size_t>(1, limits.max_connections / 4));
  else if (limits.max_stranger_connections > limits.max_connections)
    errors.push_back({"connections.max_unpaired: " + std::to_string(limits.max_stranger_connections) +
                      " is more than connections.max (" + std::to_string(limits.max_connections) + ")"});
  return errors;
}

std::string ConfigFileText(const RelayConfig& config) {
  std::string out =
      "# duetd's settings (duetd(8)). Flags given on the command line win over this file.\n"
      "# Check a change before a restart: duetd --check-config --config FILE\n";
  // A value FinishConfig would derive anyway is shown commented out, so it
  // keeps following what it derives from (the key beside a --db given
  // later, the unpaired pool within a smaller connections.max).
  RelayConfig derived = config;
  derived.key.clear();
  derived.limits.max_stranger_connections = RelayLimits{}.max_stranger_connections;
  FinishConfig(derived, {}, /*require_db=*/false);
  std::string section;
  for (const Setting& s : Settings()) {
    const auto dot = s.key.find('.');
    const std::string here = dot == std::string_view::npos ? "" : std::string(s.key.substr(0, dot));
    const std::string name(dot == std::string_view::npos ? s.key : s.key.substr(dot + 1));
    if (here != section) {
      out += "\n[" + here + "]\n";
      section = here;
    }
    out += "# " + std::string(s.help) + "\n";
    const std::string value = s.get(config);
    const bool is_derived = (s.key == "key" || s.key == "connections.max_unpaired") &&
                            value == s.get(derived);
    const std::string written = s.kind == Kind::kNumber ? value : Quoted(value);
    if (value.empty() || is_derived) {
      out += "# " + name + " = " + written + "\n";
    } else {
      out += name + " = " + written + "\n";
    }
  }
  return out;
}

}  // namespace duet::daemon
