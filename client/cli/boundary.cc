// duet boundary propose|accept|decline|counter|retire|list|show
// (docs/protocol.md §7.4). An accept signs the hash of the exact version it
// agrees to, so an agreed boundary carries both partners' signatures over
// the same words.
#include <algorithm>

#include "client/cli/cli.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

struct BoundaryOptions {
  std::string id;
  std::string text;
  std::string kind = "general";
  std::string window;
  std::string note;
  bool all = false;
};

using Context = Opened;

Result<Context> Open(const Cli& cli, bool need_pairing) {
  return OpenState(cli, need_pairing ? "boundaries are agreed with your partner" : nullptr);
}

// A boundary named by its id, or by the id of one of its versions.
struct Found {
  const model::BoundaryView* boundary = nullptr;
  const model::BoundaryVersion* version = nullptr;  // set when a version id was given
};

Result<Found> Find(const model::CoupleState& state, const std::string& typed) {
  std::vector<std::string> ids;
  for (const auto& b : state.boundaries) {
    ids.push_back(b.boundary_id);
    for (const auto& v : b.versions) ids.push_back(v.version_id);
  }
  auto id = ResolveId(typed, ids, "boundary", "duet boundary list --all");
  if (!id.ok()) return id.error();
  for (const auto& b : state.boundaries) {
    for (const auto& v : b.versions)
      if (v.version_id == id.value() && v.version_id != b.boundary_id) return Found{&b, &v};
    if (b.boundary_id == id.value()) return Found{&b, nullptr};
  }
  return MakeError(ErrorKind::kInternal, "boundary vanished");
}

std::string Who(const std::string& key, Device& d) { return key == d.my_key() ? "you" : PartnerLabel(d); }

std::string Describe(const model::BoundaryVersion& v) {
  std::string text = "\"" + ForTerminal(v.text) + "\"";
  if (v.quiet) text += " (quiet hours " + model::FormatWeeklyWindow(*v.quiet) + " " + ForTerminal(v.time_zone) + ")";
  return text;
}

// The version an answer is for: the one waiting, and not one's own.
Result<const model::BoundaryVersion*> Waiting(const Context& c, const std::string& typed,
                                               const std::string& verb) {
  auto found = Find(c.loaded.state, typed);
  if (!found.ok()) return found.error();
  const model::BoundaryView& b = *found->boundary;
  const std::string id = ShortId(b.boundary_id);
  if (b.retired) return Invalid("boundary " + id + " was retired; there is nothing to " + verb);
  if (found->version != nullptr && (b.pending < 0 || found->version != &b.versions[b.pending])) {
    std::string now_waiting = b.pending >= 0 ? "; the version waiting is " + ShortId(b.versions[b.pending].version_id)
                                             : "";
    return Invalid("version " + ShortId(found->version->version_id) + " of boundary " + id + " was " +
                   model::VersionStatusName(found->version->status) + now_waiting +
                   " (duet boundary show " + id + ")");
  }
  if (b.pending < 0)
    return Invalid("boundary " + id + " has no proposal waiting for an answer; to change it, counter it: "
                   "duet boundary counter " + id + " TEXT");
  const model::BoundaryVersion& v = b.versions[b.pending];
  if (v.author_key == c.device->my_key())
    return Invalid("you proposed the version of boundary " + id + " that is waiting; " +
                   PartnerLabel(*c.device) + " answers it");
  return &v;
}

Result<model::v1::BoundaryProposal> MakeVersion(const Context& c, const std::string& text,
                                                model::v1::BoundaryKind kind, const std::string& window_text,
                                                const model::BoundaryVersion* previous) {
  if (text.empty()) return Invalid("the boundary's text is empty; say it in a few words");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return Invalid("the boundary's text is only spaces; say it in a few words");
  if (text.size() > model::kMaxBoundaryTextBytes)
    return Invalid("the boundary's text is " + std::to_string(text.size()) + " bytes; keep it under 500");
  model::v1::BoundaryProposal p;
  p.set_kind(kind);
  p.set_text(text);
  const bool quiet = kind == model::v1::BOUNDARY_KIND_QUIET_HOURS;
  if (!quiet && !window_text.empty())
    return Invalid(previous != nullptr ? "this boundary is not about quiet hours; --window does not apply to it"
                                       : "--window is for quiet-hours boundaries; add --kind quiet-hours");
  if (quiet) {
    if (window_text.empty() && previous != nullptr && previous->quiet) {
      auto* w = p.mutable_quiet();
      w->set_weekdays(previous->quiet->weekdays);
      w->set_start_minute(previous->quiet->start_minute);
      w->set_end_minute(previous->quiet->end_minute);
      w->set_time_zone(previous->time_zone);
      return p;
    }
    if (window_text.empty())
      return Invalid("a quiet-hours boundary needs its hours: --window \"sun-thu 22:00-07:00\"");
    auto window = model::ParseWeeklyWindow(window_text);
    if (!window.ok()) return window.error();
    auto* w = p.mutable_quiet();
    w->set_weekdays(window->weekdays);
    w->set_start_minute(window->start_minute);
    w->set_end_minute(window->end_minute);
    w->set_time_zone(model::ZoneName(c.zone));
  }
  return p;
}

