// duet ready [later|not-now] [--until TIME] [--note TEXT]: how ready I am to
// talk. The partner sees it on their dashboard and before proposing a talk;
// it lapses at --until.
#include "client/cli/cli.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

struct ReadyOptions {
  std::string state;  // empty: ready
  std::string until;
  std::string note;
};

// "2h", "3d" from now, or a local time "2026-12-02 18:00".
Result<std::int64_t> ParseUntil(const std::string& text, const date::time_zone* zone, std::int64_t now) {
  if (auto seconds = ParseDuration(text)) return now + *seconds;
  auto at = model::ParseLocalTime(text, zone);
  if (!at.ok())
    return MakeError(ErrorKind::kInvalidInput,
                     "--until '" + text + "' is neither a time (\"2026-12-02 18:00\") nor a duration (\"2h\", \"3d\")");
  return at.value();
}

int RunReady(const Cli& cli, const ReadyOptions& o) {
  const auto state = o.state == "later"     ? model::v1::READINESS_STATE_LATER
                     : o.state == "not-now" ? model::v1::READINESS_STATE_NOT_NOW
                                            : model::v1::READINESS_STATE_READY;
  auto note = ReadNote("--note", o.note, model::kMaxShortTextBytes);
  if (!note.ok()) return Fail(note.error());
  auto zone = CliZone(cli);
  if (!zone.ok()) return Fail(zone.error());
  const std::int64_t now = NowSeconds();
  std::int64_t until = 0;
  if (!o.until.empty()) {
    if (state == model::v1::READINESS_STATE_READY)
      return Fail(MakeError(ErrorKind::kInvalidInput, "--until is for `duet ready later` or `duet ready not-now`"));
    auto parsed = ParseUntil(o.until, zone.value(), now);
    if (!parsed.ok()) return Fail(parsed.error());
    if (parsed.value() <= now)
      return Fail(MakeError(ErrorKind::kInvalidInput, "--until '" + o.until + "' is in the past; give a time to come"));
    if (parsed.value() > now + 366 * 86400)
      return Fail(MakeError(ErrorKind::kInvalidInput, "--until '" + o.until + "' is more than a year away"));
    until = parsed.value();
  }
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  if (!PairedNow(d)) return Fail(NotPairedYet(d, "readiness is for your partner to see"));
  model::v1::RecordBody body;
  body.mutable_readiness()->set_state(state);
  body.mutable_readiness()->set_until(until);
  body.mutable_readiness()->set_note(note.value());
  auto id = d.AddRecord(body, /*shared=*/true);
  if (!id.ok()) return Fail(id.error());
  if (!cli.json) {
    std::string line = "you said: " + model::ReadinessName(state);
    if (until != 0) line += " until " + model::FormatLocalDayTime(until, zone.value());
    line += state == model::v1::READINESS_STATE_READY
                ? "; " + PartnerLabel(d) + " sees you are open to talk"
                : "; " + PartnerLabel(d) + " sees it before proposing a talk";
    std::printf("%s\n", line.c_str());
  }
  return SyncAfterChange(d, cli, {{"id", crypto::Hex(id.value())}});
}

}  // namespace

void SetupReady(CLI::App& root, Cli& cli) {
  auto o = std::make_shared<ReadyOptions>();
  auto* sub = root.add_subcommand("ready", "tell your partner how ready you are to talk: ready, later, not-now");
  sub->add_option("state", o->state, "later or not-now (nothing: ready)")
      ->check(CLI::IsMember({"later", "not-now"}));
  sub->add_option("--until", o->until, "when it lapses: a time (\"2026-12-02 18:00\") or a duration (\"2h\")");
  sub->add_option("--note", o->note, "a word, if you like (- reads standard input)");
  sub->callback([&cli, o] { cli.run = [&cli, o] { return RunReady(cli, *o); }; });
}

}  // namespace duet::client::cli
