// Framing on a byte stream (docs/protocol.md §1.2).
//
// A frame is a 4-byte big-endian length N followed by N bytes of payload.
// Inside the encrypted channel the payload is secretstream ciphertext whose
// plaintext is a serialized duet.v1.Frame; the codec handles the lengths and
// the Frame parsing, the channel (crypto/channel.h) the sealing between them.
// FrameDecoder does no I/O: feed it the bytes a socket produced and ask for
// payloads; it answers a payload, "need more" or "bad". It checks a length
// before buffering toward it, so a peer cannot make it allocate more than it
// actually sent, and never more than one maximal frame plus one read. A
// decoder that said kBad stays bad. Not thread-safe: one per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "duet/v1/wire.pb.h"

namespace duet::proto {

inline constexpr std::size_t kFrameHeaderBytes = 4;
// Largest serialized Frame (the plaintext of one channel frame).
inline constexpr std::size_t kMaxFrameBytes = 1u << 20;
// What secretstream adds to each frame (crypto_secretstream ABYTES).
inline constexpr std::size_t kChannelOverheadBytes = 17;
inline constexpr std::size_t kMaxSealedFrameBytes = kMaxFrameBytes + kChannelOverheadBytes;

// Serializes `frame`; empty when it has no body or exceeds kMaxFrameBytes,
// so an oversized frame is never sent.
std::string SerializeFrame(const v1::Frame& frame);
// Parses a serialized Frame strictly: it must parse and have a body.
bool ParseFrame(std::string_view bytes, v1::Frame* frame, std::string* why);
// `payload` behind its 4-byte big-endian length.
std::string LengthPrefixed(std::string_view payload);
// SerializeFrame + LengthPrefixed: a frame as sent without a channel (tests,
// tools). Empty when SerializeFrame is.
std::string EncodeFrame(const v1::Frame& frame);

class FrameDecoder {
 public:
  enum class Outcome { kFrame, kNeedMore, kBad };

  explicit FrameDecoder(std::size_t min_payload = 1, std::size_t max_payload = kMaxFrameBytes)
      : min_payload_(min_payload), max_payload_(max_payload) {}

  // Appends bytes received from the peer.
  void Append(std::string_view bytes);
  // Takes the next complete payload out of the buffer. On kBad, `*why` says
  // what was wrong in one line.
  Outcome NextPayload(std::string* payload, std::string* why);
  // NextPayload, then ParseFrame: for streams that carry Frames unsealed.
  Outcome Next(v1::Frame* frame, std::string* why);

  // Bytes buffered but not yet consumed.
  std::size_t buffered() const { return buffer_.size() - consumed_; }
  // Memory the buffer holds (what a receive budget counts).
  std::size_t held() const { return buffer_.capacity(); }
  // Raises or lowers the largest payload accepted from now on (a relay
  // accepts large frames only once it knows who is sending).
  void set_max_payload(std::size_t max_payload) { max_payload_ = max_payload; }
  // Removes and returns everything buffered (used when a handshake hands the
  // rest of the stream over).
  std::string TakeBuffered();

 private:
  void Drain();  // everything consumed: start over, giving large memory back
  std::size_t min_payload_;
  std::size_t max_payload_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  bool bad_ = false;
};

}  // namespace duet::proto
