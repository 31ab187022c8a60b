#include "daemon/connection_manager.h"


namespace duet::daemon {

bool ConnectionManager::Admit(const std::string& address) {
  const auto counts = by_address_.find(address);
  if (counts != by_address_.end() && (counts->second.open >= limits_.max_connections_per_address ||
                                      counts->second.in_handshake >= limits_.max_unauthenticated_per_address)) {
    log_.Write(LogLevel::kWarning, "refused", "refused a connection from " + address + ": too many from that address");
    metrics_.refusals.Add("connection_limit");
    return false;
  }
  if (strangers_ < limits_.max_stranger_connections && open() < limits_.max_connections)
    return true;
  auto oldest = OldestStranger();
  if (!oldest) {
    log_.Write(LogLevel::kWarning, "refused", "refused a connection from " + address + ": every slot is a paired device's");
    metrics_.refusals.Add("connection_limit");
    return false;
  }
  log_.Write(LogLevel::kWarning, "shed", "closed the oldest unpaired connection (from " + oldest->peer_address() +
                         ") to admit one from " + address);
  metrics_.refusals.Add("shed_unpaired");
  oldest->Close();
  return true;
}

void ConnectionManager::Add(const std::shared_ptr<Connection>& connection) {
  if (log_.Enabled(LogLevel::kDebug))
    log_.Write(LogLevel::kDebug, "connection", "connection from " + connection->peer_address());
  connections_.emplace(connection->serial(), Entry{connection, 0, true});
  auto& counts = by_address_[connection->peer_address()];
  ++counts.open;
  ++counts.in_handshake;
  ++strangers_;
}

void ConnectionManager::Authenticated(const Connection& connection) {
  auto it = connections_.find(connection.serial());
  if (it == connections_.end() || !it->second.in_handshake) return;
  it->second.in_handshake = false;
  --by_address_[connection.peer_address()].in_handshake;
}

void ConnectionManager::Paired(const std::shared_ptr<Connection>& connection, std::uint64_t seen_seq) {
  --strangers_;
  auto [couple, first] = couples_.try_emplace(connection->couple_id());
  if (first) couple->second.feed.delivered = seen_seq;
  auto& members = couple->second.members;
  members.push_back(connection);
  if (members.size() <= limits_.max_connections_per_couple) return;
  // Its own oldest goes (a half-open connection of a restarted device, most
  // likely), never someone else's.
  std::shared_ptr<Connection> victim;
  for (const auto& member : members)
    if (member != connection && (!victim || member->serial() < victim->serial())) victim = member;
  log_.Write(LogLevel::kWarning, "shed", "closed a couple's oldest connection: it holds more than " +
                         std::to_string(limits_.max_connections_per_couple));
  metrics_.refusals.Add("shed_couple_over_cap");
  victim->Close();
}

void ConnectionManager::Forget(const Connection& connection) {
  auto it = connections_.find(connection.serial());
  if (it == connections_.end()) return;
  receive_bytes_ -= it->second.charged;
  if (connection.paired()) {
    auto couple = couples_.find(connection.couple_id());
    if (couple != couples_.end()) {
      auto& members = couple->second.members;
      std::erase_if(members, [&](const auto& c) { return c.get() == &connection; });
      if (members.empty()) couples_.erase(couple);
    }
  } else {
    --strangers_;
  }
  auto counts = by_address_.find(connection.peer_address());
  if (counts != by_address_.end()) {
    --counts->second.open;
    if (it->second.in_handshake) --counts->second.in_handshake;
    if (counts->second.open == 0) by_address_.erase(counts);
  }
  // Last: the entry may hold the last reference to `connection`.
  auto keep = std::move(it->second.connection);
  connections_.erase(it);
}

bool ConnectionManager::Charge(const Connection& connection) {
  auto it = connections_.find(connection.serial());
  if (it == connections_.end()) return false;
  const std::size_t held = connection.held_bytes();
  receive_bytes_ = receive_bytes_ - it->second.charged + held;
  it->second.charged = held;
  while (receive_bytes_ > limits_.receive_budget_bytes) {
    std::shared_ptr<Connection> newest;
    for (auto r = connections_.rbegin(); r != connections_.rend(); ++r) {
      if (!r->second.connection->paired() && r->second.charged > 0) {
        newest = r->second.connection;
        break;
      }
    }
    if (!newest) {
      // Only paired devices hold memory: the one asking for more waits its
      // turn (its client retries), the others finish their frames.
      if (connection.paired()) {
        log_.Write(LogLevel::kWarning, "budget", "closed a paired connection from " + connection.peer_address() +
                                 ": the relay's receive memory is full");
        metrics_.refusals.Add("memory_budget");
        auto self = it->second.connection;
        self->Close();
        return false;
      }
      break;
    }
    log_.Write(LogLevel::kWarning, "budget", "closed the newest unpaired connection (from " + newest->peer_address() +
                             "): the relay's receive memory is full");
    metrics_.refusals.Add("memory_budget");
    const bool itself = newest.get() == &connection;
    newest->Close();
    if (itself) return false;
  }
  return true;
}

void ConnectionManager::Sweep(Clock::TimePoint now) {
  std::vector<std::shared_ptr<Connection>> late;
  for (const auto& [serial, entry] : connections_)
    if (!entry.connection->suspended() && entry.connection->deadline() <= now)
      late.push_back(entry.connection);
  for (const auto& connection : late) {
    if (!connection->authenticated()) metrics_.handshakes.Add("timeout");
    metrics_.refusals.Add("deadline");
  }
  CloseAll(late);
}

void ConnectionManager::FinishAll() {
  std::vector<std::shared_ptr<Connection>> all;
  for (const auto& [serial, entry] : connections_) all.push_back(entry.connection);
  for (const auto& connection : all) connection->Finish();
}

void ConnectionManager::CloseEverything() {
  std::vector<std::shared_ptr<Connection>> all;
  for (const auto& [serial, entry] : connections_) all.push_back(entry.connection);
  CloseAll(all);
}

void ConnectionManager::CloseAll(const std::vector<std::shared_ptr<Connection>>& victims) {
  for (const auto& connection : victims) connection->Close();
}

ConnectionManager::Counts ConnectionManager::Count() const {
  Counts counts;
  for (const auto& [serial, entry] : connections_) {
    const Connection& c = *entry.connection;
    if (c.paired()) ++counts.paired;
    else if (c.authenticated()) ++counts.unpaired;
    else ++counts.handshake;
  }
  return counts;
}

std::vector<std::shared_ptr<Connection>> ConnectionManager::CoupleMembers(
    const std::string& couple_id) const {
  auto it = couples_.find(couple_id);
  return it == couples_.end() ? std::vector<std::shared_ptr<Connection>>() : it->second.members;
}

ConnectionManager::CoupleFeed* ConnectionManager::FeedOf(const std::string& couple_id) {
  auto it = couples_.find(couple_id);
  return it == couples_.end() ? nullptr : &it->second.feed;
}

std::vector<std::string> ConnectionManager::CouplesHeld() const {
  std::vector<std::string> held;
  held.reserve(couples_.size());
  for (const auto& [couple_id, couple] : couples_) held.push_back(couple_id);
  return held;
}

std::shared_ptr<Connection> ConnectionManager::OldestStranger() const {
  for (const auto& [serial, entry] : connections_)
    if (!entry.connection->paired()) return entry.connection;
  return nullptr;
}

}  // namespace duet::daemon
