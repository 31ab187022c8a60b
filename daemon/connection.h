// One client connection, transport only (the shape of Asio's HTTP server
// example): it owns the socket, walks the channel handshake, decodes and
// opens frames, hands each whole Frame to the RequestHandler, and seals and
// writes what the handler sends back. It knows nothing of invites or
// records. While a request waits on the store the handler Suspend()s it, so
// a client's requests are served one at a time, in order, and what one
// client can queue is bounded. Lives on the network thread only; owned by
// the ConnectionManager, kept alive by its pending operations.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <asio.hpp>

#include "crypto/channel.h"
#include "daemon/clock.h"
#include "daemon/limits.h"
#include "duet/v1/wire.pb.h"
#include "proto/frame_codec.h"

namespace duet::daemon {

class ConnectionManager;
class RequestHandler;

// What every connection shares; outlives them all.
struct ConnectionContext {
  const crypto::KxKeyPair& relay_keys;  // the static key the channel proves
  const Clock& clock;
  const RelayLimits& limits;
  ConnectionManager& manager;
  RequestHandler& handler;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // kHello..kReady are walked by the RequestHandler; the channel phases here.
  enum class Phase { kChannelHello, kChannelHeader, kHello, kAuthenticate, kReady, kClosed };

  Connection(asio::ip::tcp::socket socket, std::string peer_address, std::uint64_t serial,
             ConnectionContext& context);
  ~Connection();

  void Start();
  // Ends the stream in order (TAG_FINAL), then closes once it is written.
  void Finish();
  // Closes at once; idempotent.
  void Close();

  // Answers request `id` (a frame the relay sends on its own has id 0).
  void Reply(std::uint64_t id, v1::Frame frame);
  void ReplyError(std::uint64_t id, v1::ErrorCode code, const std::string& message,
                  std::chrono::milliseconds retry_after = {});
  // Sends an error, then finishes the stream.
  // Counts an error answer for the metrics, by its code; logs INTERNAL ones.
  void CountRefusal(v1::ErrorCode code, const std::string& message);
  void Fail(std::uint64_t id, v1::ErrorCode code, const std::string& message);
  void Deliver(const v1::Frame& frame) { Reply(0, frame); }

  // Stops handing frames to the handler until Resume().
  void Suspend() { suspended_ = true; }
  void Resume();

  // Set by the handler as the hello and authentication succeed.
  void set_phase(Phase phase);
  void set_device_key(std::string key) { device_key_ = std::move(key); }
  std::string& challenge() { return challenge_; }
  // The device now belongs to `couple_id`: large frames are allowed.
  // `seen_seq`: the couple's latest record the device could read when it
  // paired (it syncs from there itself; deliveries take over after it).
  void BecomePaired(std::string couple_id, std::uint64_t seen_seq);
  // Another device of its partner revoked this device: it is refused.
  void BecomeRevoked() { revoked_ = true; }
  bool revoked() const { return revoked_; }

  Phase phase() const { return phase_; }
  bool closed() const { return phase_ == Phase::kClosed; }
  bool authenticated() const { return phase_ == Phase::kReady; }
  bool paired() const { return !couple_id_.empty(); }
  bool suspended() const { return suspended_; }
  const std::string& device_key() const { return device_key_; }
  const std::string& couple_id() const { return couple_id_; }
  const std::string& peer_address() const { return peer_address_; }
  const std::string& channel_hash() const { return channel_hash_; }
  std::uint64_t serial() const { return serial_; }  // admission order: older is smaller
  // When the connection must be closed unless it makes progress: the
  // handshake deadline, then a started frame's deadline, else idle.
  Clock::TimePoint deadline() const { return deadline_; }
  // Receive memory held now (what the manager's budget counts).
  std::size_t held_bytes() const { return handshake_bytes_.capacity() + decoder_.held(); }

 private:
  void ReadMore();
  void OnRead(std::string_view bytes);
  void ProcessFrames();
  // Walks the channel handshake on raw bytes; false while more are needed.
  bool AdvanceHandshake();
  void Send(std::string plain);
  void WriteNext();
  void UpdateDeadline();

  asio::ip::tcp::socket socket_;
  ConnectionContext& context_;
  const std::string peer_address_;
  const std::uint64_t serial_;
  proto::FrameDecoder decoder_;
  std::string handshake_bytes_;  // raw bytes before the channel is up
  crypto::StreamSender sender_;
  crypto::StreamReceiver receiver_;
  crypto::SymmetricKey client_to_relay_;
  std::string channel_hash_;
  std::deque<std::string> write_queue_;
  std::size_t queued_bytes_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool suspended_ = false;
  bool close_after_write_ = false;
  bool final_sent_ = false;
  Phase phase_ = Phase::kChannelHello;
  std::string challenge_;
  std::string device_key_;
  std::string couple_id_;
  bool revoked_ = false;
  Clock::TimePoint deadline_{};
  Clock::TimePoint handshake_deadline_{};
  bool frame_started_ = false;
  Clock::TimePoint frame_deadline_{};
  Clock::TimePoint idle_deadline_{};
};

}  // namespace duet::daemon
