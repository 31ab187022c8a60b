// The key file parser (client/keyfile.h) on arbitrary bytes, with a fixed
// passphrase: a damaged or crafted file is an error, never a crash, and
// never an allocation the file's own limits ask for.
#include <cstdint>
#include <string>

#include "client/keyfile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool started = duet::crypto::Init();
  if (!started) __builtin_trap();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto keys = duet::client::ParseKeyFile(bytes, "keys", [] { return std::optional<std::string>("pw"); });
  if (keys.ok() && size != 233 && size != 345 && size != 201 && size != 281) __builtin_trap();
  return 0;
}
