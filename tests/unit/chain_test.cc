#include "client/model/chain.h"

#include <gtest/gtest.h>

namespace duet::model {
namespace {

// A chain of `n` records by `author`, relay numbers from `first_relay_seq`.
std::vector<ChainEntry> Chain(const std::string& author, int n, std::uint64_t first_relay_seq) {
  std::vector<ChainEntry> out;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    ChainEntry e;
    e.author_key = author;
    e.record_id = author + std::to_string(i);
    e.author_seq = static_cast<std::uint64_t>(i);
    e.prev_hash = prev;
    e.hash = "h-" + e.record_id;
    e.relay_seq = first_relay_seq + static_cast<std::uint64_t>(i) - 1;
    prev = e.hash;
    out.push_back(e);
  }
  return out;
}

ChainReport Check(const std::vector<ChainEntry>& entries) {
  return CheckChains(entries, "me", "you", "your", "Sam");
}

TEST(ChainCheck, CompleteChainsHaveNoFindingsAndKnowTheirHeads) {
  auto entries = Chain("me", 3, 1);
  auto theirs = Chain("you", 2, 10);
  for (auto& e : theirs) e.partner_seq = 3;  // written after seeing all of mine
  entries.insert(entries.end(), theirs.begin(), theirs.end());
  auto report = Check(entries);
  EXPECT_TRUE(report.findings.empty());
  EXPECT_EQ(report.my_head.seq, 3u);
  EXPECT_EQ(report.partner_head.seq, 2u);
  EXPECT_EQ(report.partner_head.hash, "h-you2");
}

TEST(ChainCheck, GapIsReportedAndTheHeadStopsBeforeIt) {
  auto entries = Chain("you", 4, 1);
  entries.erase(entries.begin() + 1);  // #2
  auto report = Check(entries);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].find("Sam's record #2 missing"), 0u) << report.findings[0];
  EXPECT_EQ(report.partner_head.seq, 1u);
  EXPECT_EQ(report.gaps, 1u);
}

TEST(ChainCheck, SeveralMissingAreNamedAsARange) {
  auto entries = Chain("you", 5, 1);
  entries.erase(entries.begin() + 1, entries.begin() + 4);
  auto report = Check(entries);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_NE(report.findings[0].find("#2-#4 missing"), std::string::npos) << report.findings[0];
}

TEST(ChainCheck, SameSequenceWithDifferentContentIsAFork) {
  auto entries = Chain("you", 2, 1);
  ChainEntry other = entries[1];
  other.record_id = "other";
  other.hash = "h-other";
  other.relay_seq = 3;
  entries.push_back(other);
  auto report = Check(entries);
  ASSERT_FALSE(report.findings.empty());
  EXPECT_NE(report.findings[0].find("different versions"), std::string::npos) << report.findings[0];
  EXPECT_EQ(report.partner_head.seq, 1u) << "no head past a fork";
}

TEST(ChainCheck, BrokenLinkIsAFork) {
  auto entries = Chain("you", 3, 1);
  entries[2].prev_hash = "h-elsewhere";
  auto report = Check(entries);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_NE(report.findings[0].find("#3 (") , std::string::npos);
  EXPECT_NE(report.findings[0].find("does not follow Sam's record #2"), std::string::npos) << report.findings[0];
}

TEST(ChainCheck, RelayOrderAgainstAuthorOrderIsAReordering) {
  auto entries = Chain("you", 2, 1);
  std::swap(entries[0].relay_seq, entries[1].relay_seq);
  auto report = Check(entries);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_NE(report.findings[0].find("reordered"), std::string::npos);
}

TEST(ChainCheck, PartnerBehindOnMyAcknowledgedRecordsSuggestsWithholding) {
  auto mine = Chain("me", 3, 1);          // relay #1..#3
  auto theirs = Chain("you", 1, 4);       // relay #4, written after mine
  theirs[0].partner_seq = 1;              // but saw only my #1
  theirs[0].relay_cursor = 3;             // though it had pulled up to #3
  mine.insert(mine.end(), theirs.begin(), theirs.end());
  auto report = Check(mine);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_NE(report.findings[0].find("Sam has not received 2 of your records"), std::string::npos)
      << report.findings[0];
  mine.back().partner_seq = 3;
  EXPECT_TRUE(Check(mine).findings.empty());
}

TEST(ChainCheck, APartnerWhoWroteBeforePullingIsNotSuspected) {
  auto mine = Chain("me", 2, 1);
  auto theirs = Chain("you", 1, 3);  // reached the relay after mine...
  theirs[0].relay_cursor = 0;        // ...but was written before pulling them
  mine.insert(mine.end(), theirs.begin(), theirs.end());
  EXPECT_TRUE(Check(mine).findings.empty());
}


TEST(ChainCheck, ADeletedRecordKeepsItsPlaceByWhatItsDeletionSays) {
  auto entries = Chain("you", 3, 1);
  ChainEntry deleted = entries[1];  // known only by number and hash
  deleted.prev_hash.clear();
  deleted.relay_seq.reset();
  deleted.deleted = true;
  entries[1] = deleted;
  auto report = Check(entries);
  EXPECT_TRUE(report.findings.empty()) << report.findings[0];
  EXPECT_EQ(report.partner_head.seq, 3u);

  // Without it, the same chain has a hole.
  entries.erase(entries.begin() + 1);
  EXPECT_EQ(Check(entries).gaps, 1u);
}

TEST(ChainCheck, ADeletionThatNamesTheWrongHashBreaksTheNextLink) {
  auto entries = Chain("you", 3, 1);
  entries[1].deleted = true;
  entries[1].prev_hash.clear();
  entries[1].hash = "h-something-else";
  auto report = Check(entries);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_NE(report.findings[0].find("Sam's record #3"), std::string::npos) << report.findings[0];
  EXPECT_NE(report.findings[0].find("forked"), std::string::npos);
}

}  // namespace
}  // namespace duet::model
