#include "daemon/session_registry.h"

#include "daemon/session.h"

namespace duet::daemon {

std::size_t SessionRegistry::CountFrom(const std::string& address, bool only_unauthenticated) const {
  std::size_t count = 0;
  for (const auto& w : all_) {
    auto s = w.lock();
    if (s && s->peer_address() == address && !(only_unauthenticated && s->authenticated())) ++count;
  }
  return count;
}

}  // namespace duet::daemon
