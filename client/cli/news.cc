// What is new from the partner, for the dashboard and `duet news [--all]
// [--days N]`. News is marked read only when a person has seen it: on a
// terminal, or with --mark-read; a script reading --json (a status bar) or a
// pipe leaves it for the person.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "client/cli/cli.h"
#include "client/model/validate.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

constexpr char kSeenMeta[] = "dashboard.seen_seq";

// "check-in" -> "checkin", "talk proposal" -> "talk_proposal".
std::string KindWord(const model::v1::RecordBody& body) {
  std::string word;
  for (char c : model::RecordKindName(body)) {
    if (c == ' ') word += '_';
    else if (c != '-') word += c;
  }
  return word;
}

// News that later news made moot is shown by what replaced it, never
// twice: a window or busy time since removed, the proposal and acceptance
// of a talk since cancelled, a readiness since said again.
class Supersession {
 public:
  Supersession(const Loaded& loaded, const std::string& my_key) : state_(loaded.state) {
    for (const model::OpenedRecord* r : model::FoldOrder(loaded.records))
      if (r->author_key != my_key && r->body.has_readiness()) latest_readiness_ = r->record_id;
  }

  bool operator()(const model::OpenedRecord& r) const {
    const auto& body = r.body;
    auto listed = [&](const auto& items) {
      return std::any_of(items.begin(), items.end(), [&](const auto& i) { return i.record_id == r.record_id; });
    };
    if (body.has_availability()) return !listed(state_.windows);
    if (body.has_busy()) return !listed(state_.busy);
    if (body.has_readiness()) return r.record_id != latest_readiness_;
    if (body.has_talk_proposal() || body.has_talk_accept()) {
      const std::string& talk = body.has_talk_accept() ? body.talk_accept().talk_id() : r.record_id;
      return std::any_of(state_.talks.begin(), state_.talks.end(), [&](const model::TalkView& t) {
        return t.talk_id == talk && t.state == model::TalkState::kCancelled;
      });
    }
    return false;
  }

 private:
  const model::CoupleState& state_;
  std::string latest_readiness_;
};

struct NewsOptions {
  bool all = false;
  int days = 7;
  bool mark_read = false;
};

int RunNews(const Cli& cli, const NewsOptions& o) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Opened& s = opened.value();
  const std::int64_t since_ms = o.all ? 0 : (s.now - std::int64_t{o.days} * 86400) * 1000;
  News news = CollectNews(*s.device, s.loaded, s.zone, /*only_unseen=*/false);
  // --days leaves out what was seen before, never what is unseen (a partner
  // who wrote offline a week ago and synced today): news is never lost, and
  // marking read then covers only what was shown.
  std::erase_if(news.items, [&](const NewsItem& n) { return !n.unseen && n.when * 1000 < since_ms; });
  if (cli.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : news.items) out.push_back(NewsJson(n));
    PrintJson(out);
  } else if (news.items.empty()) {
    std::printf("no news from %s %s\n", PartnerLabel(*s.device).c_str(),
                o.all ? "yet" : ("in the last " + std::to_string(o.days) + " days (duet news --all)").c_str());
  } else {
    for (const auto& n : news.items)
      std::printf("%s  %s%s\n", model::FormatLocalTime(n.when, s.zone).c_str(), n.text.c_str(),
                  n.unseen ? "  (new)" : "");
  }
  if (ShouldMarkRead(cli, o.mark_read)) MarkNewsRead(*s.device, news);
  return 0;
}

}  // namespace

News CollectNews(Device& device, const Loaded& loaded, const date::time_zone* zone, bool only_unseen) {
  News news;
  if (auto meta = device.store().GetMeta(kSeenMeta); meta.ok() && meta.value())
    news.seen_seq = std::strtoull(meta.value()->c_str(), nullptr, 10);
  news.highest_seq = news.seen_seq;
  const std::string who = PartnerLabel(device);
  const Supersession superseded(loaded, device.my_key());
  for (const model::OpenedRecord* r : model::FoldOrder(loaded.records)) {
    if (!r->relay_seq) continue;
    news.highest_seq = std::max(news.highest_seq, *r->relay_seq);
    if (r->author_key == device.my_key() || !Newsworthy(*r) || !r->verdict.valid() || superseded(*r)) continue;
    const bool unseen = *r->relay_seq > news.seen_seq;
    if (only_unseen && !unseen) continue;
    news.items.push_back(NewsItem{KindWord(r->body), who, r->body.created_at_ms() / 1000,
                                  crypto::Hex(r->record_id),
                                  Clip(DescribeRecord(*r, loaded.state, who, zone), 150), unseen,
                                  r->body.has_thanks() || r->body.has_prompt_share()});
  }
  std::reverse(news.items.begin(), news.items.end());  // newest first
  return news;
}

bool Newsworthy(const model::OpenedRecord& r) {
  switch (r.body.kind_case()) {
    case model::v1::RecordBody::kRekey:
    case model::v1::RecordBody::kReflectionKey:
    case model::v1::RecordBody::kWithdraw:
    case model::v1::RecordBody::kCouldNotRead:  // said by `duet sync`, listed by `duet status`
    case model::v1::RecordBody::kDeletion:      // the record just goes (protocol §7.8)
    case model::v1::RecordBody::kPromptPass:    // never a failure to be told of
      return false;
    default:
      return true;
  }
}

nlohmann::json NewsJson(const NewsItem& n) {
  return {{"kind", n.kind}, {"who", n.who}, {"when", n.when}, {"id", n.id}, {"text", n.text}};
}

bool ShouldMarkRead(const Cli& cli, bool mark_read) {
  return mark_read || (!cli.json && ::isatty(STDOUT_FILENO));
}

void MarkNewsRead(Device& device, const News& news) {
  if (news.highest_seq > news.seen_seq)
    (void)device.store().SetMeta(kSeenMeta, std::to_string(news.highest_seq));
}

void SetupNews(CLI::App& root, Cli& cli) {
  auto o = std::make_shared<NewsOptions>();
  auto* sub = root.add_subcommand("news", "everything new from your partner, newest first");
  sub->add_flag("--all", o->all, "all of it, however old");
  sub->add_option("--days", o->days, "how many days back (default 7)")->check(CLI::Range(1, 3660));
  sub->add_flag("--mark-read", o->mark_read, "mark it read even when not at a terminal");
  sub->callback([&cli, o] { cli.run = [&cli, o] { return RunNews(cli, *o); }; });
}

}  // namespace duet::client::cli
