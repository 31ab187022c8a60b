// What the relay does with each whole frame a Connection receives: hello,
// authentication, invites, pushes and pulls (docs/protocol.md §3-§4), with
// the quotas and rate limits that keep one couple or one stranger from
// filling the disk or starving the others. Everything that touches the store
// runs in a group commit; the connection is suspended meanwhile, so its
// requests are answered one at a time, in order. Network thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/clock.h"
#include "daemon/connection.h"
#include "daemon/connection_manager.h"
#include "daemon/group_commit.h"
#include "daemon/limits.h"
#include "daemon/log.h"
#include "daemon/rate_limit.h"

namespace duet::daemon {

// Who may open a new couple's mailbox (docs/protocol.md §4).
enum class Admission { kOpen, kInviteOnly };

class RequestHandler {
 public:
  // `next_relay_key`: the public key the relay will move to, announced in
  // every ServerHello while a key rotation is under way (empty: none).
  RequestHandler(const crypto::KxKeyPair& relay_keys, const Clock& clock,
                 const RelayLimits& limits, Admission admission, GroupCommit& store,
                 ConnectionManager& connections, RelayLog& log, std::string next_relay_key = {});

  void Handle(const std::shared_ptr<Connection>& connection, const v1::Frame& frame);
  // Deletes invites long expired, and the records of couples that ended
  // long ago; the relay calls it now and then. `then`, if any, runs here
  // once the purge committed or failed.
  void PurgeExpiredInvites(std::function<void()> then = {});

  // What relays sharing the store committed (this one's own too): records
  // another relay stored are delivered to the couple's connections here,
  // and the connections of an ended couple or a revoked device finish.
  void StoreChanged(const std::vector<storage::StoreEvent>& events);
  // Every couple held here catches up from the store (the event feed was
  // down: whatever it missed is read, not lost).
  void CatchUpAll();

 private:
  using ConnectionPtr = std::shared_ptr<Connection>;
  void HandleHello(const ConnectionPtr& c, const v1::Frame& frame);
  void HandleAuthenticate(const ConnectionPtr& c, const v1::Frame& frame);
  void HandleCreateInvite(const ConnectionPtr& c, std::uint64_t id, const v1::CreateInvite& request);
  void HandleFetchInvite(const ConnectionPtr& c, std::uint64_t id, const v1::FetchInvite& request);
  void HandleAnswerInvite(const ConnectionPtr& c, std::uint64_t id, const v1::AnswerInvite& request);
  void HandleCheckInvite(const ConnectionPtr& c, std::uint64_t id, const v1::CheckInvite& request);
  void HandleCompleteLink(const ConnectionPtr& c, std::uint64_t id, const v1::CompleteLink& request);
  void HandlePush(const ConnectionPtr& c, std::uint64_t id, const v1::Push& request);
  void HandlePull(const ConnectionPtr& c, std::uint64_t id, const v1::Pull& request);
  void HandlePurge(const ConnectionPtr& c, std::uint64_t id, const v1::Purge& request);
  void HandleUnpair(const ConnectionPtr& c, std::uint64_t id);
  void HandleRevokeDevice(const ConnectionPtr& c, std::uint64_t id, const v1::RevokeDevice& request);

  // Checks an invite id, applies the lookup rate limit, loads the invite
  // and hands it to `then` on the network thread.
  void WithInvite(const ConnectionPtr& c, std::uint64_t id, const std::string& invite_id,
                  std::function<void(const std::optional<storage::InviteRow>&)> then);
  // Runs `work` in the next group commit; `done` runs here after the commit,
  // unless the connection closed meanwhile. `couple`: the couple whose row
  // `work` locks to write (GroupCommit::Submit), if any. `settled`, if any,
  // runs after `done` once the commit succeeded, even when the connection
  // closed meanwhile: what a commit means for the couple's other
  // connections (an end, a revocation) must not hang on the asker staying.
  void WithStore(const ConnectionPtr& c, GroupCommit::Work work,
                 std::function<void(const Status&)> done, std::string couple = {},
                 std::function<void()> settled = {});
  // False (and the error sent) when this address looked up too many invites.
  bool AllowInviteLookup(const ConnectionPtr& c, std::uint64_t id);
  // Fans newly committed records out to the couple's other connections.
  void DeliverToPartner(const Connection& author, const v1::RecordBatch& fresh);
  // Sends one stored record to the couple's connections here but `skip`
  // (the connection that pushed it; null: none here did).
  void Deliver(const std::string& couple_id, const v1::StoredRecord& stored, const Connection* skip);
  // Reads the couple's records past what was delivered here, and delivers
  // them; one read at a time per couple, repeated while more remain.
  void CatchUp(const std::string& couple_id);

  const crypto::KxKeyPair& relay_keys_;
  const std::string next_relay_key_;
  const Clock& clock_;
  const RelayLimits& limits_;
  const Admission admission_;
  GroupCommit& store_;
  ConnectionManager& connections_;
  RelayLog& log_;
  RateLimiter invite_lookups_;  // per source address
  RateLimiter push_pacing_;     // per couple, in records
};

}  // namespace duet::daemon
