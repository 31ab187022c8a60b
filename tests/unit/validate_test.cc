// The record rules of docs/protocol.md §7.0: every kind, the edges of every
// range, and what a newer duet may send.
#include "client/model/validate.h"

#include <gtest/gtest.h>

#include <climits>

#include "base/utf8.h"
#include "client/model/fold.h"

namespace duet::model {
namespace {

v1::RecordBody Body() {
  v1::RecordBody body;
  body.set_schema(1);
  body.set_created_at_ms(1764700000000);  // 2025-12-02
  return body;
}

v1::RecordBody CheckIn(std::uint32_t mood, std::uint32_t energy = 0, const std::string& note = "") {
  v1::RecordBody body = Body();
  body.mutable_checkin()->set_mood(mood);
  body.mutable_checkin()->set_energy(energy);
  body.mutable_checkin()->set_note(note);
  return body;
}

std::string Problem(const v1::RecordBody& body) {
  const Verdict v = ValidateBody(body);
  EXPECT_EQ(v.validity, Validity::kInvalid);
  return v.problem;
}

TEST(Utf8, AcceptsTextAndRefusesWhatProtobufRefuses) {
  EXPECT_TRUE(IsValidUtf8("plain ASCII"));
  EXPECT_TRUE(IsValidUtf8("Grüße, 東京, 🙂"));
  EXPECT_EQ(FirstInvalidUtf8("bad\xff\xfe"), 3u);
  EXPECT_EQ(FirstInvalidUtf8("\xc0\xaf"), 0u) << "overlong '/'";
  EXPECT_EQ(FirstInvalidUtf8("\xe0\x80\xaf"), 0u) << "overlong, three bytes";
  EXPECT_EQ(FirstInvalidUtf8("a\xed\xa0\x80"), 1u) << "a UTF-16 surrogate";
  EXPECT_EQ(FirstInvalidUtf8("\xf4\x90\x80\x80"), 0u) << "past U+10FFFF";
  EXPECT_EQ(FirstInvalidUtf8("ok\xe2\x82"), 2u) << "cut short";
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf")) << "U+10FFFF itself";
}

TEST(RecordRules, ACheckInWithinTheRulesIsValid) {
  EXPECT_TRUE(ValidateBody(CheckIn(1)).valid());
  EXPECT_TRUE(ValidateBody(CheckIn(5, 5, std::string(kMaxNoteBytes, 'x'))).valid());
}

TEST(RecordRules, ACheckInForWhenThePartnerIsReadyIsSchemaTwoSoOlderReadersShowNothingOfIt) {
  v1::RecordBody body = CheckIn(3);
  body.mutable_checkin()->set_when_ready(true);
  EXPECT_EQ(SchemaFor(body), 2u);
  EXPECT_EQ(SchemaFor(CheckIn(3)), 1u) << "everything else stays readable by older duets";
  EXPECT_EQ(ValidateBody(body).field, "schema") << "schema 1 would let an older duet show it";
  body.set_schema(2);
  EXPECT_TRUE(ValidateBody(body).valid());
  body.set_schema(3);
  EXPECT_EQ(ValidateBody(body).validity, Validity::kNewer);
}

TEST(RecordRules, ACheckInOutsideTheRulesSaysWhichFieldAndWhy) {
  EXPECT_EQ(Problem(CheckIn(9)), "mood 9 is out of range 1-5");
  EXPECT_EQ(Problem(CheckIn(0)), "mood 0 is out of range 1-5");
  EXPECT_EQ(Problem(CheckIn(3, 7)), "energy 7 is out of range 0-5");
  EXPECT_EQ(Problem(CheckIn(3, 0, std::string(5000, 'x'))), "note is 5000 bytes, over the limit of 2000");
  EXPECT_EQ(Problem(CheckIn(3, 0, "bad\xff\xfe")), "note is not valid UTF-8 text (byte 4 of 5)");
  auto need = CheckIn(3);
  need.mutable_checkin()->set_need(static_cast<v1::Need>(9));
  EXPECT_EQ(Problem(need), "need 9 is out of range 0-4");
  EXPECT_EQ(ValidateBody(need).field, "need");
}

TEST(RecordRules, TheTimeWrittenMustBeOneAWorkingClockCouldShow) {
  auto future = CheckIn(3);
  future.set_created_at_ms(13569465600000);  // 2400
  EXPECT_NE(Problem(future).find("written outside"), std::string::npos);
  auto past = CheckIn(3);
  past.set_created_at_ms(0);
  EXPECT_NE(Problem(past).find("written outside"), std::string::npos);
}

TEST(RecordRules, SchemaZeroIsInvalidAndALaterSchemaIsNewer) {
  auto zero = CheckIn(3);
  zero.set_schema(0);
  EXPECT_EQ(ValidateBody(zero).validity, Validity::kInvalid);
  auto later = CheckIn(3);
  later.set_schema(3);
  EXPECT_EQ(ValidateBody(later).validity, Validity::kNewer);
}

TEST(RecordRules, AKindThisVersionDoesNotKnowIsNewerButAnEmptyBodyIsInvalid) {
  auto unknown = Body();
  unknown.GetReflection()->MutableUnknownFields(&unknown)->AddLengthDelimited(99, "a future kind");
  EXPECT_EQ(ValidateBody(unknown).validity, Validity::kNewer);
  EXPECT_EQ(ValidateBody(Body()).validity, Validity::kInvalid);
}

TEST(RecordRules, AnUnknownFieldInAKnownKindIsIgnored) {
  auto body = CheckIn(3);
  auto* checkin = body.mutable_checkin();
  checkin->GetReflection()->MutableUnknownFields(checkin)->AddVarint(15, 1);
  EXPECT_TRUE(ValidateBody(body).valid());
}

TEST(RecordRules, AWindowAcrossMidnightIsValidAndOneOfEqualEndsKeepsItsDayLongMeaning) {
  auto window = [](std::uint32_t start, std::uint32_t end) {
    auto body = Body();
    auto* w = body.mutable_availability();
    w->set_weekdays(0x1f);
    w->set_start_minute(start);
    w->set_end_minute(end);
    w->set_time_zone("Europe/Berlin");
    return body;
  };
  EXPECT_TRUE(ValidateBody(window(19 * 60, 19 * 60)).valid()) << "24 hours from 19:00, as version 1 wrote it";
  EXPECT_TRUE(ValidateBody(window(22 * 60, 7 * 60)).valid()) << "ends the next morning";
  EXPECT_TRUE(ValidateBody(window(0, 1440)).valid()) << "the whole day";
  EXPECT_EQ(Problem(window(0, 1441)), "end minute 1441 is out of range 0-1440");
}

TEST(RecordRules, TalkProposalsKeepTheirLimits) {
  auto talk = Body();
  auto* p = talk.mutable_talk_proposal();
  p->add_options(1800000000);
  p->set_minutes(20);
  p->set_place("walk by the river");
  EXPECT_TRUE(ValidateBody(talk).valid());
  p->add_options(1800000000);
  EXPECT_EQ(Problem(talk), "the same start time is offered twice");
  p->set_options(1, 1800003600);
  p->set_minutes(241);
  EXPECT_EQ(Problem(talk), "minutes 241 is out of range 5-240");
  p->set_minutes(20);
  p->set_topic(std::string(201, 't'));
  EXPECT_EQ(Problem(talk), "topic is 201 bytes, over the limit of 200");
}

TEST(RecordRules, EveryTextFieldMustBeUtf8) {
  const std::string bad = "\xc3\x28";
  auto thanks = Body();
  thanks.mutable_thanks()->set_text(bad);
  EXPECT_EQ(ValidateBody(thanks).field, "text");
  auto boundary = Body();
  boundary.mutable_boundary_proposal()->set_kind(v1::BOUNDARY_KIND_GENERAL);
  boundary.mutable_boundary_proposal()->set_text(bad);
  EXPECT_EQ(ValidateBody(boundary).field, "text");
  auto decline = Body();
  decline.mutable_talk_decline()->set_talk_id(std::string(16, 't'));
  decline.mutable_talk_decline()->set_note(bad);
  EXPECT_EQ(ValidateBody(decline).field, "note");
  auto talk = Body();
  talk.mutable_talk_proposal()->add_options(1800000000);
  talk.mutable_talk_proposal()->set_minutes(20);
  talk.mutable_talk_proposal()->set_place(bad);
  EXPECT_EQ(ValidateBody(talk).field, "place");
  auto ready = Body();
  ready.mutable_readiness()->set_state(v1::READINESS_STATE_LATER);
  ready.mutable_readiness()->set_note(bad);
  EXPECT_EQ(ValidateBody(ready).field, "note");
}

TEST(RecordRules, IdsAndKeysHaveExactLengths) {
  auto accept = Body();
  accept.mutable_boundary_accept()->set_version_id(std::string(16, 'v'));
  accept.mutable_boundary_accept()->set_version_hash(std::string(31, 'h'));
  EXPECT_EQ(Problem(accept), "version hash is 31 bytes, not 32");
  auto rekey = Body();
  rekey.mutable_rekey()->set_key_id(std::string(8, 'k'));
  rekey.mutable_rekey()->set_sealed_key(std::string(80, 's'));
  EXPECT_TRUE(ValidateBody(rekey).valid());
}

TEST(RecordRules, BusyDaysMustBeOnTheCalendar) {
  auto busy = Body();
  busy.mutable_busy()->set_date("2026-02-29");
  busy.mutable_busy()->set_end_minute(1440);
  busy.mutable_busy()->set_time_zone("UTC");
  EXPECT_EQ(ValidateBody(busy).field, "date") << "2026 is not a leap year";
  busy.mutable_busy()->set_date("2028-02-29");
  EXPECT_TRUE(ValidateBody(busy).valid());
}

v1::RecordBody Proposal(std::vector<std::int64_t> options, std::uint32_t minutes = 20) {
  v1::RecordBody body = Body();
  auto* p = body.mutable_talk_proposal();
  for (auto o : options) p->add_options(o);
  p->set_minutes(minutes);
  p->set_time_zone("Europe/Berlin");
  return body;
}

TEST(RecordRules, MalformedTalkProposalsAreInvalid) {
  const std::int64_t seven = 1800000000;
  EXPECT_FALSE(ValidateBody(Proposal({seven, seven + 1, seven + 2, seven + 3})).valid()) << "four";
  EXPECT_FALSE(ValidateBody(Proposal({})).valid()) << "none";
  EXPECT_FALSE(ValidateBody(Proposal({seven, seven})).valid()) << "the same twice";
  EXPECT_FALSE(ValidateBody(Proposal({seven}, 4)).valid()) << "too short";
  EXPECT_FALSE(ValidateBody(Proposal({seven}, 241)).valid()) << "too long";
  EXPECT_TRUE(ValidateBody(Proposal({seven}, 240)).valid());
  auto counters = Proposal({seven});
  counters.mutable_talk_proposal()->set_counters("short");
  EXPECT_FALSE(ValidateBody(counters).valid());
}

TEST(RecordRules, TalkTimesOutsideTheYears2000To2400AreInvalidSoNothingOverflows) {
  EXPECT_FALSE(ValidateBody(Proposal({INT64_MAX - 100})).valid());
  EXPECT_FALSE(ValidateBody(Proposal({INT64_MIN + 100})).valid());
  EXPECT_FALSE(ValidateBody(Proposal({kEarliestTalk - 1})).valid());
  EXPECT_TRUE(ValidateBody(Proposal({kLatestTalk})).valid()) << "the edge itself";
  auto ready = Body();
  ready.mutable_readiness()->set_state(v1::READINESS_STATE_NOT_NOW);
  ready.mutable_readiness()->set_until(INT64_MAX);
  EXPECT_FALSE(ValidateBody(ready).valid());
  ready.mutable_readiness()->set_until(-5);
  EXPECT_FALSE(ValidateBody(ready).valid());
  ready.mutable_readiness()->set_until(0);
  EXPECT_TRUE(ValidateBody(ready).valid()) << "until changed";
}

TEST(RecordRules, NotesOverTheirLimitAreInvalid) {
  auto decline = Body();
  decline.mutable_talk_decline()->set_talk_id(std::string(16, 't'));
  decline.mutable_talk_decline()->set_note(std::string(kMaxNoteBytes, 'x'));
  EXPECT_TRUE(ValidateBody(decline).valid());
  decline.mutable_talk_decline()->set_note(std::string(kMaxNoteBytes + 1, 'x'));
  EXPECT_EQ(Problem(decline), "note is 2001 bytes, over the limit of 2000");
  auto retire = Body();
  retire.mutable_boundary_retire()->set_boundary_id(std::string(16, 'b'));
  retire.mutable_boundary_retire()->set_note(std::string(kMaxNoteBytes + 1, 'x'));
  EXPECT_FALSE(ValidateBody(retire).valid());
  auto thanks = Body();
  thanks.mutable_thanks()->set_text(std::string(501, 'x'));
  EXPECT_FALSE(ValidateBody(thanks).valid());
  thanks.mutable_thanks()->set_text("");
  EXPECT_EQ(Problem(thanks), "text is empty");
  auto prompt = Body();
  prompt.mutable_prompt_share()->set_prompt_id("light-02");
  EXPECT_FALSE(ValidateBody(prompt).valid()) << "a prompt without its words";
}

TEST(RecordRules, AReflectionThatCommitsToNothingIsInvalidSoItDrawsOutNoKey) {
  auto reflection = Body();
  auto* r = reflection.mutable_talk_reflection();
  r->set_talk_id(std::string(16, 't'));
  EXPECT_FALSE(ValidateBody(reflection).valid()) << "nothing sealed, no commitment";
  r->set_commitment(std::string(32, 'c'));
  r->set_sealed(std::string(40 + 256, 's'));
  EXPECT_TRUE(ValidateBody(reflection).valid());
  r->set_sealed(std::string(40 + 255, 's'));
  EXPECT_FALSE(ValidateBody(reflection).valid()) << "not a padded block";
}

TEST(RecordRules, MalformedBoundaryVersionsAreInvalid) {
  auto version = [](const std::string& text, v1::BoundaryKind kind = v1::BOUNDARY_KIND_GENERAL) {
    auto body = Body();
    body.mutable_boundary_proposal()->set_kind(kind);
    body.mutable_boundary_proposal()->set_text(text);
    return body;
  };
  EXPECT_TRUE(ValidateBody(version("No phones at dinner")).valid());
  EXPECT_EQ(Problem(version("")), "text is empty");
  EXPECT_FALSE(ValidateBody(version(std::string(501, 'x'))).valid());
  EXPECT_EQ(Problem(version("Quiet", v1::BOUNDARY_KIND_QUIET_HOURS)), "quiet hours need a window");
  auto windowed = version("General");
  windowed.mutable_boundary_proposal()->mutable_quiet()->set_weekdays(1);
  EXPECT_EQ(Problem(windowed), "only quiet hours carry a window");
  auto half = version("Half an answer");
  half.mutable_boundary_proposal()->set_boundary_id(std::string(16, 'b'));
  EXPECT_FALSE(ValidateBody(half).valid()) << "names its boundary but not the version it replaces";
  EXPECT_FALSE(ValidateBody(version("Kind 9", static_cast<v1::BoundaryKind>(9))).valid());
}

TEST(RecordRules, OutOfRangeWindowsAndBusyTimesAreInvalid) {
  auto window = [](std::uint32_t days, std::uint32_t start, std::uint32_t end) {
    auto body = Body();
    auto* w = body.mutable_availability();
    w->set_weekdays(days);
    w->set_start_minute(start);
    w->set_end_minute(end);
    w->set_time_zone("UTC");
    return ValidateBody(body).valid();
  };
  EXPECT_FALSE(window(0, 60, 120)) << "no days";
  EXPECT_FALSE(window(128, 60, 120)) << "too many days";
  EXPECT_FALSE(window(1, 1440, 60)) << "starts at the end of the day";
  EXPECT_FALSE(window(1, 60, 1441));
  EXPECT_TRUE(window(1, 1380, 60)) << "crosses midnight";
  auto busy = [](const std::string& date, std::uint32_t start, std::uint32_t end) {
    auto body = Body();
    auto* b = body.mutable_busy();
    b->set_date(date);
    b->set_start_minute(start);
    b->set_end_minute(end);
    b->set_time_zone("UTC");
    return ValidateBody(body).valid();
  };
  EXPECT_FALSE(busy("2026-13-01", 0, 1440)) << "month 13";
  EXPECT_FALSE(busy("2026-12-24", 600, 500)) << "backwards";
  EXPECT_FALSE(busy("2026-12-24", 0, 0)) << "empty";
  EXPECT_TRUE(busy("2026-12-24", 0, 1440));
}

TEST(RecordRules, AReflectionsWordsKeepTheirRulesToo) {
  v1::ReflectionContent content;
  content.set_felt(4);
  content.set_note("we laughed");
  EXPECT_TRUE(ValidateReflection(content).valid());
  content.set_note("bad\xff");
  EXPECT_EQ(ValidateReflection(content).field, "note");
  content.set_note("");
  content.set_felt(6);
  EXPECT_EQ(ValidateReflection(content).problem, "felt 6 is out of range 1-5");
}

TEST(RecordRules, ABodyThatDoesNotParseIsNewerWhenItsHeaderSaysSo) {
  EXPECT_EQ(UnreadableBody(1).validity, Validity::kInvalid);
  EXPECT_EQ(UnreadableBody(3).validity, Validity::kNewer);
}

TEST(RecordRules, AnUnshownRecordIsDescribedWithItsAuthorsNumber) {
  auto body = CheckIn(9);
  body.set_author_seq(12);
  EXPECT_EQ(DescribeUnshown(body, ValidateBody(body), "Bob", true),
            "an invalid check-in from Bob (their record #12: mood 9 is out of range 1-5); it is kept but not "
            "shown");
  body.set_schema(3);
  EXPECT_EQ(DescribeUnshown(body, ValidateBody(body), "Bob", true),
            "a record from Bob (their record #12) is from a newer duet; update duet to read it");
}

}  // namespace
}  // namespace duet::model

namespace duet::model {
namespace {

TEST(ValidateBody, ASharedLaterCheckinKeepsTheCheckinRulesAndItsTimes) {
  v1::RecordBody body;
  body.set_schema(1);
  body.set_created_at_ms(1764700000000);
  auto* later = body.mutable_shared_later();
  later->set_kept_id(std::string(16, 'k'));
  later->mutable_checkin()->set_mood(3);
  later->set_written_at_ms(1764600000000);
  EXPECT_TRUE(ValidateBody(body).valid());
  later->set_written_at_ms(1764800000000);
  EXPECT_EQ(ValidateBody(body).field, "time written") << "written after it was shared";
  later->set_written_at_ms(1764600000000);
  later->mutable_checkin()->set_mood(6);
  EXPECT_EQ(ValidateBody(body).field, "mood");
  later->mutable_checkin()->set_mood(3);
  later->mutable_checkin()->set_note("here");
  later->set_note_kept(true);
  EXPECT_EQ(ValidateBody(body).field, "note");
  later->set_note_kept(false);
  later->set_kept_id("short");
  EXPECT_EQ(ValidateBody(body).field, "kept check-in");
}

}  // namespace
}  // namespace duet::model
