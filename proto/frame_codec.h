// Framing of duet.v1.Frame messages on a byte stream (docs/protocol.md §1).
//
// A frame is a 4-byte big-endian length N (1..kMaxFrameBytes) followed by N
// bytes of a serialized Frame. FrameDecoder does no I/O: feed it the bytes a
// socket produced and ask for frames; it answers a frame, "need more" or
// "bad". It checks a frame's length before buffering toward it, so a peer
// cannot make it allocate more than it actually sent, and never more than one
// maximal frame plus one read. A decoder that said kBad stays bad.
// Not thread-safe: one decoder per connection, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "duet/v1/wire.pb.h"

namespace duet::proto {

inline constexpr std::size_t kFrameHeaderBytes = 4;
inline constexpr std::size_t kMaxFrameBytes = 1u << 20;

// Serializes `frame` with its length prefix. Returns an empty string when the
// serialized frame would exceed kMaxFrameBytes (or is empty: a Frame must
// have a body), so an oversized frame is never sent.
std::string EncodeFrame(const v1::Frame& frame);

class FrameDecoder {
 public:
  enum class Outcome { kFrame, kNeedMore, kBad };

  // Appends bytes received from the peer.
  void Append(std::string_view bytes);

  // Takes the next complete frame out of the buffer. On kBad, `*why` says
  // what was wrong in one line.
  Outcome Next(v1::Frame* frame, std::string* why);

  // Bytes buffered but not yet consumed.
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
  bool bad_ = false;
};

}  // namespace duet::proto
