#include "tests/fault/fault_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <vector>

// What the power cut model leaves out, so nobody reads more into a pass:
// - Directory entries are durable at once: a file created or deleted before
//   the cut stays created or deleted.
// - An unsynced write is lost whole, and all of them are: a real disk may
//   keep some and not others, or tear a page in two. (SQLite's WAL checksums
//   are its defence there; these tests do not exercise it.)
// - A failed xSync keeps the data written and still undoable; Linux may have
//   dropped the dirty pages by then ("fsyncgate").
// - The WAL's -shm file is shared memory, not disk: it is outside the model,
//   and SQLite rebuilds it from the WAL when it opens the database alone.
// - Temporary files (opened without a name) are not restored: SQLite deletes
//   them on close, and they hold nothing that outlives a connection.

namespace duet::testing {
namespace {

enum class Op { kOpen, kDelete, kRead, kWrite, kTruncate, kSync, kFileSize, kShmMap };

int IoErrorFor(Op op) {
  switch (op) {
    case Op::kOpen: return SQLITE_CANTOPEN;
    case Op::kDelete: return SQLITE_IOERR_DELETE;
    case Op::kRead: return SQLITE_IOERR_READ;
    case Op::kWrite: return SQLITE_IOERR_WRITE;
    case Op::kTruncate: return SQLITE_IOERR_TRUNCATE;
    case Op::kSync: return SQLITE_IOERR_FSYNC;
    case Op::kFileSize: return SQLITE_IOERR_FSTAT;
    case Op::kShmMap: return SQLITE_IOERR_SHMMAP;
  }
  return SQLITE_IOERR;
}

// Bytes a write or truncate replaced since the last sync.
struct Undo {
  sqlite3_int64 offset;
  std::string bytes;
};

// A file written since its last sync. A range written twice is saved twice;
// undoing newest first leaves the oldest copy, the synced bytes, in place.
struct Unsynced {
  sqlite3_int64 synced_size = 0;
  std::vector<Undo> undo;
};

// A cut may run inside an SQLite callback, where no error can travel: a
// restore that fails leaves the model meaningless, so the test stops there.
[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "FaultVfs: %s: %s\n", what.c_str(), std::strerror(errno));
  std::abort();
}

void WriteAll(int fd, const std::string& bytes, sqlite3_int64 offset, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Die("power cut: cannot restore " + path);
    done += static_cast<std::size_t>(n);
  }
}

// Through a descriptor of its own: closing it drops this process's POSIX
// locks on the file, harmless because every connection using it is dead now.
void RestoreToLastSync(const std::string& path, const Unsynced& file) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) Die("power cut: cannot open " + path);
  for (auto undo = file.undo.rbegin(); undo != file.undo.rend(); ++undo)
    WriteAll(fd, undo->bytes, undo->offset, path);
  if (::ftruncate(fd, static_cast<off_t>(file.synced_size)) != 0)
    Die("power cut: cannot truncate " + path);
  ::close(fd);
}

}  // namespace

class FaultVfs::Impl {
 public:
  Impl();
  ~Impl() { sqlite3_vfs_unregister(&vfs_); }

  std::vector<std::string> PowerCut();
  void PowerCutAt(std::uint64_t n);
  std::optional<std::vector<std::string>> WaitForPowerCut(std::chrono::milliseconds timeout);
  void PowerOn();
  void FailAt(std::uint64_t n, DiskFault kind);
  void Recover();
  std::uint64_t operations();
  std::uint64_t faults_injected();

 private:
  // What SQLite allocates for each open file (szOsFile): ours, then the
  // unix VFS's own, which it fills in and we hand to its methods.
  struct File {
    sqlite3_file base;  // first: all SQLite knows of the file
    Impl* vfs;
    std::string path;     // empty for a temporary file
    std::uint64_t epoch;  // the power epoch it was opened in
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
    const sqlite3_io_methods& methods() { return *real()->pMethods; }
  };

  static Impl& Of(sqlite3_vfs* vfs) { return *static_cast<Impl*>(vfs->pAppData); }
  static File& Of(sqlite3_file* file) { return *reinterpret_cast<File*>(file); }

