// The talk and availability parts of the fold, as a specification
// (docs/protocol.md §7).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>

#include "client/model/fold.h"
#include "client/model/reflection.h"

namespace duet::model {
namespace {

const std::string kAlice = "alice-key";
const std::string kBob = "bob-key";

// Builds records with ascending relay numbers, as a relay would give them.
class Log {
 public:
  OpenedRecord& Add(const std::string& id, const std::string& author) {
    OpenedRecord record;
    record.record_id = id;
    record.author_key = author;
    record.shared = true;
    record.relay_seq = ++seq_;
    record.body.set_schema(1);
    record.body.set_created_at_ms(static_cast<std::int64_t>(seq_) * 1000);
    records_.push_back(std::move(record));
    return records_.back();
  }
  OpenedRecord& Propose(const std::string& id, const std::string& author,
                        std::vector<std::int64_t> options, std::uint32_t minutes = 20,
                        const std::string& counters = "") {
    auto& r = Add(id, author);
    auto* p = r.body.mutable_talk_proposal();
    for (auto o : options) p->add_options(o);
    p->set_minutes(minutes);
    p->set_time_zone("Europe/Berlin");
    p->set_counters(counters);
    return r;
  }
  OpenedRecord& Accept(const std::string& id, const std::string& author, const std::string& talk,
                       std::uint32_t option) {
    auto& r = Add(id, author);
    r.body.mutable_talk_accept()->set_talk_id(talk);
    r.body.mutable_talk_accept()->set_option(option);
    return r;
  }
  OpenedRecord& Decline(const std::string& id, const std::string& author, const std::string& talk) {
    auto& r = Add(id, author);
    r.body.mutable_talk_decline()->set_talk_id(talk);
    r.body.mutable_talk_decline()->set_note("not this week");
    return r;
  }
  OpenedRecord& Cancel(const std::string& id, const std::string& author, const std::string& talk) {
    auto& r = Add(id, author);
    r.body.mutable_talk_cancel()->set_talk_id(talk);
    return r;
  }
  std::vector<OpenedRecord>& records() { return records_; }
  CoupleState FoldAs(const std::string& me) { return Fold(records_, me); }

 private:
  std::vector<OpenedRecord> records_;
  std::uint64_t seq_ = 0;
};

TalkView Talk(const CoupleState& state, const std::string& id) {
  auto it = std::find_if(state.talks.begin(), state.talks.end(),
                         [&](const TalkView& t) { return t.talk_id == id; });
  if (it == state.talks.end()) throw std::runtime_error("no talk " + id);
  return *it;
}

constexpr std::int64_t kSeven = 1796238000;  // 2026-12-02T18:00Z

TEST(TalkFold, AProposalIsOpenUntilThePartnerAnswers) {
  Log log;
  log.Propose("t1", kAlice, {kSeven, kSeven + 3600});
  auto state = log.FoldAs(kBob);
  ASSERT_EQ(state.talks.size(), 1u);
  EXPECT_EQ(state.talks[0].state, TalkState::kProposed);
  EXPECT_FALSE(state.talks[0].mine);
  EXPECT_TRUE(log.FoldAs(kAlice).talks[0].mine);
}

TEST(TalkFold, AcceptAgreesOnTheChosenOption) {
  Log log;
  log.Propose("t1", kAlice, {kSeven, kSeven + 3600});
  log.Accept("a1", kBob, "t1", 2);
  const auto& talk = Talk(log.FoldAs(kAlice), "t1");
  EXPECT_EQ(talk.state, TalkState::kAgreed);
  EXPECT_EQ(talk.chosen, 2u);
  EXPECT_EQ(talk.start(), kSeven + 3600);
  EXPECT_EQ(talk.end(), kSeven + 3600 + 20 * 60);
  EXPECT_EQ(talk.decided_by, kBob);
}

TEST(TalkFold, TheProposerCannotAcceptTheirOwnProposal) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Accept("a1", kAlice, "t1", 1);
  const auto& talk = Talk(log.FoldAs(kBob), "t1");
  EXPECT_EQ(talk.state, TalkState::kProposed);
  ASSERT_EQ(talk.late.size(), 1u);
  EXPECT_EQ(talk.late[0].what, "accept");
}

TEST(TalkFold, AnOptionTheProposalDoesNotHaveChangesNothing) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Accept("a1", kBob, "t1", 2);
  log.Accept("a2", kBob, "t1", 0);
  EXPECT_EQ(Talk(log.FoldAs(kBob), "t1").state, TalkState::kProposed);
  EXPECT_EQ(Talk(log.FoldAs(kBob), "t1").late.size(), 2u);
}

