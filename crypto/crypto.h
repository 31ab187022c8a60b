// duet's cryptography: thin, typed wrappers over libsodium constructions only.
//
// Byte strings are std::string (as protobuf's bytes fields are). Secret keys
// live in Secret<N>, which wipes itself with sodium_memzero when destroyed
// and is compared in constant time. Functions never throw; verification and
// decoding failures come back as std::nullopt or false. Call Init() once
// before anything else (it is idempotent and thread-safe); after that every
// function here may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duet::crypto {

// Initializes libsodium. Returns false if the library cannot be used.
bool Init();

inline constexpr std::size_t kPublicKeyBytes = 32;   // Ed25519 and X25519
inline constexpr std::size_t kSignSecretBytes = 64;  // Ed25519 secret key
inline constexpr std::size_t kSignatureBytes = 64;
inline constexpr std::size_t kKeyBytes = 32;         // symmetric keys
inline constexpr std::size_t kNonceBytes = 24;       // XChaCha20-Poly1305
inline constexpr std::size_t kMacBytes = 16;

// True once locking a secret's memory failed (RLIMIT_MEMLOCK, no
// permission): secrets still work, but may be swapped to disk. Callers warn.
bool MemoryLockFailed();
// The kernel locks whole pages and does not count, so these count: a page is
// locked while any secret on it lives, and unlocked when the last one goes
// (a page that other data shares is not kept locked for ever). Thread-safe.
void LockMemory(const void* data, std::size_t size);
void UnlockMemory(const void* data, std::size_t size);
// sodium_memzero and sodium_memcmp (constant time), for Secret.
void WipeBytes(void* data, std::size_t size);
bool EqualBytes(const void* a, const void* b, std::size_t size);

// The one type for key material: a fixed-size secret, kept out of swap where
// the system allows, wiped and its pages unlocked when it goes away. Build
// anything that holds key bytes (a concatenation to hash, a key opened from
// a box) in one of these rather than in a std::string, which copies itself
// unwiped when it grows.
template <std::size_t N>
class Secret {
 public:
  Secret() {
    bytes_.fill(0);
    LockMemory(bytes_.data(), N);
  }
  Secret(const Secret& other) : bytes_(other.bytes_) { LockMemory(bytes_.data(), N); }
  Secret& operator=(const Secret& other) {
    bytes_ = other.bytes_;
    return *this;
  }
  ~Secret() {
    Wipe();
    UnlockMemory(bytes_.data(), N);
  }

  unsigned char* data() { return bytes_.data(); }
  const unsigned char* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), N};
  }
  // Copies `bytes`; false (and left zero) unless it has exactly N bytes.
  bool Assign(std::string_view bytes) {
    if (bytes.size() != N) {
      Wipe();
      return false;
    }
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
    return true;
  }
  // Copies `bytes` to `offset`; false (and nothing copied) past the end.
  bool Put(std::size_t offset, std::string_view bytes) {
    if (offset > N || bytes.size() > N - offset) return false;
    std::copy(bytes.begin(), bytes.end(), bytes_.begin() + offset);
    return true;
  }
  bool operator==(const Secret& other) const { return EqualBytes(bytes_.data(), other.bytes_.data(), N); }
  void Wipe() { WipeBytes(bytes_.data(), N); }

 private:
  std::array<unsigned char, N> bytes_;
};

using SymmetricKey = Secret<kKeyBytes>;

std::string RandomBytes(std::size_t n);
// Uniform in [0, bound), without modulo bias; 0 when bound is 0.
std::uint32_t RandomBelow(std::uint32_t bound);
SymmetricKey RandomKey();

// Ed25519 identity of a device.
struct SigningKeyPair {
  std::string public_key;  // 32 bytes
  Secret<kSignSecretBytes> secret_key;
  static SigningKeyPair Generate();
  // Rebuilds the pair from its secret key (the public key is its last half).
  static SigningKeyPair FromSecret(const Secret<kSignSecretBytes>& secret);
};
std::string Sign(const SigningKeyPair& keys, std::string_view message);
bool Verify(std::string_view public_key, std::string_view message, std::string_view signature);

