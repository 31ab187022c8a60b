// Commit, then reveal (docs/protocol.md §7.3): words sealed under their own
// random key, with a commitment to that key, so that the key released later
// cannot open the sealed bytes to other words. One mechanism serves a
// talk's reflections and the answers to a question both partners answer.
// Pure apart from the random key and nonce.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crypto/crypto.h"
#include "model/record.pb.h"

namespace duet::model {

struct CommittedSeal {
  std::string sealed;      // nonce || XChaCha20-Poly1305(key, padded plaintext)
  std::string commitment;  // BLAKE2b-256 keyed with the key
  crypto::SymmetricKey key;  // kept on the device until both have written
};

// `associated` binds the sealed bytes to what they answer and who wrote
// them: copied onto another talk or question, or claimed by the other
// partner, they do not open.
CommittedSeal SealCommitted(std::string_view plain, std::string_view associated);
// The plaintext, when `key` matches the commitment and opens the bytes.
std::optional<std::string> OpenCommitted(std::string_view sealed, std::string_view commitment,
                                         const std::string& key, std::string_view associated);

struct SealedReflection {
  v1::TalkReflection record;
  crypto::SymmetricKey key;
};

SealedReflection SealReflection(const v1::ReflectionContent& content, const std::string& talk_id,
                                const std::string& author_key);

// The content, when `key` matches the commitment and opens the sealed bytes.
std::optional<v1::ReflectionContent> OpenReflection(const v1::TalkReflection& reflection,
                                                    const std::string& key,
                                                    const std::string& author_key);

struct SealedAnswer {
  v1::PromptAnswer record;
  crypto::SymmetricKey key;
};

// An answer to the question `prompt_id`, sealed until both have answered.
SealedAnswer SealAnswer(const v1::AnswerContent& content, const std::string& prompt_id,
                        const std::string& author_key);
std::optional<v1::AnswerContent> OpenAnswer(const v1::PromptAnswer& answer, const std::string& key,
                                            const std::string& author_key);

}  // namespace duet::model