TEST(TalkFold, AcceptAfterTheProposerCancelledIsALateAnswer) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Cancel("c1", kAlice, "t1");
  log.Accept("a1", kBob, "t1", 1);
  for (const auto& me : {kAlice, kBob}) {
    const auto& talk = Talk(log.FoldAs(me), "t1");
    EXPECT_EQ(talk.state, TalkState::kCancelled);
    ASSERT_EQ(talk.late.size(), 1u);
    EXPECT_EQ(talk.late[0].reason, "the talk was cancelled first");
  }
}

TEST(TalkFold, CancelAfterAnAcceptCancelsTheAgreedTalk) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Accept("a1", kBob, "t1", 1);
  log.Cancel("c1", kAlice, "t1");
  const auto& talk = Talk(log.FoldAs(kBob), "t1");
  EXPECT_EQ(talk.state, TalkState::kCancelled);
  EXPECT_EQ(talk.chosen, 1u) << "the time it had is kept";
}

TEST(TalkFold, EitherPartnerMayCancelAnAgreedTalkButOnlyTheProposerAProposal) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Cancel("c1", kBob, "t1");
  EXPECT_EQ(Talk(log.FoldAs(kBob), "t1").state, TalkState::kProposed);
  log.Accept("a1", kBob, "t1", 1);
  log.Cancel("c2", kBob, "t1");
  EXPECT_EQ(Talk(log.FoldAs(kBob), "t1").state, TalkState::kCancelled);
  EXPECT_EQ(Talk(log.FoldAs(kBob), "t1").decided_by, kBob);
}

TEST(TalkFold, DeclineIsThePartnersAndNeedsNoReason) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Decline("d0", kAlice, "t1");
  EXPECT_EQ(Talk(log.FoldAs(kBob), "t1").state, TalkState::kProposed);
  log.Decline("d1", kBob, "t1");
  const auto& talk = Talk(log.FoldAs(kAlice), "t1");
  EXPECT_EQ(talk.state, TalkState::kDeclined);
  EXPECT_EQ(talk.note, "not this week");
}

TEST(TalkFold, ConcurrentAcceptsOfOverlappingTalksAgreeOnlyTheFirst) {
  // Each proposed a talk at the same time and each accepted the other's
  // before seeing the partner's accept: the relay's order decides.
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Propose("t2", kBob, {kSeven + 600});
  log.Accept("a1", kAlice, "t2", 1);
  log.Accept("a2", kBob, "t1", 1);
  for (const auto& me : {kAlice, kBob}) {
    auto state = log.FoldAs(me);
    EXPECT_EQ(Talk(state, "t2").state, TalkState::kAgreed);
    EXPECT_EQ(Talk(state, "t1").state, TalkState::kProposed);
    ASSERT_EQ(Talk(state, "t1").late.size(), 1u);
    EXPECT_EQ(Talk(state, "t1").late[0].reason, "it overlaps the agreed talk " + crypto::Hex("t2"));
  }
}

