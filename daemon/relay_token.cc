#include "daemon/relay_token.h"

#include "crypto/crypto.h"
#include "daemon/relay.h"

namespace duet::daemon {

std::string NewRelayToken() { return crypto::Base64UrlEncode(crypto::RandomBytes(18)); }

std::string RelayTokenHash(std::string_view token) {
  return crypto::Hash(32, token, "duet/v1/relay-token");
}

Result<std::string> CreateRelayToken(const std::string& db_path, const std::string& postgres, std::int64_t now) {
  if (!crypto::Init()) return MakeError(ErrorKind::kInternal, "libsodium could not start");
  auto store = OpenRelayStore(db_path, postgres, /*synchronous_full=*/true);
  if (!store.ok()) return store.error();
  std::string token = NewRelayToken();
  DUET_RETURN_IF_ERROR(store.value()->Begin());
  DUET_RETURN_IF_ERROR(store.value()->AddToken(RelayTokenHash(token), now));
  DUET_RETURN_IF_ERROR(store.value()->Commit());
  return token;
}

}  // namespace duet::daemon
