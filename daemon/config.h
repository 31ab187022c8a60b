// duetd's settings: every option the relay has, in one table that serves the
// config file (TOML, `--config`), the command-line flags, `--check-config`,
// the example file and the man page, so none can drift from the others.
//
// Precedence: built-in defaults, then the file, then flags (flags win). The
// parser does no I/O: it takes the file's text and names the file only in
// its errors, each of which gives the line and the key ("duetd.toml:7:
// connections.per_address: ..."). Unknown keys and sections are errors, so a
// typo never silently leaves a default in force. Any thread; no state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "daemon/limits.h"

namespace duet::daemon {

struct RelayConfig {
  std::string listen = "127.0.0.1:7707";
  std::string db;                // this or `store`
  // Where the records live: "sqlite:PATH" (as `db`) or a PostgreSQL URL
  // ("postgresql://..."); empty: the SQLite file `db`.
  std::string store;
  std::int64_t store_connections = 4;  // PostgreSQL only: an SQLite file takes one writer
  std::string key;               // empty: the db path + ".key"
  std::string sync = "full";     // full | normal
  std::string mode = "open";     // open | invite-only
  std::string metrics;           // HOST:PORT for /metrics and /healthz; empty: off
  std::string log_level = "info";   // error | warning | info | debug
  std::string log_format = "text";  // text | json
  RelayLimits limits;
};

// Where a store is, as `store` and `duetd store copy` name it:
// "sqlite:PATH" (db_path) or "postgresql://..." / "postgres://..." (postgres).
struct StoreLocation {
  std::string db_path;
  std::string postgres;
};
Result<StoreLocation> ParseStoreLocation(const std::string& text);

struct Setting {
  enum class Kind { kText, kChoice, kNumber };
  std::string_view key;   // in the file: "connections.per_address" is [connections] per_address
  std::string_view flag;  // "--max-connections-per-address"
  std::string_view help;  // one line; also the example file's comment and the man page's
  Kind kind = Kind::kText;
  std::vector<std::string_view> choices;  // kChoice
  std::int64_t min = 0;                   // kNumber, inclusive
  std::int64_t max = 0;
  std::function<std::string(const RelayConfig&)> get;  // the value, as it would be written
  std::function<void(RelayConfig&, const std::string&)> set_text;  // kText, kChoice
  std::function<void(RelayConfig&, std::int64_t)> set_number;      // kNumber
};

// Every setting, in the order the example file lists them.
const std::vector<Setting>& Settings();

// One problem with one setting: where it was and what is wrong, in a line.
struct ConfigError {
  std::string message;    // "FILE:LINE: KEY: what is wrong"
  std::uint32_t line = 0;  // in the file; 0 when not from a file
};

// Applies a config file's settings over `config`, adding the key of each to
// `keys_set` (when given). Returns every problem found (empty: all applied);
// on problems `config` may be partly updated, so callers refuse to start.
std::vector<ConfigError> ApplyConfigText(std::string_view text, const std::string& file_name,
                                         RelayConfig& config,
                                         std::vector<std::string>* keys_set = nullptr);

// Applies one value given as text (a flag's argument) to `setting`. Empty
// when applied, else what is wrong ("must be a whole number from 1 to 600").
std::string ApplySettingText(const Setting& setting, const std::string& text, RelayConfig& config);

// Settles what depends on other settings once everything is applied: the
// key file beside the database, the unpaired pool within the connection
// table. `explicitly_set` names the keys a file or flag gave. Returns the
// problems (a missing database path, unless not `require_db`; an address
// that does not parse).
std::vector<ConfigError> FinishConfig(RelayConfig& config,
                                      const std::vector<std::string>& explicitly_set,
                                      bool require_db = true);

// A complete, commented config file holding `config`'s values (the packaged
// /etc/duet/duetd.toml is this with the defaults).
std::string ConfigFileText(const RelayConfig& config);

}  // namespace duet::daemon