TEST(TalkFold, ConcurrentAcceptsOfSeparateTimesAgreeBoth) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Propose("t2", kBob, {kSeven + 86400});
  log.Accept("a1", kAlice, "t2", 1);
  log.Accept("a2", kBob, "t1", 1);
  auto state = log.FoldAs(kAlice);
  EXPECT_EQ(Talk(state, "t1").state, TalkState::kAgreed);
  EXPECT_EQ(Talk(state, "t2").state, TalkState::kAgreed);
}

TEST(TalkFold, TheSameRecordsFoldAlikeWhateverOrderTheyArrivedIn) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Propose("t2", kBob, {kSeven + 600});
  log.Accept("a1", kAlice, "t2", 1);
  log.Accept("a2", kBob, "t1", 1);
  log.Cancel("c1", kBob, "t2");
  auto forward = log.FoldAs(kAlice);
  std::reverse(log.records().begin(), log.records().end());
  auto backward = log.FoldAs(kAlice);
  ASSERT_EQ(forward.talks.size(), backward.talks.size());
  for (std::size_t i = 0; i < forward.talks.size(); ++i) {
    EXPECT_EQ(forward.talks[i].talk_id, backward.talks[i].talk_id);
    EXPECT_EQ(forward.talks[i].state, backward.talks[i].state);
    EXPECT_EQ(forward.talks[i].late.size(), backward.talks[i].late.size());
  }
}

TEST(TalkFold, UnacknowledgedRecordsComeAfterAcknowledgedOnes) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  auto& mine = log.Accept("a1", kBob, "t1", 1);
  mine.relay_seq.reset();  // still in Bob's outbox
  mine.body.set_created_at_ms(1);  // and written with an early clock
  log.Cancel("c1", kAlice, "t1");
  const auto& talk = Talk(log.FoldAs(kBob), "t1");
  EXPECT_EQ(talk.state, TalkState::kCancelled) << "the relay's order counts; the outbox comes last";
  EXPECT_EQ(talk.late.size(), 1u);
}

TEST(TalkFold, AnAnswerNotYetAcknowledgedIsUnsettled) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Accept("a1", kBob, "t1", 1).relay_seq.reset();
  const auto& talk = Talk(log.FoldAs(kBob), "t1");
  EXPECT_EQ(talk.state, TalkState::kAgreed);
  EXPECT_FALSE(talk.settled);
}

// Record ids are 16 bytes; a counter names one.
const std::string kT1 = "talk-00000000001";
const std::string kT2 = "talk-00000000002";

TEST(TalkFold, ACounterReplacesTheOpenProposal) {
  Log log;
  log.Propose(kT1, kAlice, {kSeven});
  log.Propose(kT2, kBob, {kSeven + 3600}, 30, kT1);
  auto state = log.FoldAs(kAlice);
  EXPECT_EQ(Talk(state, kT1).state, TalkState::kCountered);
  EXPECT_EQ(Talk(state, kT1).countered_by, kT2);
  EXPECT_EQ(Talk(state, kT2).state, TalkState::kProposed);
  EXPECT_EQ(Talk(state, kT2).counters, kT1);
  log.Accept("a1", kBob, kT1, 1);
  EXPECT_EQ(Talk(log.FoldAs(kAlice), kT1).state, TalkState::kCountered)
      << "a countered proposal can no longer be accepted";
}

TEST(TalkFold, ACounterToATalkClosedMeanwhileStandsOnItsOwn) {
  Log log;
  log.Propose(kT1, kAlice, {kSeven});
  log.Cancel("c1", kAlice, kT1);
  log.Propose(kT2, kBob, {kSeven + 3600}, 20, kT1);
  auto state = log.FoldAs(kAlice);
  EXPECT_EQ(Talk(state, kT1).state, TalkState::kCancelled);
  EXPECT_EQ(Talk(state, kT2).state, TalkState::kProposed);
}

