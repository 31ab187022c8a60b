// duet open ID: opens what the partner shared for when this reader is ready
// (docs/protocol.md §7.10), at a moment of the reader's choosing. Opening
// is remembered on this device only: the author is never told whether or
// when (no read receipts).
#include "client/cli/cli.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

int RunOpen(const Cli& cli, const std::string& typed) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  std::vector<std::string> waiting;
  for (const auto& c : opened->loaded.state.checkins)
    if (c.waiting) waiting.push_back(c.record_id);
  if (waiting.empty())
    return Fail(MakeError(ErrorKind::kNotFound, "nothing waits for you to open; what was opened stays in duet checkins"));
  auto id = ResolveId(typed, waiting, "share waiting for you", "duet checkins");
  if (!id.ok()) return Fail(id.error());
  if (Status marked = MarkOpenedWhenReady(d, id.value()); !marked.ok()) return Fail(marked.error());
  auto whole = LoadState(d);
  if (!whole.ok()) return Fail(whole.error());
  const model::CheckInView* c = nullptr;
  for (const auto& v : whole->state.checkins)
    if (v.record_id == id.value()) c = &v;
  if (c == nullptr) return Fail(MakeError(ErrorKind::kNotFound, "that share is no longer here"));
  const std::string who = PartnerLabel(d);
  if (cli.json) {
    PrintJson({{"id", crypto::Hex(c->record_id)},
               {"author", d.partner() ? d.partner()->name : "partner"},
               {"time", c->created_at_ms / 1000},
               {"mood", c->mood},
               {"energy", c->energy == 0 ? nlohmann::json() : nlohmann::json(c->energy)},
               {"need", c->need == model::v1::NEED_UNSPECIFIED ? nlohmann::json() : nlohmann::json(model::NeedName(c->need))},
               {"note", TextOrNull(c->note)}});
    return 0;
  }
  std::string line = who + " shared, " + model::FormatLocalTime(c->created_at_ms / 1000, opened->zone) + ": mood " +
                     std::to_string(c->mood) + "/5";
  if (c->energy != 0) line += ", energy " + std::to_string(c->energy) + "/5";
  if (c->need != model::v1::NEED_UNSPECIFIED) line += ", needs " + model::NeedName(c->need);
  std::printf("%s\n", line.c_str());
  for (const auto& piece : WrapLine(ForTerminal(c->note), TerminalColumns())) std::printf("    %s\n", piece.c_str());
  return 0;
}

}  // namespace

void SetupOpen(CLI::App& root, Cli& cli) {
  auto id = std::make_shared<std::string>();
  auto* sub = root.add_subcommand("open", "open what your partner shared for when you are ready");
  sub->add_option("id", *id, "its id, as duet checkins or the dashboard shows it")->required();
  sub->callback([&cli, id] { cli.run = [&cli, id] { return RunOpen(cli, *id); }; });
}

}  // namespace duet::client::cli
