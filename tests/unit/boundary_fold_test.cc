// The boundary state machine (docs/protocol.md §7.4), readiness, thanks and
// shared prompts, as a specification.
#include <gtest/gtest.h>

#include <climits>

#include "client/model/fold.h"
#include "crypto/crypto.h"

namespace duet::model {
namespace {

const std::string kAlice = "alice-key";
const std::string kBob = "bob-key";

// Record ids are 16 bytes, as the boundary hash expects.
std::string Id(std::string name) {
  name.resize(16, '.');
  return name;
}

class Log {
 public:
  OpenedRecord& Add(const std::string& name, const std::string& author) {
    OpenedRecord r;
    r.record_id = Id(name);
    r.author_key = author;
    r.shared = true;
    r.relay_seq = ++seq_;
    r.body.set_created_at_ms(static_cast<std::int64_t>(seq_) * 1000);
    records_.push_back(std::move(r));
    return records_.back();
  }
  v1::BoundaryProposal& Propose(const std::string& name, const std::string& author,
                                const std::string& text, const std::string& boundary = "",
                                const std::string& replaces = "") {
    auto* p = Add(name, author).body.mutable_boundary_proposal();
    p->set_kind(v1::BOUNDARY_KIND_GENERAL);
    p->set_text(text);
    if (!boundary.empty()) p->set_boundary_id(Id(boundary));
    if (!replaces.empty()) p->set_replaces(Id(replaces));
    return *p;
  }
  // Accepts the version as it reads in the log (the hash over its words).
  void Accept(const std::string& name, const std::string& author, const std::string& boundary,
              const std::string& version) {
    std::string hash;
    for (const auto& r : records_)
      if (r.record_id == Id(version)) hash = BoundaryVersionHash(Id(boundary), Id(version), r.body.boundary_proposal());
    auto* a = Add(name, author).body.mutable_boundary_accept();
    a->set_version_id(Id(version));
    a->set_version_hash(hash);
  }
  void Decline(const std::string& name, const std::string& author, const std::string& version) {
    Add(name, author).body.mutable_boundary_decline()->set_version_id(Id(version));
  }
  void Retire(const std::string& name, const std::string& author, const std::string& boundary) {
    Add(name, author).body.mutable_boundary_retire()->set_boundary_id(Id(boundary));
  }
  BoundaryView Boundary(const std::string& me = kAlice) {
    auto state = Fold(records_, me);
    if (state.boundaries.size() != 1) throw std::runtime_error("expected one boundary");
    return state.boundaries[0];
  }
  std::vector<OpenedRecord>& records() { return records_; }

 private:
  std::vector<OpenedRecord> records_;
  std::uint64_t seq_ = 0;
};

class BoundaryFold : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::Init()); }
  Log log_;
};

TEST_F(BoundaryFold, AProposalIsPendingUntilThePartnerAnswers) {
  log_.Propose("b1", kAlice, "No phones at dinner");
  auto b = log_.Boundary(kBob);
  EXPECT_EQ(b.state(), BoundaryState::kProposed);
  EXPECT_FALSE(b.mine);
  EXPECT_EQ(b.current().text, "No phones at dinner");
  EXPECT_EQ(b.history.size(), 1u);
}

TEST_F(BoundaryFold, AcceptingTheExactVersionAgreesIt) {
  log_.Propose("b1", kAlice, "No phones at dinner");
  log_.Accept("a1", kBob, "b1", "b1");
  auto b = log_.Boundary();
  EXPECT_EQ(b.state(), BoundaryState::kAgreed);
  EXPECT_EQ(b.versions[0].status, VersionStatus::kAgreed);
  EXPECT_EQ(b.versions[0].answered_by, kBob);
  ASSERT_EQ(b.history.size(), 2u);
  EXPECT_EQ(b.history[1].what, "accepted");
}

TEST_F(BoundaryFold, AnAcceptSigningOtherWordsChangesNothing) {
  log_.Propose("b1", kAlice, "No phones at dinner");
  auto* a = log_.Add("a1", kBob).body.mutable_boundary_accept();
  a->set_version_id(Id("b1"));
  v1::BoundaryProposal other;
  other.set_kind(v1::BOUNDARY_KIND_GENERAL);
  other.set_text("No phones at breakfast");
  a->set_version_hash(BoundaryVersionHash(Id("b1"), Id("b1"), other));
  auto b = log_.Boundary();
  EXPECT_EQ(b.state(), BoundaryState::kProposed);
  ASSERT_EQ(b.late.size(), 1u);
  EXPECT_EQ(b.late[0].reason, "it signed other words than the proposal's");
}

