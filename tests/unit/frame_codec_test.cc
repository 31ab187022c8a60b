#include "proto/frame_codec.h"

#include <gtest/gtest.h>

namespace duet::proto {
namespace {

v1::Frame PingFrame(std::uint64_t id) {
  v1::Frame frame;
  frame.set_request_id(id);
  frame.mutable_ping();
  return frame;
}

std::string Header(std::uint32_t length) {
  return std::string{static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                     static_cast<char>(length >> 8), static_cast<char>(length)};
}

TEST(FrameCodec, RoundTripsSeveralFramesInOneBuffer) {
  std::string wire = EncodeFrame(PingFrame(1)) + EncodeFrame(PingFrame(2));
  FrameDecoder decoder;
  decoder.Append(wire);
  v1::Frame frame;
  std::string why;
  ASSERT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kFrame);
  EXPECT_EQ(frame.request_id(), 1u);
  ASSERT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kFrame);
  EXPECT_EQ(frame.request_id(), 2u);
  EXPECT_TRUE(frame.has_ping());
  EXPECT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kNeedMore);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameCodec, TruncatedFrameNeedsMoreUntilComplete) {
  std::string wire = EncodeFrame(PingFrame(7));
  FrameDecoder decoder;
  v1::Frame frame;
  std::string why;
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    decoder.Append(wire.substr(i, 1));
    ASSERT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kNeedMore) << "byte " << i;
  }
  decoder.Append(wire.substr(wire.size() - 1));
  ASSERT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kFrame);
  EXPECT_EQ(frame.request_id(), 7u);
}

TEST(FrameCodec, OversizedLengthIsRejectedBeforeThePayloadArrives) {
  FrameDecoder decoder;
  decoder.Append(Header(kMaxFrameBytes + 1));
  v1::Frame frame;
  std::string why;
  EXPECT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kBad);
  EXPECT_NE(why.find("outside"), std::string::npos);
  EXPECT_EQ(decoder.buffered(), kFrameHeaderBytes);  // nothing reserved for the payload
  // Once bad, always bad: later bytes are ignored.
  decoder.Append(EncodeFrame(PingFrame(1)));
  EXPECT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kBad);
}

TEST(FrameCodec, ZeroLengthIsRejected) {
  FrameDecoder decoder;
  decoder.Append(Header(0));
  v1::Frame frame;
  std::string why;
  EXPECT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kBad);
}

TEST(FrameCodec, GarbagePayloadIsRejected) {
  FrameDecoder decoder;
  const std::string garbage = "\xff\xff\xff\xff\xff\xff\xff\xff";
  decoder.Append(Header(static_cast<std::uint32_t>(garbage.size())) + garbage);
  v1::Frame frame;
  std::string why;
  EXPECT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kBad);
  EXPECT_FALSE(why.empty());
}

TEST(FrameCodec, FrameWithoutBodyIsRejected) {
  v1::Frame frame;
  frame.set_request_id(3);
  std::string payload = frame.SerializeAsString();
  FrameDecoder decoder;
  decoder.Append(Header(static_cast<std::uint32_t>(payload.size())) + payload);
  std::string why;
  EXPECT_EQ(decoder.Next(&frame, &why), FrameDecoder::Outcome::kBad);
  EXPECT_EQ(why, "frame has no body");
}

TEST(FrameCodec, EncoderRefusesFramesOverTheLimit) {
  v1::Frame frame;
  frame.set_request_id(1);
  auto* record = frame.mutable_push()->add_records();
  record->set_ciphertext(std::string(kMaxFrameBytes, 'x'));
  EXPECT_TRUE(EncodeFrame(frame).empty());
  EXPECT_TRUE(EncodeFrame(v1::Frame()).empty());
}

TEST(FrameCodec, LargestFrameRoundTrips) {
  v1::Frame frame;
  frame.set_request_id(1);
  frame.mutable_push()->add_records()->set_ciphertext(std::string(kMaxFrameBytes - 64, 'x'));
  std::string wire = EncodeFrame(frame);
  ASSERT_FALSE(wire.empty());
  FrameDecoder decoder;
  decoder.Append(wire);
  v1::Frame out;
  std::string why;
  ASSERT_EQ(decoder.Next(&out, &why), FrameDecoder::Outcome::kFrame);
  EXPECT_EQ(out.push().records(0).ciphertext().size(), kMaxFrameBytes - 64);
}

}  // namespace
}  // namespace duet::proto