  std::vector<std::string> CutLocked();  // REQUIRES: mutex_
  // Each returns the error to fake, or SQLITE_OK to go on. REQUIRES: mutex_.
  int Count(Op op, bool needs_space);
  int Refuse(File& file, Op op, bool needs_space) {
    return Dead(file) ? IoErrorFor(op) : Count(op, needs_space);
  }
  // Opened before the last cut: the machine it was open on is gone.
  bool Dead(const File& file) const { return file.epoch != epoch_; }
  // Keeps what [offset, end) of the file holds now, as far as it was synced.
  int SaveForUndo(File& file, sqlite3_int64 offset, sqlite3_int64 end);

  static int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
                  int* out_flags);
  static int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir);
  static int Close(sqlite3_file* file);
  static int Read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset);
  static int Write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset);
  static int Truncate(sqlite3_file* file, sqlite3_int64 size);
  static int Sync(sqlite3_file* file, int flags);
  static int FileSize(sqlite3_file* file, sqlite3_int64* size);
  static int Lock(sqlite3_file* file, int level);
  static int Unlock(sqlite3_file* file, int level);
  static int CheckReservedLock(sqlite3_file* file, int* out);
  static int FileControl(sqlite3_file* file, int op, void* arg);
  static int SectorSize(sqlite3_file* file);
  static int DeviceCharacteristics(sqlite3_file* file);
  static int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out);
  static int ShmLock(sqlite3_file* file, int offset, int n, int flags);
  static void ShmBarrier(sqlite3_file* file);
  static int ShmUnmap(sqlite3_file* file, int delete_flag);
  static int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out);
  static int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* mapped);

  static const sqlite3_io_methods kMethods;

  sqlite3_vfs vfs_{};
  sqlite3_vfs* const real_;
  std::mutex mutex_;
  std::condition_variable cut_;
  // Everything below is guarded by mutex_.
  std::map<std::string, Unsynced> unsynced_;  // by path
  std::uint64_t epoch_ = 0;                   // PowerCuts so far
  bool powered_ = true;
  std::uint64_t cut_at_ = 0;  // the operation to cut the power at; 0 for none
  std::optional<std::vector<std::string>> cut_lost_writes_;  // of a cut at cut_at_
  std::uint64_t operations_ = 0;
  std::uint64_t fail_at_ = 0;  // the operation to fail; 0 for none
  DiskFault fail_kind_ = DiskFault::kIoError;
  bool disk_full_ = false;
  std::uint64_t faults_ = 0;
};

const sqlite3_io_methods FaultVfs::Impl::kMethods = {
    .iVersion = 3,
    .xClose = Close,
    .xRead = Read,
    .xWrite = Write,
    .xTruncate = Truncate,
    .xSync = Sync,
    .xFileSize = FileSize,
    .xLock = Lock,
    .xUnlock = Unlock,
    .xCheckReservedLock = CheckReservedLock,
    .xFileControl = FileControl,
    .xSectorSize = SectorSize,
    .xDeviceCharacteristics = DeviceCharacteristics,
    .xShmMap = ShmMap,
    .xShmLock = ShmLock,
    .xShmBarrier = ShmBarrier,
    .xShmUnmap = ShmUnmap,
    .xFetch = Fetch,
    .xUnfetch = Unfetch,
};

