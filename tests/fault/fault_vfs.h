// FaultVfs: a test-only SQLite VFS, registered as "duet-fault", that wraps the
// default (unix) VFS and makes its disk misbehave on demand: a power cut, an
// I/O error, a full disk. Everything it does not fake is delegated, including
// WAL's shared memory (the xShm* methods).
//
// Power cut model: every write reaches the real file at once, but until the
// file's next xSync the VFS keeps the bytes it overwrote (an undo log per
// file, and the file's size at its last sync). A cut puts every file back to
// its last-synced content, so exactly the unsynced writes are lost, and the
// machine is then off: files opened before the cut fail every call that
// reads or changes them, and nothing opens until PowerOn(). fault_vfs.cc
// lists what the model leaves out.
//
// Faults: operations are counted (xOpen, xDelete, xRead, xWrite, xTruncate,
// xSync, xFileSize, xShmMap; not locks, which never touch the disk) and
// FailAt(n, kind) makes the n-th from now fail. An I/O error is one-shot, like
// a transient device error; a full disk stays full from that operation on,
// failing every write (and every truncate that grows a file) with SQLITE_FULL
// until Recover().
//
// One FaultVfs at a time (the name is global to SQLite). Every method may be
// called from any thread: one mutex covers the model and each delegated call,
// so a PowerCut() from the test thread lands between two I/O calls of the
// thread that is using SQLite, never inside one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace duet::testing {

enum class DiskFault {
  kIoError,   // SQLITE_IOERR_READ / _WRITE / _FSYNC / ... as fits the operation
  kDiskFull,  // SQLITE_FULL
};

class FaultVfs {
 public:
  static constexpr const char* kName = "duet-fault";

  FaultVfs();  // registers kName; REQUIRES: no other FaultVfs exists
  // REQUIRES: no file is open through it (close every connection first).
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  // Returns the files that lost writes, for tests to tell which moments
  // their cuts hit (mid-commit: the WAL; mid-checkpoint: the database).
  std::vector<std::string> PowerCut();
  // Arms a cut instead of the n-th operation from now (REQUIRES: n >= 1):
  // it lands between two I/O calls of the thread using SQLite, where a cut
  // from another thread seldom does. WaitForPowerCut() returns what
  // PowerCut() would have, once it happened; nullopt after `timeout`.
  void PowerCutAt(std::uint64_t n);
  std::optional<std::vector<std::string>> WaitForPowerCut(std::chrono::milliseconds timeout);
  // The machine runs again; files opened before the cut stay dead.
  void PowerOn();

  // REQUIRES: n >= 1. Replaces any fault armed and not yet hit.
  void FailAt(std::uint64_t n, DiskFault kind);
  // Disarms FailAt and frees the disk.
  void Recover();

  // Operations counted since construction (see above for which).
  std::uint64_t operations() const;
  // Operations that failed because of FailAt (a full disk counts each).
  std::uint64_t faults_injected() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duet::testing
