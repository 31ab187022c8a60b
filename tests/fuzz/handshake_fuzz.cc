// Both ends of the channel handshake (docs/protocol.md §1.1) on arbitrary
// messages: the relay answering a client hello, the client reading a server
// hello. Neither may crash, and a hello that is not the right size, magic
// and version must be refused.
#include <cstdint>
#include <string>

#include "crypto/channel.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool started = duet::crypto::Init();
  static const duet::crypto::KxKeyPair relay = duet::crypto::KxKeyPair::Generate();
  if (!started) __builtin_trap();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (duet::crypto::IsClientHello(bytes)) {
    duet::crypto::StreamSender sender;
    (void)duet::crypto::RespondToHello(relay, bytes, &sender);
  } else if (size == duet::crypto::kClientHelloBytes && bytes.substr(0, 4) == "DUET" && data[4] == 1) {
    __builtin_trap();  // a well-formed hello was refused
  }
  duet::crypto::ClientHandshake client;
  std::string relay_key;
  duet::crypto::StreamSender sender;
  duet::crypto::StreamReceiver receiver;
  auto finished = client.Finish(bytes, /*pinned=*/"", &relay_key, &sender, &receiver);
  if (finished.ok() && size != duet::crypto::kServerHelloBytes) __builtin_trap();
  return 0;
}
