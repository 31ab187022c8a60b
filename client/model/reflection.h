// Reflections after a talk, committed before they are revealed
// (docs/protocol.md §7.3): each is sealed under its own random key, with a
// commitment to that key, so the key released later cannot open the sealed
// bytes to other words. Pure apart from the random key and nonce.
#pragma once

#include <optional>
#include <string>

#include "crypto/crypto.h"
#include "model/record.pb.h"

namespace duet::model {

struct SealedReflection {
  v1::TalkReflection record;
  crypto::SymmetricKey key;  // kept on the device until both have written
};

SealedReflection SealReflection(const v1::ReflectionContent& content, const std::string& talk_id,
                                const std::string& author_key);

// The content, when `key` matches the commitment and opens the sealed bytes.
std::optional<v1::ReflectionContent> OpenReflection(const v1::TalkReflection& reflection,
                                                    const std::string& key,
                                                    const std::string& author_key);

}  // namespace duet::model
