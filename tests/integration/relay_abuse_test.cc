// The relay under abuse (issue #11, fault test 5): the real duetd, while
// strangers flood it with idle connections, drip frames, send absurd
// lengths, spam invites and push as fast as they can, and real couples keep
// syncing. Each attack must be cut off by a limit before memory or disk
// grows, and the couples' round trips stay under a second at p99. The suite
// runs a short form; `tests/soak/run abuse` (DUET_ABUSE_FULL=1) the full one:
// 10,000 hostile connections from 64 addresses, 100,000 invite requests and
// 50 couples for a minute.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include <asio.hpp>

#include "crypto/channel.h"
#include "tests/integration/harness.h"
#include "tests/integration/relay_client.h"
#include "tests/integration/relay_store_sql.h"

namespace duet::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Scale {
  int couples = 5;
  int hostile_connections = 4000;  // opened in all, from 64 addresses
  int held_at_once = 1500;
  int drippers = 200;
  int invite_requests = 20000;
  std::chrono::seconds duration{12};
};

Scale ChosenScale() {
  Scale scale;
  if (const char* full = std::getenv("DUET_ABUSE_FULL"); full != nullptr && std::string(full) == "1") {
    scale = {50, 10000, 4000, 1024, 100000, std::chrono::seconds(60)};
  }
  // The test process needs a descriptor per socket it holds.
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  const int spare = static_cast<int>(limit.rlim_cur) - 400 - scale.drippers - 4 * scale.couples;
  scale.held_at_once = std::max(64, std::min(scale.held_at_once, spare));
  return scale;
}

std::size_t RssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  return 0;
}

class RelayAbuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init());
    relay_ = std::make_unique<RelayProcess>(dir_.File("relay.db"));
    relay_->Start();
    endpoint_ = net::ParseEndpoint(relay_->address()).value();
  }

  std::unique_ptr<net::FramedClient> Authenticated(const crypto::SigningKeyPair& device,
                                                   const std::string& from = "127.0.0.1") {
    auto client = net::FramedClient::Connect(endpoint_, 5s, {}, from);
    if (!client.ok() || !HelloAndAuthenticate(*client.value(), device).ok()) return nullptr;
    return std::move(client).value();
  }

  struct Couple {
    crypto::SigningKeyPair a = crypto::SigningKeyPair::Generate();
    crypto::SigningKeyPair b = crypto::SigningKeyPair::Generate();
    std::string couple_id = crypto::RandomBytes(16);
    std::unique_ptr<net::FramedClient> ca, cb;
  };

  bool Pair(Couple& couple, const std::string& from) {
    couple.ca = Authenticated(couple.a, from);
    couple.cb = Authenticated(couple.b, from);
    if (!couple.ca || !couple.cb) return false;
    const std::string invite_id = crypto::RandomBytes(16);
    auto created = couple.ca->Call(CreateInviteFrame(invite_id, couple.couple_id), 5s);
    auto paired = couple.cb->Call(AnswerInviteFrame(invite_id), 5s);
    v1::Frame check;
    check.mutable_check_invite()->set_invite_id(invite_id);
    auto state = couple.ca->Call(check, 5s);
    return created.ok() && paired.ok() && paired->has_paired() && state.ok() &&
           state->has_invite_state();
  }

  TempDir dir_;
  std::unique_ptr<RelayProcess> relay_;
  net::Endpoint endpoint_;
};

