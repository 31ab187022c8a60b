// Several relays on one PostgreSQL store, killed at random moments while 200
// devices push through all of them (issue #17). Three real duetd share the
// tests' PostgreSQL and one key; each partner of a couple starts on another
// relay. While the devices push, one relay at a time is killed with SIGKILL
// and started again a moment later. A device whose relay went away pushes
// the same batch again through the next relay. In the end every couple's
// log, read back through a relay, holds every record a device saw
// acknowledged exactly once, numbered 1..n without a gap, and nothing that
// was never pushed; and every device finished, so each found a live relay.
//
// DUET_RELAYS_KILL_BATCHES sets how many batches each device pushes (5 by
// default; tests/soak/run relays-kill asks for more). A one-line summary
// goes to stdout.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <asio.hpp>

#include "tests/fault/test_scale.h"
#include "tests/integration/harness.h"
#include "tests/integration/relay_client.h"
#include "tests/postgres/test_database.h"
#include "tests/temp_dir.h"

namespace duet::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kRelays = 3;
constexpr int kCouples = 100;
constexpr int kWorkers = 8;

int BatchesFromEnvironment() {
  const char* text = std::getenv("DUET_RELAYS_KILL_BATCHES");
  if (text != nullptr) return std::max(1, std::atoi(text));
  return kSanitized ? 3 : 5;
}

// One device: its keys, its couple, the relay it is on, and the batch it
// has not seen acknowledged yet (pushed again, the same records, until it is).
struct Device {
  crypto::SigningKeyPair keys = crypto::SigningKeyPair::Generate();
  std::string couple;
  std::string address;  // its own loopback address: per-address limits are per host
  int relay = 0;
  std::unique_ptr<RawChannel> channel;
  std::uint64_t next_request = 3;  // 1 and 2 were hello and authenticate
  std::vector<v1::RecordEnvelope> pending;
  int acknowledged_batches = 0;
  int moves = 0;  // times it went to another relay
};

class SeveralRelaysKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init());
    auto url = FreshPostgresDatabase();
    ASSERT_TRUE(url.ok()) << url.error().message;
    for (int i = 0; i < kRelays; ++i) {
      relays_.push_back(std::make_unique<RelayProcess>(
          dir_.File("relay" + std::to_string(i) + ".db"), "127.0.0.1:0",
          std::vector<std::string>{"--store", url.value(), "--key", dir_.File("relay.key")}));
      relays_.back()->Start();
      ports_.push_back(net::ParseEndpoint(relays_.back()->address()).value().port);
    }
    devices_.resize(2 * kCouples);
    for (int c = 0; c < kCouples; ++c) {
      Device& a = devices_[2 * c];
      Device& b = devices_[2 * c + 1];
      a.couple = b.couple = crypto::RandomBytes(16);
      a.relay = c % kRelays;
      b.relay = (c + 1) % kRelays;  // never the partner's
      a.address = "127.0.1." + std::to_string(2 * c + 1);
      b.address = "127.0.1." + std::to_string(2 * c + 2);
      ASSERT_NO_FATAL_FAILURE(Pair(a, b));
    }
  }

  // A's invite through A's relay, B's answer through B's.
  void Pair(Device& a, Device& b) {
    ASSERT_TRUE(Connect(a) && Connect(b));
    const std::string invite_id = crypto::RandomBytes(16);
    auto created = Call(a, CreateInviteFrame(invite_id, a.couple));
    ASSERT_TRUE(created && created->has_invite_created());
    auto paired = Call(b, AnswerInviteFrame(invite_id));
    ASSERT_TRUE(paired && paired->has_paired());
    v1::Frame check;
    check.mutable_check_invite()->set_invite_id(invite_id);
    auto state = Call(a, check);
    ASSERT_TRUE(state && state->has_invite_state());
  }

  bool Connect(Device& device) {
    device.channel = std::make_unique<RawChannel>(ports_[device.relay], device.address);
    asio::error_code ignored;
    device.channel->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    device.next_request = 3;
    if (device.channel->Authenticate(device.keys)) return true;
    device.channel.reset();
    return false;
  }

  // The frame answering `request`, passing over the partner's deliveries;
  // none when the connection ended (its relay was killed).
  std::optional<v1::Frame> Call(Device& device, v1::Frame request) {
    const std::uint64_t id = device.next_request++;
    request.set_request_id(id);
    if (!device.channel->Send(request)) return std::nullopt;
    for (;;) {
      auto frame = device.channel->Receive();
      if (!frame || frame->request_id() == id) return frame;
    }
  }

  // One step of a device: its pending batch pushed once. On a relay that
  // went away (or answered with an error), it moves to the next relay.
  void Step(Device& device, std::mt19937& random) {
    if (device.pending.empty())
      for (int i = 1 + static_cast<int>(random() % 3); i > 0; --i)
        device.pending.push_back(SignedEnvelope(device.keys, device.couple));
    if (!device.channel && !Connect(device)) return Move(device);
    v1::Frame push;
    for (const auto& envelope : device.pending) *push.mutable_push()->add_records() = envelope;
    auto answer = Call(device, push);
    if (!answer || !answer->has_push_ack()) return Move(device);
    {
      std::lock_guard lock(mutex_);
      for (int i = 0; i < answer->push_ack().seqs_size(); ++i)
        acknowledged_[device.couple][device.pending[static_cast<std::size_t>(i)].record_id()] =
            answer->push_ack().seqs(i);
    }
    device.pending.clear();
    ++device.acknowledged_batches;
  }
  void Move(Device& device) {
    device.channel.reset();
    device.relay = (device.relay + 1) % kRelays;
    ++device.moves;
    std::this_thread::sleep_for(20ms);  // a client's pause before it tries again
  }

  // Every record of the couple, by seq, read through the first relay that answers.
  std::map<std::uint64_t, std::string> Stored(Device& reader) {
    std::map<std::uint64_t, std::string> stored;
    for (int attempt = 0; attempt < kRelays && !reader.channel; ++attempt)
      if (!Connect(reader)) reader.relay = (reader.relay + 1) % kRelays;
    EXPECT_TRUE(reader.channel) << "no relay answered";
    if (!reader.channel) return stored;
    for (std::uint64_t after = 0;;) {
      v1::Frame pull;
      pull.mutable_pull()->set_after_seq(after);
      pull.mutable_pull()->set_limit(500);
      auto page = Call(reader, pull);
      EXPECT_TRUE(page && page->has_record_batch());
      if (!page || !page->has_record_batch()) return stored;
      for (const auto& record : page->record_batch().records()) {
        stored.emplace(record.seq(), record.envelope().record_id());
        after = record.seq();
      }
      if (!page->record_batch().more()) return stored;
    }
  }

  TempDir dir_;
  std::vector<std::unique_ptr<RelayProcess>> relays_;
  std::vector<std::uint16_t> ports_;
  std::vector<Device> devices_;
  std::mutex mutex_;
  // couple -> record id -> the seq its acknowledgement gave it; guarded by mutex_
  std::map<std::string, std::map<std::string, std::uint64_t>> acknowledged_;
};

