// Couples pushing records at a relay without pause, over the relay's whole
// life across power cuts: what they pushed, what the relay acknowledged, and
// what they must push again.
//
// Each couple keeps kInFlight pushes of 1 to 3 records outstanding, so the
// store thread always has a queue and batches several jobs per commit. A
// record is acknowledged when its push's Done callback reports ok; a failed
// push's records wait to be pushed again, as a client retries.
//
// Done callbacks run on the relay's network thread, the other methods on
// the test thread; one mutex covers the state.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "tests/fault/relay_under_test.h"
#include "tests/fault/stored_log.h"

namespace duet::testing {

class PushingCouples {
 public:
  static constexpr int kInFlight = 3;

  PushingCouples(int couples, std::uint64_t seed);

  const std::vector<std::string>& couple_ids() const { return couple_ids_; }

  // REQUIRES: the couples are paired on `relay`, nothing is pushing.
  void StartPushing(RelayUnderTest& relay);
  // No push starts after this; the ones in flight still complete.
  void StopPushing();
  // Waits until `n` records were acknowledged since StartPushing; false if
  // the relay acknowledged none for ten seconds.
  bool WaitForAcks(std::uint64_t n);

  // After a cut, with no push in flight: the relay now answers for exactly
  // what the disk kept, and every pushed record missing from it must be
  // pushed again.
  void Restart(const StoredLog& log);

  // Copies, taken under the lock. REQUIRES for a stable answer: stopped.
  Ledger acked();
  Submitted submitted();
  // Records acknowledged twice with different sequence numbers.
  std::vector<std::string> conflicts();
  std::uint64_t acks_total();

 private:
  void PushNext(int couple);  // REQUIRES: mutex_
  void Completed(int couple, const std::vector<std::string>& record_ids,
                 const std::vector<std::uint64_t>& seqs, const Status& status);

  const std::vector<std::string> couple_ids_;
  std::mutex mutex_;
  std::condition_variable acked_more_;
  // Everything below is guarded by mutex_.
  std::mt19937_64 random_;
  RelayUnderTest* relay_ = nullptr;  // while pushing
  bool pushing_ = false;
  std::uint64_t next_record_ = 0;
  std::vector<std::deque<std::string>> to_push_again_;  // by couple
  Ledger acked_;
  Submitted submitted_;
  std::vector<std::string> conflicts_;
  std::uint64_t acks_since_start_ = 0;
  std::uint64_t acks_total_ = 0;
};

}  // namespace duet::testing
