// duet share ID [--without-note]: shares a check-in that was kept on this
// device ("just for me"), when its author is ready (docs/protocol.md §7.7).
// The kept record stays on the device; a new record carries its content,
// with its original time, the note left out on request.
#include "client/cli/cli.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

int RunShare(const Cli& cli, const std::string& typed, bool without_note, bool when_ready) {
  auto opened = OpenState(cli, "a kept check-in is shared with your partner");
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  std::vector<std::string> ids;
  for (const auto& c : opened->loaded.state.checkins)
    if (c.mine) ids.push_back(c.record_id);
  auto id = ResolveId(typed, ids, "check-in of yours", "duet checkins --kept");
  if (!id.ok()) return Fail(id.error());
  const model::CheckInView* view = nullptr;
  for (const auto& c : opened->loaded.state.checkins)
    if (c.mine && c.record_id == id.value()) view = &c;
  const std::string who = PartnerLabel(d);
  if (view->shared_later_at_ms != 0)
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "you shared check-in " + ShortId(view->record_id) + " on " +
                              model::FormatLocalTime(view->shared_later_at_ms / 1000, opened->zone) +
                              " already; a check-in is shared once"));
  if (view->shared)
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "check-in " + ShortId(view->record_id) + " was shared with " + who +
                              " when you wrote it; only a kept one (duet checkins --kept) is shared later"));
  const model::OpenedRecord* kept = nullptr;
  for (const auto& r : opened->loaded.records)
    if (r.record_id == view->record_id) kept = &r;
  model::v1::RecordBody body;
  auto* later = body.mutable_shared_later();
  later->set_kept_id(kept->record_id);
  *later->mutable_checkin() = kept->body.checkin();
  later->set_written_at_ms(kept->body.created_at_ms());
  later->mutable_checkin()->set_when_ready(when_ready);
  if (without_note && !later->checkin().note().empty()) {
    later->mutable_checkin()->clear_note();
    later->set_note_kept(true);
  }
  const std::string said = "shared your check-in of " +
                           model::FormatLocalTime(kept->body.created_at_ms() / 1000, opened->zone) + " with " + who +
                           (later->note_kept() ? ", without its note (it stays on this device)" : "") +
                           ". Once " + who + " has seen it, it cannot be unseen";
  return ShareAndSync(d, cli, body, said);
}

}  // namespace

void SetupShare(CLI::App& root, Cli& cli) {
  auto id = std::make_shared<std::string>();
  auto without_note = std::make_shared<bool>(false);
  auto when_ready = std::make_shared<bool>(false);
  auto* sub = root.add_subcommand("share", "share a check-in you kept just for you, when you are ready");
  sub->add_option("id", *id, "its id, as `duet checkins --kept` shows it")->required();
  sub->add_flag("--without-note", *without_note, "share the mood, energy and need; keep the note on this device");
  sub->add_flag("--when-ready", *when_ready, "your partner opens it when they choose (duet open)");
  sub->callback([&cli, id, without_note, when_ready] {
    cli.run = [&cli, id, without_note, when_ready] { return RunShare(cli, *id, *without_note, *when_ready); };
  });
}

}  // namespace duet::client::cli