TEST_F(SeveralRelaysKillTest, KillingRelaysAtRandomLosesNoAcknowledgedRecordAndEveryDeviceFindsALiveOne) {
  const int batches = BatchesFromEnvironment();
  const std::uint64_t seed = std::random_device{}();
  std::atomic<int> kills{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 random(static_cast<std::mt19937::result_type>(seed + static_cast<std::uint64_t>(w)));
      std::vector<Device*> mine;
      for (std::size_t d = static_cast<std::size_t>(w); d < devices_.size(); d += kWorkers) mine.push_back(&devices_[d]);
      // Round after round over this worker's devices, until each pushed its
      // batches and the relays were killed a few times meanwhile.
      const auto give_up = std::chrono::steady_clock::now() + 60s + batches * 500ms;
      for (bool done = false; !done && std::chrono::steady_clock::now() < give_up;) {
        done = kills >= 3;
        for (Device* device : mine) {
          // Done only with nothing pending: a batch committed but never
          // acknowledged is pushed again until it is.
          if (device->acknowledged_batches >= batches && device->pending.empty() && kills >= 3) continue;
          Step(*device, random);
          done = done && device->acknowledged_batches >= batches && device->pending.empty();
        }
      }
      ++finished;
    });
  }
  std::mt19937 random(static_cast<std::mt19937::result_type>(seed));
  while (finished < kWorkers) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 300));
    if (finished == kWorkers) break;
    const std::size_t victim = random() % kRelays;
    EXPECT_EQ(relays_[victim]->Stop(SIGKILL), 128 + SIGKILL) << "relay " << victim << " ended before the kill";
    ++kills;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 150));
    relays_[victim]->Start();
  }
  for (auto& worker : workers) worker.join();

  int moves = 0;
  for (const Device& device : devices_) {
    EXPECT_GE(device.acknowledged_batches, batches) << "a device never found a live relay again";
    moves += device.moves;
  }
  std::size_t records = 0;
  for (int c = 0; c < kCouples; ++c) {
    Device& reader = devices_[2 * static_cast<std::size_t>(c)];
    reader.channel.reset();
    const auto stored = Stored(reader);
    std::set<std::string> ids;
    std::uint64_t expected_seq = 1;
    for (const auto& [seq, record_id] : stored) {
      EXPECT_EQ(seq, expected_seq++) << "couple " << c << ": numbered without a gap";
      EXPECT_TRUE(ids.insert(record_id).second) << "couple " << c << ": a record stored twice";
    }
    std::lock_guard lock(mutex_);
    for (const auto& [record_id, seq] : acknowledged_[reader.couple]) {
      auto at = stored.find(seq);
      EXPECT_TRUE(at != stored.end() && at->second == record_id)
          << "couple " << c << ": the record acknowledged as " << seq << " is not there";
    }
    // Every batch was acknowledged in the end: nothing else may be there.
    EXPECT_EQ(stored.size(), acknowledged_[reader.couple].size()) << "couple " << c;
    records += stored.size();
  }
  std::printf("several relays killed: %d SIGKILLs of %d relays, %d devices moved %d times, %zu records stored\n",
              kills.load(), kRelays, static_cast<int>(devices_.size()), moves, records);
  EXPECT_GE(kills.load(), 3);
  if (HasFailure())
    for (int i = 0; i < kRelays; ++i)
      std::printf("relay %d's log:\n%s\n", i, ReadFile(dir_.File("relay" + std::to_string(i) + ".db.log")).c_str());
}

}  // namespace
}  // namespace duet::testing
