#include "client/model/could_not_read.h"

#include <map>
#include <set>

#include "client/model/validate.h"

namespace duet::model {

namespace {

// The reason a reader gives, one line at most kMaxCouldNotReadReasonBytes
// long (cut at a character boundary).
std::string Reason(const Verdict& verdict) {
  std::string reason = verdict.problem.empty() ? std::string("it breaks a rule") : verdict.problem;
  for (char& c : reason)
    if (c == '\n' || c == '\t') c = ' ';
  if (reason.size() > kMaxCouldNotReadReasonBytes) {
    std::size_t cut = kMaxCouldNotReadReasonBytes;
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xc0) == 0x80) --cut;
    reason.resize(cut);
  }
  return reason;
}

}  // namespace

std::vector<v1::RecordBody> CouldNotReadOwed(const std::vector<OpenedRecord>& records,
                                             const std::string& my_key) {
  std::set<std::string> answered;
  for (const auto& r : records)
    if (r.author_key == my_key && r.verdict.valid() && r.body.has_could_not_read())
      answered.insert(r.body.could_not_read().record_id());
  std::vector<v1::RecordBody> owed;
  for (const auto& r : records) {
    if (r.author_key == my_key || !r.shared || r.verdict.valid() || r.body.author_seq() == 0) continue;
    if (r.body.has_could_not_read() || answered.count(r.record_id)) continue;
    v1::RecordBody body;
    auto* notice = body.mutable_could_not_read();
    notice->set_record_id(r.record_id);
    notice->set_author_seq(r.body.author_seq());
    notice->set_newer(r.verdict.validity == Validity::kNewer);
    notice->set_reason(Reason(r.verdict));
    answered.insert(r.record_id);
    owed.push_back(std::move(body));
  }
  return owed;
}

std::vector<std::string> CouldNotReadByPartner(const std::vector<OpenedRecord>& records,
                                               const std::string& my_key, const std::string& partner_name) {
  std::map<std::string, std::uint64_t> my_numbers;
  for (const auto& r : records)
    if (r.author_key == my_key && r.shared) my_numbers[r.record_id] = r.body.author_seq();
  std::vector<std::string> lines;
  std::set<std::string> said;
  for (const OpenedRecord* r : FoldOrder(records)) {
    if (r->author_key == my_key || !r->body.has_could_not_read()) continue;
    const auto& notice = r->body.could_not_read();
    auto mine = my_numbers.find(notice.record_id());
    if (mine == my_numbers.end() || !said.insert(notice.record_id()).second) continue;
    const std::string which = partner_name + "'s duet could not read your record #" + std::to_string(mine->second);
    lines.push_back(notice.newer() ? which + ": it is from a newer duet than theirs; it will show once " +
                                         partner_name + " updates duet"
                                   : which + ": " + notice.reason());
  }
  return lines;
}

}  // namespace duet::model
