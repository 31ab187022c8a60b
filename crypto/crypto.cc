#include "crypto/crypto.h"

#include <sodium.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

namespace duet::crypto {
namespace {

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// For libsodium calls that cannot fail with the sizes checked before them:
// if one does, the library is broken, and its output must not be used.
void Require(int rc, const char* what) {
  if (rc == 0) return;
  std::fprintf(stderr, "libsodium: %s failed\n", what);
  std::abort();
}

}  // namespace

bool Init() { return sodium_init() >= 0; }

namespace {
std::atomic<bool> memory_lock_failed{false};
}  // namespace

bool MemoryLockFailed() { return memory_lock_failed.load(); }

namespace {

// Never destroyed: a Secret in a static may outlive any other static.
struct PageLocks {
  std::mutex mutex;
  std::map<std::uintptr_t, std::size_t> count;  // guarded by mutex
};
PageLocks& Locks() {
  static PageLocks* locks = new PageLocks;
  return *locks;
}

std::uintptr_t PageSize() {
  static const std::uintptr_t size = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

namespace {

// Calls `each` with every page that [data, data + size) touches, under the
// registry's lock.
template <typename Each>
void ForEachPage(const void* data, std::size_t size, Each each) {
  if (size == 0) return;
  const auto first = reinterpret_cast<std::uintptr_t>(data) & ~(PageSize() - 1);
  const auto last = (reinterpret_cast<std::uintptr_t>(data) + size - 1) & ~(PageSize() - 1);
  PageLocks& locks = Locks();
  std::lock_guard lock(locks.mutex);
  for (auto page = first; page <= last; page += PageSize()) each(locks.count, page);
}

}  // namespace

void LockMemory(const void* data, std::size_t size) {
  ForEachPage(data, size, [](auto& count, std::uintptr_t page) {
    if (count[page]++ == 0 && mlock(reinterpret_cast<void*>(page), PageSize()) != 0) memory_lock_failed = true;
  });
}

void UnlockMemory(const void* data, std::size_t size) {
  ForEachPage(data, size, [](auto& count, std::uintptr_t page) {
    auto it = count.find(page);
    if (it == count.end()) return;
    if (--it->second == 0) {
      munlock(reinterpret_cast<void*>(page), PageSize());
      count.erase(it);
    }
  });
}

void WipeBytes(void* data, std::size_t size) { sodium_memzero(data, size); }

bool EqualBytes(const void* a, const void* b, std::size_t size) { return sodium_memcmp(a, b, size) == 0; }

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::uint32_t RandomBelow(std::uint32_t bound) { return bound == 0 ? 0 : randombytes_uniform(bound); }

SymmetricKey RandomKey() {
  SymmetricKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

SigningKeyPair SigningKeyPair::Generate() {
  SigningKeyPair keys;
  keys.public_key.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  Require(crypto_sign_keypair(U(keys.public_key), keys.secret_key.data()), "crypto_sign_keypair");
  return keys;
}

SigningKeyPair SigningKeyPair::FromSecret(const Secret<kSignSecretBytes>& secret) {
  SigningKeyPair keys;
  keys.secret_key = secret;
  keys.public_key.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  Require(crypto_sign_ed25519_sk_to_pk(U(keys.public_key), keys.secret_key.data()), "crypto_sign_ed25519_sk_to_pk");
  return keys;
}

std::string Sign(const SigningKeyPair& keys, std::string_view message) {
  std::string signature(crypto_sign_BYTES, '\0');
  Require(crypto_sign_detached(U(signature), nullptr, U(message), message.size(), keys.secret_key.data()),
          "crypto_sign_detached");
  return signature;
}

bool Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES)
    return false;
  return crypto_sign_verify_detached(U(signature), U(message), message.size(), U(public_key)) ==
         0;
}

KxKeyPair KxKeyPair::Generate() {
  KxKeyPair keys;
  keys.public_key.assign(crypto_kx_PUBLICKEYBYTES, '\0');
  Require(crypto_kx_keypair(U(keys.public_key), keys.secret_key.data()), "crypto_kx_keypair");
  return keys;
}

std::optional<KxKeyPair> KxKeyPair::FromSecret(const Secret<kKeyBytes>& secret) {
  KxKeyPair keys;
  keys.secret_key = secret;
  keys.public_key.assign(crypto_kx_PUBLICKEYBYTES, '\0');
  if (crypto_scalarmult_base(U(keys.public_key), keys.secret_key.data()) != 0) return std::nullopt;
  return keys;
}

std::optional<SessionKeys> KxServer(const KxKeyPair& self, std::string_view client_public_key) {
  if (client_public_key.size() != crypto_kx_PUBLICKEYBYTES) return std::nullopt;
  SessionKeys keys;
  if (crypto_kx_server_session_keys(keys.rx.data(), keys.tx.data(), U(self.public_key),
                                    self.secret_key.data(), U(client_public_key)) != 0)
    return std::nullopt;
  return keys;
}

std::optional<SessionKeys> KxClient(const KxKeyPair& self, std::string_view server_public_key) {
  if (server_public_key.size() != crypto_kx_PUBLICKEYBYTES) return std::nullopt;
  SessionKeys keys;
  if (crypto_kx_client_session_keys(keys.rx.data(), keys.tx.data(), U(self.public_key),
                                    self.secret_key.data(), U(server_public_key)) != 0)
    return std::nullopt;
  return keys;
}

std::string AeadSeal(const SymmetricKey& key, std::string_view nonce,
                     std::string_view associated_data, std::string_view plaintext) {
  if (nonce.size() != kNonceBytes) return {};
  std::string out(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long written = 0;
  Require(crypto_aead_xchacha20poly1305_ietf_encrypt(U(out), &written, U(plaintext), plaintext.size(),
                                                     U(associated_data), associated_data.size(), nullptr,
                                                     U(nonce), key.data()),
          "crypto_aead_xchacha20poly1305_ietf_encrypt");
  out.resize(written);
  return out;
}

std::optional<std::string> AeadOpen(const SymmetricKey& key, std::string_view nonce,
                                    std::string_view associated_data,
                                    std::string_view ciphertext) {
  if (nonce.size() != kNonceBytes || ciphertext.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return std::nullopt;
  std::string out(ciphertext.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(U(out), &written, nullptr, U(ciphertext),
                                                 ciphertext.size(), U(associated_data),
                                                 associated_data.size(), U(nonce),
                                                 key.data()) != 0)
    return std::nullopt;
  out.resize(written);
  return out;
}

std::string AeadSealWithNonce(const SymmetricKey& key, std::string_view associated_data,
                              std::string_view plaintext) {
  std::string nonce = RandomBytes(kNonceBytes);
  return nonce + AeadSeal(key, nonce, associated_data, plaintext);
}

std::optional<std::string> AeadOpenWithNonce(const SymmetricKey& key,
                                             std::string_view associated_data,
                                             std::string_view sealed) {
  if (sealed.size() < kNonceBytes) return std::nullopt;
  return AeadOpen(key, sealed.substr(0, kNonceBytes), associated_data,
                  sealed.substr(kNonceBytes));
}

std::string Hash(std::size_t out_bytes, std::string_view message, std::string_view key) {
  if (out_bytes < crypto_generichash_BYTES_MIN || out_bytes > crypto_generichash_BYTES_MAX)
    return {};
  if (!key.empty() &&
      (key.size() < crypto_generichash_KEYBYTES_MIN || key.size() > crypto_generichash_KEYBYTES_MAX))
    return {};
  std::string out(out_bytes, '\0');
  Require(crypto_generichash(U(out), out_bytes, U(message), message.size(), key.empty() ? nullptr : U(key),
                             key.size()),
          "crypto_generichash");
  return out;
}

std::string DeriveSubkey(const SymmetricKey& key, std::uint64_t id, const char (&context)[9],
                         std::size_t out_bytes) {
  if (out_bytes < crypto_kdf_BYTES_MIN || out_bytes > crypto_kdf_BYTES_MAX) return {};
  std::string out(out_bytes, '\0');
  Require(crypto_kdf_derive_from_key(U(out), out_bytes, id, context, key.data()), "crypto_kdf_derive_from_key");
  return out;
}

std::string Pad(std::string_view data, std::size_t block) {
  // Sized once: growing a copy would free an unwiped buffer of plaintext.
  std::string out(data.size() + block, '\0');
  std::copy(data.begin(), data.end(), out.begin());
  std::size_t padded = 0;
  if (sodium_pad(&padded, U(out), data.size(), block, out.size()) != 0) return {};
  out.resize(padded);
  return out;
}

std::optional<std::string> Unpad(std::string_view padded, std::size_t block) {
  std::size_t unpadded = 0;
  if (padded.empty() || sodium_unpad(&unpadded, U(padded), padded.size(), block) != 0)
    return std::nullopt;
  return std::string(padded.substr(0, unpadded));
}

std::string Base64UrlEncode(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), U(bytes), bytes.size(), kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_base642bin(U(out), out.size(), text.data(), text.size(), nullptr, &written, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size())
    return std::nullopt;
  out.resize(written);
  // Reject non-canonical encodings (stray low bits in the last character).
  if (Base64UrlEncode(out) != text) return std::nullopt;
  return out;
}

std::string Hex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), U(bytes), bytes.size());
  out.pop_back();
  return out;
}