FaultVfs::Impl::Impl() : real_(sqlite3_vfs_find(nullptr)) {
  vfs_.iVersion = 2;  // version 3 only adds the system-call overrides SQLite's own tests use
  vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
  vfs_.mxPathname = real_->mxPathname;
  vfs_.zName = kName;
  vfs_.pAppData = this;
  vfs_.xOpen = Open;
  vfs_.xDelete = Delete;
  vfs_.xAccess = [](sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    return Of(vfs).real_->xAccess(Of(vfs).real_, name, flags, out);
  };
  vfs_.xFullPathname = [](sqlite3_vfs* vfs, const char* name, int size, char* out) {
    return Of(vfs).real_->xFullPathname(Of(vfs).real_, name, size, out);
  };
  vfs_.xDlOpen = [](sqlite3_vfs* vfs, const char* name) {
    return Of(vfs).real_->xDlOpen(Of(vfs).real_, name);
  };
  vfs_.xDlError = [](sqlite3_vfs* vfs, int size, char* out) {
    Of(vfs).real_->xDlError(Of(vfs).real_, size, out);
  };
  vfs_.xDlSym = [](sqlite3_vfs* vfs, void* handle, const char* symbol) {
    return Of(vfs).real_->xDlSym(Of(vfs).real_, handle, symbol);
  };
  vfs_.xDlClose = [](sqlite3_vfs* vfs, void* handle) {
    Of(vfs).real_->xDlClose(Of(vfs).real_, handle);
  };
  vfs_.xRandomness = [](sqlite3_vfs* vfs, int size, char* out) {
    return Of(vfs).real_->xRandomness(Of(vfs).real_, size, out);
  };
  vfs_.xSleep = [](sqlite3_vfs* vfs, int microseconds) {
    return Of(vfs).real_->xSleep(Of(vfs).real_, microseconds);
  };
  vfs_.xCurrentTime = [](sqlite3_vfs* vfs, double* out) {
    return Of(vfs).real_->xCurrentTime(Of(vfs).real_, out);
  };
  vfs_.xGetLastError = [](sqlite3_vfs* vfs, int size, char* out) {
    return Of(vfs).real_->xGetLastError(Of(vfs).real_, size, out);
  };
  vfs_.xCurrentTimeInt64 = [](sqlite3_vfs* vfs, sqlite3_int64* out) {
    return Of(vfs).real_->xCurrentTimeInt64(Of(vfs).real_, out);
  };
  sqlite3_vfs_register(&vfs_, /*makeDflt=*/0);
}

int FaultVfs::Impl::Count(Op op, bool needs_space) {
  ++operations_;
  if (operations_ == cut_at_) {
    cut_at_ = 0;
    cut_lost_writes_ = CutLocked();
    cut_.notify_all();
    return IoErrorFor(op);
  }
  if (operations_ == fail_at_) {
    fail_at_ = 0;
    if (fail_kind_ == DiskFault::kIoError) {
      ++faults_;
      return IoErrorFor(op);
    }
    disk_full_ = true;
  }
  if (disk_full_ && needs_space) {
    ++faults_;
    return SQLITE_FULL;
  }
  return SQLITE_OK;
}

int FaultVfs::Impl::SaveForUndo(File& file, sqlite3_int64 offset, sqlite3_int64 end) {
  if (file.path.empty()) return SQLITE_OK;
  sqlite3_int64 size = 0;
  if (int rc = file.methods().xFileSize(file.real(), &size); rc != SQLITE_OK) return rc;
  auto [entry, first_since_sync] = unsynced_.try_emplace(file.path);
  Unsynced& unsynced = entry->second;
  if (first_since_sync) unsynced.synced_size = size;
  // Bytes past the synced size need no copy: the cut truncates them away.
  end = std::min({end, size, unsynced.synced_size});
  if (end <= offset) return SQLITE_OK;
  std::string old(static_cast<std::size_t>(end - offset), '\0');
  const int rc =
      file.methods().xRead(file.real(), old.data(), static_cast<int>(old.size()), offset);
  if (rc != SQLITE_OK) return rc;
  unsynced.undo.push_back(Undo{offset, std::move(old)});
  return SQLITE_OK;
}

std::vector<std::string> FaultVfs::Impl::PowerCut() {
  std::lock_guard lock(mutex_);
  return CutLocked();
}

void FaultVfs::Impl::PowerCutAt(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  cut_at_ = operations_ + n;
  cut_lost_writes_.reset();
}

std::optional<std::vector<std::string>> FaultVfs::Impl::WaitForPowerCut(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cut_.wait_for(lock, timeout, [this] { return cut_lost_writes_.has_value(); });
  auto lost_writes = std::move(cut_lost_writes_);
  cut_lost_writes_.reset();
  return lost_writes;
}

