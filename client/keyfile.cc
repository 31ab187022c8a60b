#include "client/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/crash_point.h"

namespace duet::client {
namespace {

constexpr std::size_t kMagicBytes = 8;
constexpr std::size_t kChecksumBytes = 32;
constexpr std::size_t kBodyBytes = kMagicBytes + 1 + 64 + 32 + 32 + 32 + 32;
constexpr std::size_t kLockHeaderBytes = kMagicBytes + 8 + 8 + 16;
constexpr std::size_t kBoxOverhead = 24 + 16;  // nonce, MAC
// Version 2, written now: each form ends in a checksum.
constexpr char kMagic[] = "DUETKEY2";
constexpr char kLockedMagic[] = "DUETLCK2";
constexpr std::size_t kFileBytes = kBodyBytes + kChecksumBytes;
constexpr std::size_t kLockedFileBytes = kLockHeaderBytes + kBoxOverhead + kFileBytes + kChecksumBytes;
// Version 1, still read (and rewritten as version 2 by the next save).
constexpr char kMagicV1[] = "DUETKEY1";
constexpr char kLockedMagicV1[] = "DUETLCK1";
constexpr std::size_t kFileBytesV1 = kBodyBytes;
constexpr std::size_t kLockedFileBytesV1 = kLockHeaderBytes + kBoxOverhead + kFileBytesV1;
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

// `form` with its checksum dropped, when the checksum matches.
std::optional<std::string_view> Checked(std::string_view form) {
  const std::string_view covered = form.substr(0, form.size() - kChecksumBytes);
  const std::string expected = KeyFileChecksum(covered);
  if (sodium_memcmp(expected.data(), form.data() + covered.size(), kChecksumBytes) != 0) return std::nullopt;
  return covered;
}

Error Damaged(const std::string& path, const std::string& why) {
  return MakeError(ErrorKind::kDamaged, "the key file " + path + " is damaged (" + why +
                                            "); nothing was written: restore it from a backup, or set up "
                                            "duet again in a new --home and pair again");
}

// Writes `bytes` to a new file in `path`'s folder, fsyncs it, puts it at
// `path` (atomically: a crash leaves the old file or the new one) and fsyncs
// the folder so the new name survives a power cut. `exclusive`: fail if
// `path` exists, decided by link(2) itself rather than checked beforehand.
Status WriteDurably(const std::string& path, std::string_view bytes, bool exclusive) {
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // mode 0600, a fresh name
  if (fd < 0) return MakeError(ErrorKind::kIo, "cannot write next to " + path + ": " + std::strerror(errno));
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  int saved_errno = errno;
  ::close(fd);
  CrashPoint("keyfile-written");
  if (ok) {
    ok = exclusive ? ::link(tmp.c_str(), path.c_str()) == 0 : ::rename(tmp.c_str(), path.c_str()) == 0;
    saved_errno = errno;
  }
  if (exclusive || !ok) ::unlink(tmp.c_str());
  if (!ok) {
    if (exclusive && saved_errno == EEXIST)
      return MakeError(ErrorKind::kAlreadyExists, "key file " + path + " exists already");
    return MakeError(ErrorKind::kIo, "cannot write " + path + ": " + std::strerror(saved_errno));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    saved_errno = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    return MakeError(ErrorKind::kIo, "cannot make " + path + " durable: " + std::strerror(saved_errno));
  }
  ::close(dir_fd);
  return Status::Ok();
}

}  // namespace

std::string KeyFileChecksum(std::string_view covered) {
  // The key is ASCII "duet/v1/key-file": 16 bytes, BLAKE2b's shortest key.
  return crypto::Hash(kChecksumBytes, covered, "duet/v1/key-file");
}

DeviceKeys DeviceKeys::Generate() {
  DeviceKeys keys;
  keys.identity = crypto::SigningKeyPair::Generate();
  keys.exchange = crypto::KxKeyPair::Generate();
  keys.local_key = crypto::RandomKey();
  return keys;
}

Result<bool> KeyFileLocked(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return MakeError(ErrorKind::kNotFound,
                       "no duet keys at " + path + "; run: duet init --name NAME --relay HOST:PORT");
    return MakeError(ErrorKind::kIo, "cannot read " + path + ": " + std::strerror(errno));
  }
  char head[kMagicBytes] = {};
  const ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  const std::string_view magic(head, n > 0 ? static_cast<std::size_t>(n) : 0);
  return magic == kLockedMagic || magic == kLockedMagicV1;
}

Result<DeviceKeys> LoadKeys(const std::string& path, const PassphraseSource& passphrase_source,
                            const RememberedKeySource& remembered) {
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
  buffer.bytes.assign(kLockedFileBytes + 1, '\0');  // one more: a longer file is damaged
  ssize_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.bytes.data() + total, buffer.bytes.size() - total);
    if (n <= 0) break;
    total += n;
    if (static_cast<std::size_t>(total) == buffer.bytes.size()) break;
  }
  ::close(fd);
  return ParseKeyFile(std::string_view(buffer.bytes.data(), static_cast<std::size_t>(total)), path,
                      passphrase_source, remembered);
}

