// Questions both answer (docs/protocol.md §7.9): an answer opens only with
// its author's key, and the partner's only once that key was shared.
#include <gtest/gtest.h>

#include <date/tz.h>

#include "client/model/fold.h"
#include "client/model/prompts.h"
#include "client/model/recap.h"
#include "client/model/reflection.h"
#include "tests/unit/opened_record.h"

namespace duet::model {
namespace {

const std::string kMe = "me-key", kPartner = "partner-key";

struct Answered {
  OpenedRecord answer;
  OpenedRecord key;  // private to its author until released
};

Answered Answer(const std::string& id, const std::string& author, std::uint64_t seq, const std::string& text,
                const std::string& prompt_id = "light-01") {
  v1::AnswerContent content;
  content.set_text(text);
  SealedAnswer sealed = SealAnswer(content, prompt_id, author);
  v1::RecordBody body;
  *body.mutable_prompt_answer() = sealed.record;
  Answered out{MakeRecord(id, author, seq, body), {}};
  v1::RecordBody key;
  key.mutable_reflection_key()->set_reflection_id(id);
  key.mutable_reflection_key()->set_key(std::string(sealed.key.view()));
  out.key = MakeRecord(id + "-key", author, seq + 100, key);
  out.key.shared = false;
  return out;
}

TEST(QuestionFold, AnAnswerOpensForThePartnerOnlyWithTheKeyItsAuthorShared) {
  Answered mine = Answer(std::string(16, 'm'), kMe, 1, "the beach");
  Answered theirs = Answer(std::string(16, 't'), kPartner, 2, "our dinner");
  ASSERT_TRUE(mine.answer.verdict.valid()) << mine.answer.verdict.problem;
  std::vector<OpenedRecord> records = {mine.answer, mine.key, theirs.answer};
  auto state = Fold(records, kMe);
  ASSERT_EQ(state.questions.size(), 1u);
  const QuestionView& q = state.questions[0];
  EXPECT_TRUE(q.answered_together());
  EXPECT_EQ(q.mine.text, "the beach") << "my own, to me";
  EXPECT_FALSE(q.mine.released);
  EXPECT_FALSE(q.theirs.readable);

  // Their key, but kept private (as on their device): it opens nothing here.
  records.push_back(theirs.key);
  EXPECT_FALSE(Fold(records, kMe).questions[0].theirs.readable);
  // Shared by its author, it opens; the same key claimed by me does not.
  OpenedRecord forged = theirs.key;
  forged.author_key = kMe;
  forged.shared = true;
  records.back() = forged;
  EXPECT_FALSE(Fold(records, kMe).questions[0].theirs.readable);
  records.back() = theirs.key;
  records.back().shared = true;
  state = Fold(records, kMe);
  EXPECT_TRUE(state.questions[0].theirs.readable);
  EXPECT_EQ(state.questions[0].theirs.text, "our dinner");
}

TEST(QuestionFold, ASealedAnswerOfTheWrongSizeIsInvalid) {
  Answered a = Answer(std::string(16, 'a'), kMe, 1, "x");
  a.answer.body.mutable_prompt_answer()->mutable_sealed()->append(1, 'x');
  EXPECT_EQ(ValidateBody(a.answer.body).field, "sealed answer");
  a.answer.body.mutable_prompt_answer()->set_sealed(std::string(40 + 256 * 9, 's'));
  EXPECT_EQ(ValidateBody(a.answer.body).field, "sealed answer");
  a.answer.body.mutable_prompt_answer()->set_sealed(std::string(40 + 256, 's'));
  a.answer.body.mutable_prompt_answer()->set_commitment("short");
  EXPECT_EQ(ValidateBody(a.answer.body).field, "commitment");
}

TEST(QuestionFold, TheRecapCelebratesTheFirstDeepQuestionAnsweredTogether) {
  std::string deep;
  for (const auto& p : PromptDeck())
    if (p.depth == PromptDepth::kDeep && deep.empty()) deep = std::string(p.id);
  std::vector<OpenedRecord> records = {Answer(std::string(16, 'a'), kMe, 1, "light one").answer,
                                       Answer(std::string(16, 'b'), kPartner, 2, "light two").answer};
  const auto* utc = date::locate_zone("UTC");
  const std::int64_t now = 1764700000 + 3600;  // the records say 2025-12-02
  auto recap = BuildRecap(records, Fold(records, kMe), utc, 2025, 12, now);
  EXPECT_EQ(recap.questions_together, 1);
  EXPECT_EQ(std::count(recap.highlights.begin(), recap.highlights.end(), "first-deep-question"), 0);
  records.push_back(Answer(std::string(16, 'c'), kMe, 3, "deep one", deep).answer);
  records.push_back(Answer(std::string(16, 'd'), kPartner, 4, "deep two", deep).answer);
  recap = BuildRecap(records, Fold(records, kMe), utc, 2025, 12, now);
  EXPECT_EQ(recap.questions_together, 2);
  EXPECT_EQ(std::count(recap.highlights.begin(), recap.highlights.end(), "first-deep-question"), 1);
  EXPECT_EQ(BuildRecap(records, Fold(records, kMe), utc, 2025, 11, now).questions_together, 0);
}

}  // namespace
}  // namespace duet::model
