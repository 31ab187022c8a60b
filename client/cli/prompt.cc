// duet prompt [--depth light|medium|deep] [--send]: an open-ended question
// from the deck that ships with duet. No question comes back before every
// one of its depth was drawn here or shared by either partner; --send
// shares it with the partner as a conversation starter.
#include <sstream>

#include "client/cli/cli.h"
#include "client/model/prompts.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

// Ids drawn in this cycle of the deck, space-separated; and the records of
// shared prompts counted into it already (by id: a partner's share can
// arrive after one of mine that is still unsent, and fold before it).
constexpr char kUsedMeta[] = "prompts.used";
constexpr char kSharesCountedMeta[] = "prompts.shares_counted";

struct PromptOptions {
  std::string depth;
  bool send = false;
};

std::uint32_t RandomUint32() {
  const std::string bytes = crypto::RandomBytes(4);
  std::uint32_t value = 0;
  for (unsigned char c : bytes) value = (value << 8) | c;
  return value;
}

int RunPrompt(const Cli& cli, const PromptOptions& o) {
  std::optional<model::PromptDepth> depth;
  if (!o.depth.empty()) depth = model::ParseDepth(o.depth);
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  if (o.send && !PairedNow(d))
    return Fail(NotPairedYet(d, "there is no one to send it to yet (or leave out --send)"));
  auto loaded = LoadState(d);
  if (!loaded.ok()) return Fail(loaded.error());

  auto words_of = [&](const char* key) {
    std::set<std::string> words;
    if (auto meta = d.store().GetMeta(key); meta.ok() && meta.value()) {
      std::istringstream in(*meta.value());
      for (std::string word; in >> word;) words.insert(word);
    }
    return words;
  };
  std::set<std::string> used = words_of(kUsedMeta);
  std::set<std::string> counted = words_of(kSharesCountedMeta);
  // What either partner shared since the last draw counts as asked.
  for (const auto& share : loaded->state.prompts)
    if (counted.insert(crypto::Hex(share.record_id)).second) used.insert(share.prompt_id);

  const model::PromptPick pick = model::NextPrompt(depth, used, RandomUint32());
  if (pick.deck_restarted) {
    // A new cycle forgets what was asked of this depth (or of all of them).
    for (auto it = used.begin(); it != used.end();) {
      const bool same_depth = !depth || it->rfind(std::string(model::DepthName(*depth)) + "-", 0) == 0;
      it = same_depth ? used.erase(it) : std::next(it);
    }
  }
  used.insert(std::string(pick.prompt->id));
  auto joined = [](const std::set<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
  };
  auto saved = d.store().SetMetas({{kUsedMeta, joined(used)}, {kSharesCountedMeta, joined(counted)}});
  if (!saved.ok()) return Fail(saved.error());

  const model::Prompt& p = *pick.prompt;
  nlohmann::json result = {{"id", std::string(p.id)},
                           {"depth", std::string(model::DepthName(p.depth))},
                           {"theme", std::string(p.theme)},
                           {"text", std::string(p.text)},
                           {"deck_restarted", pick.deck_restarted},
                           {"sent", o.send}};
  if (!cli.json) {
    if (pick.deck_restarted)
      std::printf("(every %s question has been asked; the deck starts again)\n",
                  depth ? std::string(model::DepthName(*depth)).c_str() : "");
    std::printf("%.*s\n    (%.*s, %.*s)\n", static_cast<int>(p.text.size()), p.text.data(),
                static_cast<int>(model::DepthName(p.depth).size()), model::DepthName(p.depth).data(),
                static_cast<int>(p.theme.size()), p.theme.data());
  }
  if (!o.send) {
    if (cli.json) PrintJson(result);
    return 0;
  }
  model::v1::RecordBody body;
  body.mutable_prompt_share()->set_prompt_id(std::string(p.id));
  body.mutable_prompt_share()->set_text(std::string(p.text));
  auto id = d.AddRecord(body, /*shared=*/true);
  if (!id.ok()) return Fail(id.error());
  if (!cli.json) std::printf("sent to %s as a conversation starter\n", PartnerLabel(d).c_str());
  return SyncAfterChange(d, cli, result);
}

}  // namespace

void SetupPrompt(CLI::App& root, Cli& cli) {
  auto o = std::make_shared<PromptOptions>();
  auto* sub = root.add_subcommand("prompt", "an open-ended question to talk about");
  sub->add_option("--depth", o->depth, "light, medium or deep (default: any)")
      ->check(CLI::IsMember({"light", "medium", "deep"}));
  sub->add_flag("--send", o->send, "share it with your partner as a conversation starter");
  sub->callback([&cli, o] { cli.run = [&cli, o] { return RunPrompt(cli, *o); }; });
}

}  // namespace duet::client::cli