TEST(TalkFold, BothPartnersFoldTheSameTalks) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Propose("t2", kBob, {kSeven + 600});
  log.Accept("a1", kAlice, "t2", 1);
  log.Accept("a2", kBob, "t1", 1);
  log.Decline("d1", kAlice, "t1");
  auto alice = log.FoldAs(kAlice);
  auto bob = log.FoldAs(kBob);
  ASSERT_EQ(alice.talks.size(), bob.talks.size());
  for (std::size_t i = 0; i < alice.talks.size(); ++i) {
    EXPECT_EQ(alice.talks[i].state, bob.talks[i].state);
    EXPECT_EQ(alice.talks[i].chosen, bob.talks[i].chosen);
    EXPECT_EQ(alice.talks[i].decided_by, bob.talks[i].decided_by);
    EXPECT_EQ(alice.talks[i].late.size(), bob.talks[i].late.size());
    EXPECT_NE(alice.talks[i].mine, bob.talks[i].mine);
  }
}

TEST(TalkFold, PhaseFollowsTheClockForAgreedTalks) {
  Log log;
  log.Propose("t1", kAlice, {kSeven});
  log.Accept("a1", kBob, "t1", 1);
  const auto talk = Talk(log.FoldAs(kBob), "t1");
  EXPECT_EQ(TalkPhase(talk, kSeven - 1), "upcoming");
  EXPECT_EQ(TalkPhase(talk, kSeven), "now");
  EXPECT_EQ(TalkPhase(talk, kSeven + 20 * 60), "held");
}

// Reflections: commit, then reveal.
class ReflectionFold : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init());
    log_.Propose("t1", kAlice, {kSeven});
    log_.Accept("a1", kBob, "t1", 1);
  }
  // Posts a sealed reflection; returns its key, as the author's device keeps it.
  std::string Reflect(const std::string& id, const std::string& author, std::uint32_t felt,
                      const std::string& note) {
    v1::ReflectionContent content;
    content.set_felt(felt);
    content.set_note(note);
    auto sealed = SealReflection(content, "t1", author);
    *log_.Add(id, author).body.mutable_talk_reflection() = sealed.record;
    return std::string(sealed.key.view());
  }
  void Release(const std::string& id, const std::string& author, const std::string& reflection,
               const std::string& key, bool shared = true) {
    auto& r = log_.Add(id, author);
    r.shared = shared;
    if (!shared) r.relay_seq.reset();
    r.body.mutable_reflection_key()->set_reflection_id(reflection);
    r.body.mutable_reflection_key()->set_key(key);
  }
  Log log_;
};

TEST_F(ReflectionFold, APartnersReflectionStaysSealedUntilItsKeyIsReleased) {
  const std::string key = Reflect("r1", kAlice, 4, "felt heard");
  auto bob = Talk(log_.FoldAs(kBob), "t1");
  EXPECT_FALSE(bob.their_reflection.record_id.empty());
  EXPECT_FALSE(bob.their_reflection.readable);
  EXPECT_TRUE(bob.their_reflection.note.empty());
  Release("k1", kAlice, "r1", key);
  bob = Talk(log_.FoldAs(kBob), "t1");
  EXPECT_TRUE(bob.their_reflection.readable);
  EXPECT_TRUE(bob.their_reflection.released);
  EXPECT_EQ(bob.their_reflection.felt, 4u);
  EXPECT_EQ(bob.their_reflection.note, "felt heard");
}

TEST_F(ReflectionFold, MyOwnReflectionOpensWithMyPrivateKeyWithoutReleasingIt) {
  const std::string key = Reflect("r1", kAlice, 3, "a bit tense");
  Release("k1", kAlice, "r1", key, /*shared=*/false);
  const auto alice = Talk(log_.FoldAs(kAlice), "t1");
  EXPECT_TRUE(alice.my_reflection.readable);
  EXPECT_FALSE(alice.my_reflection.released);
  EXPECT_EQ(alice.my_reflection.note, "a bit tense");
}

