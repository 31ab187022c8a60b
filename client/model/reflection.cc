#include "client/model/reflection.h"

namespace duet::model {
namespace {

constexpr char kCommitContext[] = "duet/v1/reflection-commit";
// The sealed length tells the partner, before the reveal, only how long the
// words are to the nearest 256 bytes.
constexpr std::size_t kPadBlock = 256;

std::string Commitment(std::string_view key) { return crypto::Hash(32, kCommitContext, key); }

std::string ReflectionContext(const std::string& talk_id, const std::string& author_key) {
  return "duet/v1/reflection" + talk_id + author_key;
}

// Prompt ids are text and talk ids 16 bytes: the prefixes keep the two
// kinds of associated data apart.
std::string AnswerContext(const std::string& prompt_id, const std::string& author_key) {
  return "duet/v1/answer" + author_key + prompt_id;
}

template <typename Content>
std::optional<Content> Parsed(std::optional<std::string> plain) {
  if (!plain) return std::nullopt;
  Content content;
  const bool parsed = content.ParseFromString(*plain);
  crypto::WipeString(*plain);
  if (!parsed) return std::nullopt;
  return content;
}

// Seals `content` into `record`'s sealed and commitment fields; returns the key.
template <typename Content, typename Record>
crypto::SymmetricKey SealInto(const Content& content, const std::string& associated, Record& record) {
  std::string plain = content.SerializeAsString();
  CommittedSeal seal = SealCommitted(plain, associated);
  crypto::WipeString(plain);
  record.set_sealed(std::move(seal.sealed));
  record.set_commitment(std::move(seal.commitment));
  return seal.key;
}

}  // namespace

CommittedSeal SealCommitted(std::string_view plain, std::string_view associated) {
  CommittedSeal out;
  out.key = crypto::RandomKey();
  std::string padded = crypto::Pad(plain, kPadBlock);
  out.sealed = crypto::AeadSealWithNonce(out.key, associated, padded);
  out.commitment = Commitment(out.key.view());
  crypto::WipeString(padded);
  return out;
}

std::optional<std::string> OpenCommitted(std::string_view sealed, std::string_view commitment,
                                         const std::string& key, std::string_view associated) {
  if (key.size() != crypto::kKeyBytes || commitment.size() != 32) return std::nullopt;
  if (!crypto::ConstantTimeEqual(Commitment(key), commitment)) return std::nullopt;
  crypto::SymmetricKey k;
  if (!k.Assign(key)) return std::nullopt;
  auto padded = crypto::AeadOpenWithNonce(k, associated, sealed);
  if (!padded) return std::nullopt;
  auto plain = crypto::Unpad(*padded, kPadBlock);
  crypto::WipeString(*padded);
  return plain;
}

SealedReflection SealReflection(const v1::ReflectionContent& content, const std::string& talk_id,
                                const std::string& author_key) {
  SealedReflection out;
  out.record.set_talk_id(talk_id);
  out.key = SealInto(content, ReflectionContext(talk_id, author_key), out.record);
  return out;
}

std::optional<v1::ReflectionContent> OpenReflection(const v1::TalkReflection& reflection,
                                                    const std::string& key,
                                                    const std::string& author_key) {
  return Parsed<v1::ReflectionContent>(OpenCommitted(reflection.sealed(), reflection.commitment(), key,
                                                     ReflectionContext(reflection.talk_id(), author_key)));
}

SealedAnswer SealAnswer(const v1::AnswerContent& content, const std::string& prompt_id,
                        const std::string& author_key) {
  SealedAnswer out;
  out.record.set_prompt_id(prompt_id);
  out.key = SealInto(content, AnswerContext(prompt_id, author_key), out.record);
  return out;
}

std::optional<v1::AnswerContent> OpenAnswer(const v1::PromptAnswer& answer, const std::string& key,
                                            const std::string& author_key) {
  return Parsed<v1::AnswerContent>(
      OpenCommitted(answer.sealed(), answer.commitment(), key, AnswerContext(answer.prompt_id(), author_key)));
}

}  // namespace duet::model
