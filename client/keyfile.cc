#include "client/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duet::client {
namespace {

constexpr char kMagic[] = "DUETKEY1";
constexpr std::size_t kMagicBytes = 8;
constexpr std::size_t kFileBytes = kMagicBytes + 1 + 64 + 32 + 32 + 32 + 32;
constexpr unsigned char kHasCoupleKey = 1;
constexpr unsigned char kHasInviteSecret = 2;

// Holds the serialized file and wipes it on every path out.
struct WipedBuffer {
  std::string bytes;
  ~WipedBuffer() { crypto::WipeString(bytes); }
};

}  // namespace

DeviceKeys DeviceKeys::Generate() {
  DeviceKeys keys;
  keys.identity = crypto::SigningKeyPair::Generate();
  keys.exchange = crypto::KxKeyPair::Generate();
  keys.local_key = crypto::RandomKey();
  return keys;
}

Result<DeviceKeys> LoadKeys(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return MakeError(ErrorKind::kNotFound,
                       "no duet keys at " + path + "; run: duet init --name NAME --relay HOST:PORT");
    return MakeError(ErrorKind::kIo, "cannot read " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return MakeError(ErrorKind::kVerification,
                     "key file " + path + " is readable by other users; run: chmod 600 " + path);
  }
  WipedBuffer buffer;
  buffer.bytes.assign(kFileBytes + 1, '\0');
  ssize_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.bytes.data() + total, buffer.bytes.size() - total);
    if (n <= 0) break;
    total += n;
    if (static_cast<std::size_t>(total) == buffer.bytes.size()) break;
  }
  ::close(fd);
  const std::string_view data(buffer.bytes.data(), static_cast<std::size_t>(total));
  if (data.size() != kFileBytes || data.substr(0, kMagicBytes) != kMagic)
    return MakeError(ErrorKind::kInvalidInput, "key file " + path + " is damaged or not a duet key file");
  const auto flags = static_cast<unsigned char>(data[kMagicBytes]);
  std::size_t at = kMagicBytes + 1;
  auto take = [&](std::size_t n) {
    auto part = data.substr(at, n);
    at += n;
    return part;
  };
  DeviceKeys keys;
  crypto::Secret<crypto::kSignSecretBytes> sign_secret;
  sign_secret.Assign(take(64));
  keys.identity = crypto::SigningKeyPair::FromSecret(sign_secret);
  crypto::Secret<crypto::kKeyBytes> kx_secret;
  kx_secret.Assign(take(32));
  auto exchange = crypto::KxKeyPair::FromSecret(kx_secret);
  if (!exchange) return MakeError(ErrorKind::kInvalidInput, "key file " + path + " is damaged");
  keys.exchange = std::move(*exchange);
  keys.local_key.Assign(take(32));
  auto couple = take(32);
  auto invite = take(32);
  if (flags & kHasCoupleKey) keys.couple_key.emplace().Assign(couple);
  if (flags & kHasInviteSecret) keys.invite_secret.emplace().Assign(invite);
  return keys;
}

Status SaveKeys(const std::string& path, const DeviceKeys& keys, bool exclusive) {
  WipedBuffer buffer;
  std::string& out = buffer.bytes;
  out.reserve(kFileBytes);
  out.append(kMagic, kMagicBytes);
  unsigned char flags = 0;
  if (keys.couple_key) flags |= kHasCoupleKey;
  if (keys.invite_secret) flags |= kHasInviteSecret;
  out.push_back(static_cast<char>(flags));
  out.append(keys.identity.secret_key.view());
  out.append(keys.exchange.secret_key.view());
  out.append(keys.local_key.view());
  const std::string zeros(32, '\0');
  out.append(keys.couple_key ? keys.couple_key->view() : std::string_view(zeros));
  out.append(keys.invite_secret ? keys.invite_secret->view() : std::string_view(zeros));

  if (exclusive && ::access(path.c_str(), F_OK) == 0)
    return MakeError(ErrorKind::kAlreadyExists, "key file " + path + " exists already");
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return MakeError(ErrorKind::kIo, "cannot write " + tmp + ": " + std::strerror(errno));
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size()) &&
                  ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return MakeError(ErrorKind::kIo, "cannot write " + path + ": " + std::strerror(saved_errno));
  }
  return Status::Ok();
}

}  // namespace duet::client
