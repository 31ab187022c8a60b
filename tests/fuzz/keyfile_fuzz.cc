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
  // A locked file makes the parser run argon2id at the file's own limits
  // (up to 1 GiB for a version 1 file, which has no checksum to fail first):
  // keep to cheap ones, so the fuzzer spends its time on the parsing.
  if (size >= 24 && bytes.substr(0, 7) == "DUETLCK") {
    std::uint64_t ops = 0, mem = 0;
    for (int i = 0; i < 8; ++i) ops = ops << 8 | data[8 + i];
    for (int i = 0; i < 8; ++i) mem = mem << 8 | data[16 + i];
    if (ops > 4 || mem > (1u << 20)) return 0;
  }
  auto keys = duet::client::ParseKeyFile(bytes, "keys", [] { return std::optional<std::string>("pw"); });
  if (keys.ok() && size != 233 && size != 345 && size != 201 && size != 281) __builtin_trap();
  return 0;
}
