// The relay killed at random moments while 200 devices push (issue #11,
// fault 1). Each round a real duetd serves 100 couples and is killed with
// SIGKILL 50-300 ms in; then its store, as the crash left it, is read with
// SQL and no relay code. An SQLite store must pass PRAGMA integrity_check;
// either store must hold every record any device saw acknowledged exactly
// once with the acknowledged sequence number, and number each couple's
// records 1..n without a gap. The relay then starts again on the same port
// with the same key, and each device sends again what it never saw acknowledged (and its last acknowledged
// record, which must come back with the same number).
//
// DUET_KILL_ROUNDS sets the number of rounds (20 by default; tests/soak/run
// asks for 1,000), DUET_KILL_SEED the seed of the kill moments and batch
// sizes (thread timing still differs from run to run). A one-line summary
// goes to stdout.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <asio.hpp>

#include "crypto/crypto.h"
#include "proto/envelope.h"
#include "tests/integration/harness.h"
#include "tests/integration/relay_client.h"
#include "tests/integration/relay_store_sql.h"

namespace duet::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kCouples = 100;
constexpr int kDevices = 2 * kCouples;
constexpr int kDefaultRounds = 20;
constexpr int kKilled = 128 + SIGKILL;

int RoundsFromEnvironment() {
  const char* text = std::getenv("DUET_KILL_ROUNDS");
  return text != nullptr ? std::max(1, std::atoi(text)) : kDefaultRounds;
}

std::uint64_t SeedFromEnvironment() {
  const char* text = std::getenv("DUET_KILL_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : std::random_device{}();
}

// One device's connection to the relay from the device's own loopback
// address (127.0.1.N). Each device stands for a host of its own: the relay
// limits what one address may do (connections in handshake and in all,
// invite answers), and 200 devices behind 127.0.0.1 would meet those limits
// instead of the crash; net::FramedClient always connects from the default
// address. Its reads have no deadline, and need none here: every round ends
// in SIGKILL, which ends every connection. Used by one thread.
class DeviceConnection {
 public:
  DeviceConnection(std::uint16_t port, const std::string& from) : channel_(port, from) {
    // Without it, a request written right after another waits for the
    // relay's delayed ACK (40 ms), and pairing 100 couples takes 10 s.
    asio::error_code ignored;
    channel_.socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  }

  // Hello and Authenticate (docs/protocol.md §3).
  bool Authenticate(const crypto::SigningKeyPair& device) { return channel_.Authenticate(device); }

  // Sends `request` and returns the frame answering it (or a connection-level
  // Error), passing over deliveries of the partner's records; none when the
  // connection ended.
  std::optional<v1::Frame> Call(v1::Frame request) {
    const std::uint64_t id = next_request_id_++;
    request.set_request_id(id);
    if (!channel_.Send(request)) return std::nullopt;
    for (;;) {
      auto frame = channel_.Receive();
      if (!frame || frame->request_id() == id || frame->has_error()) return frame;
    }
  }

 private:
  RawChannel channel_;
  std::uint64_t next_request_id_ = 3;  // 1 and 2 were hello and authenticate
};

// The relay's life as the devices see it. While it is up they connect and
// push. The main thread closes the gate just before each kill; each device
// then parks once its connection fails, and the main thread reads the store
// only when all are parked, so every acknowledgement the killed relay sent
// has been counted. Opening the gate again (after the restart) wakes them.
class RelayGate {
 public:
  void Open() {
    std::lock_guard lock(mutex_);
    up_ = true;
    ++generation_;
    changed_.notify_all();
  }
  void Close() {
    std::lock_guard lock(mutex_);
    up_ = false;
    changed_.notify_all();
  }
  void Finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    changed_.notify_all();
  }

  // A device whose connection failed, or that has not connected yet: parks
  // while the relay is down. False when the test is over.
  bool ParkWhileDown() {
    std::unique_lock lock(mutex_);
    if (up_ || finished_) return !finished_;
    const std::uint64_t parked_in = generation_;
    ++parked_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return finished_ || generation_ != parked_in; });
    --parked_;
    return !finished_;
  }

  // Waits `delay` (a backoff), or less if the gate closes meanwhile.
  void Backoff(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, delay, [&] { return !up_ || finished_; });
  }

  // The main thread, after Close(): true once every device is parked.
  bool AllParked(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return parked_ == kDevices; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool up_ = false;
  bool finished_ = false;
  std::uint64_t generation_ = 0;
  int parked_ = 0;
};

