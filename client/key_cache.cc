#include "client/key_cache.h"

#include <keyutils.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace duet::client {
namespace {

// "DUETUNL1" | expires_at (8, BE) | opslimit (8, BE) | memlimit (8, BE) |
// salt (16) | key (32): built and read in a Secret, never a std::string.
constexpr char kMagic[] = "DUETUNL1";
constexpr std::size_t kMagicBytes = 8;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kPayloadBytes = kMagicBytes + 3 * 8 + kSaltBytes + crypto::kKeyBytes;
using Payload = crypto::Secret<kPayloadBytes>;

// Possessor (a process of this login session) may do anything; nobody else
// may even see it.
constexpr key_perm_t kPermissions = KEY_POS_VIEW | KEY_POS_READ | KEY_POS_WRITE | KEY_POS_SEARCH |
                                    KEY_POS_SETATTR;

std::string Description(const std::string& key_file) {
  std::error_code ec;
  std::filesystem::path path = std::filesystem::weakly_canonical(std::filesystem::absolute(key_file, ec), ec);
  if (ec) path = key_file;
  return "duet:unlocked:" + crypto::Hex(crypto::Hash(16, path.string()));
}

void Put64(Payload& p, std::size_t at, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) p.data()[at + i] = static_cast<unsigned char>(value >> (56 - 8 * i));
}

std::uint64_t Get64(const Payload& p, std::size_t at) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | p.data()[at + i];
  return value;
}

// The login session's keyring. Asked for without "create": a process that
// has none (no PAM session: cron, a container, CI) then shares the user's
// session keyring, where asking with "create" would give each process a new,
// empty keyring that dies with it.
key_serial_t SessionKeyring() { return keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0); }

key_serial_t Find(const std::string& key_file) {
  const key_serial_t keyring = SessionKeyring();
  if (keyring < 0) return -1;
  const long id = keyctl_search(keyring, "user", Description(key_file).c_str(), 0);
  return id < 0 ? -1 : static_cast<key_serial_t>(id);
}

}  // namespace

Status RememberUnlockedKey(const std::string& key_file, const crypto::PassphraseKey& key,
                           std::chrono::seconds ttl, std::int64_t now) {
  if (key.salt.size() != kSaltBytes) return MakeError(ErrorKind::kInternal, "the passphrase key has no salt");
  Payload payload;
  payload.Put(0, std::string_view(kMagic, kMagicBytes));
  Put64(payload, 8, static_cast<std::uint64_t>(now + ttl.count()));
  Put64(payload, 16, key.opslimit);
  Put64(payload, 24, key.memlimit);
  payload.Put(32, key.salt);
  payload.Put(32 + kSaltBytes, key.key.view());
  // Drop an earlier entry first, so the new one starts with our permissions
  // and timeout rather than inheriting the old one's.
  ForgetUnlockedKey(key_file);
  const key_serial_t keyring = SessionKeyring();
  const key_serial_t id = keyring < 0 ? -1
                                      : add_key("user", Description(key_file).c_str(), payload.data(),
                                                payload.size(), keyring);
  if (id < 0)
    return MakeError(ErrorKind::kIo, std::string("the kernel keyring is not available here (") +
                                         std::strerror(errno) +
                                         "): duet cannot remember the unlocked key; scripts can set DUET_PASSPHRASE");
  if (keyctl_setperm(id, kPermissions) < 0 ||
      keyctl_set_timeout(id, static_cast<unsigned>(ttl.count())) < 0) {
    const int saved = errno;
    keyctl_invalidate(id);
    return MakeError(ErrorKind::kIo, std::string("could not limit the kept key in the kernel keyring (") +
                                         std::strerror(saved) + "); nothing was kept");
  }
  return Status::Ok();
}

std::optional<RememberedKey> RecallUnlockedKey(const std::string& key_file) {
  const key_serial_t id = Find(key_file);
  if (id < 0) return std::nullopt;
  Payload payload;
  const long read = keyctl_read(id, reinterpret_cast<char*>(payload.data()), payload.size());
  if (read != static_cast<long>(payload.size()) ||
      std::memcmp(payload.data(), kMagic, kMagicBytes) != 0)
    return std::nullopt;
  RememberedKey remembered;
  remembered.expires_at = static_cast<std::int64_t>(Get64(payload, 8));
  remembered.key.opslimit = Get64(payload, 16);
  remembered.key.memlimit = Get64(payload, 24);
  remembered.key.salt.assign(reinterpret_cast<const char*>(payload.data()) + 32, kSaltBytes);
  remembered.key.key.Assign(payload.view().substr(32 + kSaltBytes, crypto::kKeyBytes));
  return remembered;
}

bool ForgetUnlockedKey(const std::string& key_file) {
  bool forgot = false;
  for (key_serial_t id = Find(key_file); id >= 0; id = Find(key_file)) {
    if (keyctl_invalidate(id) < 0 && keyctl_unlink(id, SessionKeyring()) < 0) break;
    forgot = true;
  }
  return forgot;
}

}  // namespace duet::client
