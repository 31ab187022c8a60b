// duet talk list [--json]: every talk, in the order of its time, with its
// state, its options or agreed time, late answers and reflections.
#include <algorithm>

#include "client/cli/talk.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

std::int64_t SortTime(const model::TalkView& talk) {
  return talk.chosen != 0 ? talk.start() : talk.options.front();
}

nlohmann::json ReflectionJson(const model::ReflectionView& r, bool mine) {
  nlohmann::json out = {{"written", !r.record_id.empty()}};
  out[mine ? "released" : "revealed"] = mine ? r.released : r.readable;
  out["felt"] = r.readable ? nlohmann::json(r.felt) : nlohmann::json();
  out["note"] = r.readable ? TextOrNull(r.note) : nlohmann::json();
  return out;
}

std::string Name(const std::string& key, Device& d, const std::string& me,
                 const std::string& partner) {
  return key == d.my_key() ? me : partner;
}

void PrintReflections(const model::TalkView& talk, const std::string& partner) {
  const auto& mine = talk.my_reflection;
  const auto& theirs = talk.their_reflection;
  if (mine.record_id.empty() && theirs.record_id.empty()) {
    std::printf("    how did it feel? duet talk reflect %s --felt 1-5\n", ShortId(talk.talk_id).c_str());
    return;
  }
  if (mine.readable)
    std::printf("    you felt %u/5%s%s\n", mine.felt, mine.note.empty() ? "" : ": ",
                ForTerminal(mine.note).c_str());
  else if (mine.record_id.empty())
    std::printf("    %s has written theirs; it opens once you write yours: duet talk reflect %s --felt 1-5\n",
                partner.c_str(), ShortId(talk.talk_id).c_str());
  if (theirs.readable)
    std::printf("    %s felt %u/5%s%s\n", partner.c_str(), theirs.felt, theirs.note.empty() ? "" : ": ",
                ForTerminal(theirs.note).c_str());
  else if (!mine.record_id.empty() && theirs.record_id.empty())
    std::printf("    yours stays sealed until %s writes theirs\n", partner.c_str());
  else if (!mine.record_id.empty())
    std::printf("    %s's is written; it opens at the next sync\n", partner.c_str());
}

}  // namespace

int RunTalkList(const Cli& cli) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  const Loaded* loaded = &opened->loaded;
  const date::time_zone* zone = opened->zone;
  std::vector<const model::TalkView*> talks;
  for (const auto& talk : loaded->state.talks) talks.push_back(&talk);
  std::stable_sort(talks.begin(), talks.end(), [](const auto* a, const auto* b) {
    return SortTime(*a) < SortTime(*b);
  });
  const std::int64_t now = NowSeconds();
  const std::string me = d.name();
  const std::string partner_raw = d.partner() ? d.partner()->name : "partner";
  const std::string partner = PartnerLabel(d);

  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto* t : talks) {
      nlohmann::json options = nlohmann::json::array();
      for (auto start : t->options)
        options.push_back({{"start", start},
                           {"end", start + std::int64_t{t->minutes} * 60},
                           {"local", model::FormatLocalTime(start, zone)}});
      nlohmann::json late = nlohmann::json::array();
      for (const auto& l : t->late)
        late.push_back({{"what", l.what}, {"by", Name(l.author_key, d, me, partner_raw)}, {"reason", l.reason}});
      list.push_back(
          {{"id", crypto::Hex(t->talk_id)},
           {"proposer", Name(t->author_key, d, me, partner_raw)},
           {"mine", t->mine},
           {"state", model::TalkStateName(t->state)},
           {"phase", model::TalkPhase(*t, now)},
           {"options", options},
           {"minutes", t->minutes},
           {"place", TextOrNull(t->place)},
           {"topic", TextOrNull(t->topic)},
           {"time_zone", TextOrNull(t->time_zone)},
           {"chosen", t->chosen == 0 ? nlohmann::json() : nlohmann::json(t->chosen)},
           {"start", t->chosen == 0 ? nlohmann::json() : nlohmann::json(t->start())},
           {"end", t->chosen == 0 ? nlohmann::json() : nlohmann::json(t->end())},
           {"decided_by", t->decided_by.empty() ? nlohmann::json()
                                                : nlohmann::json(Name(t->decided_by, d, me, partner_raw))},
           {"counters", t->counters.empty() ? nlohmann::json() : nlohmann::json(crypto::Hex(t->counters))},
           {"countered_by", t->countered_by.empty() ? nlohmann::json()
                                                    : nlohmann::json(crypto::Hex(t->countered_by))},
           {"note", TextOrNull(t->note)},
           {"settled", t->settled},
           {"late", late},
           {"my_reflection", ReflectionJson(t->my_reflection, true)},
           {"their_reflection", ReflectionJson(t->their_reflection, false)}});
    }
    PrintJson(list);
    return 0;
  }
  if (talks.empty()) {
    std::printf("no talks yet; find a calm time you are both free: duet talk suggest\n");
    return 0;
  }
  for (const auto* t : talks) {
    const std::string id = ShortId(t->talk_id);
    const std::string phase = model::TalkPhase(*t, now);
    const std::string proposer = t->mine ? "you" : partner;
    const std::string unsynced = t->settled ? "" : "  [not synced yet]";
    std::string details = std::to_string(t->minutes) + " min";
    if (!t->place.empty()) details += ", " + ForTerminal(t->place);
    if (!t->topic.empty()) details += ", about: " + ForTerminal(t->topic);
    if (t->state == model::TalkState::kProposed) {
      // Every first line is "ID  PHASE     ...": the columns line up.
      std::printf("%s  %-9s by %s (%s)%s\n", id.c_str(), "proposed", proposer.c_str(), details.c_str(),
                  unsynced.c_str());
      int n = 0;
      for (auto start : t->options)
        std::printf("    %d) %s%s\n", ++n,
                    FormatSpan(start, start + std::int64_t{t->minutes} * 60, zone).c_str(),
                    start <= now ? "  (passed)" : "");
      if (!t->mine)
        std::printf("    answer: duet talk accept %s%s | decline %s | counter %s --at ...\n", id.c_str(),
                    t->options.size() > 1 ? " --option N" : "", id.c_str(), id.c_str());
    } else if (t->chosen != 0) {
      std::printf("%s  %-9s %s  with %s (%s)%s\n", id.c_str(), phase.c_str(),
                  FormatSpan(t->start(), t->end(), zone).c_str(),
                  partner.c_str(), details.c_str(), unsynced.c_str());
      if (t->state == model::TalkState::kCancelled)
        std::printf("    cancelled by %s%s%s\n", t->decided_by == d.my_key() ? "you" : partner.c_str(),
                    t->note.empty() ? "" : ": ", ForTerminal(t->note).c_str());
      if (phase == "held" || phase == "now") PrintReflections(*t, partner);
    } else {
      const std::string by = t->decided_by == d.my_key() ? "you" : partner;
      std::printf("%s  %-9s by %s (proposed by %s, %s)%s\n", id.c_str(), phase.c_str(), by.c_str(),
                  proposer.c_str(), details.c_str(), unsynced.c_str());
      if (!t->note.empty()) std::printf("    \"%s\"\n", ForTerminal(t->note).c_str());
      if (!t->countered_by.empty())
        std::printf("    answered with talk %s\n", ShortId(t->countered_by).c_str());
    }
    for (const auto& l : t->late)
      std::printf("    %s %s changed nothing: %s\n",
                  l.author_key == d.my_key() ? "your" : (partner + "'s").c_str(), l.what.c_str(),
                  l.reason.c_str());
  }
  return 0;
}

}  // namespace duet::client::cli
