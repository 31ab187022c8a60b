#include <algorithm>
#include <charconv>

#include "net/net.h"

namespace duet::net {

std::string Endpoint::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint> ParseEndpoint(std::string_view text, bool allow_port_zero) {
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorKind::kInvalidInput,
                     "bad relay address '" + std::string(text) + "': " + why +
                         " (expected HOST:PORT, e.g. 127.0.0.1:7707)");
  };
  if (text.empty()) return bad("it is empty");
  if (text.size() > 255) return bad("it is longer than 255 characters");
  Endpoint endpoint;
  std::string_view port_text;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    endpoint.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':' after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) return bad("the port is empty");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      if (text.find(':') != colon) return bad("IPv6 addresses go in brackets");
      endpoint.host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return bad("the port is empty");
    } else {
      endpoint.host = std::string(text);
    }
  }
  if (endpoint.host.empty()) return bad("the host is empty");
  for (char c : endpoint.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '_';
    if (!ok) return bad("the host has a character that cannot be in a host name");
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535)
      return bad("the port must be a number from 1 to 65535");
    if (value == 0 && !allow_port_zero) return bad("the port must be a number from 1 to 65535");
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  return endpoint;
}

Result<std::vector<Endpoint>> ParseEndpoints(std::string_view text) {
  if (text.size() > 255)
    return MakeError(ErrorKind::kInvalidInput, "the relay addresses are longer than 255 characters in all");
  std::vector<Endpoint> endpoints;
  std::vector<std::string> seen;
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    auto endpoint = ParseEndpoint(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (!endpoint.ok()) return endpoint.error();
    if (std::find(seen.begin(), seen.end(), endpoint->ToString()) != seen.end())
      return MakeError(ErrorKind::kInvalidInput, "the relay address " + endpoint->ToString() + " is given twice");
    seen.push_back(endpoint->ToString());
    endpoints.push_back(std::move(endpoint).value());
    if (endpoints.size() > kMaxRelayAddresses)
      return MakeError(ErrorKind::kInvalidInput, "more than " + std::to_string(kMaxRelayAddresses) +
                                                     " relay addresses; give the ones this device should try");
    if (comma == std::string_view::npos) return endpoints;
    start = comma + 1;
  }
}

std::string EndpointsToString(const std::vector<Endpoint>& endpoints) {
  std::string text;
  for (const auto& endpoint : endpoints) {
    if (!text.empty()) text += ',';
    text += endpoint.ToString();
  }
  return text;
}

std::string AuthTranscript(std::string_view channel_hash, std::string_view challenge,
                           std::string_view relay_key, std::string_view device_key) {
  std::string transcript = "duet/v1/auth";
  transcript.append(channel_hash).append(challenge).append(relay_key).append(device_key);
  return transcript;
}

std::string DescribeError(const v1::Error& error) {
  std::string name = v1::ErrorCode_Name(error.code());
  constexpr std::string_view kPrefix = "ERROR_CODE_";
  if (name.rfind(kPrefix, 0) == 0) name = name.substr(kPrefix.size());
  if (name.empty()) name = "code " + std::to_string(error.code());
  return error.message().empty() ? name : error.message() + " (" + name + ")";
}

}  // namespace duet::net
