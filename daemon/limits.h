// Every limit the relay enforces, with its default and the attack it answers
// (docs/reliability.md lists them too). The defaults suit a Raspberry Pi
// serving a few hundred couples: about 100 MiB of memory under attack and a
// few GiB of disk at most.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace duet::daemon {

struct RelayLimits {
  // --- connections: one host, or many throwaway keys, cannot take the slots
  // paired devices need.
  std::size_t max_connections = 1024;
  // Connections that belong to no couple (not yet authenticated, or a device
  // nobody paired with). When this pool or the whole table is full, the
  // oldest of them is shed to admit a newcomer; paired devices are never shed
  // for a stranger.
  std::size_t max_stranger_connections = 256;
  std::size_t max_connections_per_address = 64;
  std::size_t max_unauthenticated_per_address = 16;
  // A couple is two devices; a few connections each (duet watch plus a
  // command) is plenty. Past it the couple's own oldest connection goes.
  std::size_t max_connections_per_couple = 8;
  // Devices of one couple, both partners together (protocol.md §5.1).
  std::uint64_t max_devices_per_couple = 8;

  // --- deadlines: a slow-drip client cannot hold a connection or a buffer.
  std::chrono::seconds handshake_timeout{10};  // connect to AuthOk, whole
  std::chrono::seconds frame_timeout{30};      // first byte to last of one frame
  std::chrono::seconds idle_timeout{300};      // between whole frames

  // --- memory.
  // Frames before pairing are hellos and invites, a few hundred bytes; large
  // frames are for paired devices only.
  std::size_t max_stranger_frame_bytes = 4096;
  // All receive buffers together. Past it the newest stranger is shed, and a
  // paired connection that would grow further is closed (its client retries).
  std::size_t receive_budget_bytes = 64u << 20;

  // --- what one couple may store and how fast: a self-paired stranger
  // cannot fill the disk.
  std::uint64_t max_records_per_couple = 50'000;
  std::uint64_t max_bytes_per_couple = 32u << 20;
  // A couple one partner ended keeps its records this long for the other
  // partner's device to fetch; then they are deleted even if it never came.
  std::chrono::seconds unpaired_kept{30 * 86400};
  double push_burst_records = 500;
  std::chrono::milliseconds push_record_interval{500};  // then 2 records a second

  // --- invites: keys are free, so limits are per address and global too.
  std::uint64_t max_open_invites_per_device = 5;
  std::uint64_t max_pending_invites_per_address = 20;
  std::uint64_t max_pending_invites = 10'000;
  double invite_lookup_burst = 10;  // per address
  std::chrono::milliseconds invite_lookup_interval{6000};
  // Expired, unanswered invites are kept this long (a late join hears
  // "expired", not "unknown"), then deleted.
  std::chrono::seconds expired_invite_kept{86400};
};

}  // namespace duet::daemon
