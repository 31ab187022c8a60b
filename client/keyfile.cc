#include "client/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duet::client {
namespace {

constexpr char kMagic[] = "DUETKEY1";
constexpr char kLockedMagic[] = "DUETLCK1";
constexpr std::size_t kMagicBytes = 8;
constexpr std::size_t kFileBytes = kMagicBytes + 1 + 64 + 32 + 32 + 32 + 32;
constexpr std::size_t kLockedFileBytes = kMagicBytes + 8 + 8 + 16 + 24 + 16 + kFileBytes;
constexpr unsigned char kHasCoupleKey = 1;
constexpr unsigned char kHasInviteSecret = 2;

// Holds the serialized file and wipes it on every path out.
struct WipedBuffer {
  std::string bytes;
  ~WipedBuffer() { crypto::WipeString(bytes); }
};

void PutBigEndian64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

std::uint64_t GetBigEndian64(std::string_view in) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

}  // namespace

DeviceKeys DeviceKeys::Generate() {
  DeviceKeys keys;
  keys.identity = crypto::SigningKeyPair::Generate();
  keys.exchange = crypto::KxKeyPair::Generate();
  keys.local_key = crypto::RandomKey();
  return keys;
}

Result<DeviceKeys> LoadKeys(const std::string& path, const PassphraseSource& passphrase_source) {
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
  buffer.bytes.assign(kLockedFileBytes + 1, '\0');
  ssize_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.bytes.data() + total, buffer.bytes.size() - total);
    if (n <= 0) break;
    total += n;
    if (static_cast<std::size_t>(total) == buffer.bytes.size()) break;
  }
  ::close(fd);
  std::string_view data(buffer.bytes.data(), static_cast<std::size_t>(total));
  std::optional<crypto::PassphraseKey> lock;
  WipedBuffer opened;
  if (data.size() == kLockedFileBytes && data.substr(0, kMagicBytes) == kLockedMagic) {
    std::optional<std::string> passphrase = passphrase_source ? passphrase_source() : std::nullopt;
    if (!passphrase)
      return MakeError(ErrorKind::kInvalidInput,
                       "the key file " + path +
                           " is locked with a passphrase; set DUET_PASSPHRASE or run duet in a "
                           "terminal to be asked");
    lock = crypto::DerivePassphraseKey(*passphrase, data.substr(24, 16),
                                       GetBigEndian64(data.substr(8)),
                                       GetBigEndian64(data.substr(16)));
    crypto::WipeString(*passphrase);
    if (!lock) return MakeError(ErrorKind::kInvalidInput, "key file " + path + " is damaged");
    auto plain = crypto::SecretboxOpen(lock->key, data.substr(40));
    if (!plain)
      return MakeError(ErrorKind::kVerification, "wrong passphrase for the key file " + path);
    opened.bytes = std::move(*plain);
    data = opened.bytes;
  }
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
  keys.lock = std::move(lock);
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
  if (keys.lock) {
    std::string locked(kLockedMagic, kMagicBytes);
    PutBigEndian64(locked, keys.lock->opslimit);
    PutBigEndian64(locked, keys.lock->memlimit);
    locked.append(keys.lock->salt);
    locked.append(crypto::SecretboxSeal(keys.lock->key, out));
    crypto::WipeString(out);
    out = std::move(locked);
  }

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
