#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/crash_point.h"
#include "client/cli/cli.h"
#include "client/key_cache.h"
#include "crypto/crypto.h"

namespace duet::client::cli {

int ExitCodeFor(const Error& error) {
  return error.kind == ErrorKind::kVerification ? 1 : 2;
}

Error Invalid(std::string message) { return MakeError(ErrorKind::kInvalidInput, std::move(message)); }

int Fail(const Error& error) {
  // Messages quote what was typed or received: keep them one line, and
  // free of anything that could drive the terminal.
  std::fprintf(stderr, "duet: %s\n", ForTerminal(error.message).c_str());
  return ExitCodeFor(error);
}

std::string RelayTokenProblem(const std::string& token) {
  if (token.empty()) return {};
  const auto decoded = crypto::Base64UrlDecode(token);
  if (token.size() != 24 || !decoded)
    return "--relay-token is not a relay token (24 characters, as `duetd token create` prints "
           "it); copy it again";
  return {};
}

void Warn(const std::string& message) { std::fprintf(stderr, "duet: warning: %s\n", message.c_str()); }

void PrintJson(const nlohmann::json& value) {
  // Replace rather than throw on invalid UTF-8: a partner's note is data.
  std::printf("%s\n", value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

Result<std::unique_ptr<Device>> OpenDevice(const Cli& cli) {
  auto home = ResolveHome(cli.home);
  if (!home.ok()) return home.error();
  const std::string key_file = home->key_file;
  return Device::Open(
      home.value(), [] { return ReadPassphrase(); },
      [key_file]() -> std::optional<crypto::PassphraseKey> {
        auto kept = RecallUnlockedKey(key_file);
        if (!kept) return std::nullopt;
        return std::move(kept->key);
      });
}

int SyncAfterChange(Device& device, const Cli& cli, nlohmann::json result) {
  // The change is saved and queued before this runs: whatever the sync
  // does, the exit code is 0, so a script that retries on failure never
  // writes it twice. With --json, one object: what was changed, and how the
  // sync went ("synced", "queued"), with the reason when it did not.
  auto say = [&](const std::string& sync, const std::string& reason, const std::string& line) {
    if (cli.json) {
      result["sync"] = sync;
      if (!reason.empty()) result["reason"] = reason;
      PrintJson(result);
    } else {
      std::printf("%s\n", line.c_str());
    }
    return 0;
  };
  auto queued = [&](const std::string& reason) {
    return say("queued", reason, "saved; queued: " + ForTerminal(reason) + " (the next `duet sync` sends it)");
  };
  // Saved, not yet sent: the outbox holds it for whichever sync comes next.
  CrashPoint("saved-not-sent");
  auto report = Sync(device, std::chrono::milliseconds(3000));
  if (!report.ok()) {
    switch (report.error().kind) {
      case ErrorKind::kNetwork:
        return queued("relay unreachable: " + report.error().message);
      case ErrorKind::kProtocol:
        return queued("sync interrupted: " + report.error().message);
      default:
        // A refusal, a relay key that does not match, damage: not something
        // the next sync fixes by itself, so it is said on stderr too.
        Warn("not sent: " + ForTerminal(report.error().message));
        return say("queued", "not sent: " + report.error().message,
                   "saved; not sent: it stays queued until the problem above is solved");
    }
  }
  for (const auto& warning : report->warnings) Warn(ForTerminal(warning));
  if (report->unpaired_at) {
    auto zone = CliZone(cli);
    return say("queued", "unpaired",
               "saved on this device only: " + UnpairedLine(device, zone.ok() ? zone.value() : RecordZone("UTC"),
                                                             *report->unpaired_at));
  }
  if (report->relay_rolled_back) return queued("not sent while the relay is behind this device");
  if (report->not_paired || report->waiting_for_partner) return queued("not paired yet");
  if (report->held_back) return queued(*report->held_back);
  result["sent"] = report->pushed;
  result["received"] = report->pulled;
  return say("synced", "",
             "synced: sent " + std::to_string(report->pushed) + ", received " + std::to_string(report->pulled));
}

Result<std::string> SaveCommitted(Device& device, const model::v1::RecordBody& sealed,
                                  const crypto::SymmetricKey& key) {
  model::v1::RecordBody key_record;
  key_record.mutable_reflection_key()->set_key(std::string(key.view()));
  // Both or neither: shared words whose key was lost could never open.
  std::string id;
  Status stored = device.store().InTransaction([&]() -> Status {
    auto added = device.AddRecord(sealed, /*shared=*/true);
    if (!added.ok()) return added.error();
    id = added.value();
    key_record.mutable_reflection_key()->set_reflection_id(id);
    return device.AddRecord(key_record, /*shared=*/false).status();
  });
  crypto::WipeString(*key_record.mutable_reflection_key()->mutable_key());
  if (!stored.ok()) return stored.error();
  return id;
}

std::string UnpairedLine(Device& device, const date::time_zone* zone, std::int64_t ended_at) {
  return "you and " + PartnerLabel(device) + " are unpaired since " +
         model::FormatLocalTime(ended_at, zone).substr(0, 10) +
         ": nothing new flows either way; what is on this device stays (duet export keeps a copy)";
}

std::string Counted(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool PairedNow(Device& device) {
  if (device.unpaired_at()) return false;
  if (device.paired() || !device.pending_invite()) return device.paired();
  // The partner may have joined since: the sync that checks the invite
  // completes the pairing, so the inviter is not sent off to `duet sync`.
  auto report = Sync(device, std::chrono::milliseconds(3000));
  if (report.ok() && report->paired_with && device.partner())
    std::fprintf(stderr,
                 "duet: paired with %s; safety number %s (compare it with them in person: duet partner)\n",
                 ForTerminal(*report->paired_with).c_str(), device.safety_number().c_str());
  return device.paired();
}

Error NotPairedYet(Device& device, const std::string& why) {
  if (device.archive())
    return MakeError(ErrorKind::kInvalidInput,
                     "this home is an archive restored with `duet import`, to read only; " + why);
  if (device.unpaired_at())
    return MakeError(ErrorKind::kInvalidInput,
                     "you and " + PartnerLabel(device) + " are unpaired (duet status says since when); " + why +
                         ", and nothing new is shared now (a check-in kept with --private stays possible)");
  if (device.pending_invite())
    return MakeError(ErrorKind::kInvalidInput,
                     "not paired yet: your partner has not joined with your invite code; " + why +
                         " (`duet invite --replace` makes a new code)");
  return MakeError(ErrorKind::kInvalidInput,
                   "not paired yet; " + why + ", so pair first (duet invite / duet join)");
}

int ShareAndSync(Device& device, const Cli& cli, const model::v1::RecordBody& body,
                 const std::string& said, bool show_id) {
  if (!PairedNow(device)) return Fail(NotPairedYet(device, "what you share is for your partner"));
  auto id = device.AddRecord(body, /*shared=*/true);
  if (!id.ok()) return Fail(id.error());
  if (!cli.json && show_id) std::printf("%s (id %s)\n", said.c_str(), ShortId(id.value()).c_str());
  else if (!cli.json) std::printf("%s\n", said.c_str());
  return SyncAfterChange(device, cli, {{"id", crypto::Hex(id.value())}});
}

std::string ForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    // C1 controls are U+0080..U+009F, in UTF-8 0xC2 0x80..0x9F.
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      out.push_back('?');
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out.push_back('?');
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

Result<std::string> ReadNote(const std::string& flag, std::string note, std::size_t max_bytes) {
  if (note == "-") {
    note.clear();
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) {
      note.append(buffer, n);
      if (note.size() > max_bytes + 1)
        return MakeError(ErrorKind::kInvalidInput, "the text on standard input is over " +
                                                       std::to_string(max_bytes) + " bytes; keep it shorter");
    }
    while (!note.empty() && (note.back() == '\n' || note.back() == '\r')) note.pop_back();
  }
  if (note.size() > max_bytes)
    return MakeError(ErrorKind::kInvalidInput, flag + " is " + std::to_string(note.size()) +
                                                   " bytes; keep it under " + std::to_string(max_bytes) +
                                                   " (start small)");
  return note;
}

std::string Clip(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // Back up to the first byte of a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

// Writes the whole file or nothing: a temporary file beside it, then rename.
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  // A fresh, unguessable name (mkostemp: O_EXCL, mode 0600): never someone
  // else's file or a link they planted beside ours.
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0)
    return MakeError(ErrorKind::kIo, "cannot write " + path + ": " + std::strerror(errno) +
                                         "; check the folder exists and is writable");
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      return MakeError(ErrorKind::kIo, "cannot write " + path + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    return MakeError(ErrorKind::kIo, "cannot write " + path + ": " + why);
  }
  // The rename itself, durable: the folder's entry.
  const std::string folder = std::filesystem::path(path).parent_path().string();
  if (const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

nlohmann::json TextOrNull(const std::string& text) {
  return text.empty() ? nlohmann::json() : nlohmann::json(text);
}

std::optional<std::int64_t> ParseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value <= 0) return std::nullopt;
  const std::string unit(end, text.data() + text.size());
  std::int64_t scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "m") scale = 60;
  else if (unit == "h") scale = 3600;
  else if (unit == "d") scale = 86400;
  else return std::nullopt;
  if (value > (std::int64_t{1} << 40) / scale) return std::nullopt;
  return value * scale;
}

}  // namespace duet::client::cli
