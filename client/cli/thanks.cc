// duet thanks TEXT: appreciation, shown on the partner's dashboard.
#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

int RunThanks(const Cli& cli, const std::string& typed) {
  auto text = ReadNote("the thanks", typed, model::kMaxShortTextBytes);
  if (!text.ok()) return Fail(text.error());
  if (text->empty())
    return Fail(MakeError(ErrorKind::kInvalidInput, "the thanks is empty; say what you appreciate"));
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  if (!PairedNow(d)) return Fail(NotPairedYet(d, "thanks are for your partner"));
  model::v1::RecordBody body;
  body.mutable_thanks()->set_text(text.value());
  return ShareAndSync(d, cli, body, "thanks sent to " + PartnerLabel(d));
}

}  // namespace

void SetupThanks(CLI::App& root, Cli& cli) {
  auto text = std::make_shared<std::string>();
  auto* sub = root.add_subcommand("thanks", "send your partner appreciation");
  sub->add_option("text", *text, "what you appreciate (- reads standard input)")->required();
  sub->callback([&cli, text] { cli.run = [&cli, text] { return RunThanks(cli, *text); }; });
}

}  // namespace duet::client::cli
