#include "tests/fault/pushing_couples.h"

#include <chrono>
#include <memory>

#include "tests/fault/pushes.h"

namespace duet::testing {
namespace {

std::vector<std::string> CoupleIds(int couples) {
  std::vector<std::string> ids;
  for (int i = 0; i < couples; ++i) ids.push_back("couple-" + std::to_string(i));
  return ids;
}

}  // namespace

PushingCouples::PushingCouples(int couples, std::uint64_t seed)
    : couple_ids_(CoupleIds(couples)), random_(seed), to_push_again_(couples) {}

void PushingCouples::StartPushing(RelayUnderTest& relay) {
  std::lock_guard lock(mutex_);
  relay_ = &relay;
  pushing_ = true;
  acks_since_start_ = 0;
  for (int couple = 0; couple < static_cast<int>(couple_ids_.size()); ++couple)
    for (int i = 0; i < kInFlight; ++i) PushNext(couple);
}

void PushingCouples::StopPushing() {
  std::lock_guard lock(mutex_);
  pushing_ = false;
}

bool PushingCouples::WaitForAcks(std::uint64_t n) {
  std::unique_lock lock(mutex_);
  std::uint64_t seen = acks_since_start_;
  while (acks_since_start_ < n) {
    if (!acked_more_.wait_for(lock, std::chrono::seconds(10),
                              [&] { return acks_since_start_ != seen; }))
      return false;
    seen = acks_since_start_;
  }
  return true;
}

void PushingCouples::PushNext(int couple) {
  const std::string& couple_id = couple_ids_[couple];
  auto& again = to_push_again_[couple];
  std::vector<std::string> record_ids;
  const int count = 1 + static_cast<int>(random_() % 3);
  while (static_cast<int>(record_ids.size()) < count) {
    if (!again.empty()) {
      record_ids.push_back(again.front());
      again.pop_front();
      continue;
    }
    std::string record_id = couple_id + "/record-" + std::to_string(next_record_++);
    submitted_[record_id] = couple_id;
    record_ids.push_back(std::move(record_id));
  }
  auto seqs = std::make_shared<std::vector<std::uint64_t>>();
  relay_->Submit(PushJob(couple_id, record_ids, seqs),
                 [this, couple, record_ids, seqs](const Status& status) {
                   Completed(couple, record_ids, *seqs, status);
                 });
}

void PushingCouples::Completed(int couple, const std::vector<std::string>& record_ids,
                               const std::vector<std::uint64_t>& seqs, const Status& status) {
  std::lock_guard lock(mutex_);
  if (status.ok()) {
    for (std::size_t i = 0; i < record_ids.size(); ++i) {
      Ack ack{couple_ids_[couple], seqs[i]};
      auto [entry, fresh] = acked_.emplace(record_ids[i], ack);
      if (!fresh && (entry->second.couple_id != ack.couple_id || entry->second.seq != ack.seq))
        conflicts_.push_back(record_ids[i] + " acknowledged as seq " +
                             std::to_string(entry->second.seq) + " and as seq " +
                             std::to_string(ack.seq));
    }
    acks_since_start_ += record_ids.size();
    acks_total_ += record_ids.size();
    acked_more_.notify_all();
  } else {
    for (const auto& record_id : record_ids) to_push_again_[couple].push_back(record_id);
  }
  if (pushing_) PushNext(couple);
}

void PushingCouples::Restart(const StoredLog& log) {
  std::lock_guard lock(mutex_);
  relay_ = nullptr;
  acked_ = LedgerOf(log);
  for (auto& again : to_push_again_) again.clear();
  for (const auto& [record_id, couple_id] : submitted_) {
    if (acked_.count(record_id) != 0) continue;
    for (std::size_t couple = 0; couple < couple_ids_.size(); ++couple)
      if (couple_ids_[couple] == couple_id) to_push_again_[couple].push_back(record_id);
  }
}

Ledger PushingCouples::acked() {
  std::lock_guard lock(mutex_);
  return acked_;
}

Submitted PushingCouples::submitted() {
  std::lock_guard lock(mutex_);
  return submitted_;
}

std::vector<std::string> PushingCouples::conflicts() {
  std::lock_guard lock(mutex_);
  return conflicts_;
}

std::uint64_t PushingCouples::acks_total() {
  std::lock_guard lock(mutex_);
  return acks_total_;
}

}  // namespace duet::testing