TEST_F(ReflectionFold, AKeyThatDoesNotMatchTheCommitmentRevealsNothing) {
  Reflect("r1", kAlice, 4, "felt heard");
  const std::string other_key = Reflect("r2", kBob, 2, "other words");
  Release("k1", kAlice, "r1", other_key);
  EXPECT_FALSE(Talk(log_.FoldAs(kBob), "t1").their_reflection.readable);
}

TEST_F(ReflectionFold, OnlyTheAuthorCanReleaseAReflection) {
  const std::string key = Reflect("r1", kAlice, 4, "felt heard");
  Release("k1", kBob, "r1", key);
  EXPECT_FALSE(Talk(log_.FoldAs(kAlice), "t1").my_reflection.released);
  EXPECT_FALSE(Talk(log_.FoldAs(kBob), "t1").their_reflection.readable);
}

TEST_F(ReflectionFold, OnlyTheFirstReflectionOfEachPartnerCounts) {
  Reflect("r1", kAlice, 4, "first");
  Reflect("r2", kAlice, 1, "second thoughts");
  const auto talk = Talk(log_.FoldAs(kBob), "t1");
  EXPECT_EQ(talk.their_reflection.record_id, "r1");
  ASSERT_EQ(talk.late.size(), 1u);
  EXPECT_EQ(talk.late[0].what, "reflection");
}

TEST_F(ReflectionFold, ATalkNotAgreedTakesNoReflection) {
  log_.Propose("t9", kAlice, {kSeven + 86400});
  v1::ReflectionContent content;
  content.set_felt(3);
  *log_.Add("r9", kBob).body.mutable_talk_reflection() = SealReflection(content, "t9", kBob).record;
  const auto talk = Talk(log_.FoldAs(kBob), "t9");
  EXPECT_TRUE(talk.my_reflection.record_id.empty());
  EXPECT_EQ(talk.late.size(), 1u);
}

TEST(Reflection, SealedBytesHoldNoPlaintextAndOpenOnlyForTheirTalkAndAuthor) {
  ASSERT_TRUE(crypto::Init());
  v1::ReflectionContent content;
  content.set_felt(5);
  content.set_note("we laughed a lot");
  auto sealed = SealReflection(content, "talk-1", kAlice);
  EXPECT_EQ(sealed.record.sealed().find("laughed"), std::string::npos);
  const std::string key(sealed.key.view());
  ASSERT_TRUE(OpenReflection(sealed.record, key, kAlice).has_value());
  EXPECT_FALSE(OpenReflection(sealed.record, key, kBob).has_value()) << "claimed by the other partner";
  auto moved = sealed.record;
  moved.set_talk_id("talk-2");
  EXPECT_FALSE(OpenReflection(moved, key, kAlice).has_value()) << "copied onto another talk";
  EXPECT_FALSE(OpenReflection(sealed.record, std::string(32, 'k'), kAlice).has_value());
}

TEST(AvailabilityFold, OnlyTheAuthorCanWithdrawAWindow) {
  Log log;
  auto& w = log.Add("w1", kAlice).body;
  w.mutable_availability()->set_weekdays(0x1f);
  w.mutable_availability()->set_start_minute(19 * 60);
  w.mutable_availability()->set_end_minute(21 * 60);
  w.mutable_availability()->set_time_zone("Europe/Berlin");
  log.Add("x1", kBob).body.mutable_withdraw()->set_target_id("w1");
  auto state = log.FoldAs(kAlice);
  ASSERT_EQ(state.windows.size(), 1u);
  EXPECT_EQ(state.windows[0].window, (WeeklyWindow{0x1f, 19 * 60, 21 * 60}));
  EXPECT_TRUE(state.windows[0].mine);
  log.Add("x2", kAlice).body.mutable_withdraw()->set_target_id("w1");
  EXPECT_TRUE(log.FoldAs(kAlice).windows.empty());
}

}  // namespace
}  // namespace duet::model