TEST_F(RelayAbuseTest, EveryAttackIsCutOffByALimitWhileCouplesKeepSyncing) {
  const Scale scale = ChosenScale();
  // Real couples, paired before the attack; the self-paired pusher too.
  std::vector<Couple> couples(static_cast<std::size_t>(scale.couples));
  for (std::size_t i = 0; i < couples.size(); ++i)
    ASSERT_TRUE(Pair(couples[i], "127.0.3." + std::to_string(1 + i % 200)));
  Couple flooder;
  ASSERT_TRUE(Pair(flooder, "127.0.4.1"));
  const std::size_t baseline_kib = RssKiB(relay_->pid());

  std::atomic<bool> stop{false};
  std::atomic<std::size_t> peak_kib{baseline_kib};
  std::thread sampler([&] {
    while (!stop) {
      peak_kib = std::max(peak_kib.load(), RssKiB(relay_->pid()));
      std::this_thread::sleep_for(100ms);
    }
  });

  // The couples: a push and a pull about every 200 ms, each round timed.
  std::mutex latencies_mutex;
  std::vector<double> latencies_ms;
  std::atomic<int> couple_failures{0};
  std::vector<std::thread> couple_threads;
  for (auto& couple : couples) {
    couple_threads.emplace_back([&, c = &couple] {
      while (!stop) {
        const auto start = Clock::now();
        auto ack = c->ca->Call(PushFrame(c->a, c->couple_id, 1), 5s);
        v1::Frame pull;
        pull.mutable_pull()->set_limit(10);
        auto page = c->cb->Call(pull, 5s);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (!ack.ok() || !ack->has_push_ack() || !page.ok() || !page->has_record_batch()) {
          ++couple_failures;
          return;
        }
        {
          std::lock_guard lock(latencies_mutex);
          latencies_ms.push_back(ms);
        }
        std::this_thread::sleep_for(200ms);
      }
    });
  }

  // Idle connections from 64 addresses, opened and dropped in turn.
  std::atomic<int> opened{0};
  std::thread flood([&] {
    asio::io_context io;
    std::deque<asio::ip::tcp::socket> held;
    const std::string hello = crypto::ClientHandshake().Hello();
    for (int i = 0; i < scale.hostile_connections && !stop; ++i) {
      if (static_cast<int>(held.size()) >= scale.held_at_once) held.pop_front();
      asio::ip::tcp::socket socket(io);
      asio::error_code ec;
      socket.open(asio::ip::tcp::v4(), ec);
      socket.bind({asio::ip::make_address("127.0.2." + std::to_string(1 + i % 64)), 0}, ec);
      socket.connect({asio::ip::make_address("127.0.0.1"), endpoint_.port}, ec);
      if (ec) continue;
      if (i % 2 == 0) asio::write(socket, asio::buffer(hello), ec);  // half say hello, half say nothing
      held.push_back(std::move(socket));
      ++opened;
    }
    while (!stop) std::this_thread::sleep_for(50ms);
  });

  // Drippers: authenticated throwaway keys that announce a 1 MiB frame
  // (every tenth a 2^31 one), send up to 512 KiB of it, then a byte now
  // and then. Unpaired, they may send 4 KiB frames at most.
  std::atomic<int> drippers_cut{0};
  std::thread drip([&] {
    std::vector<std::unique_ptr<RawChannel>> drippers;
    for (int i = 0; i < scale.drippers && !stop; ++i) {
      auto channel = std::make_unique<RawChannel>(endpoint_.port, "127.0.5." + std::to_string(1 + i % 100));
      if (!channel->Authenticate(crypto::SigningKeyPair::Generate())) continue;
      channel->StartFrame(i % 10 == 0 ? 0x80000000u : (1u << 20), 512 * 1024);
      drippers.push_back(std::move(channel));
    }
    while (!stop) {
      for (auto& d : drippers)
        if (d->socket.is_open() && !d->SendByte()) {
          ++drippers_cut;
          asio::error_code ignored;
          d->socket.close(ignored);
        }
      std::this_thread::sleep_for(500ms);
    }
  });

  // Invite spam from 20 addresses, fresh keys every time.
  std::atomic<int> invites_sent{0}, invites_refused{0};
  std::thread spam([&] {
    std::vector<std::unique_ptr<net::FramedClient>> spammers;
    for (int i = 0; i < 20; ++i)
      spammers.push_back(Authenticated(crypto::SigningKeyPair::Generate(),
                                       "127.0.7." + std::to_string(1 + i)));
    for (int i = 0; i < scale.invite_requests && !stop; ++i) {
      auto& client = spammers[static_cast<std::size_t>(i % 20)];
      if (!client) continue;
      auto reply = client->Call(CreateInviteFrame(crypto::RandomBytes(16), crypto::RandomBytes(16)), 5s);
      ++invites_sent;
      if (reply.ok() && reply->has_error()) ++invites_refused;
    }
  });

  // A self-paired couple pushing 100 records a request, as fast as it can.
  std::atomic<int> flood_pushes{0}, flood_paced{0};
  std::thread pusher([&] {
    while (!stop) {
      auto reply = flooder.ca->Call(PushFrame(flooder.a, flooder.couple_id, 100), 5s);
      if (!reply.ok()) break;
      ++flood_pushes;
      if (reply->has_error() && reply->error().code() == v1::ERROR_CODE_RATE_LIMITED) ++flood_paced;
    }
  });

  std::this_thread::sleep_for(scale.duration);
  stop = true;
  for (auto* t : {&sampler, &flood, &drip, &spam, &pusher}) t->join();
  for (auto& t : couple_threads) t.join();

  std::sort(latencies_ms.begin(), latencies_ms.end());
  ASSERT_FALSE(latencies_ms.empty());
  const double p99 = latencies_ms[latencies_ms.size() * 99 / 100];
  const std::size_t growth_mib = (peak_kib.load() - baseline_kib) / 1024;
  const std::string db = dir_.File("relay.db");
  RelayStoreSql store(db);
  const auto invites = store.Number("SELECT count(*) FROM invites");
  const auto flooded = store.Number("SELECT count(*) FROM records WHERE couple_id = $1", {flooder.couple_id});
  std::printf(
      "abuse: %lld s; %d hostile connections opened, %d drippers, %d invite requests (%d refused), "
      "%d flood pushes (%d paced); couples: %zu round trips, p99 %.1f ms, %d failures; relay RSS "
      "%zu MiB at start, +%zu MiB at peak; %lld invites and %lld flood records stored\n",
      static_cast<long long>(scale.duration.count()), opened.load(), scale.drippers,
      invites_sent.load(), invites_refused.load(), flood_pushes.load(), flood_paced.load(),
      latencies_ms.size(), p99, couple_failures.load(), baseline_kib / 1024, growth_mib,
      static_cast<long long>(invites), static_cast<long long>(flooded));
  EXPECT_EQ(couple_failures.load(), 0);
  EXPECT_LT(p99, 1000.0);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine (256 MiB) on purpose:
  // the relay's RSS says nothing about its buffers there. The release
  // build's run of this test holds the bound.
  (void)growth_mib;
#else
  EXPECT_LT(growth_mib, 96u) << "memory stays flat: connections and buffers are bounded";
#endif
  EXPECT_LE(invites, 20 * 20 + 5) << "20 pending invites per address";
  EXPECT_GT(flood_paced.load(), 0);
  EXPECT_LE(flooded, 500 + 2 * scale.duration.count() + 100) << "paced: a burst, then 2 a second";
}

}  // namespace
}  // namespace duet::testing