int RunPropose(const Cli& cli, const BoundaryOptions& o) {
  auto kind = model::ParseBoundaryKind(o.kind);
  auto context = Open(cli, true);
  if (!context.ok()) return Fail(context.error());
  auto version = MakeVersion(context.value(), o.text, *kind, o.window, nullptr);
  if (!version.ok()) return Fail(version.error());
  // The same words agreed already, or waiting for an answer, would be a
  // second boundary that means nothing new.
  for (const auto& b : context->loaded.state.boundaries) {
    if (b.retired || (b.agreed < 0 && b.pending < 0)) continue;
    if (b.current().text == o.text)
      return Fail(Invalid("boundary " + ShortId(b.boundary_id) + " has these exact words already (" +
                          (b.agreed >= 0 ? "agreed" : "waiting for an answer") +
                          "); duet boundary show " + ShortId(b.boundary_id)));
  }
  model::v1::RecordBody body;
  *body.mutable_boundary_proposal() = version.value();
  return ShareAndSync(*context->device, cli, body,
                "proposed a boundary to " + PartnerLabel(*context->device) +
                    "; it holds once they accept these exact words",
                /*show_id=*/true);
}

int RunCounter(const Cli& cli, const BoundaryOptions& o) {
  auto context = Open(cli, true);
  if (!context.ok()) return Fail(context.error());
  Context& c = context.value();
  auto found = Find(c.loaded.state, o.id);
  if (!found.ok()) return Fail(found.error());
  const model::BoundaryView& b = *found->boundary;
  const std::string id = ShortId(b.boundary_id);
  if (b.retired) return Fail(Invalid("boundary " + id + " was retired; propose a new one instead"));
  // The version this answers: the one waiting, else the agreed one (a revision).
  const model::BoundaryVersion& answered = b.pending >= 0 ? b.versions[b.pending] : b.current();
  if (b.pending < 0 && b.agreed < 0)
    return Fail(Invalid("boundary " + id + " was declined; propose it anew: duet boundary propose TEXT"));
  if (found->version != nullptr && found->version != &answered)
    return Fail(Invalid("version " + ShortId(found->version->version_id) + " of boundary " + id + " was " +
                        model::VersionStatusName(found->version->status) + "; counter the boundary itself: "
                        "duet boundary counter " + id + " TEXT"));
  auto version = MakeVersion(c, o.text, answered.kind, o.window, &answered);
  if (!version.ok()) return Fail(version.error());
  if (o.text == answered.text && o.window.empty())
    return Fail(Invalid("these are the exact words of the version you answer; to agree to them: "
                        "duet boundary accept " + id));
  version->set_boundary_id(b.boundary_id);
  version->set_replaces(answered.version_id);
  model::v1::RecordBody body;
  *body.mutable_boundary_proposal() = version.value();
  const std::string what = b.pending < 0 ? "proposed a revision of boundary " + id + " (the agreed words hold until " +
                                               PartnerLabel(*c.device) + " accepts it)"
                           : answered.author_key == c.device->my_key() ? "revised your proposal of boundary " + id
                                                                        : "answered boundary " + id + " with other words";
  return ShareAndSync(*c.device, cli, body, what);
}

int RunAccept(const Cli& cli, const BoundaryOptions& o) {
  auto context = Open(cli, true);
  if (!context.ok()) return Fail(context.error());
  auto version = Waiting(context.value(), o.id, "accept");
  if (!version.ok()) return Fail(version.error());
  model::v1::RecordBody body;
  body.mutable_boundary_accept()->set_version_id(version.value()->version_id);
  body.mutable_boundary_accept()->set_version_hash(version.value()->hash);
  return ShareAndSync(*context->device, cli, body, "agreed: " + Describe(*version.value()));
}

int RunDecline(const Cli& cli, const BoundaryOptions& o) {
  auto note = ReadNote("--note", o.note);
  if (!note.ok()) return Fail(note.error());
  auto context = Open(cli, true);
  if (!context.ok()) return Fail(context.error());
  auto version = Waiting(context.value(), o.id, "decline");
  if (!version.ok()) return Fail(version.error());
  model::v1::RecordBody body;
  body.mutable_boundary_decline()->set_version_id(version.value()->version_id);
  body.mutable_boundary_decline()->set_note(note.value());
  return ShareAndSync(*context->device, cli, body, "declined " + Describe(*version.value()) +
                                                 "; you can answer with other words: duet boundary counter");
}

