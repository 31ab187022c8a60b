// libprotobuf logs on its own (to stderr) when it meets a string that is not
// UTF-8, with the field's name and sometimes after untrusted bytes. Every
// such case is also an error value in our code, so its line tells a user
// nothing and a relay's log must not carry it. RouteProtobufLog sends each
// line to the process's own log instead: escaped into one printable line,
// and only while DUET_DEBUG_PROTOBUF is set in the environment (for us,
// debugging); otherwise it is dropped. Call it once at start, before threads.
#pragma once

#include <string>
#include <string_view>

namespace duet::proto {

// `program` prefixes each line ("duet", "duetd").
void RouteProtobufLog(const char* program);

// `text` as one printable ASCII line: bytes outside 0x20..0x7E become \xNN,
// clipped to `max_bytes` of input.
std::string EscapeForLog(std::string_view text, std::size_t max_bytes = 200);

}  // namespace duet::proto
