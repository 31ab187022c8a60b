// Which deletions count, and what the fold leaves out (docs/protocol.md §7.8).
#include "client/model/deletion.h"

#include <gtest/gtest.h>

#include "client/model/validate.h"
#include "tests/unit/opened_record.h"

namespace duet::model {
namespace {

const std::string kMe = "me-key", kPartner = "partner-key";


OpenedRecord CheckIn(const std::string& id, std::uint64_t seq, const std::string& note) {
  v1::RecordBody body;
  body.mutable_checkin()->set_mood(3);
  body.mutable_checkin()->set_note(note);
  return MakeRecord(id, kPartner, seq, body);
}

OpenedRecord DeletionRecord(const std::string& id, const std::string& author, std::uint64_t seq,
                            const OpenedRecord& target) {
  OpenedRecord r = MakeRecord(id, author, seq, DeletionOf(target));
  return r;
}

TEST(Deletion, TheAuthorsDeletionDropsTheRecordFromTheFold) {
  std::vector<OpenedRecord> records = {CheckIn(std::string(16, 'a'), 1, "regretted"),
                                       CheckIn(std::string(16, 'b'), 2, "kept")};
  records.push_back(DeletionRecord(std::string(16, 'd'), kPartner, 3, records[0]));
  ASSERT_TRUE(records.back().verdict.valid()) << records.back().verdict.problem;
  auto deleted = Deletions(records);
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_TRUE(deleted[0].held);
  EXPECT_EQ(deleted[0].record_id, std::string(16, 'a'));
  EXPECT_EQ(deleted[0].author_seq, 1u);
  auto state = Fold(records, kMe);
  ASSERT_EQ(state.checkins.size(), 1u);
  EXPECT_EQ(state.checkins[0].note, "kept");
}

TEST(Deletion, OnlyTheAuthorDeletesAndOnlyTheRecordItNames) {
  std::vector<OpenedRecord> records = {CheckIn(std::string(16, 'a'), 1, "theirs")};
  // My deletion of the partner's record counts for nothing.
  records.push_back(DeletionRecord(std::string(16, 'm'), kMe, 1, records[0]));
  // Nor does the author's deletion that names another hash or number.
  OpenedRecord wrong_hash = DeletionRecord(std::string(16, 'x'), kPartner, 2, records[0]);
  wrong_hash.body.mutable_deletion()->set_record_hash(std::string(32, 'z'));
  OpenedRecord wrong_seq = DeletionRecord(std::string(16, 'y'), kPartner, 3, records[0]);
  wrong_seq.body.mutable_deletion()->set_author_seq(7);
  records.push_back(wrong_hash);
  records.push_back(wrong_seq);
  EXPECT_TRUE(Deletions(records).empty());
  EXPECT_EQ(Fold(records, kMe).checkins.size(), 1u);
}

TEST(Deletion, ARecordNotHeldIsKnownByItsDeletionAlone) {
  const OpenedRecord gone = CheckIn(std::string(16, 'a'), 1, "never seen");
  std::vector<OpenedRecord> records = {DeletionRecord(std::string(16, 'd'), kPartner, 2, gone)};
  auto deleted = Deletions(records);
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_FALSE(deleted[0].held);
  EXPECT_EQ(deleted[0].record_hash, gone.envelope_hash);
  EXPECT_EQ(deleted[0].author_key, kPartner);
}

TEST(Deletion, ItsFieldsAreChecked) {
  const OpenedRecord target = CheckIn(std::string(16, 'a'), 1, "");
  OpenedRecord short_id = DeletionRecord(std::string(16, 'd'), kPartner, 2, target);
  short_id.body.mutable_deletion()->set_record_id("abc");
  EXPECT_EQ(ValidateBody(short_id.body).field, "deleted record");
  OpenedRecord no_hash = DeletionRecord(std::string(16, 'd'), kPartner, 2, target);
  no_hash.body.mutable_deletion()->clear_record_hash();
  EXPECT_EQ(ValidateBody(no_hash.body).field, "record hash");
  // An invalid deletion deletes nothing.
  std::vector<OpenedRecord> records = {target, no_hash};
  records[1].verdict = ValidateBody(records[1].body);
  EXPECT_TRUE(Deletions(records).empty());
}

TEST(Deletion, WhatOthersBuildOnIsNeverDeletedSoARevealedReflectionCannotBeTakenBack) {
  // A partner who read my reflection may not delete theirs to write another.
  v1::RecordBody reflection;
  reflection.mutable_talk_reflection()->set_talk_id(std::string(16, 't'));
  reflection.mutable_talk_reflection()->set_commitment(std::string(32, 'c'));
  reflection.mutable_talk_reflection()->set_sealed(std::string(40 + 256, 's'));
  v1::RecordBody accept;
  accept.mutable_talk_accept()->set_talk_id(std::string(16, 't'));
  accept.mutable_talk_accept()->set_option(1);
  std::vector<OpenedRecord> records = {MakeRecord(std::string(16, 'r'), kPartner, 1, reflection),
                                       MakeRecord(std::string(16, 'a'), kPartner, 2, accept)};
  ASSERT_TRUE(records[0].verdict.valid()) << records[0].verdict.problem;
  records.push_back(DeletionRecord(std::string(16, 'x'), kPartner, 3, records[0]));
  records.push_back(DeletionRecord(std::string(16, 'y'), kPartner, 4, records[1]));
  EXPECT_TRUE(Deletions(records).empty());
  EXPECT_FALSE(Deletable(reflection));
  EXPECT_FALSE(Deletable(accept));
  EXPECT_TRUE(Deletable(CheckIn("c", 1, "").body));
}

TEST(Deletion, AKeptDeletionNamesOnlyKeptNotesAndASharedOneOnlySharedRecordsOfItsOwnDevice) {
  // Kept notes travel between one's own devices (protocol.md §5.1): they
  // are in no chain, so they are named with number 0.
  OpenedRecord kept = CheckIn(std::string(16, 'k'), 0, "kept");
  kept.shared = false;
  kept.relay_seq.reset();
  kept.device_key = "laptop";
  OpenedRecord shared = CheckIn(std::string(16, 's'), 1, "shared");
  shared.device_key = "laptop";
  auto deletion_of = [](const std::string& id, const OpenedRecord& target, bool kept_deletion,
                        const std::string& device) {
    OpenedRecord d = DeletionRecord(id, kPartner, kept_deletion ? 0 : 2, target);
    d.shared = !kept_deletion;
    d.device_key = device;
    return d;
  };
  {
    std::vector<OpenedRecord> records = {kept, deletion_of(std::string(16, 'd'), kept, true, "laptop")};
    ASSERT_TRUE(records[1].verdict.valid()) << records[1].verdict.problem;
    auto deleted = Deletions(records);
    ASSERT_EQ(deleted.size(), 1u);
    EXPECT_TRUE(deleted[0].held);
  }
  // A shared Deletion does not name a kept note, nor a kept one a shared
  // record; another device of the same person deletes nothing of this one.
  EXPECT_TRUE(Deletions({kept, deletion_of(std::string(16, 'd'), kept, false, "laptop")}).empty());
  EXPECT_TRUE(Deletions({shared, deletion_of(std::string(16, 'd'), shared, true, "laptop")}).empty());
  EXPECT_TRUE(Deletions({kept, deletion_of(std::string(16, 'd'), kept, true, "phone")}).empty());
  // A kept deletion of a note not held counts for nothing: no chain needs it.
  EXPECT_TRUE(Deletions({deletion_of(std::string(16, 'd'), kept, true, "laptop")}).empty());
}

}  // namespace
}  // namespace duet::model
