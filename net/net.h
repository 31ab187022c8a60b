// net: the transport both sides share. Endpoint parsing, the authentication
// transcript of docs/protocol.md §3, and FramedClient, the client's end of
// the encrypted channel (§1): it runs the handshake, refuses a relay whose
// key is not the pinned one before sending anything else, and then seals and
// opens every frame, with a deadline on every operation (the relay drives its
// sockets asynchronously in daemon/).
//
// Every byte from the peer goes through proto::FrameDecoder, so a frame is
// size-checked before anything is allocated for it. Errors are values: a
// refused connection, a timeout or a bad frame is a Result holding an Error
// of kind kNetwork or kProtocol. A FramedClient is used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "crypto/channel.h"
#include "crypto/crypto.h"
#include "duet/v1/wire.pb.h"

namespace duet::net {

inline constexpr std::uint16_t kDefaultPort = 7707;
inline constexpr std::uint32_t kProtocolVersion = 1;

struct Endpoint {
  std::string host;
  std::uint16_t port = kDefaultPort;
  std::string ToString() const;
};

// Parses "host:port", "host" (default port) or "[v6addr]:port". The error
// names the bad input and says what is expected.
Result<Endpoint> ParseEndpoint(std::string_view text, bool allow_port_zero = false);

// A relay served by several processes (on one shared store) is reached at
// any of its addresses: "HOST:PORT,HOST:PORT", at most kMaxRelayAddresses,
// none twice, 255 characters in all (what an invite code holds).
inline constexpr std::size_t kMaxRelayAddresses = 8;
Result<std::vector<Endpoint>> ParseEndpoints(std::string_view text);
std::string EndpointsToString(const std::vector<Endpoint>& endpoints);

// The exact bytes a device signs to authenticate (docs/protocol.md §3):
// bound to the channel's handshake transcript and the relay's challenge.
std::string AuthTranscript(std::string_view channel_hash, std::string_view challenge,
                           std::string_view relay_key, std::string_view device_key);

// A one-line description of an Error frame, e.g. "invite expired (INVITE_EXPIRED)".
std::string DescribeError(const v1::Error& error);

class FramedClient;
// ClientHello then Authenticate (protocol.md §3) on a connected channel, for
// a program that speaks for a bare device key rather than a duet home (the
// tests that drive the relay by hand, the load generator in bench/). The
// AuthOk frame, or what the relay said instead as a kRefused or kProtocol
// error.
Result<v1::Frame> HelloAndAuthenticate(FramedClient& client, const crypto::SigningKeyPair& device,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The event loop a FramedClient waits in. Each client makes its own unless
// given one: clients used by one thread, one call at a time, may share one,
// and so its descriptors (the load generator holds 10,000 connections under
// a 20,000-descriptor limit; a loop alone costs three).
class EventLoop {
 public:
  EventLoop();

 private:
  friend class FramedClient;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

class FramedClient {
 public:
  using Clock = std::chrono::steady_clock;
  // Connects and runs the channel handshake. `pinned_relay_keys` empty: any
  // relay key is accepted (first contact); relay_key() then tells which.
  // `source_address` binds the local end (a multi-homed host; tests that
  // play many hosts on loopback's 127.0.0.0/8); empty lets the system pick.
  static Result<std::unique_ptr<FramedClient>> Connect(const Endpoint& endpoint,
                                                       std::chrono::milliseconds timeout,
                                                       const crypto::PinnedRelayKeys& pinned_relay_keys = {},
                                                       const std::string& source_address = {},
                                                       const EventLoop& loop = EventLoop());
  // Ends the stream in order (TAG_FINAL) when the connection is still sound.
  ~FramedClient();

  const std::string& relay_key() const;
  // The channel handshake's transcript hash h (32 bytes).
  const std::string& channel_hash() const;

  Status Send(const v1::Frame& frame, std::chrono::milliseconds timeout);
  // The next frame from the peer, whatever its request_id.
  Result<v1::Frame> Receive(std::chrono::milliseconds timeout);
  // Sends `request` with a fresh request_id and waits for the frame answering
  // it; frames the relay sent on its own meanwhile are kept for TakeUnsolicited
  // (the newest kMaxUnsolicitedFrames of them: they are hints, and the oldest
  // give way rather than let a relay grow the queue without bound).
  static constexpr std::size_t kMaxUnsolicitedFrames = 16;
  Result<v1::Frame> Call(v1::Frame request, std::chrono::milliseconds timeout);
  std::deque<v1::Frame> TakeUnsolicited();
  // Waits up to `timeout` for the relay to send something, for a client
  // that stays connected: unlike Receive, silence is not a failure and the
  // connection stays open. True when Receive or TakeUnsolicited has
  // something now (a frame, or the news that the connection ended). A zero
  // timeout asks the socket without waiting.
  bool WaitForData(std::chrono::milliseconds timeout);
  // The socket, for a program that waits on many clients at once (epoll)
  // and then calls WaitForData(0): readable when the relay sent something.
  // Frames already buffered here do not make it readable; WaitForData
  // tells of those.
  int native_handle();

 private:
  struct Impl;
  explicit FramedClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::uint64_t next_request_id_ = 1;
  std::deque<v1::Frame> unsolicited_;
};

}  // namespace duet::net
