#include "client/pairing.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace duet::client {
namespace {

constexpr std::string_view kCodePrefix = "duet1-";
constexpr unsigned char kCodeVersion = 1;
constexpr unsigned char kLinkCodeVersion = 2;
constexpr std::size_t kChecksumBytes = 4;

std::string Checksum(std::string_view body) {
  return crypto::Hash(16, body).substr(0, kChecksumBytes);
}

std::string IdentityAd(const InviteKeys& keys, PairingRole author) {
  return std::string(author == PairingRole::kCreator ? "duet/v1/offer" : "duet/v1/answer") +
         keys.invite_id;
}

Error Malformed(const std::string& why) {
  return MakeError(ErrorKind::kInvalidInput,
                   "malformed invite code: " + why +
                       "; copy the whole code (it starts with duet1-) exactly as your partner sent it");
}

// Groups of five digits, each the big-endian uint32 at h[4i] modulo 100000.
std::string DigitGroups(const std::string& h, int groups) {
  std::string out;
  for (int i = 0; i < groups; ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(h.data() + 4 * i);
    const std::uint32_t value = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
    char group[8];
    std::snprintf(group, sizeof group, "%05u", value % 100000);
    if (i > 0) out.push_back(' ');
    out.append(group);
  }
  return out;
}

std::string FormatCode(const InviteCode& code, unsigned char version) {
  std::string body;
  // Sized once: growing would leave an unwiped copy of the secret behind.
  body.reserve(1 + 32 + code.relay_key.size() + 1 + code.relay_address.size() + kChecksumBytes);
  body.push_back(static_cast<char>(version));
  body.append(code.secret.view());
  body.append(code.relay_key);
  body.push_back(static_cast<char>(code.relay_address.size()));
  body.append(code.relay_address);
  body.append(Checksum(body));
  std::string text = std::string(kCodePrefix) + crypto::Base64UrlEncode(body);
  crypto::WipeString(body);
  return text;
}

Result<InviteCode> ParseCode(std::string_view text, unsigned char version) {
  // Tolerate the whitespace a copy and paste adds around a code.
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.substr(0, kCodePrefix.size()) != kCodePrefix)
    return Malformed("it does not start with duet1-");
  if (text.size() > 512) return Malformed("it is too long");
  auto decoded = crypto::Base64UrlDecode(text.substr(kCodePrefix.size()));
  if (!decoded) return Malformed("it has characters that do not belong in a code");
  struct Wipe {
    std::string& s;
    ~Wipe() { crypto::WipeString(s); }
  } wipe{*decoded};
  const std::string& body = *decoded;
  constexpr std::size_t kFixed = 1 + 32 + 32 + 1;
  if (body.size() < kFixed + 1 + kChecksumBytes) return Malformed("it is too short");
  const unsigned char found = static_cast<unsigned char>(body[0]);
  if (found == kLinkCodeVersion && version == kCodeVersion)
    return MakeError(ErrorKind::kInvalidInput,
                     "this is a code to link another device of your own, not a partner's invite: run "
                     "`duet device join CODE` on the new device");
  if (found == kCodeVersion && version == kLinkCodeVersion)
    return MakeError(ErrorKind::kInvalidInput,
                     "this is an invite code to pair with a partner, not a device link code: use `duet join CODE`");
  if (found != version) return Malformed("it is for another version of duet");
  const std::size_t address_length = static_cast<unsigned char>(body[kFixed - 1]);
  if (body.size() != kFixed + address_length + kChecksumBytes || address_length == 0)
    return Malformed("its length does not add up");
  const std::string_view covered(body.data(), body.size() - kChecksumBytes);
  if (!crypto::ConstantTimeEqual(Checksum(covered), std::string_view(body).substr(covered.size())))
    return Malformed("its checksum does not match (a character was changed or lost)");
  InviteCode code;
  code.secret.Assign(std::string_view(body).substr(1, 32));
  code.relay_key = body.substr(33, 32);
  code.relay_address = body.substr(kFixed, address_length);
  return code;
}