std::optional<std::string> FromHex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out(text.size() / 2, '\0');
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                     &written, &end) != 0 ||
      written != out.size() || end != text.data() + text.size())
    return std::nullopt;
  return out;
}

std::optional<PassphraseKey> DerivePassphraseKey(std::string_view passphrase) {
  return DerivePassphraseKey(passphrase, RandomBytes(crypto_pwhash_SALTBYTES),
                             crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE);
}

bool PassphraseLimitsAcceptable(std::uint64_t opslimit, std::uint64_t memlimit) {
  return opslimit >= crypto_pwhash_OPSLIMIT_MIN && opslimit <= crypto_pwhash_OPSLIMIT_SENSITIVE &&
         memlimit >= crypto_pwhash_MEMLIMIT_MIN && memlimit <= crypto_pwhash_MEMLIMIT_SENSITIVE;
}

std::optional<PassphraseKey> DerivePassphraseKey(std::string_view passphrase,
                                                 std::string_view salt, std::uint64_t opslimit,
                                                 std::uint64_t memlimit) {
  if (salt.size() != crypto_pwhash_SALTBYTES || !PassphraseLimitsAcceptable(opslimit, memlimit))
    return std::nullopt;
  PassphraseKey out;
  out.salt = std::string(salt);
  out.opslimit = opslimit;
  out.memlimit = memlimit;
  if (crypto_pwhash(out.key.data(), out.key.size(), passphrase.data(), passphrase.size(), U(salt),
                    opslimit, static_cast<std::size_t>(memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    return std::nullopt;
  return out;
}

std::optional<std::string> SealToPublicKey(std::string_view recipient_public_key, std::string_view plaintext) {
  if (recipient_public_key.size() != crypto_box_PUBLICKEYBYTES) return std::nullopt;
  std::string out(plaintext.size() + crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal(reinterpret_cast<unsigned char*>(out.data()), U(plaintext), plaintext.size(),
                      U(recipient_public_key)) != 0)
    return std::nullopt;  // a public key that is a low-order point
  return out;
}

std::optional<std::string> OpenSealed(const KxKeyPair& recipient, std::string_view sealed) {
  if (sealed.size() < crypto_box_SEALBYTES) return std::nullopt;
  std::string out(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(out.data()), U(sealed), sealed.size(),
                           U(recipient.public_key), recipient.secret_key.data()) != 0)
    return std::nullopt;
  return out;
}

std::string SecretboxSeal(const SymmetricKey& key, std::string_view plaintext) {
  std::string out = RandomBytes(crypto_secretbox_NONCEBYTES);
  out.resize(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size());
  Require(crypto_secretbox_easy(reinterpret_cast<unsigned char*>(out.data()) + crypto_secretbox_NONCEBYTES,
                                U(plaintext), plaintext.size(), U(out), key.data()),
          "crypto_secretbox_easy");
  return out;
}

std::optional<std::string> SecretboxOpen(const SymmetricKey& key, std::string_view sealed) {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  const std::string_view box = sealed.substr(crypto_secretbox_NONCEBYTES);
  std::string out(box.size() - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()), U(box), box.size(),
                                 U(sealed), key.data()) != 0)
    return std::nullopt;
  return out;
}

std::optional<SymmetricKey> SecretboxOpenKey(const SymmetricKey& key, std::string_view sealed) {
  if (sealed.size() != crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + kKeyBytes) return std::nullopt;
  const std::string_view box = sealed.substr(crypto_secretbox_NONCEBYTES);
  SymmetricKey out;
  if (crypto_secretbox_open_easy(out.data(), U(box), box.size(), U(sealed), key.data()) != 0) {
    out.Wipe();
    return std::nullopt;
  }
  return out;
}

std::optional<SymmetricKey> OpenSealedKey(const KxKeyPair& recipient, std::string_view sealed) {
  if (sealed.size() != crypto_box_SEALBYTES + kKeyBytes) return std::nullopt;
  SymmetricKey out;
  if (crypto_box_seal_open(out.data(), U(sealed), sealed.size(), U(recipient.public_key),
                           recipient.secret_key.data()) != 0) {
    out.Wipe();
    return std::nullopt;
  }
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void WipeString(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

}  // namespace duet::crypto
