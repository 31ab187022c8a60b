// The text of a store event notification: the relay that committed them,
// then one event a line,
//   o <origin>
//   g <couple hex> <head>     the couple's log grew to `head`
//   e <couple hex>            the couple ended
//   r <couple hex> <key hex>  the device was revoked
// Text, since a NOTIFY payload may not hold a zero byte.
#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include "storage/relay_store.h"

namespace duet::storage {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

void AppendHex(std::string& out, std::string_view bytes) {
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
}

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// `hex` of exactly `bytes` bytes, or nothing.
std::optional<std::string> FromHex(std::string_view hex, std::size_t bytes) {
  if (hex.size() != bytes * 2) return std::nullopt;
  std::string out(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) {
    const int high = Nibble(hex[2 * i]);
    const int low = Nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<char>(high << 4 | low);
  }
  return out;
}

std::string Line(const StoreEvent& event) {
  std::string line;
  switch (event.kind) {
    case StoreEvent::Kind::kGrew:
      line = "g ";
      AppendHex(line, event.couple_id);
      line += ' ';
      line += std::to_string(event.head);
      break;
    case StoreEvent::Kind::kEnded:
      line = "e ";
      AppendHex(line, event.couple_id);
      break;
    case StoreEvent::Kind::kRevoked:
      line = "r ";
      AppendHex(line, event.couple_id);
      line += ' ';
      AppendHex(line, event.device_key);
      break;
  }
  return line;
}

std::optional<StoreEvent> ParseLine(std::string_view line) {
  constexpr std::size_t kCouple = 16;
  constexpr std::size_t kKey = 32;
  if (line.size() < 2 + 2 * kCouple || line[1] != ' ') return std::nullopt;
  StoreEvent event;
  auto couple = FromHex(line.substr(2, 2 * kCouple), kCouple);
  if (!couple) return std::nullopt;
  event.couple_id = std::move(*couple);
  const std::string_view rest = line.substr(2 + 2 * kCouple);
  switch (line[0]) {
    case 'g': {
      if (rest.size() < 2 || rest[0] != ' ') return std::nullopt;
      event.kind = StoreEvent::Kind::kGrew;
      const char* end = rest.data() + rest.size();
      auto [at, error] = std::from_chars(rest.data() + 1, end, event.head);
      if (error != std::errc() || at != end) return std::nullopt;
      return event;
    }
    case 'e':
      if (!rest.empty()) return std::nullopt;
      event.kind = StoreEvent::Kind::kEnded;
      return event;
    case 'r': {
      if (rest.empty() || rest[0] != ' ') return std::nullopt;
      auto key = FromHex(rest.substr(1), kKey);
      if (!key) return std::nullopt;
      event.kind = StoreEvent::Kind::kRevoked;
      event.device_key = std::move(*key);
      return event;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::vector<std::string> EncodeStoreEvents(std::string_view origin, const std::vector<StoreEvent>& events) {
  // A couple that grew several times in a batch is said once, at its head.
  // Growth comes first: a relay starts reading what a couple wrote before it
  // closes the connections of a couple that ended (what it has not sent by
  // then, the devices read when they reconnect).
  std::map<std::string, std::uint64_t> heads;
  std::vector<std::string> ends;
  for (const auto& event : events) {
    if (event.kind == StoreEvent::Kind::kGrew) {
      auto& head = heads[event.couple_id];
      head = std::max(head, event.head);
    } else {
      ends.push_back(Line(event));
    }
  }
  std::vector<std::string> lines;
  for (const auto& [couple, head] : heads) lines.push_back(Line(StoreEvent{StoreEvent::Kind::kGrew, couple, head, {}}));
  lines.insert(lines.end(), ends.begin(), ends.end());
  const std::string heading = "o " + std::string(origin);
  std::vector<std::string> payloads;
  for (const auto& line : lines) {
    if (payloads.empty() || payloads.back().size() + 1 + line.size() > kMaxEventPayload) payloads.push_back(heading);
    payloads.back() += '\n';
    payloads.back() += line;
  }
  return payloads;
}

StoreEventPayload DecodeStoreEvents(std::string_view payload) {
  StoreEventPayload decoded;
  bool first = true;
  while (!payload.empty()) {
    const std::size_t end = payload.find('\n');
    const std::string_view line = payload.substr(0, end);
    if (first && line.size() >= 2 && line.substr(0, 2) == "o ") decoded.origin = line.substr(2);
    else if (auto event = ParseLine(line)) decoded.events.push_back(std::move(*event));
    first = false;
    if (end == std::string_view::npos) break;
    payload.remove_prefix(end + 1);
  }
  return decoded;
}

}  // namespace duet::storage
