// duet delete ID [--yes]: deletes a record one wrote (docs/protocol.md
// §7.8). A shared one is forgotten here, dropped by the partner's device and
// erased from the relay; a kept one never left, so it is just forgotten.
// Said plainly: what the partner has seen cannot be unseen.
#include <unistd.h>

#include <iostream>

#include "client/cli/cli.h"
#include "client/model/deletion.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

// For a record that is not deleted, the command that undoes it.
std::string InsteadOf(const model::v1::RecordBody& body, const std::string& id) {
  if (body.has_talk_proposal()) return "a talk is cancelled, not deleted: duet talk cancel " + id;
  if (body.has_boundary_proposal())
    return "a boundary is retired, not deleted: duet boundary retire " + id;
  if (body.has_availability() || body.has_busy())
    return "availability is removed, not deleted: duet availability remove " + id;
  return "a " + model::RecordKindName(body) +
         " is part of what you and your partner agreed or answered, and is not deleted on its own";
}

int RunDelete(const Cli& cli, const std::string& typed, bool yes) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  if (d.archive()) return Fail(NotPairedYet(d, "nothing in it is deleted"));
  const auto& records = opened->loaded.records;
  const auto order = model::FoldOrder(records);  // what is shown: valid, not deleted
  std::vector<std::string> ids;
  for (const auto* r : order)
    if (r->author_key == d.my_key()) ids.push_back(r->record_id);
  auto id = ResolveId(typed, ids, "record of yours", "duet checkins");
  if (!id.ok()) return Fail(id.error());
  const model::OpenedRecord* target = nullptr;
  for (const auto* r : order)
    if (r->record_id == id.value() && r->author_key == d.my_key()) target = r;
  if (!model::Deletable(target->body))
    return Fail(MakeError(ErrorKind::kInvalidInput, InsteadOf(target->body, ShortId(target->record_id))));
  // A kept check-in shared later goes with its share: deleting "this
  // check-in" means wherever it is.
  std::vector<const model::OpenedRecord*> doomed = {target};
  if (!target->shared)
    for (const auto* r : order)
      if (r->author_key == d.my_key() && r->body.has_shared_later() &&
          r->body.shared_later().kept_id() == target->record_id)
        doomed.push_back(r);
  const bool reached_partner = doomed.size() > 1 || target->shared;
  const std::string who = PartnerLabel(d);
  const std::string what = "your " + model::RecordKindName(target->body) + " of " +
                           model::FormatLocalTime(target->body.created_at_ms() / 1000, opened->zone);
  if (!yes) {
    if (cli.json || !::isatty(STDIN_FILENO))
      return Fail(MakeError(ErrorKind::kInvalidInput, "delete cannot be undone; add --yes to confirm"));
    std::printf("delete %s?%s [y/N] ", what.c_str(),
                reached_partner ? (" If " + who + " has seen it, deleting cannot make them unsee it.").c_str() : "");
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer) || (answer != "y" && answer != "yes")) {
      std::printf("nothing was deleted\n");
      return 1;
    }
  }
  // All of them or none: a kept check-in is never forgotten while its share stays.
  Status deleted = d.store().InTransaction([&]() -> Status {
    for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
      auto deletion = d.Delete(**it);
      if (!deletion.ok()) return deletion.error();
    }
    return Status::Ok();
  });
  if (!deleted.ok()) return Fail(deleted.error());
  (void)d.store().EraseLeftovers();  // the log, now that the transaction is over
  if (!reached_partner && d.OwnKey()) {
    if (!cli.json)
      std::printf("deleted %s: it was never shared; it goes from your other devices and the relay as they sync\n",
                  what.c_str());
    return SyncAfterChange(d, cli, {{"deleted", crypto::Hex(target->record_id)}, {"shared", false}});
  }
  if (!reached_partner) {
    if (cli.json) PrintJson({{"deleted", crypto::Hex(target->record_id)}, {"shared", false}});
    else std::printf("deleted %s from this device; it was never shared\n", what.c_str());
    return 0;
  }
  if (!cli.json)
    std::printf("deleted %s: it is gone from this device, and goes from %s's device and the relay as they "
                "sync. If %s has seen it, deleting cannot make them unsee it.\n",
                what.c_str(), who.c_str(), who.c_str());
  return SyncAfterChange(d, cli, {{"deleted", crypto::Hex(target->record_id)}, {"shared", true}});
}

}  // namespace

void SetupDelete(CLI::App& root, Cli& cli) {
  auto id = std::make_shared<std::string>();
  auto yes = std::make_shared<bool>(false);
  auto* sub = root.add_subcommand("delete", "delete a check-in, thanks, readiness or prompt you shared or kept");
  sub->add_option("id", *id, "its id, as `duet checkins` shows it")->required();
  sub->add_flag("--yes", *yes, "do not ask (for scripts)");
  sub->callback([&cli, id, yes] { cli.run = [&cli, id, yes] { return RunDelete(cli, *id, *yes); }; });
}

}  // namespace duet::client::cli
