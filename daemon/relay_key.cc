#include "daemon/relay_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duet::daemon {

Result<crypto::KxKeyPair> LoadOrCreateRelayKey(const std::string& path) {
  crypto::Secret<crypto::kKeyBytes> secret;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
      ::close(fd);
      return MakeError(ErrorKind::kInvalidInput,
                       "relay key file " + path +
                           " is readable by other users; run: chmod 600 " + path);
    }
    ssize_t n = ::read(fd, secret.data(), secret.size());
    char extra = 0;
    ssize_t more = ::read(fd, &extra, 1);
    ::close(fd);
    if (n != static_cast<ssize_t>(secret.size()) || more != 0)
      return MakeError(ErrorKind::kInvalidInput,
                       "relay key file " + path + " is not a duetd key (expected 32 bytes)");
    auto keys = crypto::KxKeyPair::FromSecret(secret);
    if (!keys) return MakeError(ErrorKind::kInvalidInput, "relay key file " + path + " is invalid");
    return std::move(*keys);
  }
  if (errno != ENOENT)
    return MakeError(ErrorKind::kIo, "cannot read relay key " + path + ": " + std::strerror(errno));

  crypto::KxKeyPair keys = crypto::KxKeyPair::Generate();
  const std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return MakeError(ErrorKind::kIo,
                     "cannot create relay key " + path + ": " + std::strerror(errno));
  const bool written =
      ::write(fd, keys.secret_key.data(), keys.secret_key.size()) ==
          static_cast<ssize_t>(keys.secret_key.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return MakeError(ErrorKind::kIo, "cannot write relay key " + path + ": " + std::strerror(errno));
  }
  return keys;
}

}  // namespace duet::daemon
