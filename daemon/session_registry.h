// Who is online: every open session, and which sessions belong to which
// couple, so a commit can be fanned out to the partner at once. Used only on
// the network thread, so it needs no lock.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace duet::daemon {

class Session;

class SessionRegistry {
 public:
  void Add(const std::shared_ptr<Session>& session) {
    Prune(all_);
    all_.push_back(session);
  }
  void Join(const std::string& couple_id, const std::shared_ptr<Session>& session) {
    auto& members = couples_[couple_id];
    Prune(members);
    members.push_back(session);
  }
  void Leave(const std::string& couple_id, const Session* session) {
    auto it = couples_.find(couple_id);
    if (it == couples_.end()) return;
    auto& members = it->second;
    members.erase(std::remove_if(members.begin(), members.end(),
                                 [&](const std::weak_ptr<Session>& w) {
                                   auto s = w.lock();
                                   return !s || s.get() == session;
                                 }),
                  members.end());
    if (members.empty()) couples_.erase(it);
  }
  std::vector<std::shared_ptr<Session>> Members(const std::string& couple_id) const {
    std::vector<std::shared_ptr<Session>> out;
    auto it = couples_.find(couple_id);
    if (it == couples_.end()) return out;
    for (const auto& w : it->second)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }
  std::vector<std::shared_ptr<Session>> All() const {
    std::vector<std::shared_ptr<Session>> out;
    for (const auto& w : all_)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }
  // Connections per source address that have not authenticated yet: a
  // stranger cannot hold more than a few handshakes open.
  std::size_t Unauthenticated(const std::string& address) const { return CountFrom(address, true); }
  std::size_t FromAddress(const std::string& address) const { return CountFrom(address, false); }
  std::size_t open_sessions() const {
    return static_cast<std::size_t>(
        std::count_if(all_.begin(), all_.end(), [](const auto& w) { return !w.expired(); }));
  }

 private:
  std::size_t CountFrom(const std::string& address, bool only_unauthenticated) const;
  static void Prune(std::vector<std::weak_ptr<Session>>& sessions) {
    sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                  [](const auto& w) { return w.expired(); }),
                   sessions.end());
  }
  std::vector<std::weak_ptr<Session>> all_;
  std::unordered_map<std::string, std::vector<std::weak_ptr<Session>>> couples_;
};

}  // namespace duet::daemon
