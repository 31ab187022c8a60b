#include "client/model/reflection.h"

namespace duet::model {
namespace {

constexpr char kCommitContext[] = "duet/v1/reflection-commit";
// The sealed length tells the partner, before the reveal, only how long a
// note is to the nearest 256 bytes.
constexpr std::size_t kPadBlock = 256;

std::string Commitment(std::string_view key) { return crypto::Hash(32, kCommitContext, key); }

// Binds the sealed bytes to their talk and author: a reflection copied onto
// another talk, or claimed by the other partner, does not open.
std::string AssociatedData(const std::string& talk_id, const std::string& author_key) {
  return "duet/v1/reflection" + talk_id + author_key;
}

}  // namespace

SealedReflection SealReflection(const v1::ReflectionContent& content, const std::string& talk_id,
                                const std::string& author_key) {
  SealedReflection out;
  out.key = crypto::RandomKey();
  std::string plain = content.SerializeAsString();
  std::string padded = crypto::Pad(plain, kPadBlock);
  out.record.set_talk_id(talk_id);
  out.record.set_sealed(
      crypto::AeadSealWithNonce(out.key, AssociatedData(talk_id, author_key), padded));
  out.record.set_commitment(Commitment(out.key.view()));
  crypto::WipeString(plain);
  crypto::WipeString(padded);
  return out;
}

std::optional<v1::ReflectionContent> OpenReflection(const v1::TalkReflection& reflection,
                                                    const std::string& key,
                                                    const std::string& author_key) {
  if (key.size() != crypto::kKeyBytes || reflection.commitment().size() != 32) return std::nullopt;
  if (!crypto::ConstantTimeEqual(Commitment(key), reflection.commitment())) return std::nullopt;
  crypto::SymmetricKey k;
  if (!k.Assign(key)) return std::nullopt;
  auto padded = crypto::AeadOpenWithNonce(k, AssociatedData(reflection.talk_id(), author_key),
                                          reflection.sealed());
  if (!padded) return std::nullopt;
  auto plain = crypto::Unpad(*padded, kPadBlock);
  crypto::WipeString(*padded);
  if (!plain) return std::nullopt;
  v1::ReflectionContent content;
  const bool parsed = content.ParseFromString(*plain);
  crypto::WipeString(*plain);
  if (!parsed) return std::nullopt;
  return content;
}

}  // namespace duet::model
