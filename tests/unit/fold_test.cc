#include "client/model/fold.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace duet::model {
namespace {

OpenedRecord Checkin(const std::string& id, const std::string& author, std::int64_t at, int mood) {
  OpenedRecord record;
  record.record_id = id;
  record.author_key = author;
  record.shared = true;
  record.body.set_schema(1);
  record.body.set_created_at_ms(at);
  record.body.mutable_checkin()->set_mood(static_cast<std::uint32_t>(mood));
  return record;
}

TEST(Fold, OrderDoesNotDependOnArrival) {
  std::vector<OpenedRecord> records = {Checkin("r3", "me", 300, 3), Checkin("r1", "you", 100, 1),
                                       Checkin("r2", "me", 200, 2), Checkin("r0", "you", 200, 5)};
  auto a = Fold(records, "me");
  std::reverse(records.begin(), records.end());
  auto b = Fold(records, "me");
  ASSERT_EQ(a.checkins.size(), 4u);
  for (std::size_t i = 0; i < a.checkins.size(); ++i)
    EXPECT_EQ(a.checkins[i].record_id, b.checkins[i].record_id);
  EXPECT_EQ(a.checkins[0].record_id, "r1");
  EXPECT_EQ(a.checkins[1].record_id, "r0") << "same time: record id breaks the tie";
  EXPECT_EQ(a.checkins[3].record_id, "r3");
}

TEST(Fold, MarksWhoseCheckinItIsAndCountsDuplicatesOnce) {
  auto state = Fold({Checkin("r1", "me", 1, 4), Checkin("r1", "me", 1, 4), Checkin("r2", "you", 2, 2)},
                    "me");
  ASSERT_EQ(state.checkins.size(), 2u);
  EXPECT_TRUE(state.checkins[0].mine);
  EXPECT_FALSE(state.checkins[1].mine);
  EXPECT_EQ(state.checkins[1].mood, 2u);
}

TEST(Fold, SyncedFollowsTheRelaySequence) {
  auto queued = Checkin("r1", "me", 1, 4);
  auto acked = Checkin("r2", "me", 2, 4);
  acked.relay_seq = 7;
  auto state = Fold({queued, acked}, "me");
  EXPECT_FALSE(state.checkins[0].synced);
  EXPECT_TRUE(state.checkins[1].synced);
}

TEST(Fold, ARecordThatIsNotValidIsKeptOutOfEveryView) {
  auto invalid = Checkin("r1", "you", 1, 9);
  invalid.verdict = ValidateBody(invalid.body);
  ASSERT_EQ(invalid.verdict.validity, Validity::kInvalid);
  auto newer = Checkin("r2", "you", 2, 3);
  newer.verdict = {Validity::kNewer, "schema", "from a newer duet"};
  auto valid = Checkin("r3", "you", 3, 3);
  const std::vector<OpenedRecord> records = {invalid, newer, valid};
  ASSERT_EQ(FoldOrder(records).size(), 1u);
  auto state = Fold(records, "me");
  ASSERT_EQ(state.checkins.size(), 1u);
  EXPECT_EQ(state.checkins[0].record_id, "r3");
}

TEST(Fold, NeedNamesRoundTrip) {
  for (auto need : {v1::NEED_LISTEN, v1::NEED_SUPPORT, v1::NEED_SPACE, v1::NEED_ADVICE})
    EXPECT_EQ(ParseNeed(NeedName(need)), need);
  EXPECT_FALSE(ParseNeed("hugs").has_value());
}

}  // namespace
}  // namespace duet::model

namespace duet::model {
namespace {

OpenedRecord SharedLaterOf(const std::string& id, const std::string& author, const std::string& kept_id,
                           std::int64_t written, std::int64_t shared_at, std::uint64_t relay_seq) {
  OpenedRecord record;
  record.record_id = id;
  record.author_key = author;
  record.shared = true;
  record.relay_seq = relay_seq;
  record.body.set_schema(1);
  record.body.set_created_at_ms(shared_at);
  auto* later = record.body.mutable_shared_later();
  later->set_kept_id(kept_id);
  later->mutable_checkin()->set_mood(2);
  later->set_written_at_ms(written);
  return record;
}

TEST(Fold, AKeptCheckinSharedLaterIsListedOnceAtItsTimeAndOnlyTheFirstShareCounts) {
  // The partner's view: listed at the time written; a second share of the
  // same kept check-in (a replay, a double click on another device) adds nothing.
  auto theirs = Fold({SharedLaterOf("s1", "you", "k1", 100, 900, 1), SharedLaterOf("s2", "you", "k1", 100, 950, 2),
                      Checkin("c1", "you", 500, 4)},
                     "me");
  ASSERT_EQ(theirs.checkins.size(), 2u);
  EXPECT_EQ(theirs.checkins[0].record_id, "s1");
  EXPECT_EQ(theirs.checkins[0].created_at_ms, 100);
  EXPECT_EQ(theirs.checkins[0].shared_later_at_ms, 900);

  // The author's view: the kept one (never acknowledged, so last in fold
  // order) is marked shared, not listed twice.
  OpenedRecord kept = Checkin("k1", "me", 100, 2);
  kept.shared = false;
  kept.body.mutable_checkin()->set_note("all of it");
  auto mine = Fold({SharedLaterOf("s1", "me", "k1", 100, 900, 1), kept}, "me");
  ASSERT_EQ(mine.checkins.size(), 1u);
  EXPECT_EQ(mine.checkins[0].record_id, "k1");
  EXPECT_EQ(mine.checkins[0].note, "all of it");
  EXPECT_TRUE(mine.checkins[0].shared);
  EXPECT_EQ(mine.checkins[0].shared_later_at_ms, 900);
}

}  // namespace
}  // namespace duet::model
