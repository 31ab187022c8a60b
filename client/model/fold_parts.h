// The parts of Fold (fold.h), one file each; private to client/model/.
#pragma once

#include <string>
#include <vector>

#include "client/model/fold.h"

namespace duet::model {

using Ordered = std::vector<const OpenedRecord*>;

void FoldCheckins(const Ordered& records, const std::string& my_key, CoupleState* state);
void FoldAvailability(const Ordered& records, const std::string& my_key, CoupleState* state);
void FoldTalks(const Ordered& records, const std::string& my_key, CoupleState* state);
void FoldBoundaries(const Ordered& records, const std::string& my_key, CoupleState* state);
// Readiness, thanks and shared prompts.
void FoldSmallShares(const Ordered& records, const std::string& my_key, CoupleState* state);
// Answers to questions, and passes (protocol §7.9).
void FoldQuestions(const Ordered& records, const std::string& my_key, CoupleState* state);

}  // namespace duet::model
