#include "daemon/relay_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/database.h"

namespace duet::daemon {
namespace {

std::string OldKeyPath(const std::string& key_path) { return key_path + ".old"; }

// Makes the parent folder's entries durable after a rename.
void SyncFolderOf(const std::string& path) {
  const std::string folder = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

Result<crypto::KxKeyPair> CreateRelayKey(const std::string& path) {
  crypto::KxKeyPair keys = crypto::KxKeyPair::Generate();
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return MakeError(ErrorKind::kIo,
                     "cannot create relay key " + path + ": " + std::strerror(errno));
  storage::GiveToFolderOwner(fd, path);
  const bool written =
      ::write(fd, keys.secret_key.data(), keys.secret_key.size()) ==
          static_cast<ssize_t>(keys.secret_key.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return MakeError(ErrorKind::kIo, "cannot write relay key " + path + ": " + std::strerror(errno));
  }
  SyncFolderOf(path);
  return keys;
}

}  // namespace

std::string NextKeyPath(const std::string& key_path) { return key_path + ".next"; }

Result<std::optional<crypto::KxKeyPair>> LoadRelayKey(const std::string& path) {
  crypto::Secret<crypto::kKeyBytes> secret;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<crypto::KxKeyPair>();
    return MakeError(ErrorKind::kIo, "cannot read relay key " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return MakeError(ErrorKind::kInvalidInput,
                     "relay key file " + path + " is readable by other users; run: chmod 600 " + path);
  }
  const ssize_t n = ::read(fd, secret.data(), secret.size());
  char extra = 0;
  const ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != static_cast<ssize_t>(secret.size()) || more != 0)
    return MakeError(ErrorKind::kInvalidInput,
                     "relay key file " + path + " is not a duetd key (expected 32 bytes)");
  auto keys = crypto::KxKeyPair::FromSecret(secret);
  if (!keys) return MakeError(ErrorKind::kInvalidInput, "relay key file " + path + " is invalid");
  return std::optional<crypto::KxKeyPair>(std::move(*keys));
}

Result<crypto::KxKeyPair> LoadOrCreateRelayKey(const std::string& path) {
  auto loaded = LoadRelayKey(path);
  if (!loaded.ok()) return loaded.error();
  if (loaded.value()) return std::move(*loaded.value());
  return CreateRelayKey(path);
}

Result<std::string> StartRelayKeyRotation(const std::string& key_path) {
  auto current = LoadRelayKey(key_path);
  if (!current.ok()) return current.error();
  if (!current.value())
    return MakeError(ErrorKind::kInvalidInput,
                     "there is no relay key at " + key_path + " yet: start the relay once first");
  auto pending = LoadRelayKey(NextKeyPath(key_path));
  if (!pending.ok()) return pending.error();
  if (pending.value())
    return MakeError(ErrorKind::kAlreadyExists,
                     "a key rotation is already under way (next key " +
                         crypto::Base64UrlEncode(pending.value()->public_key) +
                         "); `duetd key promote` finishes it");
  auto next = CreateRelayKey(NextKeyPath(key_path));
  if (!next.ok()) return next.error();
  return next.value().public_key;
}

Result<std::string> PromoteNextRelayKey(const std::string& key_path) {
  auto next = LoadRelayKey(NextKeyPath(key_path));
  if (!next.ok()) return next.error();
  if (!next.value())
    return MakeError(ErrorKind::kInvalidInput,
                     "no key rotation is under way: `duetd key rotate` starts one");
  auto current = LoadRelayKey(key_path);
  if (!current.ok()) return current.error();
  // Two renames; a crash between them leaves KEY.old and KEY.next and no
  // KEY, which the next promote completes (the relay will not start meanwhile
  // rather than make a fresh key: see Relay::Create).
  if (current.value() && ::rename(key_path.c_str(), OldKeyPath(key_path).c_str()) != 0)
    return MakeError(ErrorKind::kIo, "cannot move " + key_path + " aside: " + std::strerror(errno));
  if (::rename(NextKeyPath(key_path).c_str(), key_path.c_str()) != 0)
    return MakeError(ErrorKind::kIo, "cannot promote " + NextKeyPath(key_path) + ": " + std::strerror(errno));
  SyncFolderOf(key_path);
  return next.value()->public_key;
}

}  // namespace duet::daemon
