// The duet command line: one file per command (like wg's src/), each adding
// its subcommand to CLI11 and setting Cli::run when chosen. Commands print
// data to stdout (human text, or JSON with --json) and problems to stderr as
// one line "duet: what is wrong; what to do". Exit codes: 0 done, 1 a
// verification said no, 2 could not run (bad input, no relay, no home).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/result.h"
#include "client/device.h"
#include "client/sync.h"

namespace duet::client::cli {

struct Cli {
  std::string home;
  bool json = false;
  std::function<int()> run;
};

using CommandSetup = void (*)(CLI::App& root, Cli& cli);

void SetupInit(CLI::App& root, Cli& cli);
void SetupInvite(CLI::App& root, Cli& cli);
void SetupJoin(CLI::App& root, Cli& cli);
void SetupPartner(CLI::App& root, Cli& cli);
void SetupCheckin(CLI::App& root, Cli& cli);
void SetupCheckins(CLI::App& root, Cli& cli);
void SetupSync(CLI::App& root, Cli& cli);
void SetupLock(CLI::App& root, Cli& cli);
void SetupStatus(CLI::App& root, Cli& cli);
void SetupRekey(CLI::App& root, Cli& cli);

// Prints "duet: <message>" to stderr and returns the exit code for it.
int Fail(const Error& error);
int ExitCodeFor(const Error& error);
void Warn(const std::string& message);
void PrintJson(const nlohmann::json& value);

Result<std::unique_ptr<Device>> OpenDevice(const Cli& cli);

// The passphrase from DUET_PASSPHRASE, or asked on the terminal without echo
// (twice when `confirm`); nullopt when neither is possible.
std::optional<std::string> ReadPassphrase(bool confirm);
// A new passphrase for init --passphrase or lock, or the error to print.
Result<std::string> NewPassphrase();

// After a change: tries to sync at once, and says in one line what happened.
// Returns the exit code (0 when the change is safely queued).
int SyncAfterChange(Device& device);

std::string FormatLocalTime(std::int64_t unix_ms);
// What a partner wrote, made safe for a terminal: control characters (which
// could move the cursor or rewrite the screen) become '?'.
std::string ForTerminal(std::string_view text);
// "30m", "2h", "1d" (or plain seconds) to seconds; nullopt when malformed.
std::optional<std::int64_t> ParseDuration(const std::string& text);

}  // namespace duet::client::cli
