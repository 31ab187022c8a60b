// duet talk reflect ID --felt 1-5 [--note TEXT]: commit, then reveal
// (docs/protocol.md §7.3). The sealed reflection is shared now; its key
// stays on this device, in a private record, until the partner's own sealed
// reflection is in the log, and the sync that sees it sends the key.
#include "client/cli/talk.h"
#include "client/model/reflection.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {

int RunTalkReflect(const Cli& cli, const TalkOptions& options) {
  auto note = ReadNote("--note", options.note);
  if (!note.ok()) return Fail(note.error());
  auto opened = OpenState(cli, "reflections are for the two of you");
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  const Loaded* loaded = &opened->loaded;
  const date::time_zone* zone = opened->zone;
  auto found = FindTalk(loaded->state, options.id);
  if (!found.ok()) return Fail(found.error());
  const model::TalkView& talk = *found.value();
  const std::string id = ShortId(talk.talk_id);
  if (talk.state != model::TalkState::kAgreed)
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "talk " + id + " is " + model::TalkStateName(talk.state) +
                              "; reflections are for talks you agreed and held"));
  if (NowSeconds() < talk.end())
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "talk " + id + " is on " + FormatSpan(talk.start(), talk.end(), zone) +
                              "; reflect on it after you have talked"));
  if (!talk.my_reflection.record_id.empty())
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "you reflected on talk " + id + " already; a reflection is written once"));

  model::v1::ReflectionContent content;
  content.set_felt(static_cast<std::uint32_t>(options.felt));
  content.set_note(note.value());
  // The validator sees only the sealed bytes, so the words are checked here.
  if (auto verdict = model::ValidateReflection(content); !verdict.valid())
    return Fail(MakeError(ErrorKind::kInvalidInput, "cannot save this reflection: " + verdict.problem));
  model::SealedReflection sealed = model::SealReflection(content, talk.talk_id, d.my_key());
  content.Clear();
  model::v1::RecordBody reflection;
  *reflection.mutable_talk_reflection() = sealed.record;
  auto stored = SaveCommitted(d, reflection, sealed.key);
  if (!stored.ok()) return Fail(stored.error());
  const std::string reflection_id = stored.value();

  const std::string partner = PartnerLabel(d);
  if (!cli.json && talk.their_reflection.record_id.empty())
    std::printf("reflection saved and sealed: %s reads it once they have written theirs\n",
                partner.c_str());
  else if (!cli.json)
    std::printf("reflection saved: you have both written, so both open at the next sync\n");
  return SyncAfterChange(d, cli, {{"id", crypto::Hex(reflection_id)}});
}

}  // namespace duet::client::cli
