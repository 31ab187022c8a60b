// duet checkin --mood 1-5 [--energy 1-5] [--need listen|support|space|advice]
//              [--note TEXT] [--private]
#include <cstdio>

#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

struct CheckinOptions {
  int mood = 0;
  int energy = 0;
  std::string need;
  std::string note;
  bool keep_private = false;
  bool when_ready = false;
};

int RunCheckin(const Cli& cli, CheckinOptions options) {
  auto note = ReadNote("--note", options.note);
  if (!note.ok()) return Fail(note.error());
  options.note = std::move(note).value();
  model::v1::RecordBody body;
  auto* checkin = body.mutable_checkin();
  checkin->set_mood(static_cast<std::uint32_t>(options.mood));
  checkin->set_energy(static_cast<std::uint32_t>(options.energy));
  if (!options.need.empty()) checkin->set_need(*model::ParseNeed(options.need));
  checkin->set_note(options.note);
  if (options.when_ready && options.keep_private)
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "--when-ready is for a check-in you share; a --private one never leaves this device"));
  checkin->set_when_ready(options.when_ready);

  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  const bool shared = !options.keep_private;
  if (shared && !PairedNow(d))
    return Fail(NotPairedYet(d, "a shared check-in is for your partner (--private keeps it on this device)"));
  auto id = d.AddRecord(body, shared);
  if (!id.ok()) return Fail(id.error());
  const nlohmann::json result = {{"id", crypto::Hex(id.value())}, {"shared", shared}};
  if (cli.json && !shared) {
    PrintJson(result);
  } else if (!shared) {
    std::printf("check-in saved, just for you (it never leaves this device)\n");
  } else if (!cli.json && options.when_ready) {
    std::printf("check-in saved for when %s is ready: they see that you have something to share, and open it "
                "when they choose (you are not told when)\n",
                PartnerLabel(d).c_str());
  } else if (!cli.json) {
    std::printf("check-in saved, shared with %s\n", d.partner()->name.c_str());
  }
  if (!shared) return 0;
  return SyncAfterChange(d, cli, result);
}

}  // namespace

void SetupCheckin(CLI::App& root, Cli& cli) {
  auto options = std::make_shared<CheckinOptions>();
  auto* sub = root.add_subcommand("checkin", "note how you are: mood, energy, what you need");
  sub->add_option("--mood", options->mood, "1 (low) to 5 (great)")
      ->required()
      ->check(CLI::Range(1, 5));
  sub->add_option("--energy", options->energy, "1 (drained) to 5 (full)")->check(CLI::Range(1, 5));
  sub->add_option("--need", options->need, "what would help now")
      ->check(CLI::IsMember({"listen", "support", "space", "advice"}));
  sub->add_option("--note", options->note,
                  "a few words, if you like (- reads them from standard input, out of sight of ps)");
  sub->add_flag("--private", options->keep_private, "keep it on this device only");
  sub->add_flag("--when-ready", options->when_ready,
                "your partner sees that you have something to share and opens it when they choose");
  sub->callback([&cli, options] { cli.run = [&cli, options] { return RunCheckin(cli, *options); }; });
}

}  // namespace duet::client::cli
