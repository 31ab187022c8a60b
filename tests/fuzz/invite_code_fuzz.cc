// Invite codes as a person might paste them: anything goes in, a code or a
// one-line error comes out, and a code that parses formats to one that
// parses to the same code.
#include <cstdint>
#include <string>

#include "client/pairing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto code = duet::client::ParseInviteCode(text);
  if (code.ok()) {
    auto again = duet::client::ParseInviteCode(duet::client::FormatInviteCode(code.value()));
    if (!again.ok() || !(again->secret == code->secret) || again->relay_key != code->relay_key ||
        again->relay_address != code->relay_address)
      __builtin_trap();
  } else if (code.error().message.find('\n') != std::string::npos) {
    __builtin_trap();
  }
  return 0;
}
