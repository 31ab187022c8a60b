// What the commands that read the couple's state share: the fold, ids people
// can type, the clock and time zones.
#include <algorithm>
#include <cctype>
#include <chrono>

#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {

Result<const date::time_zone*> CliZone(const Cli& cli) {
  if (!cli.time_zone.empty()) return model::FindZone(cli.time_zone);
  // A mistyped TZ would quietly mean another zone: say so.
  if (const char* tz = std::getenv("TZ"); tz != nullptr && *tz != '\0') {
    std::string name = tz[0] == ':' ? tz + 1 : tz;
    if (!model::FindZone(name).ok())
      Warn("TZ='" + ForTerminal(name) + "' is not an IANA time zone; using " +
           model::ZoneName(model::LocalZone()) + " (set TZ=Europe/Berlin or use --tz)");
  }
  return model::LocalZone();
}

const date::time_zone* RecordZone(const std::string& name) {
  auto zone = model::FindZone(name);
  if (zone.ok()) return zone.value();
  Warn("time zone '" + ForTerminal(name) +
       "' is not in this machine's time-zone database (update tzdata); reading it as UTC");
  return model::ZoneOrUtc("UTC");
}

Result<Loaded> LoadState(Device& device, bool hold_back) {
  int unreadable = 0;
  auto records = device.OpenRecords(&unreadable);
  if (!records.ok()) return records.error();
  if (unreadable > 0)
    Warn(Counted(unreadable, "stored record", "stored records") + " could not be opened and " + (unreadable == 1 ? "is" : "are") + " not shown");
  Loaded loaded;
  loaded.records = std::move(records).value();
  loaded.state = model::Fold(loaded.records, device.my_key());
  if (hold_back) model::HoldBackUnopened(loaded.records, loaded.state, device.my_key(), OpenedWhenReady(device));
  return loaded;
}

namespace {
// Ids of the partner's when-ready check-ins this reader opened: 16 bytes each.
constexpr char kOpenedMeta[] = "when_ready.opened";
}  // namespace

std::set<std::string> OpenedWhenReady(Device& device) {
  std::set<std::string> out;
  auto meta = device.store().GetMeta(kOpenedMeta);
  if (!meta.ok() || !meta.value()) return out;
  const std::string& all = *meta.value();
  for (std::size_t at = 0; at + 16 <= all.size(); at += 16) out.insert(all.substr(at, 16));
  return out;
}

Status MarkOpenedWhenReady(Device& device, const std::string& record_id) {
  return device.store().InTransaction([&]() -> Status {
    auto meta = device.store().GetMeta(kOpenedMeta);
    if (!meta.ok()) return meta.error();
    return device.store().SetMeta(kOpenedMeta, meta.value().value_or("") + record_id);
  });
}

Result<Opened> OpenState(const Cli& cli, const char* paired_for) {
  auto zone = CliZone(cli);
  if (!zone.ok()) return zone.error();
  auto device = OpenDevice(cli);
  if (!device.ok()) return device.error();
  if (paired_for != nullptr && !PairedNow(*device.value()))
    return NotPairedYet(*device.value(), paired_for);
  auto loaded = LoadState(*device.value());
  if (!loaded.ok()) return loaded.error();
  return Opened{std::move(device).value(), std::move(loaded).value(), zone.value(), NowSeconds()};
}

std::string ShortId(const std::string& record_id) { return crypto::Hex(record_id).substr(0, 8); }

Result<std::string> ResolveId(const std::string& typed, const std::vector<std::string>& ids,
                              const std::string& what, const std::string& list_command) {
  std::string prefix;
  for (char c : typed) prefix.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const bool hex = std::all_of(prefix.begin(), prefix.end(),
                               [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  if (prefix.size() < 4 || prefix.size() > 32 || !hex)
    return MakeError(ErrorKind::kInvalidInput,
                     "'" + ForTerminal(typed) + "' is not a " + what +
                         " id; ids are 4 or more hex digits, as `" + list_command + "` shows them");
  std::vector<std::string> matches;
  for (const auto& id : ids)
    if (crypto::Hex(id).rfind(prefix, 0) == 0 &&
        std::find(matches.begin(), matches.end(), id) == matches.end())
      matches.push_back(id);
  if (matches.empty())
    return MakeError(ErrorKind::kNotFound, "no " + what + " has the id '" + ForTerminal(typed) +
                                               "'; `" + list_command + "` lists them");
  if (matches.size() > 1)
    return MakeError(ErrorKind::kInvalidInput,
                     "the id '" + ForTerminal(typed) + "' matches " + std::to_string(matches.size()) +
                         " " + what + "s; type more of it");
  return matches.front();
}

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string PartnerLabel(Device& device) {
  auto partner = device.partner();
  return partner ? ForTerminal(partner->name) : std::string("your partner");
}

}  // namespace duet::client::cli
