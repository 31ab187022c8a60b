// The encrypted channel between a client and the relay (docs/protocol.md
// §1.1-1.2): a handshake from crypto_kx with ephemeral keys on both sides and
// the relay's static key, then one crypto_secretstream_xchacha20poly1305
// stream per direction.
//
// Pure byte-in, byte-out: nothing here does I/O. Handshake messages have
// fixed sizes and are checked (size, magic, version) before any public-key
// operation. Stream states and keys are wiped when destroyed. An object is
// used by one thread at a time.
#pragma once

#include <sodium.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/crypto.h"

namespace duet::crypto {

inline constexpr std::size_t kClientHelloBytes = 37;
inline constexpr std::size_t kServerHelloBytes = 93;
inline constexpr std::size_t kStreamHeaderBytes = 24;
inline constexpr std::size_t kStreamOverheadBytes = 17;

struct ChannelKeys {
  SymmetricKey client_to_relay;
  SymmetricKey relay_to_client;
};

// The sending half of a secretstream.
class StreamSender {
 public:
  StreamSender() = default;
  StreamSender(const StreamSender&) = delete;
  StreamSender& operator=(const StreamSender&) = delete;
  ~StreamSender();
  // Starts the stream; returns the 24-byte header the peer needs.
  std::string Start(const SymmetricKey& key);
  // Seals one message; `final` marks the orderly end of the stream.
  std::string Seal(std::string_view plaintext, bool final = false);

 private:
  crypto_secretstream_xchacha20poly1305_state state_{};
};

// The receiving half of a secretstream.
class StreamReceiver {
 public:
  StreamReceiver() = default;
  StreamReceiver(const StreamReceiver&) = delete;
  StreamReceiver& operator=(const StreamReceiver&) = delete;
  ~StreamReceiver();
  bool Start(const SymmetricKey& key, std::string_view header);
  // nullopt when the message was altered, dropped, replayed or reordered.
  std::optional<std::string> Open(std::string_view ciphertext, bool* final);

 private:
  crypto_secretstream_xchacha20poly1305_state state_{};
};

// True when `hello` has the size, magic and version of message 1.
bool IsClientHello(std::string_view hello);

// The relay keys a client accepts in the handshake: the one it pinned, and
// the one the relay announced it will move to (docs/protocol.md §3.1).
// Converts from a single key, so a caller with one pinned key passes it.
struct PinnedRelayKeys {
  PinnedRelayKeys() = default;
  PinnedRelayKeys(std::string current_key, std::string next_key = {})  // NOLINT: implicit by design
      : current(std::move(current_key)), next(std::move(next_key)) {}
  PinnedRelayKeys(const char* current_key) : current(current_key) {}  // NOLINT
  std::string current;  // empty: none pinned yet, any key is accepted
  std::string next;
};

class ClientHandshake {
 public:
  ClientHandshake();
  // With a given ephemeral key pair: for the test vectors only (a reused
  // ephemeral key would make two connections share keys).
  explicit ClientHandshake(KxKeyPair ephemeral) : ephemeral_(std::move(ephemeral)) {}
  // Message 1.
  std::string Hello() const;
  // Reads message 2: checks it, refuses a relay key other than those
  // `pinned` (none: any key, first contact), derives the keys and starts both
  // streams. Returns message 3. `*relay_key` receives the relay's static key.
  Result<std::string> Finish(std::string_view server_hello, const PinnedRelayKeys& pinned,
                             std::string* relay_key, StreamSender* sender,
                             StreamReceiver* receiver);
  // After Finish: the 32-byte transcript hash h, which the device signs to
  // bind its identity to this very connection.
  const std::string& transcript_hash() const { return transcript_hash_; }

 private:
  KxKeyPair ephemeral_;
  std::string transcript_hash_;
};

// The relay's answer to message 1 (already checked with IsClientHello): it
// derives the keys, starts its sending stream and returns message 2. Message 3
// then goes to `receiver->Start(keys.client_to_relay, header)`.
struct RelayHandshake {
  std::string server_hello;
  ChannelKeys keys;
  std::string transcript_hash;  // h, as the client computes it
};
// `ephemeral`: null (a fresh pair) except in the test vectors.
std::optional<RelayHandshake> RespondToHello(const KxKeyPair& relay_static,
                                             std::string_view client_hello, StreamSender* sender,
                                             const KxKeyPair* ephemeral = nullptr);

}  // namespace duet::crypto