// X25519 key-exchange pair (crypto_kx).
struct KxKeyPair {
  std::string public_key;  // 32 bytes
  Secret<kKeyBytes> secret_key;
  static KxKeyPair Generate();
  static std::optional<KxKeyPair> FromSecret(const Secret<kKeyBytes>& secret);
};
struct SessionKeys {
  SymmetricKey rx;  // what the peer's tx is
  SymmetricKey tx;
};
// crypto_kx in the server and client roles; nullopt if the peer key is bad.
std::optional<SessionKeys> KxServer(const KxKeyPair& self, std::string_view client_public_key);
std::optional<SessionKeys> KxClient(const KxKeyPair& self, std::string_view server_public_key);

// XChaCha20-Poly1305 (IETF) with a caller-chosen nonce.
std::string AeadSeal(const SymmetricKey& key, std::string_view nonce,
                     std::string_view associated_data, std::string_view plaintext);
std::optional<std::string> AeadOpen(const SymmetricKey& key, std::string_view nonce,
                                    std::string_view associated_data,
                                    std::string_view ciphertext);
// Random nonce prepended to the ciphertext: nonce || AeadSeal(...).
std::string AeadSealWithNonce(const SymmetricKey& key, std::string_view associated_data,
                              std::string_view plaintext);
std::optional<std::string> AeadOpenWithNonce(const SymmetricKey& key,
                                             std::string_view associated_data,
                                             std::string_view sealed);

// BLAKE2b (crypto_generichash); out_bytes in 16..64, key empty or 16..64 bytes.
std::string Hash(std::size_t out_bytes, std::string_view message, std::string_view key = {});

// crypto_kdf: subkey `id` of `out_bytes` (16..64) under an 8-character context.
std::string DeriveSubkey(const SymmetricKey& key, std::uint64_t id, const char (&context)[9],
                         std::size_t out_bytes);

// ISO/IEC 7816-4 padding to a multiple of `block` (sodium_pad / sodium_unpad).
std::string Pad(std::string_view data, std::size_t block);
std::optional<std::string> Unpad(std::string_view padded, std::size_t block);

// URL-safe base64 without padding; decoding is strict (nullopt on anything
// that is not exactly such an encoding).
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string Hex(std::string_view bytes);
// The bytes of lower- or upper-case hex text; nullopt unless it is exactly
// that (an even number of hex digits, nothing else).
std::optional<std::string> FromHex(std::string_view text);

// A key derived from a passphrase with argon2id (crypto_pwhash, moderate
// limits), and the parameters needed to derive it again.
struct PassphraseKey {
  SymmetricKey key;
  std::string salt;  // 16 bytes
  std::uint64_t opslimit = 0;
  std::uint64_t memlimit = 0;
};
// Fresh salt, moderate limits. nullopt if memory for argon2id is lacking.
std::optional<PassphraseKey> DerivePassphraseKey(std::string_view passphrase);
// Whether argon2id limits are within what this program would ever set (a
// crafted file must not make us allocate 64 GiB).
bool PassphraseLimitsAcceptable(std::uint64_t opslimit, std::uint64_t memlimit);
// Derives again with stored parameters; refuses unacceptable limits.
std::optional<PassphraseKey> DerivePassphraseKey(std::string_view passphrase,
                                                 std::string_view salt, std::uint64_t opslimit,
                                                 std::uint64_t memlimit);
// crypto_box_seal: anonymous sealing to an X25519 public key (a kx key).
// nullopt when the recipient key is malformed or libsodium refuses it.
std::optional<std::string> SealToPublicKey(std::string_view recipient_public_key, std::string_view plaintext);
std::optional<std::string> OpenSealed(const KxKeyPair& recipient, std::string_view sealed);
// OpenSealed for a sealed 32-byte key: opened straight into a Secret.
std::optional<SymmetricKey> OpenSealedKey(const KxKeyPair& recipient, std::string_view sealed);

// crypto_secretbox (XSalsa20-Poly1305) with a random nonce prepended.
std::string SecretboxSeal(const SymmetricKey& key, std::string_view plaintext);
std::optional<std::string> SecretboxOpen(const SymmetricKey& key, std::string_view sealed);
// SecretboxOpen for a boxed 32-byte key: opened straight into a Secret.
std::optional<SymmetricKey> SecretboxOpenKey(const SymmetricKey& key, std::string_view sealed);

// Constant-time equality of two byte strings of the same length.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// Best-effort wipe of a std::string that held a secret or plaintext.
void WipeString(std::string& s);

}  // namespace duet::crypto
