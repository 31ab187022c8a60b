// WipeHome: what `duet wipe` does to the files. The key file is overwritten
// in place with random bytes and flushed before it is unlinked, so the keys
// are gone even where a copy of the inode lives on (a hard link, a file
// system that does not reuse blocks at once); the database holds only
// sealed records, unreadable without those keys, and is deleted with its
// write-ahead log.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "client/device.h"
#include "client/key_cache.h"
#include "crypto/crypto.h"

namespace duet::client {
namespace {

Status Shred(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();
    return MakeError(ErrorKind::kIo, "cannot overwrite " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  Status status = Status::Ok();
  if (::fstat(fd, &st) != 0) {
    status = MakeError(ErrorKind::kIo, "cannot read the size of " + path + ": " + std::strerror(errno));
  } else {
    std::string noise = crypto::RandomBytes(static_cast<std::size_t>(st.st_size));
    if (::pwrite(fd, noise.data(), noise.size(), 0) != static_cast<ssize_t>(noise.size()) || ::fsync(fd) != 0)
      status = MakeError(ErrorKind::kIo, "cannot overwrite " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  if (!status.ok()) return status;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return MakeError(ErrorKind::kIo, "cannot delete " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

Status Remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return MakeError(ErrorKind::kIo, "cannot delete " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

void SyncFolder(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Status WipeHome(const HomePaths& home) {
  ForgetUnlockedKey(home.key_file);
  // The keys first: once they are gone, what is left is ciphertext.
  DUET_RETURN_IF_ERROR(Shred(home.key_file));
  // A key file a crash left half-saved (keys.tmp-XXXXXX) holds keys too.
  std::error_code ec;
  const std::string prefix = std::filesystem::path(home.key_file).filename().string() + ".tmp-";
  for (const auto& entry : std::filesystem::directory_iterator(home.key_dir, ec))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) DUET_RETURN_IF_ERROR(Shred(entry.path().string()));
  SyncFolder(home.key_dir);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) DUET_RETURN_IF_ERROR(Remove(home.database + suffix));
  SyncFolder(home.data_dir);
  // The folders go too when duet's files were all they held.
  ::rmdir(home.data_dir.c_str());
  if (home.key_dir != home.data_dir) ::rmdir(home.key_dir.c_str());
  return Status::Ok();
}

}  // namespace duet::client
