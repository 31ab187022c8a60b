#include "daemon/session_registry.h"

#include "daemon/session.h"

namespace duet::daemon {

std::size_t SessionRegistry::Unauthenticated(const std::string& address) const {
  std::size_t count = 0;
  for (const auto& w : all_) {
    auto s = w.lock();
    if (s && !s->authenticated() && s->peer_address() == address) ++count;
  }
  return count;
}

std::size_t SessionRegistry::FromAddress(const std::string& address) const {
  std::size_t count = 0;
  for (const auto& w : all_) {
    auto s = w.lock();
    if (s && s->peer_address() == address) ++count;
  }
  return count;
}

}  // namespace duet::daemon