int RunRetire(const Cli& cli, const BoundaryOptions& o) {
  auto note = ReadNote("--note", o.note);
  if (!note.ok()) return Fail(note.error());
  auto context = Open(cli, true);
  if (!context.ok()) return Fail(context.error());
  Context& c = context.value();
  auto found = Find(c.loaded.state, o.id);
  if (!found.ok()) return Fail(found.error());
  const model::BoundaryView& b = *found->boundary;
  const std::string id = ShortId(b.boundary_id);
  if (b.retired) return Fail(Invalid("boundary " + id + " is retired already"));
  if (!b.mine)
    return Fail(Invalid("boundary " + id + " is " + PartnerLabel(*c.device) +
                        "'s to retire; you can propose other words: duet boundary counter " + id + " TEXT"));
  model::v1::RecordBody body;
  body.mutable_boundary_retire()->set_boundary_id(b.boundary_id);
  body.mutable_boundary_retire()->set_note(note.value());
  return ShareAndSync(*c.device, cli, body, "retired boundary " + id);
}

nlohmann::json VersionJson(const model::BoundaryVersion& v, Device& d, const std::string& me,
                           const std::string& partner) {
  nlohmann::json out = {{"version", crypto::Hex(v.version_id)},
                        {"author", v.author_key == d.my_key() ? me : partner},
                        {"time", v.created_at_ms / 1000},
                        {"kind", model::BoundaryKindName(v.kind)},
                        {"text", v.text},
                        {"status", model::VersionStatusName(v.status)},
                        {"hash", crypto::Hex(v.hash)}};
  out["window"] = v.quiet ? nlohmann::json(model::FormatWeeklyWindow(*v.quiet)) : nlohmann::json();
  out["time_zone"] = v.quiet ? nlohmann::json(v.time_zone) : nlohmann::json();
  out["answered_by"] = v.answered_by.empty() ? nlohmann::json()
                                             : nlohmann::json(v.answered_by == d.my_key() ? me : partner);
  return out;
}

nlohmann::json BoundaryJson(const model::BoundaryView& b, Device& d, bool history) {
  const std::string me = d.name();
  const std::string partner = d.partner() ? d.partner()->name : "partner";
  nlohmann::json out = {{"id", crypto::Hex(b.boundary_id)},
                        {"proposer", b.mine ? me : partner},
                        {"mine", b.mine},
                        {"state", model::BoundaryStateName(b.state())},
                        {"kind", model::BoundaryKindName(b.current().kind)},
                        {"text", b.current().text}};
  out["agreed"] = b.agreed >= 0 ? VersionJson(b.versions[b.agreed], d, me, partner) : nlohmann::json();
  out["pending"] = b.pending >= 0 ? VersionJson(b.versions[b.pending], d, me, partner) : nlohmann::json();
  if (!history) return out;
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& v : b.versions) versions.push_back(VersionJson(v, d, me, partner));
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : b.history)
    events.push_back({{"what", e.what},
                      {"by", e.author_key == d.my_key() ? me : partner},
                      {"time", e.at_ms / 1000},
                      {"version", e.version_id.empty() ? nlohmann::json() : nlohmann::json(crypto::Hex(e.version_id))},
                      {"note", TextOrNull(e.note)}});
  nlohmann::json late = nlohmann::json::array();
  for (const auto& l : b.late)
    late.push_back({{"what", l.what}, {"by", l.author_key == d.my_key() ? me : partner}, {"reason", l.reason}});
  out["versions"] = versions;
  out["history"] = events;
  out["late"] = late;
  return out;
}

int RunList(const Cli& cli, const BoundaryOptions& o) {
  auto context = Open(cli, false);
  if (!context.ok()) return Fail(context.error());
  Context& c = context.value();
  Device& d = *c.device;
  std::vector<const model::BoundaryView*> shown;
  for (const auto& b : c.loaded.state.boundaries) {
    const auto state = b.state();
    if (o.all || state == model::BoundaryState::kAgreed || state == model::BoundaryState::kProposed)
      shown.push_back(&b);
  }
  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto* b : shown) list.push_back(BoundaryJson(*b, d, false));
    PrintJson(list);
    return 0;
  }
  if (shown.empty()) {
    std::printf("no boundaries yet%s; propose one in your own words: duet boundary propose \"...\"\n",
                o.all ? "" : " agreed or waiting");
    return 0;
  }
  for (const auto* b : shown) {
    const std::string id = ShortId(b->boundary_id);
    const std::string state = model::BoundaryStateName(b->state());
    const std::string kind = model::BoundaryKindName(b->current().kind);
    std::printf("%s  %-9s %-12s %s\n", id.c_str(), state.c_str(), kind.c_str(), Describe(b->current()).c_str());
    if (b->pending >= 0) {
      const auto& v = b->versions[b->pending];
      const bool by_me = v.author_key == d.my_key();
      if (b->agreed >= 0) std::printf("    new words proposed by %s: %s\n", Who(v.author_key, d).c_str(), Describe(v).c_str());
      std::printf("    %s\n", by_me ? ("waiting for " + PartnerLabel(d) + " to answer").c_str()
                                     : ("your answer: duet boundary accept " + id + " | decline " + id +
                                        " | counter " + id + " TEXT").c_str());
    }
  }
  return 0;
}