TEST_F(BoundaryFold, TheProposerCannotAcceptTheirOwnVersion) {
  log_.Propose("b1", kAlice, "No phones at dinner");
  log_.Accept("a1", kAlice, "b1", "b1");
  EXPECT_EQ(log_.Boundary().state(), BoundaryState::kProposed);
  EXPECT_EQ(log_.Boundary().late.size(), 1u);
}

TEST_F(BoundaryFold, DeclineWithoutAnAgreedVersionLeavesItDeclined) {
  log_.Propose("b1", kAlice, "No phones at dinner");
  log_.Decline("d1", kBob, "b1");
  auto b = log_.Boundary();
  EXPECT_EQ(b.state(), BoundaryState::kDeclined);
  EXPECT_EQ(b.versions[0].status, VersionStatus::kDeclined);
}

TEST_F(BoundaryFold, ACounterIsANewVersionAndTheOldOneCanNoLongerBeAccepted) {
  log_.Propose("b1", kAlice, "No phones at dinner");
  log_.Propose("v2", kBob, "No phones at dinner on weekdays", "b1", "b1");
  log_.Accept("a1", kBob, "b1", "b1");  // stale: Bob countered it already
  auto b = log_.Boundary();
  EXPECT_EQ(b.state(), BoundaryState::kProposed);
  ASSERT_EQ(b.versions.size(), 2u);
  EXPECT_EQ(b.versions[0].status, VersionStatus::kCountered);
  EXPECT_EQ(b.versions[1].status, VersionStatus::kPending);
  ASSERT_EQ(b.late.size(), 1u);
  EXPECT_EQ(b.late[0].reason, "that version was countered first");
  log_.Accept("a3", kAlice, "b1", "v2");
  b = log_.Boundary();
  EXPECT_EQ(b.state(), BoundaryState::kAgreed);
  EXPECT_EQ(b.current().text, "No phones at dinner on weekdays");
  EXPECT_EQ(b.history[1].what, "countered");
}

TEST_F(BoundaryFold, ConcurrentCountersLetTheFirstStand) {
  log_.Propose("b1", kAlice, "Ask before sharing our photos");
  log_.Propose("v2", kBob, "Ask before sharing photos of me", "b1", "b1");
  log_.Propose("v3", kAlice, "Ask before sharing any photos", "b1", "b1");
  auto b = log_.Boundary();
  ASSERT_EQ(b.versions.size(), 2u) << "the second answer to the same version is late";
  EXPECT_EQ(b.current().text, "Ask before sharing photos of me");
  ASSERT_EQ(b.late.size(), 1u);
  EXPECT_EQ(b.late[0].reason, "a newer version was proposed first");
}

TEST_F(BoundaryFold, ARevisionKeepsTheAgreedVersionUntilItIsAccepted) {
  log_.Propose("b1", kAlice, "No work talk after 21:00");
  log_.Accept("a1", kBob, "b1", "b1");
  log_.Propose("v2", kBob, "No work talk after 20:00", "b1", "b1");
  auto b = log_.Boundary();
  EXPECT_EQ(b.state(), BoundaryState::kAgreed);
  EXPECT_EQ(b.current().text, "No work talk after 21:00");
  EXPECT_EQ(b.versions[1].status, VersionStatus::kPending);
  EXPECT_EQ(b.history.back().what, "revised");
  log_.Decline("d1", kAlice, "v2");
  EXPECT_EQ(log_.Boundary().current().text, "No work talk after 21:00") << "declining a revision keeps the old";
  log_.Propose("v3", kBob, "No work talk after 20:30", "b1", "b1");
  log_.Accept("a2", kAlice, "b1", "v3");
  b = log_.Boundary();
  EXPECT_EQ(b.current().text, "No work talk after 20:30");
  EXPECT_EQ(b.versions[0].status, VersionStatus::kSuperseded);
}

