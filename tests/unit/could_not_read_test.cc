// What a device owes its partner for records it cannot show, and what it
// tells its own person of the partner's notices (docs/protocol.md §7.6).
#include "client/model/could_not_read.h"

#include <gtest/gtest.h>

#include "client/model/validate.h"
#include "tests/unit/opened_record.h"

namespace duet::model {
namespace {

const std::string kMe = "me-key", kPartner = "partner-key";


OpenedRecord BadCheckIn(const std::string& id, std::uint64_t seq) {
  v1::RecordBody body;
  body.mutable_checkin()->set_mood(9);
  return MakeRecord(id, kPartner, seq, body);
}

TEST(CouldNotRead, OneNoticePerUnshownPartnerRecordUntilItIsAnswered) {
  std::vector<OpenedRecord> records = {BadCheckIn(std::string(16, 'a'), 1)};
  v1::RecordBody good;
  good.mutable_checkin()->set_mood(3);
  records.push_back(MakeRecord(std::string(16, 'b'), kPartner, 2, good));
  records.push_back(BadCheckIn(std::string(16, 'c'), 3));
  records.back().author_key = kMe;  // my own invalid records are not the partner's to be told
  auto owed = CouldNotReadOwed(records, kMe);
  ASSERT_EQ(owed.size(), 1u);
  const auto& notice = owed[0].could_not_read();
  EXPECT_EQ(notice.record_id(), std::string(16, 'a'));
  EXPECT_EQ(notice.author_seq(), 1u);
  EXPECT_FALSE(notice.newer());
  EXPECT_EQ(notice.reason(), "mood 9 is out of range 1-5");
  EXPECT_TRUE(ValidateBody([&] {
                v1::RecordBody b = owed[0];
                b.set_schema(1);
                b.set_created_at_ms(1764700000000);
                return b;
              }()).valid());

  records.push_back(MakeRecord(std::string(16, 'd'), kMe, 1, owed[0]));
  EXPECT_TRUE(CouldNotReadOwed(records, kMe).empty()) << "answered once";
}

TEST(CouldNotRead, NeverAnswersANoticeItCannotRead) {
  v1::RecordBody notice;
  notice.mutable_could_not_read()->set_record_id(std::string(16, 'a'));
  notice.mutable_could_not_read()->set_author_seq(0);  // breaks a rule
  notice.mutable_could_not_read()->set_reason("x");
  std::vector<OpenedRecord> records = {MakeRecord(std::string(16, 'e'), kPartner, 1, notice)};
  ASSERT_FALSE(records[0].verdict.valid());
  EXPECT_TRUE(CouldNotReadOwed(records, kMe).empty());
}

TEST(CouldNotRead, TheAuthorHearsOfItsOwnRecordsOnlyByItsOwnNumber) {
  v1::RecordBody mine;
  mine.mutable_checkin()->set_mood(2);
  std::vector<OpenedRecord> records = {MakeRecord(std::string(16, 'm'), kMe, 7, mine)};
  auto notice_about = [&](const std::string& id, bool newer) {
    v1::RecordBody body;
    auto* n = body.mutable_could_not_read();
    n->set_record_id(id);
    n->set_author_seq(99);  // the partner's claim; my own number is what counts
    n->set_newer(newer);
    n->set_reason("mood 2 is too sad");
    return body;
  };
  records.push_back(MakeRecord(std::string(16, 'n'), kPartner, 8, notice_about(std::string(16, 'm'), false)));
  records.push_back(MakeRecord(std::string(16, 'o'), kPartner, 9, notice_about(std::string(16, 'x'), false)));
  records.push_back(MakeRecord(std::string(16, 'p'), kPartner, 10, notice_about(std::string(16, 'm'), true)));
  auto lines = CouldNotReadByPartner(records, kMe, "Bob");
  ASSERT_EQ(lines.size(), 1u) << "not mine, and a second notice about the same record, say nothing";
  EXPECT_EQ(lines[0], "Bob's duet could not read your record #7: mood 2 is too sad");
}

TEST(CouldNotRead, ReasonsAreOneLineWithinTheLimit) {
  v1::RecordBody body;
  auto* n = body.mutable_could_not_read();
  n->set_record_id(std::string(16, 'a'));
  n->set_author_seq(1);
  n->set_reason("two\nlines");
  EXPECT_FALSE(MakeRecord(std::string(16, 'q'), kPartner, 1, body).verdict.valid());
  n->set_reason(std::string(kMaxCouldNotReadReasonBytes + 1, 'r'));
  EXPECT_FALSE(MakeRecord(std::string(16, 'q'), kPartner, 1, body).verdict.valid());
  n->set_reason("");
  EXPECT_FALSE(MakeRecord(std::string(16, 'q'), kPartner, 1, body).verdict.valid());
}

}  // namespace
}  // namespace duet::model