InviteKeys DeriveKeys(const crypto::SymmetricKey& secret, const char (&context)[9]) {
  InviteKeys keys;
  keys.invite_id = crypto::DeriveSubkey(secret, 1, context, 16);
  std::string seal = crypto::DeriveSubkey(secret, 2, context, 32);
  keys.seal_key.Assign(seal);
  crypto::WipeString(seal);
  keys.couple_id = crypto::DeriveSubkey(secret, 3, context, 16);
  return keys;
}

}  // namespace

std::string FormatInviteCode(const InviteCode& code) { return FormatCode(code, kCodeVersion); }
Result<InviteCode> ParseInviteCode(std::string_view text) { return ParseCode(text, kCodeVersion); }
std::string FormatLinkCode(const InviteCode& code) { return FormatCode(code, kLinkCodeVersion); }
Result<InviteCode> ParseLinkCode(std::string_view text) { return ParseCode(text, kLinkCodeVersion); }

InviteKeys DeriveInviteKeys(const crypto::SymmetricKey& secret) { return DeriveKeys(secret, "duetinv1"); }

InviteKeys DeriveLinkKeys(const crypto::SymmetricKey& secret) {
  InviteKeys keys = DeriveKeys(secret, "duetlnk1");
  keys.couple_id.clear();  // a link joins the couple its creator is in
  return keys;
}

std::string DeviceFingerprint(std::string_view sign_key) {
  std::string message = "duet/v1/fingerprint";
  message.append(sign_key);
  return DigitGroups(crypto::Hash(32, message), 4);
}

std::string SealIdentity(const InviteKeys& keys, PairingRole author,
                         const model::v1::PairingIdentity& identity) {
  return crypto::AeadSealWithNonce(keys.seal_key, IdentityAd(keys, author),
                                   identity.SerializeAsString());
}

Result<model::v1::PairingIdentity> OpenIdentity(const InviteKeys& keys, PairingRole author,
                                                std::string_view sealed) {
  auto plain = crypto::AeadOpenWithNonce(keys.seal_key, IdentityAd(keys, author), sealed);
  model::v1::PairingIdentity identity;
  if (!plain || !identity.ParseFromString(*plain) || identity.sign_key().size() != 32 ||
      identity.kx_key().size() != 32 || identity.name().empty() || identity.name().size() > 64 ||
      std::any_of(identity.name().begin(), identity.name().end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return MakeError(ErrorKind::kVerification,
                     "the partner's pairing message did not verify; ask for a new invite code");
  return identity;
}

Result<crypto::SymmetricKey> DeriveCoupleKey(const crypto::SymmetricKey& secret,
                                             const crypto::KxKeyPair& mine,
                                             std::string_view partner_kx_key, PairingRole role) {
  auto session = role == PairingRole::kCreator ? crypto::KxServer(mine, partner_kx_key)
                                               : crypto::KxClient(mine, partner_kx_key);
  if (!session)
    return MakeError(ErrorKind::kVerification, "the partner's key exchange key is not valid");
  // Order the two directions the same way on both sides: creator's rx first.
  const crypto::SymmetricKey& first = role == PairingRole::kCreator ? session->rx : session->tx;
  const crypto::SymmetricKey& second = role == PairingRole::kCreator ? session->tx : session->rx;
  constexpr std::string_view kLabel = "duet/v1/couple-key";
  crypto::Secret<kLabel.size() + 2 * crypto::kKeyBytes> message;
  message.Put(0, kLabel);
  message.Put(kLabel.size(), first.view());
  message.Put(kLabel.size() + crypto::kKeyBytes, second.view());
  std::string derived = crypto::Hash(32, message.view(), secret.view());
  crypto::SymmetricKey key;
  key.Assign(derived);
  crypto::WipeString(derived);
  return key;
}

std::string SafetyNumber(std::string_view sign_key_a, std::string_view sign_key_b) {
  std::string_view low = std::min(sign_key_a, sign_key_b);
  std::string_view high = std::max(sign_key_a, sign_key_b);
  std::string message = "duet/v1/safety";
  message.append(low).append(high);
  return DigitGroups(crypto::Hash(32, message), 8);
}

}  // namespace duet::client
