// One client connection: owns its socket, its frame decoder and its queue of
// outgoing frames. It walks the handshake (hello, then authenticate), then
// serves requests one at a time, in order: it stops reading while a request
// waits on the store, which also bounds what one client can queue. Lives on
// the network thread only; kept alive by its pending operations.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <asio.hpp>

#include "crypto/channel.h"
#include "daemon/group_commit.h"
#include "daemon/rate_limit.h"
#include "daemon/session_registry.h"
#include "duet/v1/wire.pb.h"
#include "proto/frame_codec.h"

namespace duet::daemon {

struct RelayContext {
  const crypto::KxKeyPair& relay_keys;  // the static key the channel proves
  asio::io_context& io;
  GroupCommit& store;
  SessionRegistry& registry;
  std::chrono::seconds handshake_timeout;
  std::chrono::seconds idle_timeout;
  RateLimiter& invite_lookups;  // per source address
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::ip::tcp::socket socket, RelayContext& context);
  ~Session();
  void Start();
  // Queues a frame the relay sends on its own (request_id 0).
  void Deliver(const v1::Frame& frame);
  void Close();
  // Ends the stream in order (TAG_FINAL), then closes once it is written.
  void Finish();
  const std::string& device_key() const { return device_key_; }
  const std::string& peer_address() const { return peer_address_; }
  bool authenticated() const { return phase_ == Phase::kReady; }

 private:
  enum class Phase { kChannelHello, kChannelHeader, kHello, kAuthenticate, kReady, kClosed };

  void ReadMore();
  void ProcessFrames();
  // Walks the channel handshake on raw bytes; false while more are needed.
  bool AdvanceHandshake();
  void Handle(const v1::Frame& frame);
  void HandleHello(const v1::Frame& frame);
  void HandleAuthenticate(const v1::Frame& frame);
  void HandleCreateInvite(std::uint64_t id, const v1::CreateInvite& request);
  void HandleFetchInvite(std::uint64_t id, const v1::FetchInvite& request);
  void HandleAnswerInvite(std::uint64_t id, const v1::AnswerInvite& request);
  void HandleCheckInvite(std::uint64_t id, const v1::CheckInvite& request);
  void HandlePush(std::uint64_t id, const v1::Push& request);
  void HandlePull(std::uint64_t id, const v1::Pull& request);

  // Checks an invite id, applies the lookup rate limit, loads the invite
  // and hands it to `then` on the network thread.
  void WithInvite(std::uint64_t id, const std::string& invite_id,
                  std::function<void(const std::optional<storage::InviteRow>&)> then);
  // Runs `work` in the next group commit; `done` runs here after the commit.
  void WithStore(GroupCommit::Work work, std::function<void(const Status&)> done);
  void Send(v1::Frame frame);
  void Reply(std::uint64_t id, v1::Frame frame);
  void ReplyError(std::uint64_t id, v1::ErrorCode code, const std::string& message);
  // Sends an error, then closes once it is written.
  void Fail(std::uint64_t id, v1::ErrorCode code, const std::string& message);
  void WriteNext();
  void ArmTimer(std::chrono::seconds timeout);
  void JoinCouple(const std::string& couple_id);
  // False (and the error sent) when this address looked up too many invites.
  bool AllowInviteLookup(std::uint64_t id);

  asio::ip::tcp::socket socket_;
  RelayContext& context_;
  asio::steady_timer timer_;
  proto::FrameDecoder decoder_{proto::kChannelOverheadBytes, proto::kMaxSealedFrameBytes};
  std::string handshake_bytes_;  // raw bytes before the channel is up
  crypto::StreamSender sender_;
  crypto::StreamReceiver receiver_;
  crypto::SymmetricKey client_to_relay_;
  std::string channel_hash_;
  std::array<char, 16 * 1024> read_buffer_{};
  std::deque<std::string> write_queue_;
  std::size_t queued_bytes_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool busy_ = false;  // a request waits on the store
  bool close_after_write_ = false;
  bool final_sent_ = false;
  Phase phase_ = Phase::kChannelHello;
  std::string challenge_;
  std::string device_key_;
  std::string couple_id_;
  std::string peer_address_;
};

}  // namespace duet::daemon
