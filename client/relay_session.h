// RelaySession: an authenticated connection from this device to its relay
// (docs/protocol.md §3). Open() says hello, checks the relay's key against
// the pinned one before anything else is sent (and pins it on first use
// when none is pinned), then signs the challenge with the device key.
// Call() turns the relay's Error frames into Error values. One thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "base/result.h"
#include "client/device.h"
#include "net/net.h"

namespace duet::client {

struct RelayRefusal {
  v1::ErrorCode code = v1::ERROR_CODE_UNSPECIFIED;
  std::uint32_t retry_after_ms = 0;  // RATE_LIMITED: the relay's own estimate
};

class RelaySession {
 public:
  // `expected`: the pinned relay key, and the next one it announced, if any;
  // none pinned accepts any key (first contact).
  static Result<std::unique_ptr<RelaySession>> Open(Device& device, const net::Endpoint& relay,
                                                    const crypto::PinnedRelayKeys& expected,
                                                    std::chrono::milliseconds timeout);
  // The same at whichever of the relay's addresses answers: they are tried
  // in turn from a random one (so devices spread over the relays), and one
  // that cannot be reached, is draining, or shows a key this device does not
  // trust gives way to the next (the wrong key is reported if none answers
  // with a trusted one). Any other error (a refusal) stops the search.
  static Result<std::unique_ptr<RelaySession>> OpenAny(Device& device, const std::vector<net::Endpoint>& relays,
                                                       const crypto::PinnedRelayKeys& expected,
                                                       std::chrono::milliseconds timeout);

  // Sends a request and returns the relay's answer. An Error frame becomes an
  // Error of kind kRefused; `*refusal` (if given) receives its code.
  Result<v1::Frame> Call(v1::Frame request, RelayRefusal* refusal = nullptr);

  // For a device that stays connected (duet watch): see FramedClient.
  bool WaitForData(std::chrono::milliseconds timeout) { return client_->WaitForData(timeout); }
  // Frames the relay sent on its own (Deliver), including any that arrived
  // while a call was waiting for its answer. Reads one frame when none is
  // queued; an error means the connection ended.
  Result<std::deque<v1::Frame>> TakeDelivered();

  const net::Endpoint& endpoint() const { return endpoint_; }  // the address that answered
  const std::string& relay_key() const { return relay_key_; }
  // The key the relay will move to (ServerHello.next_relay_key); "" for none.
  const std::string& next_relay_key() const { return next_relay_key_; }
  const std::string& couple_id() const { return couple_id_; }
  // The highest relay sequence number of the couple known on this
  // connection: AuthOk's, raised by every record and ack received since.
  std::uint64_t latest_seq() const { return latest_seq_; }
  // When a partner ended the couple (AuthOk.ended_at); 0 while it lasts.
  std::int64_t ended_at() const { return ended_at_; }
  // When another device of this partner revoked this one (AuthOk.revoked_at); 0: never.
  std::int64_t revoked_at() const { return revoked_at_; }

 private:
  RelaySession(std::unique_ptr<net::FramedClient> client, std::chrono::milliseconds timeout)
      : client_(std::move(client)), timeout_(timeout) {}
  void Observe(const v1::Frame& frame);
  std::unique_ptr<net::FramedClient> client_;
  std::chrono::milliseconds timeout_;
  net::Endpoint endpoint_;
  std::string relay_key_;
  std::string next_relay_key_;
  std::string couple_id_;
  std::uint64_t latest_seq_ = 0;
  std::int64_t ended_at_ = 0;
  std::int64_t revoked_at_ = 0;
};

// A relay key's fingerprint for people: the key in URL-safe base64.
std::string RelayKeyText(const std::string& key);

}  // namespace duet::client
