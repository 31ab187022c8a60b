// How much work the fault tests do: sanitized builds run several times
// slower, so they do less of it (the same scenarios, fewer rounds).
#pragma once

namespace duet::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace duet::testing