TEST_F(BoundaryFold, AnAuthorMayReviseTheirOwnPendingVersion) {
  log_.Propose("b1", kAlice, "Knock first");
  log_.Propose("v2", kAlice, "Knock first, please", "b1", "b1");
  auto b = log_.Boundary();
  EXPECT_EQ(b.versions[0].status, VersionStatus::kWithdrawn);
  EXPECT_EQ(b.current().text, "Knock first, please");
}

TEST_F(BoundaryFold, OnlyTheProposerRetiresAndRetiringEndsEveryAnswer) {
  log_.Propose("b1", kAlice, "Ask before sharing our photos");
  log_.Retire("r0", kBob, "b1");
  EXPECT_EQ(log_.Boundary().state(), BoundaryState::kProposed);
  log_.Propose("v2", kBob, "Ask before sharing photos of me", "b1", "b1");
  log_.Retire("r1", kAlice, "b1");  // during Bob's counter
  log_.Accept("a1", kAlice, "b1", "v2");
  log_.Propose("v3", kBob, "another", "b1", "v2");
  auto b = log_.Boundary();
  EXPECT_EQ(b.state(), BoundaryState::kRetired);
  EXPECT_EQ(b.late.back().reason, "the boundary was retired first");
  EXPECT_EQ(b.history.back().what, "retired");
}

TEST_F(BoundaryFold, AVersionOfAnUnknownBoundaryChangesNothing) {
  log_.Propose("orphan", kBob, "Answers nothing", "nothere", "nothere");
  EXPECT_TRUE(Fold(log_.records(), kAlice).boundaries.empty());
}

TEST_F(BoundaryFold, BothPartnersFoldTheSameHistory) {
  log_.Propose("b1", kAlice, "One");
  log_.Propose("v2", kBob, "Two", "b1", "b1");
  log_.Propose("v3", kAlice, "Three", "b1", "b1");
  log_.Accept("a1", kAlice, "b1", "v2");
  auto alice = log_.Boundary(kAlice);
  auto bob = log_.Boundary(kBob);
  EXPECT_TRUE(alice.mine);
  EXPECT_FALSE(bob.mine);
  EXPECT_EQ(alice.state(), bob.state());
  EXPECT_EQ(alice.agreed, bob.agreed);
  ASSERT_EQ(alice.versions.size(), bob.versions.size());
  for (std::size_t i = 0; i < alice.versions.size(); ++i)
    EXPECT_EQ(alice.versions[i].status, bob.versions[i].status);
  EXPECT_EQ(alice.late.size(), bob.late.size());
}

TEST_F(BoundaryFold, TheVersionHashIsTheSpecsBytes) {
  // docs/protocol.md §7.4, assembled by hand.
  v1::BoundaryProposal p;
  p.set_kind(v1::BOUNDARY_KIND_QUIET_HOURS);
  p.set_text("Quiet");
  p.mutable_quiet()->set_weekdays(0x1f);
  p.mutable_quiet()->set_start_minute(1320);
  p.mutable_quiet()->set_end_minute(420);
  p.mutable_quiet()->set_time_zone("UTC");
  std::string bytes = "duet/v1/boundary" + Id("b1") + Id("v2");
  bytes += std::string("\x04", 1);
  bytes += std::string("\0\0\0\x1f", 4) + std::string("\0\0\x05\x28", 4) + std::string("\0\0\x01\xa4", 4);
  bytes += std::string("\0\0\0\x03", 4) + "UTC" + std::string("\0\0\0\x05", 4) + "Quiet";
  EXPECT_EQ(BoundaryVersionHash(Id("b1"), Id("v2"), p), crypto::Hash(32, bytes));
  auto other_zone = p;
  other_zone.mutable_quiet()->set_time_zone("CET");
  EXPECT_NE(BoundaryVersionHash(Id("b1"), Id("v2"), other_zone), BoundaryVersionHash(Id("b1"), Id("v2"), p));
  auto other_hours = p;
  other_hours.mutable_quiet()->set_end_minute(480);
  EXPECT_NE(BoundaryVersionHash(Id("b1"), Id("v2"), other_hours), BoundaryVersionHash(Id("b1"), Id("v2"), p));
}

