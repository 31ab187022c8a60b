// duet checkins [--json]
#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

int RunCheckins(const Cli& cli) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  const model::CoupleState& state = opened->loaded.state;
  const std::string me = d.name();
  const std::string partner = d.partner() ? d.partner()->name : "partner";
  const std::string shown_me = ForTerminal(me);
  const std::string shown_partner = ForTerminal(partner);

  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : state.checkins) {
      nlohmann::json item = {{"id", crypto::Hex(c.record_id)},
                             {"author", c.mine ? me : partner},
                             {"mine", c.mine},
                             {"shared", c.shared},
                             {"synced", c.synced},
                             {"time_ms", c.created_at_ms},
                             {"mood", c.mood},
                             {"energy", c.energy == 0 ? nlohmann::json() : nlohmann::json(c.energy)},
                             {"need", c.need == model::v1::NEED_UNSPECIFIED
                                          ? nlohmann::json()
                                          : nlohmann::json(model::NeedName(c.need))},
                             {"note", c.note}};
      list.push_back(std::move(item));
    }
    PrintJson(list);
  } else if (state.checkins.empty()) {
    std::printf("no check-ins yet; start small: duet checkin --mood 3\n");
  } else {
    for (const auto& c : state.checkins) {
      std::string line =
          model::FormatLocalTime(c.created_at_ms / 1000, opened->zone) + "  " + (c.mine ? shown_me + " (you)" : shown_partner);
      line += "  mood " + std::to_string(c.mood) + "/5";
      if (c.energy != 0) line += "  energy " + std::to_string(c.energy) + "/5";
      if (c.need != model::v1::NEED_UNSPECIFIED) line += "  needs: " + model::NeedName(c.need);
      if (!c.shared) line += "  [just for you]";
      else if (c.mine && !c.synced) line += "  [queued]";
      std::printf("%s\n", line.c_str());
      if (!c.note.empty()) std::printf("    %s\n", ForTerminal(c.note).c_str());
    }
  }
  return 0;
}

}  // namespace

void SetupCheckins(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("checkins", "list your check-ins and your partner's shared ones");
  sub->callback([&cli] { cli.run = [&cli] { return RunCheckins(cli); }; });
}

}  // namespace duet::client::cli