struct Acknowledged {
  std::string record_id;
  std::uint64_t seq;
};

// A record sent but not yet seen acknowledged: the kill may have come before
// its commit, or between its commit and the acknowledgement.
struct Unacknowledged {
  v1::RecordEnvelope envelope;
  // Found in the store while unacknowledged: the acknowledgement of its
  // retry must carry this number.
  std::uint64_t stored_seq = 0;
};

// Written by its own thread while the relay is up; read (and stored_seq
// written) by the main thread while every device is parked.
struct Device {
  int index = 0;
  int couple = 0;
  crypto::SigningKeyPair key = crypto::SigningKeyPair::Generate();
  std::string couple_id;
  std::string address;                     // its own loopback address
  std::vector<Acknowledged> acknowledged;  // in the order the acks arrived
  std::optional<v1::RecordEnvelope> last_acknowledged;
  std::vector<Unacknowledged> unacknowledged;
  bool failed = false;  // one failure report per device, not one per retry
};

struct Totals {
  std::atomic<std::int64_t> acknowledged{0};
  std::atomic<std::int64_t> retried_acknowledged{0};  // re-sent, same seq came back
  std::atomic<std::int64_t> retried_stored{0};        // stored unacknowledged, same seq came back
};

class RelayKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init());  // before any key is made
    devices_.resize(kDevices);
    for (int i = 0; i < kDevices; ++i) {
      devices_[i].index = i;
      devices_[i].couple = i / 2;
      devices_[i].address = "127.0.1." + std::to_string(i + 1);
    }
  }

  // Also when an assertion ended the test early: the relay goes first, so
  // a device in the middle of a push sees its connection end.
  void TearDown() override { StopDevices(); }

  void StartDevices() {
    for (Device& device : devices_) threads_.emplace_back([this, &device] { PushUntilFinished(device); });
  }
  void StopDevices() {
    gate_.Finish();
    relay_.reset();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

  // A free port below the kernel's ephemeral range. The relay comes back on
  // the same port after each kill, and while it is down no other process's
  // outgoing connection can be given a port from outside that range.
  static std::uint16_t FreePortOutsideEphemeralRange() {
    int ephemeral_low = 32768;
    std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
    std::random_device random;
    std::uniform_int_distribution<int> port(std::max(1024, ephemeral_low - 10000), ephemeral_low - 1);
    asio::io_context io;
    for (;;) {
      const auto candidate = static_cast<std::uint16_t>(port(random));
      asio::ip::tcp::acceptor probe(io);
      asio::error_code ec;
      probe.open(asio::ip::tcp::v4(), ec);
      if (!ec) probe.bind({asio::ip::make_address("127.0.0.1"), candidate}, ec);
      if (!ec) return candidate;
    }
  }

  // Starts duetd on `port_` and waits for its "listening" line.
  void StartRelay() {
    relay_ = std::make_unique<LiveProcess>(
        Concat({DUETD_PATH, "--listen", "127.0.0.1:" + std::to_string(port_)}, RelayStoreArgs(db_path())),
        db_path() + ".log");
    ASSERT_TRUE(relay_->WaitForLine("duetd listening on")) << relay_->output() << RelayLog();
    // "duetd listening on HOST:PORT relay-key KEY"
    std::istringstream words(relay_->output());
    std::string w1, w2, w3, address, w5, key;
    words >> w1 >> w2 >> w3 >> address >> w5 >> key;
    const auto port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
    const std::string relay_key = crypto::Base64UrlDecode(key).value_or("");
    if (relay_key_.empty()) relay_key_ = relay_key;
    ASSERT_EQ(port, port_);
    ASSERT_EQ(relay_key, relay_key_) << "the relay key file beside the database was not kept";
  }

  // Pairs each couple as the protocol does: one device creates an invite,
  // the other answers it.
  void PairCouples() {
    for (int c = 0; c < kCouples; ++c) {
      Device& a = devices_[2 * c];
      Device& b = devices_[2 * c + 1];
      a.couple_id = b.couple_id = crypto::RandomBytes(proto::kIdBytes);
      const std::string invite_id = crypto::RandomBytes(proto::kIdBytes);
      DeviceConnection ca(port_, a.address);
      ASSERT_TRUE(ca.Authenticate(a.key));
      auto created = ca.Call(CreateInviteFrame(invite_id, a.couple_id));
      ASSERT_TRUE(created && created->has_invite_created()) << (created ? created->DebugString() : "");
      DeviceConnection cb(port_, b.address);
      ASSERT_TRUE(cb.Authenticate(b.key));
      auto paired = cb.Call(AnswerInviteFrame(invite_id));
      ASSERT_TRUE(paired && paired->has_paired()) << (paired ? paired->DebugString() : "");
      couple_index_[a.couple_id] = c;
    }
  }

  // One device's life: connect, push batches of 1-3 new records, note each
  // acknowledgement; on any failure back off briefly and reconnect (or park
  // while the relay is down), then send the unacknowledged batch again.
  void PushUntilFinished(Device& device) {
    std::mt19937_64 random(seed_ + static_cast<std::uint64_t>(device.index));
    std::uniform_int_distribution<int> batch_size(1, 3);
    std::uniform_int_distribution<int> backoff_ms(5, 20);
    while (gate_.ParkWhileDown()) {
      DeviceConnection connection(port_, device.address);
      if (connection.Authenticate(device.key)) PushWhileConnected(device, connection, random, batch_size);
      gate_.Backoff(std::chrono::milliseconds(backoff_ms(random)));
    }
  }

  void PushWhileConnected(Device& device, DeviceConnection& connection, std::mt19937_64& random,
                          std::uniform_int_distribution<int>& batch_size) {
    // First on a new connection: the last acknowledged record again, as a
    // client that missed its acknowledgement would send it.
    bool resend_last = device.last_acknowledged.has_value();
    for (;;) {
      if (device.unacknowledged.empty())
        for (int i = batch_size(random); i > 0; --i)
          device.unacknowledged.push_back({SignedEnvelope(device.key, device.couple_id)});
      v1::Frame push;
      if (resend_last) *push.mutable_push()->add_records() = *device.last_acknowledged;
      for (const auto& record : device.unacknowledged) *push.mutable_push()->add_records() = record.envelope;
      auto answer = connection.Call(push);
      if (!answer) return;  // the relay is gone: reconnect
      if (answer->has_error() && answer->error().code() == v1::ERROR_CODE_RATE_LIMITED) {
        // The relay paces each couple's pushes; wait as it asks, then send again.
        gate_.Backoff(
            std::chrono::milliseconds(std::clamp<std::uint32_t>(answer->error().retry_after_ms(), 10, 1000)));
        continue;
      }
      const int sent = push.push().records_size();
      if (!answer->has_push_ack() || answer->push_ack().seqs_size() != sent)
        return Fail(device,
                    "a push of " + std::to_string(sent) + " records was answered " + answer->DebugString());
      const auto& seqs = answer->push_ack().seqs();
      const int first_new = resend_last ? 1 : 0;
      if (resend_last && seqs[0] != device.acknowledged.back().seq)
        return Fail(device, "its last record, acknowledged as seq " +
                                std::to_string(device.acknowledged.back().seq) +
                                ", was acknowledged again as seq " + std::to_string(seqs[0]));
      for (std::size_t i = 0; i < device.unacknowledged.size(); ++i) {
        const std::uint64_t stored = device.unacknowledged[i].stored_seq;
        if (stored != 0 && seqs[first_new + static_cast<int>(i)] != stored)
          return Fail(device, "a record stored as seq " + std::to_string(stored) +
                                  " whose acknowledgement the kill cut off was acknowledged as seq " +
                                  std::to_string(seqs[first_new + static_cast<int>(i)]));
      }
      totals_.retried_acknowledged += first_new;
      for (std::size_t i = 0; i < device.unacknowledged.size(); ++i) {
        const auto& record = device.unacknowledged[i];
        device.acknowledged.push_back({record.envelope.record_id(), seqs[first_new + static_cast<int>(i)]});
        ++totals_.acknowledged;
        if (record.stored_seq != 0) ++totals_.retried_stored;
      }
      device.last_acknowledged = device.unacknowledged.back().envelope;
      device.unacknowledged.clear();
      resend_last = false;
    }
  }

  // Called on a device's thread: one report per device, with the seed.
  void Fail(Device& device, const std::string& what) {
    if (device.failed) return;
    device.failed = true;
    ADD_FAILURE() << "device " << device.index << " (couple " << device.couple << "): " << what
                  << " [DUET_KILL_SEED=" << seed_ << "]";
  }

  // Starts the relay, pairs the couples and sets the devices pushing; then
  // `rounds` times: kill the relay at a random moment, check the store it
  // left, start it again. With `until_acknowledged`, stops sooner once that
  // many records were acknowledged.
  void KillRounds(int rounds, std::int64_t until_acknowledged = 0) {
    SCOPED_TRACE("DUET_KILL_SEED=" + std::to_string(seed_));
    std::mt19937_64 random(seed_);
    // The kill moment is meant to be arbitrary (in a handshake, a commit, an
    // acknowledgement), so it is a random delay rather than an event.
    std::uniform_int_distribution<int> kill_after_ms(50, 300);
    ASSERT_NO_FATAL_FAILURE(StartRelay());
    ASSERT_NO_FATAL_FAILURE(PairCouples());
    StartDevices();
    for (int round = 1; round <= rounds && !HasFailure(); ++round) {
      if (until_acknowledged > 0 && totals_.acknowledged >= until_acknowledged) break;
      if (round > 1) {
        ASSERT_NO_FATAL_FAILURE(StartRelay());
      }
      gate_.Open();
      std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
      gate_.Close();
      ASSERT_EQ(relay_->Stop(SIGKILL), kKilled) << "the relay ended on its own before the kill" << RelayLog();
      ++kills_;
      ASSERT_TRUE(gate_.AllParked(60s)) << "devices still talking to a killed relay";
      lost_ += CheckStore(round);
    }
  }

  // Reads the store as the kill left it, with SQLite and no relay code.
  // Returns the number of acknowledged records missing or renumbered.
  std::int64_t CheckStore(int round) {
    SCOPED_TRACE("round " + std::to_string(round) + " [DUET_KILL_SEED=" + std::to_string(seed_) + "]");
    RelayStoreSql store(db_path());
    std::string integrity = "ok";  // PostgreSQL checks its own pages as it reads them
    if (!store.postgres()) {
      integrity.clear();
      for (const auto& row : store.Rows("PRAGMA integrity_check")) {
        if (!integrity.empty()) integrity += "\n";
        integrity += row.at(0);
      }
    }
    EXPECT_EQ(integrity, "ok");
    if (integrity == "ok") ++integrity_ok_;

    // Every record a device ever sent: acknowledged, or still waiting.
    struct Sent {
      const Device* author;
      std::uint64_t acknowledged_seq;  // 0: never seen acknowledged
      Unacknowledged* waiting;         // null when acknowledged
      std::uint64_t stored_seq = 0;    // where this check found it
    };
    std::unordered_map<std::string, Sent> sent;
    for (Device& device : devices_) {
      for (const auto& ack : device.acknowledged) sent[ack.record_id] = {&device, ack.seq, nullptr};
      for (auto& record : device.unacknowledged) sent[record.envelope.record_id()] = {&device, 0, &record};
    }

    std::vector<std::string> problems;
    auto problem = [&](std::string what) {
      if (problems.size() < 20) problems.push_back(std::move(what));
    };
    // In table order (a scan, not one index lookup per row): each couple's
    // numbers are sorted after.
    std::vector<std::vector<std::uint64_t>> seqs(kCouples);
    for (const auto& row : store.Rows("SELECT couple_id, seq, record_id, author_key FROM records")) {
      const auto couple = couple_index_.find(row.at(0));
      if (couple == couple_index_.end()) {
        problem("a record of an unknown couple");
        continue;
      }
      const std::uint64_t seq = std::stoull(row.at(1));
      const std::string where = "couple " + std::to_string(couple->second) + " seq " + std::to_string(seq);
      seqs[couple->second].push_back(seq);
      const auto it = sent.find(row.at(2));
      if (it == sent.end()) {
        problem(where + " is a record no device sent");
        continue;
      }
      Sent& record = it->second;
      if (record.stored_seq != 0)
        problem(where + " is stored again, as seq " + std::to_string(record.stored_seq));
      record.stored_seq = seq;
      if (record.author->couple != couple->second || row.at(3) != record.author->key.public_key)
        problem(where + " is stored under the wrong couple or author");
    }

    for (int c = 0; c < kCouples; ++c) {
      std::sort(seqs[c].begin(), seqs[c].end());
      for (std::size_t i = 0; i < seqs[c].size(); ++i)
        if (seqs[c][i] != i + 1) {
          problem("couple " + std::to_string(c) + " numbers its records with a gap or a repeat at seq " +
                  std::to_string(i + 1));
          break;
        }
    }
    std::int64_t lost = 0;  // acknowledged, then missing or renumbered
    for (auto& [record_id, record] : sent) {
      if (record.acknowledged_seq != 0) {
        if (record.stored_seq != record.acknowledged_seq) ++lost;
      } else if (record.stored_seq != 0) {
        Unacknowledged& waiting = *record.waiting;
        if (waiting.stored_seq != 0 && waiting.stored_seq != record.stored_seq)
          problem("an unacknowledged record stored as seq " + std::to_string(waiting.stored_seq) +
                  " is now seq " + std::to_string(record.stored_seq));
        waiting.stored_seq = record.stored_seq;
      }
    }
    for (const Device& device : devices_) {
      std::uint64_t previous = 0;
      for (const auto& ack : device.acknowledged) {
        if (ack.seq <= previous)
          problem("device " + std::to_string(device.index) + " was acknowledged seq " +
                  std::to_string(ack.seq) + " after seq " + std::to_string(previous));
        previous = ack.seq;
      }
    }
    EXPECT_EQ(lost, 0) << "acknowledged records missing from the store or stored under another seq";
    for (const auto& what : problems) ADD_FAILURE() << what;
    return lost;
  }

  std::string db_path() const { return dir_.File("relay.db"); }
  std::string RelayLog() const { return "\nrelay log:\n" + ReadFile(db_path() + ".log"); }

  TempDir dir_;
  const std::uint64_t seed_ = SeedFromEnvironment();
  const std::uint16_t port_ = FreePortOutsideEphemeralRange();
  std::string relay_key_;
  std::unique_ptr<LiveProcess> relay_;
  std::vector<Device> devices_;  // never resized once the devices' threads run
  std::unordered_map<std::string, int> couple_index_;
  RelayGate gate_;
  Totals totals_;
  std::vector<std::thread> threads_;
  int kills_ = 0;
  int integrity_ok_ = 0;  // kills after which PRAGMA integrity_check said ok (every kill, on PostgreSQL)
  std::int64_t lost_ = 0;
};