TEST_F(BoundaryFold, AnswersOnlyTheVersionWaitingAndOnlyOnce) {
  log_.Propose("b1", kAlice, "One");
  log_.Decline("d0", kAlice, "b1");  // her own version
  log_.Accept("a1", kBob, "b1", "b1");
  log_.Propose("v2", kBob, "Two", "b1", "b1");  // a revision, pending
  log_.Accept("a2", kBob, "b1", "b1");          // the agreed one, not the one waiting
  log_.Retire("r1", kAlice, "b1");
  log_.Retire("r2", kAlice, "b1");
  log_.Decline("d1", kAlice, "v2");
  auto b = log_.Boundary();
  EXPECT_EQ(b.state(), BoundaryState::kRetired);
  ASSERT_EQ(b.late.size(), 4u);
  EXPECT_EQ(b.late[0].reason, "a version is answered by the partner, not its author");
  EXPECT_EQ(b.late[1].reason, "that version was agreed first");
  EXPECT_EQ(b.late[2].reason, "the boundary was retired first");
  EXPECT_EQ(b.late[3].reason, "the boundary was retired first");
}

TEST(Readiness, TheLatestCountsAndLapsesAtUntil) {
  std::vector<OpenedRecord> records(2);
  for (int i = 0; i < 2; ++i) {
    records[i].record_id = Id(std::string(1, 'r').append(std::to_string(i)));
    records[i].author_key = kBob;
    records[i].shared = true;
    records[i].relay_seq = i + 1;
  }
  records[0].body.mutable_readiness()->set_state(v1::READINESS_STATE_READY);
  records[1].body.mutable_readiness()->set_state(v1::READINESS_STATE_NOT_NOW);
  records[1].body.mutable_readiness()->set_until(kEarliestTalk + 1000);
  records[1].body.mutable_readiness()->set_note("long day");
  auto state = Fold(records, kAlice);
  ASSERT_TRUE(state.their_readiness.has_value());
  EXPECT_FALSE(state.my_readiness.has_value());
  EXPECT_EQ(state.their_readiness->state, v1::READINESS_STATE_NOT_NOW);
  EXPECT_TRUE(ReadinessAt(state.their_readiness, kEarliestTalk + 999).has_value());
  EXPECT_FALSE(ReadinessAt(state.their_readiness, kEarliestTalk + 1000).has_value()) << "lapsed at until";
  EXPECT_EQ(ReadinessName(v1::READINESS_STATE_NOT_NOW), "not now");
}

TEST(SmallShares, ThanksAndPromptsAreKeptInOrderAndBadOnesDropped) {
  std::vector<OpenedRecord> records(4);
  for (int i = 0; i < 4; ++i) {
    records[i].record_id = Id(std::string(1, 't').append(std::to_string(i)));
    records[i].author_key = i % 2 ? kBob : kAlice;
    records[i].shared = true;
    records[i].relay_seq = i + 1;
  }
  records[0].body.mutable_thanks()->set_text("for the tea");
  records[1].body.mutable_thanks()->set_text(std::string(501, 'x'));
  records[1].verdict = ValidateBody(records[1].body);  // as opening it would judge it
  records[2].body.mutable_prompt_share()->set_prompt_id("light-01");
  records[2].body.mutable_prompt_share()->set_text("What made you smile today?");
  records[3].body.mutable_prompt_share()->set_prompt_id("light-02");
  records[3].verdict = ValidateBody(records[3].body);
  ASSERT_FALSE(records[1].verdict.valid());
  ASSERT_FALSE(records[3].verdict.valid());
  auto state = Fold(records, kAlice);
  ASSERT_EQ(state.thanks.size(), 1u);
  EXPECT_EQ(state.thanks[0].text, "for the tea");
  EXPECT_TRUE(state.thanks[0].mine);
  ASSERT_EQ(state.prompts.size(), 1u);
  EXPECT_EQ(state.prompts[0].prompt_id, "light-01");
}

TEST(BoundaryKinds, NamesRoundTrip) {
  for (auto kind : {v1::BOUNDARY_KIND_GENERAL, v1::BOUNDARY_KIND_PRIVACY, v1::BOUNDARY_KIND_TOPIC,
                    v1::BOUNDARY_KIND_QUIET_HOURS})
    EXPECT_EQ(ParseBoundaryKind(BoundaryKindName(kind)), kind);
  EXPECT_FALSE(ParseBoundaryKind("quiet").has_value());
}

}  // namespace
}  // namespace duet::model