std::vector<std::string> FaultVfs::Impl::CutLocked() {
  std::vector<std::string> lost_writes;
  for (const auto& [path, file] : unsynced_) {
    RestoreToLastSync(path, file);
    lost_writes.push_back(path);
  }
  unsynced_.clear();
  powered_ = false;
  ++epoch_;
  return lost_writes;
}

void FaultVfs::Impl::PowerOn() {
  std::lock_guard lock(mutex_);
  powered_ = true;
  cut_at_ = 0;
}

void FaultVfs::Impl::FailAt(std::uint64_t n, DiskFault kind) {
  std::lock_guard lock(mutex_);
  fail_at_ = operations_ + n;
  fail_kind_ = kind;
}

void FaultVfs::Impl::Recover() {
  std::lock_guard lock(mutex_);
  fail_at_ = 0;
  disk_full_ = false;
}

std::uint64_t FaultVfs::Impl::operations() {
  std::lock_guard lock(mutex_);
  return operations_;
}

std::uint64_t FaultVfs::Impl::faults_injected() {
  std::lock_guard lock(mutex_);
  return faults_;
}

int FaultVfs::Impl::Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
                         int* out_flags) {
  Impl& self = Of(vfs);
  std::lock_guard lock(self.mutex_);
  file->pMethods = nullptr;  // SQLite closes only a file that has methods
  if (!self.powered_) return SQLITE_CANTOPEN;
  if (int rc = self.Count(Op::kOpen, false); rc != SQLITE_OK) return rc;
  File* opened = new (file) File{{nullptr}, &self, name != nullptr ? name : "", self.epoch_};
  const int rc = self.real_->xOpen(self.real_, name, opened->real(), flags, out_flags);
  if (rc != SQLITE_OK) {
    opened->~File();
    file->pMethods = nullptr;
    return rc;
  }
  opened->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int FaultVfs::Impl::Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  Impl& self = Of(vfs);
  std::lock_guard lock(self.mutex_);
  if (!self.powered_) return SQLITE_IOERR_DELETE;
  if (int rc = self.Count(Op::kDelete, false); rc != SQLITE_OK) return rc;
  self.unsynced_.erase(name);
  return self.real_->xDelete(self.real_, name, sync_dir);
}

// Closing, unlocking and unmapping are let through even after a cut: they
// touch no disk, and SQLite must be able to let go of a dead file.
int FaultVfs::Impl::Close(sqlite3_file* file) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  const int rc = f.methods().xClose(f.real());
  f.~File();
  return rc;
}

int FaultVfs::Impl::Read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (int rc = f.vfs->Refuse(f, Op::kRead, false); rc != SQLITE_OK) return rc;
  return f.methods().xRead(f.real(), buffer, amount, offset);
}

int FaultVfs::Impl::Write(sqlite3_file* file, const void* buffer, int amount,
                          sqlite3_int64 offset) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (int rc = f.vfs->Refuse(f, Op::kWrite, true); rc != SQLITE_OK) return rc;
  if (int rc = f.vfs->SaveForUndo(f, offset, offset + amount); rc != SQLITE_OK) return rc;
  return f.methods().xWrite(f.real(), buffer, amount, offset);
}

int FaultVfs::Impl::Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (f.vfs->Dead(f)) return SQLITE_IOERR_TRUNCATE;
  sqlite3_int64 current = 0;
  if (int rc = f.methods().xFileSize(f.real(), &current); rc != SQLITE_OK) return rc;
  // Shrinking a file frees space, so a full disk allows it.
  if (int rc = f.vfs->Count(Op::kTruncate, size > current); rc != SQLITE_OK) return rc;
  if (int rc = f.vfs->SaveForUndo(f, size, current); rc != SQLITE_OK) return rc;
  return f.methods().xTruncate(f.real(), size);
}

