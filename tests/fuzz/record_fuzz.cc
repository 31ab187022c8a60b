// A record as the relay stores it and as a partner's device opens it: the
// envelope's strict shape, then the body parsed and judged by the one
// validator (client/model/validate.h). The input is a serialized envelope
// whose ciphertext field, if any, is taken as the body plaintext (the AEAD
// would refuse any forgery, so the parser behind it is what needs fuzzing).
#include <cstdint>
#include <string>

#include "client/model/validate.h"
#include "duet/v1/wire.pb.h"
#include "proto/envelope.h"
#include "proto/protobuf_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (duet::proto::RouteProtobufLog("fuzz"), true);
  (void)quiet;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  duet::v1::RecordEnvelope envelope;
  if (envelope.ParseFromString(bytes)) {
    (void)duet::proto::EnvelopeShapeError(envelope);
    (void)duet::proto::EnvelopeSignedBytes(envelope);
  }
  const std::string& plain = envelope.ciphertext().empty() ? bytes : envelope.ciphertext();
  duet::model::v1::RecordBody body;
  if (body.ParseFromString(plain)) {
    const auto verdict = duet::model::ValidateBody(body);
    if (!verdict.valid() && verdict.problem.empty()) __builtin_trap();  // every refusal says why
    (void)duet::model::DescribeUnshown(body, verdict, "Bob", true);
  }
  duet::model::v1::RecordHeader header;
  (void)header.ParseFromString(plain);
  return 0;
}
