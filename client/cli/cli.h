// The duet command line: one file per command (like wg's src/), each adding
// its subcommand to CLI11 and setting Cli::run when chosen. Commands print
// data to stdout (human text, or JSON with --json) and problems to stderr as
// one line "duet: what is wrong; what to do". Exit codes: 0 done, 1 a
// verification said no, 2 could not run (bad input, no relay, no home).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/result.h"
#include "client/device.h"
#include "client/model/fold.h"
#include "client/sync.h"

namespace duet::client::cli {

struct Cli {
  std::string home;
  bool json = false;
  std::string time_zone;  // --tz: empty for TZ or the system's zone
  std::function<int()> run;
};

using CommandSetup = void (*)(CLI::App& root, Cli& cli);

void SetupInit(CLI::App& root, Cli& cli);
void SetupInvite(CLI::App& root, Cli& cli);
void SetupJoin(CLI::App& root, Cli& cli);
void SetupPartner(CLI::App& root, Cli& cli);
void SetupDevice(CLI::App& root, Cli& cli);
void SetupCheckin(CLI::App& root, Cli& cli);
void SetupCheckins(CLI::App& root, Cli& cli);
void SetupSync(CLI::App& root, Cli& cli);
void SetupLock(CLI::App& root, Cli& cli);
void SetupStatus(CLI::App& root, Cli& cli);
void SetupRekey(CLI::App& root, Cli& cli);
void SetupAvailability(CLI::App& root, Cli& cli);
void SetupTalk(CLI::App& root, Cli& cli);
void SetupWatch(CLI::App& root, Cli& cli);
void SetupBoundary(CLI::App& root, Cli& cli);
void SetupReady(CLI::App& root, Cli& cli);
void SetupThanks(CLI::App& root, Cli& cli);
void SetupPrompt(CLI::App& root, Cli& cli);
void SetupHistory(CLI::App& root, Cli& cli);
void SetupRelay(CLI::App& root, Cli& cli);
void SetupNews(CLI::App& root, Cli& cli);
void SetupWipe(CLI::App& root, Cli& cli);
void SetupDelete(CLI::App& root, Cli& cli);
void SetupUnpair(CLI::App& root, Cli& cli);
void SetupImport(CLI::App& root, Cli& cli);
void SetupOpen(CLI::App& root, Cli& cli);
void SetupShare(CLI::App& root, Cli& cli);
void SetupRecap(CLI::App& root, Cli& cli);
void SetupExport(CLI::App& root, Cli& cli);
void SetupHelp(CLI::App& root, Cli& cli);
void SetupCompletion(CLI::App& root, Cli& cli);
// The subcommand of `parent` nearest to a mistyped `typed` (a couple of
// letters off), or "" when none is near.
std::string NearestCommand(const CLI::App& parent, const std::string& typed);
// A CLI11 parse error of `command`, said in duet's words ("--mood: 'abc' is
// not a number from 1 to 5"; "unknown option --jsn (did you mean --json?)").
std::string InDuetVoice(const std::string& message, const CLI::App& command);
// `duet` with no command: the dashboard, as `duet status` shows it.
int RunDashboard(const Cli& cli);

// The zone times are typed and shown in: --tz, else TZ, else the system's.
// Every time a command shows goes through model::FormatLocalTime (or its
// day-and-time form) in this zone; nothing reads the C library's local time.
Result<const date::time_zone*> CliZone(const Cli& cli);
// A zone named in a partner's record; UTC, with a warning, when this
// machine's time-zone database does not know it.
const date::time_zone* RecordZone(const std::string& name);

// Every record this device holds, opened, and the state they fold into.
struct Loaded {
  std::vector<model::OpenedRecord> records;
  model::CoupleState state;
};
// `hold_back`: a partner's check-in for when this reader is ready stays
// blank until opened (`duet open`); only `duet export`, the person's own
// copy of everything, reads it whole.
Result<Loaded> LoadState(Device& device, bool hold_back = true);
// The partner's when-ready check-ins this reader opened, and opening one.
// Local only: the author is never told (no read receipts).
std::set<std::string> OpenedWhenReady(Device& device);
Status MarkOpenedWhenReady(Device& device, const std::string& record_id);

// What most commands start from: the zone times are read and shown in, the
// device, its state, and the time now.
struct Opened {
  std::unique_ptr<Device> device;
  Loaded loaded;
  const date::time_zone* zone = nullptr;
  std::int64_t now = 0;
};
// `paired_for`: when set, an unpaired device is an error saying what the
// pairing is needed for ("talks are planned with your partner").
Result<Opened> OpenState(const Cli& cli, const char* paired_for = nullptr);

// The id people see: the first 8 hex digits of a record id.
std::string ShortId(const std::string& record_id);
// The record id that `typed` (4 or more hex digits, any case) is the unique
// prefix of, among `ids`; the error says what is wrong and how to list them.
Result<std::string> ResolveId(const std::string& typed, const std::vector<std::string>& ids,
                              const std::string& what, const std::string& list_command);
// Unix seconds now (the one clock read of the CLI).
std::int64_t NowSeconds();
// One line for a record as it arrives ("Bob proposed talk 1a2b3c4d ..."),
// `who` naming its author, times shown in `zone`.
std::string DescribeRecord(const model::OpenedRecord& record, const model::CoupleState& state,
                           const std::string& who, const date::time_zone* zone);

// One line of news: a partner's record, described.
struct NewsItem {
  std::string kind;  // "checkin", "thanks", "talk_proposal", ...
  std::string who;
  std::int64_t when = 0;  // unix seconds, the author's clock
  std::string id;         // the record id, hex
  std::string text;       // one line, as the dashboard shows it
  bool unseen = false;    // not yet marked read
  bool keep_visible = false;  // thanks and shared prompts: never folded into a count
};
struct News {
  std::vector<NewsItem> items;  // newest first
  std::uint64_t seen_seq = 0;     // news up to this relay number was marked read
  std::uint64_t highest_seq = 0;  // the newest relay number this device holds
};
// Whether a partner's record is worth a line of news (or of `duet watch`):
// not keys, withdrawals, notices, deletions or passes.
bool Newsworthy(const model::OpenedRecord& record);
News CollectNews(Device& device, const Loaded& loaded, const date::time_zone* zone, bool only_unseen);
nlohmann::json NewsJson(const NewsItem& item);
// News is marked read when a person saw it: at a terminal, or when asked.
bool ShouldMarkRead(const Cli& cli, bool mark_read);
void MarkNewsRead(Device& device, const News& news);
// The partner's name made safe for a terminal, or "your partner".
std::string PartnerLabel(Device& device);

// Makes `sub` run `run(cli, *options)` when chosen: how every command with
// an options struct hooks into the table.
template <typename Options>
void Bind(CLI::App* sub, Cli& cli, std::shared_ptr<Options> options,
          int (*run)(const Cli&, const Options&)) {
  sub->callback([&cli, options, run] { cli.run = [&cli, options, run] { return run(cli, *options); }; });
}

// Prints "duet: <message>" to stderr and returns the exit code for it.
int Fail(const Error& error);
// The error for input a command cannot take (exit code 2).
Error Invalid(std::string message);
// Why a --relay-token is not one duetd printed, or empty when it could be.
std::string RelayTokenProblem(const std::string& token);
int ExitCodeFor(const Error& error);
void Warn(const std::string& message);
// Whether the device is paired, completing the pairing first when its
// invite was answered since (one sync; said on stderr). Commands that need
// the partner ask this rather than Device::paired().
bool PairedNow(Device& device);
// What is wrong with a name a person chose (empty: nothing).
std::string NameProblem(const std::string& name);
// "you and Bob are unpaired since 2026-12-02: nothing new flows ...": all
// an unpaired device says of the end, on either side.
std::string UnpairedLine(Device& device, const date::time_zone* zone, std::int64_t ended_at);
// "1 change", "3 changes": counts read as words, not "change(s)".
std::string Counted(std::size_t n, const std::string& one, const std::string& many);
// "not paired yet; WHY, so pair first", or, while an invite of this device
// is open, that the partner has not joined yet.
Error NotPairedYet(Device& device, const std::string& why);
void PrintJson(const nlohmann::json& value);
// Writes the whole file (mode 0600) or nothing: a temporary file beside
// it, flushed, then renamed.
Status WriteFileAtomically(const std::string& path, const std::string& text);
// In --json, text that was not given is null, never "".
nlohmann::json TextOrNull(const std::string& text);

Result<std::unique_ptr<Device>> OpenDevice(const Cli& cli);

// The current passphrase from DUET_PASSPHRASE, or asked on the terminal
// without echo; nullopt when neither is possible.
std::optional<std::string> ReadPassphrase();
// A new passphrase (init --passphrase, lock, passphrase change): from the
// environment `variable`, or typed twice on the terminal, asked again (up to
// three times) when the two differ or it is too weak; or the error to print.
Result<std::string> NewPassphrase(const std::string& name, const char* variable = "DUET_PASSPHRASE");
// Why `passphrase` is too weak ("it is shorter than 10 characters"), by
// libpwquality's built-in rules with cracklib's dictionary; nullopt if not.
std::optional<std::string> PassphraseWeakness(const std::string& passphrase, const std::string& name);

// After a change is saved: tries to sync at once, and says in one line what
// happened ("saved; queued: REASON" when it could not send); with --json it
// prints `result` once, with "sync" ("synced" or "queued") and, when queued,
// "reason" added. Returns 0: exit 2 is kept for "nothing was saved".
int SyncAfterChange(Device& device, const Cli& cli, nlohmann::json result = nlohmann::json::object());

// What a partner wrote, made safe for a terminal: control characters (which
// could move the cursor or rewrite the screen) become '?'.
std::string ForTerminal(std::string_view text);
// Columns a terminal gives `text` (UTF-8): wide characters two, combining
// marks none.
std::size_t DisplayWidth(std::string_view text);
// One line of text cut into lines of at most `width` columns, at spaces
// where it can; 0: not wrapped.
std::vector<std::string> WrapLine(std::string_view line, std::size_t width);
// The width of the terminal on stdout; in a pipe, COLUMNS if set, else 0
// (not wrapped).
std::size_t TerminalColumns();
// The text of a note option: `-` reads it from standard input, so it never
// shows in the process list or the shell's history. At most 2000 bytes.
Result<std::string> ReadNote(const std::string& flag, std::string note,
                             std::size_t max_bytes = model::kMaxNoteBytes);
// At most `max_bytes` of `text`, cut at a character boundary, with "..."
// when cut: one line on the dashboard for whatever a partner wrote.
std::string Clip(const std::string& text, std::size_t max_bytes);

// Writes a record shared with the partner, says `said` (human output; with
// the new record's short id when `show_id`, for what people remove later),
// and syncs at once as SyncAfterChange does; with --json prints {"id", "sync"}.
int ShareAndSync(Device& device, const Cli& cli, const model::v1::RecordBody& body,
                 const std::string& said, bool show_id = false);

// Commit, then reveal (protocol §7.3): stores sealed words (a reflection,
// an answer) shared, and the key that opens them as a private record, both
// or neither; the sync that sees the partner's own sends the key. Returns
// the sealed record's id.
Result<std::string> SaveCommitted(Device& device, const model::v1::RecordBody& sealed,
                                  const crypto::SymmetricKey& key);

// "30m", "2h", "1d" (or plain seconds) to seconds; nullopt when malformed.
std::optional<std::int64_t> ParseDuration(const std::string& text);

}  // namespace duet::client::cli
