#include "proto/frame_codec.h"

namespace duet::proto {
namespace {

std::uint32_t ReadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) |
         (std::uint32_t{u[2]} << 8) | std::uint32_t{u[3]};
}

}  // namespace

std::string EncodeFrame(const v1::Frame& frame) {
  const std::size_t size = frame.ByteSizeLong();
  if (size == 0 || size > kMaxFrameBytes) return {};
  std::string out(kFrameHeaderBytes + size, '\0');
  out[0] = static_cast<char>((size >> 24) & 0xff);
  out[1] = static_cast<char>((size >> 16) & 0xff);
  out[2] = static_cast<char>((size >> 8) & 0xff);
  out[3] = static_cast<char>(size & 0xff);
  if (!frame.SerializeToArray(out.data() + kFrameHeaderBytes, static_cast<int>(size))) return {};
  return out;
}

void FrameDecoder::Append(std::string_view bytes) {
  if (bad_) return;
  // Compact before growing, so the buffer holds at most one frame in flight.
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 0 && buffer_.size() + bytes.size() > buffer_.capacity()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

FrameDecoder::Outcome FrameDecoder::Next(v1::Frame* frame, std::string* why) {
  if (bad_) {
    *why = "connection already failed";
    return Outcome::kBad;
  }
  if (buffered() < kFrameHeaderBytes) return Outcome::kNeedMore;
  const std::uint32_t length = ReadBigEndian32(buffer_.data() + consumed_);
  if (length == 0 || length > kMaxFrameBytes) {
    bad_ = true;
    *why = "frame length " + std::to_string(length) + " is outside 1.." +
           std::to_string(kMaxFrameBytes);
    return Outcome::kBad;
  }
  if (buffered() < kFrameHeaderBytes + length) return Outcome::kNeedMore;
  const char* payload = buffer_.data() + consumed_ + kFrameHeaderBytes;
  consumed_ += kFrameHeaderBytes + length;
  frame->Clear();
  if (!frame->ParseFromArray(payload, static_cast<int>(length))) {
    bad_ = true;
    *why = "frame payload is not a valid duet.v1.Frame";
    return Outcome::kBad;
  }
  if (frame->body_case() == v1::Frame::BODY_NOT_SET) {
    bad_ = true;
    *why = "frame has no body";
    return Outcome::kBad;
  }
  return Outcome::kFrame;
}

}  // namespace duet::proto