// The model, not the disk, decides what a cut keeps, so the real fsync is
// skipped: it would only cost time (about 0.5 ms each, thousands per test).
int FaultVfs::Impl::Sync(sqlite3_file* file, int /*flags*/) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (int rc = f.vfs->Refuse(f, Op::kSync, false); rc != SQLITE_OK) return rc;
  f.vfs->unsynced_.erase(f.path);
  return SQLITE_OK;
}

int FaultVfs::Impl::FileSize(sqlite3_file* file, sqlite3_int64* size) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (int rc = f.vfs->Refuse(f, Op::kFileSize, false); rc != SQLITE_OK) return rc;
  return f.methods().xFileSize(f.real(), size);
}

int FaultVfs::Impl::Lock(sqlite3_file* file, int level) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (f.vfs->Dead(f)) return SQLITE_IOERR_LOCK;
  return f.methods().xLock(f.real(), level);
}

int FaultVfs::Impl::Unlock(sqlite3_file* file, int level) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  return f.methods().xUnlock(f.real(), level);
}

int FaultVfs::Impl::CheckReservedLock(sqlite3_file* file, int* out) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (f.vfs->Dead(f)) return SQLITE_IOERR_CHECKRESERVEDLOCK;
  return f.methods().xCheckReservedLock(f.real(), out);
}

// After a cut this also stops SQLite's checkpoint on close, which asks
// SQLITE_FCNTL_HAS_MOVED first.
int FaultVfs::Impl::FileControl(sqlite3_file* file, int op, void* arg) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (f.vfs->Dead(f)) return SQLITE_IOERR;
  return f.methods().xFileControl(f.real(), op, arg);
}

int FaultVfs::Impl::SectorSize(sqlite3_file* file) {
  File& f = Of(file);
  return f.methods().xSectorSize(f.real());
}

int FaultVfs::Impl::DeviceCharacteristics(sqlite3_file* file) {
  File& f = Of(file);
  return f.methods().xDeviceCharacteristics(f.real());
}

int FaultVfs::Impl::ShmMap(sqlite3_file* file, int region, int size, int extend,
                           void volatile** out) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (int rc = f.vfs->Refuse(f, Op::kShmMap, false); rc != SQLITE_OK) return rc;
  return f.methods().xShmMap(f.real(), region, size, extend, out);
}

int FaultVfs::Impl::ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  if (f.vfs->Dead(f) && (flags & SQLITE_SHM_LOCK) != 0) return SQLITE_IOERR_SHMLOCK;
  return f.methods().xShmLock(f.real(), offset, n, flags);
}

void FaultVfs::Impl::ShmBarrier(sqlite3_file* file) {
  File& f = Of(file);
  f.methods().xShmBarrier(f.real());
}

int FaultVfs::Impl::ShmUnmap(sqlite3_file* file, int delete_flag) {
  File& f = Of(file);
  std::lock_guard lock(f.vfs->mutex_);
  return f.methods().xShmUnmap(f.real(), delete_flag);
}

// Memory-mapped reads would bypass xRead, and with it the faults and the
// dead files: so nothing is mapped (SQLite then reads with xRead).
int FaultVfs::Impl::Fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;
  return SQLITE_OK;
}

int FaultVfs::Impl::Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

FaultVfs::FaultVfs() : impl_(std::make_unique<Impl>()) {}
FaultVfs::~FaultVfs() = default;
std::vector<std::string> FaultVfs::PowerCut() { return impl_->PowerCut(); }
void FaultVfs::PowerCutAt(std::uint64_t n) { impl_->PowerCutAt(n); }
std::optional<std::vector<std::string>> FaultVfs::WaitForPowerCut(
    std::chrono::milliseconds timeout) {
  return impl_->WaitForPowerCut(timeout);
}
void FaultVfs::PowerOn() { impl_->PowerOn(); }
void FaultVfs::FailAt(std::uint64_t n, DiskFault kind) { impl_->FailAt(n, kind); }
void FaultVfs::Recover() { impl_->Recover(); }
std::uint64_t FaultVfs::operations() const { return impl_->operations(); }
std::uint64_t FaultVfs::faults_injected() const { return impl_->faults_injected(); }

}  // namespace duet::testing