int RunShow(const Cli& cli, const BoundaryOptions& o) {
  auto context = Open(cli, false);
  if (!context.ok()) return Fail(context.error());
  Context& c = context.value();
  Device& d = *c.device;
  auto found = Find(c.loaded.state, o.id);
  if (!found.ok()) return Fail(found.error());
  const model::BoundaryView& b = *found->boundary;
  if (cli.json) {
    PrintJson(BoundaryJson(b, d, true));
    return 0;
  }
  std::printf("boundary %s: %s, %s\n", ShortId(b.boundary_id).c_str(),
              model::BoundaryStateName(b.state()).c_str(), model::BoundaryKindName(b.current().kind).c_str());
  if (b.agreed >= 0)
    std::printf("agreed words: %s\n    signed by both: hash %s\n", Describe(b.versions[b.agreed]).c_str(),
                crypto::Hex(b.versions[b.agreed].hash).substr(0, 16).c_str());
  for (const auto& e : b.history) {
    std::string line = model::FormatLocalTime(e.at_ms / 1000, c.zone) + "  " + Who(e.author_key, d) + " " + e.what;
    for (const auto& v : b.versions)
      if (v.version_id == e.version_id && (e.what == "proposed" || e.what == "countered" || e.what == "revised"))
        line += ": " + Describe(v) + " (version " + ShortId(v.version_id) + ")";
    if (e.what == "accepted" || e.what == "declined") line += " version " + ShortId(e.version_id);
    if (!e.note.empty()) line += " (\"" + ForTerminal(e.note) + "\")";
    std::printf("%s\n", line.c_str());
  }
  for (const auto& l : b.late)
    std::printf("%s %s changed nothing: %s\n", l.author_key == d.my_key() ? "your" : (PartnerLabel(d) + "'s").c_str(),
                l.what.c_str(), l.reason.c_str());
  return 0;
}

}  // namespace

void SetupBoundary(CLI::App& root, Cli& cli) {
  auto o = std::make_shared<BoundaryOptions>();
  auto* sub = root.add_subcommand("boundary", "boundaries you agree on, in your own words");
  sub->require_subcommand(1);
  auto add_id = [o](CLI::App* s) {
    s->add_option("id", o->id, "the boundary's id (or a version's), as `duet boundary list` shows it")->required();
  };
  auto* propose = sub->add_subcommand("propose", "propose a boundary; it holds once your partner accepts it");
  propose->add_option("text", o->text, "the boundary, in your own words")->required();
  propose->add_option("--kind", o->kind, "general, privacy, topic or quiet-hours")
      ->check(CLI::IsMember({"general", "privacy", "topic", "quiet-hours"}));
  propose->add_option("--window", o->window, "for quiet hours: \"sun-thu 22:00-07:00\"");
  Bind(propose, cli, o, RunPropose);
  auto* accept = sub->add_subcommand("accept", "agree to the words your partner proposed");
  add_id(accept);
  Bind(accept, cli, o, RunAccept);
  auto* decline = sub->add_subcommand("decline", "say no to a proposed boundary");
  add_id(decline);
  decline->add_option("--note", o->note, "a word, if you like (- reads standard input)");
  Bind(decline, cli, o, RunDecline);
  auto* counter = sub->add_subcommand("counter", "answer with other words, or revise an agreed boundary");
  add_id(counter);
  counter->add_option("text", o->text, "the words you propose instead")->required();
  counter->add_option("--window", o->window, "for quiet hours: new hours (default: the same)");
  Bind(counter, cli, o, RunCounter);
  auto* retire = sub->add_subcommand("retire", "retire a boundary you proposed");
  add_id(retire);
  retire->add_option("--note", o->note, "a word, if you like (- reads standard input)");
  Bind(retire, cli, o, RunRetire);
  auto* list = sub->add_subcommand("list", "boundaries agreed or waiting for an answer");
  list->add_flag("--all", o->all, "also declined and retired ones");
  Bind(list, cli, o, RunList);
  auto* show = sub->add_subcommand("show", "a boundary's whole history: who proposed what, who agreed");
  add_id(show);
  Bind(show, cli, o, RunShow);
}

}  // namespace duet::client::cli