TEST_F(RelayKillTest, EveryAcknowledgedRecordSurvivesEachSigkillOnceAndInOrder) {
  const int rounds = RoundsFromEnvironment();
  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(KillRounds(rounds));
  StopDevices();
  // The store the last kill left opens, and the relay stops in order.
  ASSERT_NO_FATAL_FAILURE(StartRelay());
  EXPECT_EQ(relay_->Stop(SIGTERM), 0) << RelayLog();

  const std::int64_t acknowledged = totals_.acknowledged;
  // A run where the kills found nothing in flight would prove nothing.
  EXPECT_GE(acknowledged, 10 * kills_) << "too few records were acknowledged to test anything";
  const auto seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf(
      "relay kill test: %d rounds, %d SIGKILLs, integrity_check ok after %d, %d devices, %lld records "
      "acknowledged, %lld lost; retried after a kill: %lld acknowledged and %lld stored-unacknowledged "
      "records, each given its first seq; seed %llu, %.1f s\n",
      rounds, kills_, integrity_ok_, kDevices, static_cast<long long>(acknowledged),
      static_cast<long long>(lost_), static_cast<long long>(totals_.retried_acknowledged.load()),
      static_cast<long long>(totals_.retried_stored.load()), static_cast<unsigned long long>(seed_), seconds);
  std::fflush(stdout);
}

// The check above could pass by reading nothing: here an acknowledged record
// is deleted behind the relay's back, and the check must count it lost.
TEST_F(RelayKillTest, TheStoreCheckCountsAnAcknowledgedRecordThatIsGone) {
  // An early kill (in the handshakes) may leave nothing acknowledged.
  ASSERT_NO_FATAL_FAILURE(KillRounds(20, /*until_acknowledged=*/1));
  StopDevices();
  const Device* device = &devices_[0];
  for (const Device& d : devices_)
    if (!d.acknowledged.empty()) device = &d;
  ASSERT_FALSE(device->acknowledged.empty());
  EXPECT_EQ(RelayStoreSql(db_path()).Exec("DELETE FROM records WHERE record_id = $1",
                                          {device->acknowledged.front().record_id}),
            1);

  ::testing::TestPartResultArray failures;
  std::int64_t lost = 0;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    lost = CheckStore(2);
  }
  EXPECT_EQ(lost, 1);
  std::string said;
  for (int i = 0; i < failures.size(); ++i)
    said += failures.GetTestPartResult(i).message() + std::string("\n");
  EXPECT_NE(said.find("acknowledged records missing"), std::string::npos) << said;
}

}  // namespace
}  // namespace duet::testing
