// Crash points: named places where a test can make the process die at once,
// as kill -9 or a power cut would leave it (no destructors, no flushing).
// A process whose environment has DUET_CRASH_AT=NAME raises SIGKILL when it
// reaches CrashPoint("NAME"); otherwise a crash point costs one getenv.
// They mark the steps whose order keeps data safe (docs/reliability.md), so
// the crash tests can stop a real process between any two of them.
#pragma once

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace duet {

inline void CrashPoint(const char* name) {
  const char* at = std::getenv("DUET_CRASH_AT");
  if (at != nullptr && std::strcmp(at, name) == 0) std::raise(SIGKILL);
}

}  // namespace duet
