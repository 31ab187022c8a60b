// The frame decoder on arbitrary bytes, fed in pieces of every size the
// input itself picks (a length prefix split across reads is the hard case).
#include <cstdint>
#include <string>

#include "proto/frame_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  duet::proto::FrameDecoder decoder;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    decoder.Append(bytes.substr(at, step));
    for (;;) {
      duet::v1::Frame frame;
      std::string why;
      const auto outcome = decoder.Next(&frame, &why);
      if (outcome != duet::proto::FrameDecoder::Outcome::kFrame) break;
      if (frame.body_case() == duet::v1::Frame::BODY_NOT_SET) __builtin_trap();  // a frame has a body
    }
  }
  return 0;
}
