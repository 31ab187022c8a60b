// Questions both partners answer (docs/protocol.md §7.9): answers sealed
// until both have answered, by the commit-then-reveal of reflections.
#include <map>

#include "client/model/fold_parts.h"
#include "client/model/reflection.h"

namespace duet::model {

void FoldQuestions(const Ordered& records, const std::string& my_key, CoupleState* state) {
  // Each partner's k-th answer or pass to a question meets the other's k-th.
  std::map<std::pair<std::string, std::size_t>, std::size_t> index;  // (prompt, round) -> question
  std::map<std::pair<std::string, bool>, std::size_t> rounds;        // (prompt, mine) -> next round
  struct Held {
    std::size_t question;
    std::string author_key;
    const v1::PromptAnswer* answer;
  };
  std::map<std::string, Held> answers;  // by record id, for the keys
  for (const OpenedRecord* record : records) {
    if (!record->shared) continue;
    const auto& body = record->body;
    if (!body.has_prompt_answer() && !body.has_prompt_pass()) continue;
    const std::string& prompt = body.has_prompt_answer() ? body.prompt_answer().prompt_id()
                                                         : body.prompt_pass().prompt_id();
    const bool mine = record->author_key == my_key;
    const std::size_t round = rounds[{prompt, mine}]++;
    auto [it, fresh] = index.emplace(std::pair{prompt, round}, state->questions.size());
    if (fresh) {
      QuestionView question;
      question.prompt_id = prompt;
      question.round = round;
      question.first_at_ms = body.created_at_ms();
      state->questions.push_back(std::move(question));
    }
    QuestionView& question = state->questions[it->second];
    AnswerView& side = mine ? question.mine : question.theirs;
    side.written_at_ms = body.created_at_ms();
    if (body.has_prompt_pass()) {
      side.passed = true;
      continue;
    }
    side.record_id = record->record_id;
    answers[record->record_id] = {it->second, record->author_key, &body.prompt_answer()};
  }
  // Keys last, as for reflections: my own key is a private record that may
  // sort before the answer it opens.
  for (const OpenedRecord* record : records) {
    if (!record->body.has_reflection_key()) continue;
    const auto& key = record->body.reflection_key();
    auto it = answers.find(key.reflection_id());
    if (it == answers.end() || it->second.author_key != record->author_key) continue;
    const bool mine = record->author_key == my_key;
    if (!record->shared && !mine) continue;
    QuestionView& question = state->questions[it->second.question];
    AnswerView& side = mine ? question.mine : question.theirs;
    auto content = OpenAnswer(*it->second.answer, key.key(), record->author_key);
    if (!content || content->text().empty() || content->text().size() > kMaxAnswerBytes) continue;
    side.readable = true;
    side.text = content->text();
    if (record->shared) side.released = true;
  }
}

}  // namespace duet::model
