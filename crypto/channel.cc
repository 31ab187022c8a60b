#include "crypto/channel.h"

#include <cstdlib>

namespace duet::crypto {
namespace {

constexpr std::string_view kMagic = "DUET";
constexpr char kChannelVersion = 0x01;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string TranscriptHash(std::string_view client_hello, std::string_view relay_ephemeral,
                           std::string_view relay_static) {
  std::string transcript = "duet/v1/channel";
  transcript.append(client_hello).append(relay_ephemeral).append(relay_static);
  return Hash(32, transcript);
}

// okm = BLAKE2b-512(key = h, ee_rx || ee_tx || es_rx || es_tx), in the relay's roles.
ChannelKeys DeriveKeys(std::string_view client_hello, std::string_view relay_ephemeral,
                       std::string_view relay_static, const SessionKeys& ee,
                       const SessionKeys& es) {
  const std::string h = TranscriptHash(client_hello, relay_ephemeral, relay_static);
  Secret<4 * kKeyBytes> material;
  material.Put(0, ee.rx.view());
  material.Put(kKeyBytes, ee.tx.view());
  material.Put(2 * kKeyBytes, es.rx.view());
  material.Put(3 * kKeyBytes, es.tx.view());
  std::string okm = Hash(64, material.view(), h);
  ChannelKeys keys;
  keys.client_to_relay.Assign(std::string_view(okm).substr(0, 32));
  keys.relay_to_client.Assign(std::string_view(okm).substr(32, 32));
  WipeString(okm);
  return keys;
}

}  // namespace

StreamSender::~StreamSender() { sodium_memzero(&state_, sizeof state_); }

std::string StreamSender::Start(const SymmetricKey& key) {
  std::string header(crypto_secretstream_xchacha20poly1305_HEADERBYTES, '\0');
  if (crypto_secretstream_xchacha20poly1305_init_push(&state_, reinterpret_cast<unsigned char*>(header.data()),
                                                      key.data()) != 0)
    std::abort();  // cannot fail: a broken libsodium must not be used
  return header;
}

std::string StreamSender::Seal(std::string_view plaintext, bool final) {
  std::string out(plaintext.size() + crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  if (crypto_secretstream_xchacha20poly1305_push(
          &state_, reinterpret_cast<unsigned char*>(out.data()), nullptr, U(plaintext), plaintext.size(), nullptr,
          0,
          final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) !=
      0)
    std::abort();  // only a message past 2^38 bytes fails; frames are capped at 1 MiB
  return out;
}

StreamReceiver::~StreamReceiver() { sodium_memzero(&state_, sizeof state_); }

bool StreamReceiver::Start(const SymmetricKey& key, std::string_view header) {
  return header.size() == crypto_secretstream_xchacha20poly1305_HEADERBYTES &&
         crypto_secretstream_xchacha20poly1305_init_pull(&state_, U(header), key.data()) == 0;
}

std::optional<std::string> StreamReceiver::Open(std::string_view ciphertext, bool* final) {
  if (ciphertext.size() < crypto_secretstream_xchacha20poly1305_ABYTES) return std::nullopt;
  std::string out(ciphertext.size() - crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&state_,
                                                 reinterpret_cast<unsigned char*>(out.data()),
                                                 nullptr, &tag, U(ciphertext), ciphertext.size(),
                                                 nullptr, 0) != 0)
    return std::nullopt;
  *final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  return out;
}

bool IsClientHello(std::string_view hello) {
  return hello.size() == kClientHelloBytes && hello.substr(0, 4) == kMagic &&
         hello[4] == kChannelVersion;
}

ClientHandshake::ClientHandshake() : ephemeral_(KxKeyPair::Generate()) {}

std::string ClientHandshake::Hello() const {
  std::string hello(kMagic);
  hello.push_back(kChannelVersion);
  hello.append(ephemeral_.public_key);
  return hello;
}

Result<std::string> ClientHandshake::Finish(std::string_view server_hello,
                                            const PinnedRelayKeys& pinned, std::string* relay_key,
                                            StreamSender* sender, StreamReceiver* receiver) {
  if (server_hello.size() != kServerHelloBytes || server_hello.substr(0, 4) != kMagic ||
      server_hello[4] != kChannelVersion)
    return MakeError(ErrorKind::kProtocol, "the relay did not answer like a duet relay");
  const std::string_view relay_ephemeral = server_hello.substr(5, 32);
  const std::string_view relay_static = server_hello.substr(37, 32);
  const std::string_view header = server_hello.substr(69, kStreamHeaderBytes);
  *relay_key = std::string(relay_static);
  const bool trusted = pinned.current.empty() || ConstantTimeEqual(pinned.current, relay_static) ||
                       (pinned.next.size() == relay_static.size() &&
                        ConstantTimeEqual(pinned.next, relay_static));
  if (!trusted)
    return MakeError(ErrorKind::kVerification,
                     "presented key " + Base64UrlEncode(relay_static) + " but this device trusts " +
                         Base64UrlEncode(pinned.current) +
                         "; nothing was sent (if its owner gave the relay a new key, check it with "
                         "them, then run `duet relay move ADDRESS --relay-key KEY`)");
  auto ee = KxClient(ephemeral_, relay_ephemeral);
  auto es = KxClient(ephemeral_, relay_static);
  if (!ee || !es) return MakeError(ErrorKind::kProtocol, "the relay sent an invalid key");
  // The client's (rx, tx) are the relay's (tx, rx): swap into the relay's roles.
  SessionKeys ee_relay{ee->tx, ee->rx};
  SessionKeys es_relay{es->tx, es->rx};
  ChannelKeys keys = DeriveKeys(Hello(), relay_ephemeral, relay_static, ee_relay, es_relay);
  transcript_hash_ = TranscriptHash(Hello(), relay_ephemeral, relay_static);
  if (!receiver->Start(keys.relay_to_client, header))
    return MakeError(ErrorKind::kProtocol, "the relay sent an invalid stream header");
  return sender->Start(keys.client_to_relay);
}

std::optional<RelayHandshake> RespondToHello(const KxKeyPair& relay_static,
                                             std::string_view client_hello, StreamSender* sender,
                                             const KxKeyPair* fixed_ephemeral) {
  if (!IsClientHello(client_hello)) return std::nullopt;
  const std::string_view client_ephemeral = client_hello.substr(5, 32);
  const KxKeyPair ephemeral = fixed_ephemeral != nullptr ? *fixed_ephemeral : KxKeyPair::Generate();
  auto ee = KxServer(ephemeral, client_ephemeral);
  auto es = KxServer(relay_static, client_ephemeral);
  if (!ee || !es) return std::nullopt;
  RelayHandshake out;
  out.keys = DeriveKeys(client_hello, ephemeral.public_key, relay_static.public_key, *ee, *es);
  out.transcript_hash = TranscriptHash(client_hello, ephemeral.public_key, relay_static.public_key);
  out.server_hello = std::string(kMagic);
  out.server_hello.push_back(kChannelVersion);
  out.server_hello.append(ephemeral.public_key).append(relay_static.public_key);
  out.server_hello.append(sender->Start(out.keys.relay_to_client));
  return out;
}

}  // namespace duet::crypto
