#include "proto/protobuf_log.h"

#include <google/protobuf/stubs/logging.h>

#include <cstdio>
#include <cstdlib>

namespace duet::proto {
namespace {

const char* g_program = "duet";

void Handler(google::protobuf::LogLevel level, const char* /*file*/, int /*line*/,
             const std::string& message) {
  const char* debug = std::getenv("DUET_DEBUG_PROTOBUF");
  if (level != google::protobuf::LOGLEVEL_FATAL && (debug == nullptr || *debug == '\0')) return;
  std::fprintf(stderr, "%s: debug: protobuf: %s\n", g_program, EscapeForLog(message).c_str());
}

}  // namespace

void RouteProtobufLog(const char* program) {
  g_program = program;
  google::protobuf::SetLogHandler(&Handler);
}

std::string EscapeForLog(std::string_view text, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  for (std::size_t i = 0; i < text.size() && i < max_bytes; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c <= 0x7E && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

}  // namespace duet::proto
