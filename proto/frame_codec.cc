#include "proto/frame_codec.h"

namespace duet::proto {
namespace {

// A drained buffer larger than this gives its memory back, so an idle
// connection holds no more than one read.
constexpr std::size_t kReleaseAbove = 64 * 1024;

std::uint32_t ReadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) |
         (std::uint32_t{u[2]} << 8) | std::uint32_t{u[3]};
}

}  // namespace

std::string SerializeFrame(const v1::Frame& frame) {
  if (frame.body_case() == v1::Frame::BODY_NOT_SET) return {};
  const std::size_t size = frame.ByteSizeLong();
  if (size == 0 || size > kMaxFrameBytes) return {};
  return frame.SerializeAsString();
}

bool ParseFrame(std::string_view bytes, v1::Frame* frame, std::string* why) {
  frame->Clear();
  if (bytes.size() > kMaxFrameBytes || !frame->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    *why = "frame payload is not a valid duet.v1.Frame";
    return false;
  }
  if (frame->body_case() == v1::Frame::BODY_NOT_SET) {
    *why = "frame has no body";
    return false;
  }
  return true;
}

std::string LengthPrefixed(std::string_view payload) {
  const std::size_t size = payload.size();
  std::string out;
  out.reserve(kFrameHeaderBytes + size);
  out.push_back(static_cast<char>((size >> 24) & 0xff));
  out.push_back(static_cast<char>((size >> 16) & 0xff));
  out.push_back(static_cast<char>((size >> 8) & 0xff));
  out.push_back(static_cast<char>(size & 0xff));
  out.append(payload);
  return out;
}

std::string EncodeFrame(const v1::Frame& frame) {
  const std::string payload = SerializeFrame(frame);
  return payload.empty() ? std::string() : LengthPrefixed(payload);
}

void FrameDecoder::Append(std::string_view bytes) {
  if (bad_) return;
  // Compact before growing, so the buffer holds at most one frame in flight.
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    Drain();
  } else if (consumed_ > 0 && buffer_.capacity() > kReleaseAbove &&
             buffer_.size() - consumed_ < kReleaseAbove / 2) {
    // Only a little is left of a large buffer: move it to a small one, so a
    // peer that keeps a frame half-sent holds only what it sent.
    std::string rest(buffer_, consumed_);
    buffer_.swap(rest);
    consumed_ = 0;
  } else if (consumed_ > 0 && buffer_.size() + bytes.size() > buffer_.capacity()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

void FrameDecoder::Drain() {
  if (buffer_.capacity() > kReleaseAbove)
    std::string().swap(buffer_);
  else
    buffer_.clear();
  consumed_ = 0;
}

std::string FrameDecoder::TakeBuffered() {
  std::string rest = buffer_.substr(consumed_);
  buffer_.clear();
  consumed_ = 0;
  return rest;
}

FrameDecoder::Outcome FrameDecoder::NextPayload(std::string* payload, std::string* why) {
  if (bad_) {
    *why = "connection already failed";
    return Outcome::kBad;
  }
  if (buffered() < kFrameHeaderBytes) return Outcome::kNeedMore;
  const std::uint32_t length = ReadBigEndian32(buffer_.data() + consumed_);
  if (length < min_payload_ || length > max_payload_) {
    bad_ = true;
    *why = "frame length " + std::to_string(length) + " is outside " +
           std::to_string(min_payload_) + ".." + std::to_string(max_payload_);
    return Outcome::kBad;
  }
  if (buffered() < kFrameHeaderBytes + length) return Outcome::kNeedMore;
  payload->assign(buffer_.data() + consumed_ + kFrameHeaderBytes, length);
  consumed_ += kFrameHeaderBytes + length;
  if (consumed_ == buffer_.size()) Drain();
  return Outcome::kFrame;
}

FrameDecoder::Outcome FrameDecoder::Next(v1::Frame* frame, std::string* why) {
  std::string payload;
  const Outcome outcome = NextPayload(&payload, why);
  if (outcome != Outcome::kFrame) return outcome;
  if (!ParseFrame(payload, frame, why)) {
    bad_ = true;
    return Outcome::kBad;
  }
  return Outcome::kFrame;
}

}  // namespace duet::proto
