// The duet relay, spoken to as a real device would: the channel handshake,
// hello and signed authentication, pairing by invite, and records sealed
// with the couple's key (XChaCha20-Poly1305) and signed by their author
// (Ed25519), exactly as docs/protocol.md §3-§4 describe. The partner opens
// each record it receives to read the send time.

#include "bench/loadgen/system.h"
#include "crypto/crypto.h"
#include "net/net.h"
#include "proto/envelope.h"

namespace duet::bench {
namespace {

using namespace std::chrono_literals;
constexpr auto kCallTimeout = 30s;

struct Couple {
  std::string id;  // 16 bytes
  std::string key_id;
  crypto::SymmetricKey key;
  crypto::SigningKeyPair partners[2];
};

class DuetClient final : public Client {
 public:
  DuetClient(std::unique_ptr<net::FramedClient> channel, const Couple& couple, int side)
      : channel_(std::move(channel)), couple_(couple), author_(couple.partners[side]) {}

  Status Send(std::string_view payload) override {
    v1::Frame push;
    push.set_request_id(++last_request_id_);
    Seal(payload, push.mutable_push()->add_records());
    return channel_->Send(push, kCallTimeout);
  }

  Status AppendMany(const std::vector<std::string>& payloads) override {
    for (std::size_t i = 0; i < payloads.size();) {
      v1::Frame push;
      for (int n = 0; n < proto::kMaxRecordsPerPush && i < payloads.size(); ++n, ++i)
        Seal(payloads[i], push.mutable_push()->add_records());
      auto reply = channel_->Call(std::move(push), kCallTimeout);
      if (!reply.ok()) return reply.error();
      if (!reply->has_push_ack()) return Unexpected(reply.value());
    }
    return Status::Ok();
  }

  Status Poll(std::chrono::milliseconds timeout, std::vector<Event>& events) override {
    for (const v1::Frame& frame : channel_->TakeUnsolicited())  // left by a Call
      DUET_RETURN_IF_ERROR(Open(frame, [&](std::string_view payload) {
        events.push_back({Event::Kind::kPayload, NowNanoseconds(), std::string(payload)});
      }));
    for (auto wait = timeout; channel_->WaitForData(wait); wait = std::chrono::milliseconds(0)) {
      auto frame = channel_->Receive(kCallTimeout);
      if (!frame.ok()) return frame.error();
      const std::int64_t at = NowNanoseconds();
      if (frame->has_push_ack()) {
        events.push_back({Event::Kind::kAck, at, {}});
        continue;
      }
      DUET_RETURN_IF_ERROR(Open(frame.value(), [&](std::string_view payload) {
        events.push_back({Event::Kind::kPayload, at, std::string(payload)});
      }));
    }
    return Status::Ok();
  }

  std::vector<int> Descriptors() override { return {channel_->native_handle()}; }

  Result<std::uint64_t> CatchUp() override {
    std::uint64_t count = 0;
    DUET_RETURN_IF_ERROR(PullAll([&](std::string_view) { ++count; }));
    return count;
  }

  Status AppendOnce(std::string_view payload) override {
    v1::Frame push;
    // Its id from its bytes: the same payload again is the same record.
    Seal(payload, push.mutable_push()->add_records(), crypto::Hash(proto::kIdBytes, payload));
    auto reply = channel_->Call(std::move(push), kCallTimeout);
    if (!reply.ok()) return reply.error();
    if (!reply->has_push_ack()) return Unexpected(reply.value());
    return Status::Ok();
  }

  Result<std::vector<std::string>> History() override {
    std::vector<std::string> payloads;
    DUET_RETURN_IF_ERROR(PullAll([&](std::string_view payload) { payloads.emplace_back(payload); }));
    return payloads;
  }

 private:
  Status PullAll(const Deliver& deliver) {
    std::uint64_t after = 0;
    for (;;) {
      v1::Frame pull;
      pull.mutable_pull()->set_after_seq(after);
      pull.mutable_pull()->set_limit(proto::kMaxPullLimit);
      auto page = channel_->Call(std::move(pull), kCallTimeout);
      if (!page.ok()) return page.error();
      if (!page->has_record_batch()) return Unexpected(page.value());
      DUET_RETURN_IF_ERROR(Open(page.value(), deliver));
      for (const auto& record : page->record_batch().records()) after = std::max(after, record.seq());
      if (!page->record_batch().more()) return Status::Ok();
    }
  }

  void Seal(std::string_view payload, v1::RecordEnvelope* envelope,
            std::string record_id = crypto::RandomBytes(proto::kIdBytes)) const {
    envelope->set_couple_id(couple_.id);
    envelope->set_record_id(std::move(record_id));
    envelope->set_author_key(author_.public_key);
    envelope->set_key_id(couple_.key_id);
    envelope->set_nonce(crypto::RandomBytes(proto::kNonceBytes));
    envelope->set_ciphertext(crypto::AeadSeal(couple_.key, envelope->nonce(),
                                              proto::EnvelopeAssociatedData(*envelope), payload));
    envelope->set_signature(crypto::Sign(author_, proto::EnvelopeSignedBytes(*envelope)));
  }

