#include "client/model/chain.h"

#include <algorithm>
#include <map>

namespace duet::model {
namespace {

std::string ShortId(const std::string& record_id) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < record_id.size() && i < 4; ++i) {
    out.push_back(kHex[(static_cast<unsigned char>(record_id[i]) >> 4) & 0xf]);
    out.push_back(kHex[static_cast<unsigned char>(record_id[i]) & 0xf]);
  }
  return out;
}

// Findings for one author's chain; returns its contiguous head.
ChainHead CheckOne(const std::vector<const ChainEntry*>& chain, const std::string& who,
                   std::vector<std::string>& findings, std::size_t& gaps) {
  std::map<std::uint64_t, std::vector<const ChainEntry*>> by_seq;
  for (const ChainEntry* e : chain) by_seq[e->author_seq].push_back(e);
  ChainHead head;
  std::uint64_t expected = 1;
  for (const auto& [seq, records] : by_seq) {
    if (seq == 0) continue;  // private or unchained: not part of the log
    if (seq > expected) {
      ++gaps;
      findings.push_back(who + " record" + (seq - expected > 1 ? "s #" : " #") +
                         std::to_string(expected) +
                         (seq - expected > 1 ? "-#" + std::to_string(seq - 1) : "") +
                         " missing (the relay may have dropped " +
                         (seq - expected > 1 ? "them" : "it") + "); later ones were applied");
    }
    if (records.size() > 1) {
      std::string ids;
      for (const ChainEntry* r : records) ids += (ids.empty() ? "" : ", ") + ShortId(r->record_id);
      findings.push_back(who + " record #" + std::to_string(seq) +
                         " exists in different versions (" + ids +
                         "): a forked or replayed log");
    }
    auto previous = by_seq.find(seq - 1);
    // A deleted record's own prev_hash went with it: only what follows it
    // can be checked.
    const bool known_link = records.size() == 1 && !records[0]->deleted;
    if (previous != by_seq.end() && previous->second.size() == 1 && known_link &&
        records[0]->prev_hash != previous->second[0]->hash)
      findings.push_back(who + " record #" + std::to_string(seq) + " (" + ShortId(records[0]->record_id) +
                         ") does not follow " + who + " record #" + std::to_string(seq - 1) + " (" +
                         ShortId(previous->second[0]->record_id) + "): a forked log");
    if (seq == expected && head.seq + 1 == seq && records.size() == 1 &&
        (records[0]->deleted || records[0]->prev_hash == head.hash)) {
      head.seq = seq;
      head.hash = records[0]->hash;
    }
    expected = seq + 1;
  }
  // The relay's order must agree with the author's.
  std::vector<const ChainEntry*> ordered;
  for (const ChainEntry* e : chain)
    if (e->relay_seq && e->author_seq > 0) ordered.push_back(e);
  std::sort(ordered.begin(), ordered.end(),
            [](const ChainEntry* a, const ChainEntry* b) { return *a->relay_seq < *b->relay_seq; });
  for (std::size_t i = 1; i < ordered.size(); ++i)
    if (ordered[i]->author_seq < ordered[i - 1]->author_seq)
      findings.push_back(who + " record #" + std::to_string(ordered[i]->author_seq) + " (" +
                         ShortId(ordered[i]->record_id) + ") came after " + who + " record #" +
                         std::to_string(ordered[i - 1]->author_seq) + " (" +
                         ShortId(ordered[i - 1]->record_id) + "): the relay reordered records");
  return head;
}

}  // namespace

ChainReport CheckChains(const std::vector<ChainEntry>& entries, const std::string& my_key,
                        const std::string& partner_key, const std::string& my_label,
                        const std::string& partner_name,
                        const std::vector<std::pair<std::string, std::string>>& other_chains) {
  std::vector<const ChainEntry*> mine, theirs;
  std::map<std::string, std::vector<const ChainEntry*>> others;
  for (const auto& e : entries) {
    if (e.author_key == my_key) mine.push_back(&e);
    else if (e.author_key == partner_key) theirs.push_back(&e);
    else others[e.author_key].push_back(&e);
  }
  ChainReport report;
  report.my_head = CheckOne(mine, my_label, report.findings, report.gaps);
  report.partner_head = CheckOne(theirs, partner_name + "'s", report.findings, report.gaps);
  for (const auto& [key, label] : other_chains)
    if (auto it = others.find(key); it != others.end()) CheckOne(it->second, label, report.findings, report.gaps);

  // Withholding: the partner's latest record says it had pulled the log up
  // to relay_cursor, yet its view of my chain stops before records of mine
  // the relay had numbered within that range. A partner who wrote offline
  // has a lower cursor, so is not suspected.
  const ChainEntry* latest = nullptr;
  for (const ChainEntry* e : theirs)
    if (e->relay_seq && (latest == nullptr || *e->relay_seq > *latest->relay_seq)) latest = e;
  if (latest != nullptr) {
    std::uint64_t unseen = 0;
    for (const ChainEntry* e : mine)
      if (e->relay_seq && *e->relay_seq <= latest->relay_cursor && e->author_seq > latest->partner_seq)
        ++unseen;
    if (unseen > 0)
      report.findings.push_back(partner_name + " has not received " + std::to_string(unseen) +
                                " of " + my_label + " records that the relay had given them a place in " +
                                "its log: the relay may be withholding records");
  }
  return report;
}

}  // namespace duet::model