Result<DeviceKeys> ParseKeyFile(std::string_view data, const std::string& path,
                                const PassphraseSource& passphrase_source,
                                const RememberedKeySource& remembered) {
  const std::string_view magic = data.substr(0, kMagicBytes);
  const bool locked = magic == kLockedMagic || magic == kLockedMagicV1;
  const bool v1 = magic == kMagicV1 || magic == kLockedMagicV1;
  const std::size_t expected = magic == kMagic         ? kFileBytes
                               : magic == kLockedMagic ? kLockedFileBytes
                               : magic == kMagicV1     ? kFileBytesV1
                                                       : kLockedFileBytesV1;
  if (!(magic == kMagic || magic == kLockedMagic || v1)) {
    // Empty, or a duet key file whose first bytes were hit: damage. Anything
    // else is some other file put in its place.
    if (data.empty() || data.substr(0, 4) == "DUET") return Damaged(path, "its header is unreadable");
    return MakeError(ErrorKind::kInvalidInput, "key file " + path + " is not a duet key file");
  }
  if (data.size() != expected)
    return Damaged(path, std::to_string(data.size()) + " bytes, not " + std::to_string(expected));
  // The checksum first: damage is named as damage, before a passphrase is
  // asked for or a wrong one blamed.
  if (!v1) {
    auto covered = Checked(data);
    if (!covered) return Damaged(path, "its checksum does not match");
    data = *covered;
  }
  std::optional<crypto::PassphraseKey> lock;
  WipedBuffer opened;
  if (locked) {
    const std::uint64_t opslimit = GetBigEndian64(data.substr(8));
    const std::uint64_t memlimit = GetBigEndian64(data.substr(16));
    if (!crypto::PassphraseLimitsAcceptable(opslimit, memlimit))
      return Damaged(path, "its passphrase limits are beyond any duet would set");
    const std::string_view salt = data.substr(24, 16);
    std::optional<std::string> plain;
    if (auto kept = remembered ? remembered() : std::nullopt;
        kept && kept->salt == salt && kept->opslimit == opslimit && kept->memlimit == memlimit) {
      plain = crypto::SecretboxOpen(kept->key, data.substr(kLockHeaderBytes));
      if (plain) lock = std::move(kept);
    }
    if (!plain) {
      std::optional<std::string> passphrase = passphrase_source ? passphrase_source() : std::nullopt;
      if (!passphrase)
        return MakeError(ErrorKind::kInvalidInput,
                         "the key file " + path +
                             " is locked with a passphrase; run `duet unlock` in a terminal, or set "
                             "DUET_PASSPHRASE");
      lock = crypto::DerivePassphraseKey(*passphrase, salt, opslimit, memlimit);
      crypto::WipeString(*passphrase);
      if (!lock)
        return MakeError(ErrorKind::kInternal, "not enough memory to derive the key of the passphrase");
      plain = crypto::SecretboxOpen(lock->key, data.substr(kLockHeaderBytes));
      if (!plain)
        return MakeError(ErrorKind::kVerification, "wrong passphrase for the key file " + path);
    }
    opened.bytes = std::move(*plain);
    data = opened.bytes;
    const std::string_view inner = data.substr(0, kMagicBytes);
    if (data.size() != (v1 ? kFileBytesV1 : kFileBytes) || inner != (v1 ? kMagicV1 : kMagic))
      return Damaged(path, "its sealed part is not a key file");
    if (!v1) {
      auto covered = Checked(data);
      if (!covered) return Damaged(path, "its sealed part's checksum does not match");
      data = *covered;
    }
  }
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
  if (!exchange) return Damaged(path, "its key exchange key is not a key");
  keys.exchange = std::move(*exchange);
  keys.local_key.Assign(take(32));
  auto couple = take(32);
  auto invite = take(32);
  if (flags & kHasCoupleKey) keys.couple_key.emplace().Assign(couple);
  if (flags & kHasInviteSecret) keys.invite_secret.emplace().Assign(invite);
  keys.lock = std::move(lock);
  keys.older_format = v1;
  return keys;
}

Status SaveKeys(const std::string& path, const DeviceKeys& keys, bool exclusive) {
  WipedBuffer buffer;
  std::string& out = buffer.bytes;
  out.reserve(kLockedFileBytes);
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
  out.append(KeyFileChecksum(out));
  if (keys.lock) {
    std::string locked(kLockedMagic, kMagicBytes);
    PutBigEndian64(locked, keys.lock->opslimit);
    PutBigEndian64(locked, keys.lock->memlimit);
    locked.append(keys.lock->salt);
    locked.append(crypto::SecretboxSeal(keys.lock->key, out));
    locked.append(KeyFileChecksum(locked));
    crypto::WipeString(out);
    out = std::move(locked);
  }
  return WriteDurably(path, out, exclusive);
}

}  // namespace duet::client