  Status Open(const v1::Frame& frame, const Deliver& deliver) const {
    if (frame.has_error()) return MakeError(ErrorKind::kRefused, net::DescribeError(frame.error()));
    if (!frame.has_record_batch()) return Status::Ok();  // a hint (heads moved), not a record
    for (const auto& record : frame.record_batch().records()) {
      const auto& envelope = record.envelope();
      auto payload = crypto::AeadOpen(couple_.key, envelope.nonce(), proto::EnvelopeAssociatedData(envelope),
                                      envelope.ciphertext());
      if (!payload) return MakeError(ErrorKind::kVerification, "a record from the relay did not open");
      deliver(*payload);
    }
    return Status::Ok();
  }

  static Error Unexpected(const v1::Frame& frame) {
    if (frame.has_error()) return MakeError(ErrorKind::kRefused, net::DescribeError(frame.error()));
    return MakeError(ErrorKind::kProtocol, "unexpected frame from the relay");
  }

  std::unique_ptr<net::FramedClient> channel_;
  const Couple& couple_;
  const crypto::SigningKeyPair& author_;
  std::uint64_t last_request_id_ = 1u << 20;  // apart from Call's own ids
};

class DuetSystem final : public System {
 public:
  explicit DuetSystem(std::vector<net::Endpoint> relays) : relays_(std::move(relays)) {}

  std::string name() const override { return "duet"; }

  Status Prepare(int couples) override {
    couples_.clear();
    for (int i = 0; i < couples; ++i) {
      auto couple = std::make_unique<Couple>();
      couple->id = crypto::RandomBytes(proto::kIdBytes);
      couple->key_id = crypto::RandomBytes(proto::kKeyIdBytes);
      couple->key = crypto::RandomKey();
      couple->partners[0] = crypto::SigningKeyPair::Generate();
      couple->partners[1] = crypto::SigningKeyPair::Generate();
      couples_.push_back(std::move(couple));
    }
    // Pairing is two round trips per partner; a few threads make thousands
    // of couples quick without a storm of handshakes.
    return ForEach(couples, 16, [this](int i, int) { return Pair(i); });
  }

  // Its own relay first, then the next ones, as a device with several
  // relay addresses does when one does not answer.
  Result<std::unique_ptr<Client>> Connect(int couple, int side) override {
    const Couple& c = *couples_.at(couple);
    Error last = MakeError(ErrorKind::kNetwork, "no relay address");
    for (std::size_t n = 0; n < relays_.size(); ++n) {
      auto channel = Authenticated(c.partners[side], relays_[(ServerOf(couple, side) + n) % relays_.size()]);
      if (channel.ok()) return std::unique_ptr<Client>(new DuetClient(std::move(channel).value(), c, side));
      last = channel.error();
    }
    return last;
  }

  std::size_t ServerOf(int couple, int side) const override {
    return static_cast<std::size_t>(2 * couple + side) % relays_.size();
  }

 private:
  const net::Endpoint& RelayOf(int couple, int side) const { return relays_[ServerOf(couple, side)]; }
  // A thread's clients share its event loop: thousands of connections fit
  // the descriptor limit. Safe because the figures use a client only from
  // the thread that connected it.
  Result<std::unique_ptr<net::FramedClient>> Authenticated(const crypto::SigningKeyPair& device,
                                                           const net::Endpoint& relay) {
    thread_local const net::EventLoop loop;
    auto channel = net::FramedClient::Connect(relay, kCallTimeout, {}, {}, loop);
    if (!channel.ok()) return channel.error();
    auto ok = net::HelloAndAuthenticate(*channel.value(), device, kCallTimeout);
    if (!ok.ok()) return ok.error();
    return channel;
  }

  Status Pair(int i) {
    const Couple& couple = *couples_[static_cast<std::size_t>(i)];
    auto a = Authenticated(couple.partners[0], RelayOf(i, 0));
    if (!a.ok()) return a.error();
    const std::string invite_id = crypto::RandomBytes(proto::kIdBytes);
    v1::Frame create;
    create.mutable_create_invite()->set_invite_id(invite_id);
    create.mutable_create_invite()->set_couple_id(couple.id);
    create.mutable_create_invite()->set_sealed_offer("offer");
    create.mutable_create_invite()->set_ttl_seconds(3600);
    auto created = a.value()->Call(std::move(create), kCallTimeout);
    if (!created.ok()) return created.error();
    if (!created->has_invite_created()) return Refusal("creating an invite", created.value());
    auto b = Authenticated(couple.partners[1], RelayOf(i, 1));
    if (!b.ok()) return b.error();
    v1::Frame answer;
    answer.mutable_answer_invite()->set_invite_id(invite_id);
    answer.mutable_answer_invite()->set_sealed_answer("answer");
    auto paired = b.value()->Call(std::move(answer), kCallTimeout);
    if (!paired.ok()) return paired.error();
    if (!paired->has_paired()) return Refusal("answering an invite", paired.value());
    return Status::Ok();
  }

  static Error Refusal(const std::string& doing, const v1::Frame& frame) {
    return MakeError(ErrorKind::kRefused, "the relay refused " + doing + ": " +
                                              (frame.has_error() ? net::DescribeError(frame.error())
                                                                 : std::string("unexpected frame")));
  }

  std::vector<net::Endpoint> relays_;
  std::vector<std::unique_ptr<Couple>> couples_;
};

}  // namespace

std::unique_ptr<System> MakeDuetSystem(const std::vector<net::Endpoint>& relays) {
  return std::make_unique<DuetSystem>(relays);
}

}  // namespace duet::bench
