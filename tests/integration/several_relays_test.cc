// Several relays on one PostgreSQL store (issue #17, docs/architecture.md
// "Several relays on one store"): partners connected to different relays
// hear each other's records at once, an end or a revocation committed
// through one relay closes the connections it concerns on the other, and a
// relay that lost the store's events catches up when it hears them again.
// Real duetd processes on the tests' real PostgreSQL.
#include <libpq-fe.h>

#include <chrono>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/relay_client.h"
#include "tests/postgres/test_database.h"
#include "tests/temp_dir.h"

namespace duet::testing {
namespace {

using namespace std::chrono_literals;

class SeveralRelaysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init());
    auto url = FreshPostgresDatabase();
    ASSERT_TRUE(url.ok()) << url.error().message;
    url_ = url.value();
    // One store and one relay key: the partners pin the same key whichever
    // relay they reach.
    for (const char* name : {"one", "two"}) {
      relays_.push_back(std::make_unique<RelayProcess>(
          dir_.File(std::string(name) + ".db"), "127.0.0.1:0",
          std::vector<std::string>{"--store", url_, "--key", dir_.File("relay.key")}));
      relays_.back()->Start();
    }
  }

  std::unique_ptr<net::FramedClient> On(std::size_t relay, const crypto::SigningKeyPair& device) {
    auto endpoint = net::ParseEndpoint(relays_[relay]->address());
    EXPECT_TRUE(endpoint.ok());
    auto client = net::FramedClient::Connect(endpoint.value(), 5s);
    EXPECT_TRUE(client.ok()) << client.error().message;
    auto ok = HelloAndAuthenticate(*client.value(), device);
    EXPECT_TRUE(ok.ok()) << ok.error().message;
    return std::move(client).value();
  }

  // A creates an invite through relay one, B answers through relay two.
  void PairAcross() {
    a_ = On(0, alice_);
    const std::string invite_id = crypto::RandomBytes(16);
    ASSERT_TRUE(a_->Call(CreateInviteFrame(invite_id, couple_), 5s)->has_invite_created());
    b_ = On(1, bob_);
    auto paired = b_->Call(AnswerInviteFrame(invite_id), 5s);
    ASSERT_TRUE(paired.ok() && paired->has_paired());
    v1::Frame check;
    check.mutable_check_invite()->set_invite_id(invite_id);
    ASSERT_TRUE(a_->Call(check, 5s)->has_invite_state());
  }

  // Pushes `records` of `author`'s; returns their numbers.
  std::vector<std::uint64_t> Push(net::FramedClient& client, const crypto::SigningKeyPair& author, int records) {
    auto ack = client.Call(PushFrame(author, couple_, records), 5s);
    EXPECT_TRUE(ack.ok() && ack->has_push_ack()) << (ack.ok() ? ack->DebugString() : ack.error().message);
    if (!ack.ok() || !ack->has_push_ack()) return {};
    return {ack->push_ack().seqs().begin(), ack->push_ack().seqs().end()};
  }

  // The numbers of the records delivered to `client` until `wanted` all came
  // (or 10 s passed); answers to requests are not expected meanwhile.
  std::set<std::uint64_t> Delivered(net::FramedClient& client, const std::set<std::uint64_t>& wanted) {
    std::set<std::uint64_t> seen;
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!std::includes(seen.begin(), seen.end(), wanted.begin(), wanted.end()) &&
           std::chrono::steady_clock::now() < until) {
      // One wait to the deadline: a connection that timed out is not read again.
      auto frame = client.Receive(
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()));
      if (!frame.ok()) break;
      EXPECT_EQ(frame->request_id(), 0u);
      for (const auto& record : frame->record_batch().records()) seen.insert(record.seq());
    }
    return seen;
  }

  // Whether the relay ends `client`'s connection within 10 s (what it sent
  // before that is read past); false when it just stays quiet.
  static bool Ended(net::FramedClient& client) {
    for (;;) {
      auto frame = client.Receive(10s);
      if (!frame.ok()) return frame.error().message.find("in time") == std::string::npos;
    }
  }

  // `duet` as a person runs it, in the home `who`.
  RunResult Duet(const std::string& who, std::vector<std::string> args) {
    args.insert(args.begin(), {DUET_PATH, "--home", dir_.File(who)});
    return RunProgram(args, dir_.path());
  }
  // Both relays' addresses, as a device is given them.
  std::string BothAddresses() const { return relays_[0]->address() + "," + relays_[1]->address(); }

  // Runs `sql` on the test database as its owner; false when it failed.
  bool Sql(const std::string& sql) {
    PGconn* db = PQconnectdb(url_.c_str());
    PGresult* result = PQexec(db, sql.c_str());
    const bool ok = PQresultStatus(result) == PGRES_TUPLES_OK || PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    PQfinish(db);
    return ok;
  }
  long SqlNumber(const std::string& sql) {
    PGconn* db = PQconnectdb(url_.c_str());
    PGresult* result = PQexec(db, sql.c_str());
    long value = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1
                     ? std::strtol(PQgetvalue(result, 0, 0), nullptr, 10)
                     : -1;
    PQclear(result);
    PQfinish(db);
    return value;
  }

  TempDir dir_;
  std::string url_;
  std::vector<std::unique_ptr<RelayProcess>> relays_;
  crypto::SigningKeyPair alice_ = crypto::SigningKeyPair::Generate();
  crypto::SigningKeyPair bob_ = crypto::SigningKeyPair::Generate();
  std::string couple_ = crypto::RandomBytes(16);
  std::unique_ptr<net::FramedClient> a_, b_;
};

TEST_F(SeveralRelaysTest, PartnersOnTwoRelaysHearEachOtherAtOnceAndNoConnectionHearsItself) {
  PairAcross();
  auto first = Push(*a_, alice_, 2);
  ASSERT_EQ(first, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(Delivered(*b_, {1, 2}), (std::set<std::uint64_t>{1, 2})) << "relay two delivered relay one's records";
  auto reply = Push(*b_, bob_, 1);
  ASSERT_EQ(reply, (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(Delivered(*a_, {3}), (std::set<std::uint64_t>{3})) << "and relay one relay two's, but not Alice's own";

  // Both write at once, each through another connection to their own
  // relay: the first connections hear every record of the partner's.
  std::set<std::uint64_t> alices, bobs;
  std::thread bob_writes([&] {
    auto other = On(1, bob_);
    for (int i = 0; i < 20; ++i)
      for (auto seq : Push(*other, bob_, 3)) bobs.insert(seq);
  });
  auto other = On(0, alice_);
  for (int i = 0; i < 20; ++i)
    for (auto seq : Push(*other, alice_, 3)) alices.insert(seq);
  bob_writes.join();
  ASSERT_EQ(alices.size(), 60u);
  ASSERT_EQ(bobs.size(), 60u);
  std::set<std::uint64_t> all(alices);
  all.insert(bobs.begin(), bobs.end());
  EXPECT_EQ(all.size(), 120u) << "no number given twice";
  EXPECT_EQ(*all.rbegin(), 123u) << "and none skipped";
  auto to_alice = Delivered(*a_, bobs);
  auto to_bob = Delivered(*b_, alices);
  EXPECT_TRUE(std::includes(to_alice.begin(), to_alice.end(), bobs.begin(), bobs.end()));
  EXPECT_TRUE(std::includes(to_bob.begin(), to_bob.end(), alices.begin(), alices.end()));
}

TEST_F(SeveralRelaysTest, AnEndOrARevocationThroughOneRelayClosesTheConnectionsItConcernsOnTheOther) {
  PairAcross();
  // Alice links a second device, which connects through relay two.
  auto laptop = crypto::SigningKeyPair::Generate();
  const std::string link_id = crypto::RandomBytes(16);
  v1::Frame link = CreateInviteFrame(link_id, couple_);
  link.mutable_create_invite()->set_link_device(true);
  ASSERT_TRUE(a_->Call(link, 5s)->has_invite_created());
  auto on_two = On(1, laptop);
  auto linked = on_two->Call(AnswerInviteFrame(link_id), 5s);
  ASSERT_TRUE(linked.ok() && linked->has_paired()) << (linked.ok() ? linked->DebugString() : "");

  v1::Frame revoke;
  revoke.mutable_revoke_device()->set_device_key(laptop.public_key);
  auto revoked = a_->Call(revoke, 5s);
  ASSERT_TRUE(revoked.ok() && revoked->has_device_revoked()) << (revoked.ok() ? revoked->DebugString() : "");
  EXPECT_TRUE(Ended(*on_two)) << "relay two closed the revoked device's connection";
  auto still = b_->Call(PushFrame(bob_, couple_, 1), 5s);
  EXPECT_TRUE(still.ok() && still->has_push_ack()) << "and kept Bob's";

  v1::Frame unpair;
  unpair.mutable_unpair();
  auto ended = a_->Call(unpair, 5s);
  ASSERT_TRUE(ended.ok() && ended->has_unpaired()) << (ended.ok() ? ended->DebugString() : ended.error().message);
  // Bob's connection ends; reconnected, he hears of the end.
  EXPECT_TRUE(Ended(*b_)) << "relay two closed Bob's connection";
  auto again = net::FramedClient::Connect(net::ParseEndpoint(relays_[1]->address()).value(), 5s);
  ASSERT_TRUE(again.ok());
  auto auth = HelloAndAuthenticate(*again.value(), bob_);
  ASSERT_TRUE(auth.ok()) << auth.error().message;
  EXPECT_NE(auth.value().auth_ok().ended_at(), 0) << "Bob learns the pairing ended";
}

// The relay that commits an end closes the couple's connections itself
// (the others hear of it from the store's events), and must do so even
// when the asker's own connection closed while the end waited to commit:
// here it is shed for a newer connection of Alice's while the couple's row
// is held from outside.
TEST_F(SeveralRelaysTest, AnEndWhoseAskersConnectionClosedMeanwhileStillClosesTheCouplesConnections) {
  relays_.push_back(std::make_unique<RelayProcess>(
      dir_.File("three.db"), "127.0.0.1:0",
      std::vector<std::string>{"--store", url_, "--key", dir_.File("relay.key"), "--max-connections-per-couple",
                               "2"}));
  relays_.back()->Start();
  a_ = On(2, alice_);
  const std::string invite_id = crypto::RandomBytes(16);
  ASSERT_TRUE(a_->Call(CreateInviteFrame(invite_id, couple_), 5s)->has_invite_created());
  b_ = On(2, bob_);
  ASSERT_TRUE(b_->Call(AnswerInviteFrame(invite_id), 5s)->has_paired());
  v1::Frame check;
  check.mutable_check_invite()->set_invite_id(invite_id);
  ASSERT_TRUE(a_->Call(check, 5s)->has_invite_state());

  // Ended (and the row let go) however the test ends.
  std::unique_ptr<PGconn, decltype(&PQfinish)> holder(PQconnectdb(url_.c_str()), PQfinish);
  const std::string hold = "BEGIN; SELECT 1 FROM couples WHERE couple_id = '\\x" + crypto::Hex(couple_) +
                           "'::bytea FOR UPDATE";
  PGresult* held = PQexec(holder.get(), hold.c_str());
  ASSERT_EQ(PQresultStatus(held), PGRES_TUPLES_OK) << PQerrorMessage(holder.get());
  ASSERT_EQ(PQntuples(held), 1);
  PQclear(held);
  v1::Frame unpair;
  unpair.set_request_id(7);
  unpair.mutable_unpair();
  ASSERT_TRUE(a_->Send(unpair, 5s).ok());
  // Until the end waits for the couple's row (well inside the relay's 5 s lock timeout).
  const char* waiting =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (SqlNumber(waiting) == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  ASSERT_GT(SqlNumber(waiting), 0) << "the end never reached the store";
  auto newer = On(2, alice_);  // a third connection: Alice's first is shed
  EXPECT_TRUE(Ended(*a_)) << "the relay shed Alice's oldest connection";
  PQclear(PQexec(holder.get(), "COMMIT"));
  holder.reset();
  EXPECT_TRUE(Ended(*b_)) << "Bob's connection still counts the couple paired";
  EXPECT_TRUE(Ended(*newer)) << "Alice's newer connection still counts the couple paired";
  EXPECT_EQ(SqlNumber("SELECT count(*) FROM couples WHERE ended_at > 0"), 1) << "the end committed";
}

TEST_F(SeveralRelaysTest, ARelayThatLostTheStoresEventsCatchesUpWhenItHearsThemAgain) {
  PairAcross();
  // Every relay's listening connection is cut (as a database restart or a
  // network blip would); while it is down, Alice writes through relay one.
  ASSERT_TRUE(Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                  "'duetd events' AND datname = current_database()"));
  for (int i = 0; i < 100 && SqlNumber("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                        "'duetd events' AND datname = current_database()") != 0;
       ++i)
    std::this_thread::sleep_for(10ms);  // a bound on the test, not what it checks
  auto seqs = Push(*a_, alice_, 3);
  ASSERT_EQ(seqs.size(), 3u);
  ASSERT_EQ(SqlNumber("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'duetd events' AND "
                      "datname = current_database()"),
            0)
      << "pushed while no relay listened: only a catch-up can deliver it";
  // No notification reached relay two; its catch-up on reconnecting sends them.
  EXPECT_EQ(Delivered(*b_, {seqs.begin(), seqs.end()}), (std::set<std::uint64_t>{seqs.begin(), seqs.end()}))
      << ReadFile(dir_.File("two.db") + ".log");
  const std::string log = ReadFile(dir_.File("two.db") + ".log");
  EXPECT_NE(log.find("lost the PostgreSQL store's events"), std::string::npos) << log;
}

// A device given both relays' addresses (an invite carries them all) syncs
// through whichever answers: one relay stopped, or draining, costs nothing.
TEST_F(SeveralRelaysTest, ADeviceGivenEveryRelaysAddressSyncsThroughWhicheverAnswers) {
  ASSERT_EQ(Duet("a", {"init", "--name", "Alice", "--relay", BothAddresses()}).exit_code, 0);
  auto invite = Duet("a", {"invite"});
  ASSERT_EQ(invite.exit_code, 0) << invite.err;
  auto joined = Duet("b", {"join", FirstLine(invite.out), "--name", "Bob"});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  auto shown = Duet("b", {"--json", "relay"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(nlohmann::json::parse(shown.out)["addresses"].size(), 2u) << "the invite carried both: " << shown.out;
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);

  // Relay one stops (SIGTERM drains it); each of eight syncs, wherever it
  // would have started, goes through relay two.
  relays_[0]->Stop();
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(Duet("a", {"checkin", "--mood", "4", "--note", "note " + std::to_string(i)}).exit_code, 0);
    auto sent = Duet("a", {"sync"});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
  }
  auto received = Duet("b", {"sync"});
  ASSERT_EQ(received.exit_code, 0) << received.err;
  EXPECT_NE(Duet("b", {"checkins"}).out.find("note 7"), std::string::npos);
  // And the other way round.
  relays_[0]->Start();
  relays_[1]->Stop();
  ASSERT_EQ(Duet("b", {"checkin", "--mood", "3", "--note", "through relay one"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  EXPECT_NE(Duet("a", {"checkins"}).out.find("through relay one"), std::string::npos);

  // Both down: one line that says so.
  relays_[0]->Stop();
  auto nowhere = Duet("a", {"sync"});
  EXPECT_NE(nowhere.exit_code, 0);
  EXPECT_NE(nowhere.err.find("none of the relay's 2 addresses answered"), std::string::npos) << nowhere.err;
}

TEST_F(SeveralRelaysTest, RelaySetTakesEveryAddressOnlyWhenEachAnswersAsTheSameRelay) {
  ASSERT_EQ(Duet("a", {"init", "--name", "Alice", "--relay", relays_[0]->address()}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  // A typo (nothing listens there) changes nothing.
  auto typo = Duet("a", {"relay", "set", relays_[0]->address(), "127.0.0.1:1"});
  EXPECT_NE(typo.exit_code, 0);
  EXPECT_NE(typo.err.find("nothing was changed"), std::string::npos) << typo.err;
  EXPECT_EQ(nlohmann::json::parse(Duet("a", {"--json", "relay"}).out)["addresses"].size(), 1u);
  auto set = Duet("a", {"relay", "set", relays_[0]->address(), relays_[1]->address()});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(nlohmann::json::parse(Duet("a", {"--json", "relay"}).out)["address"], BothAddresses());
  auto twice = Duet("a", {"relay", "set", relays_[0]->address() + "," + relays_[0]->address()});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("is given twice"), std::string::npos) << twice.err;
}

// `duet watch` on a relay that drains (SIGTERM) moves to the other one and
// goes on showing the partner's news.
TEST_F(SeveralRelaysTest, WatchMovesToAnotherRelayWhenItsRelayDrains) {
  ASSERT_EQ(Duet("a", {"init", "--name", "Alice", "--relay", BothAddresses()}).exit_code, 0);
  auto invite = Duet("a", {"invite"});
  ASSERT_EQ(Duet("b", {"join", FirstLine(invite.out), "--name", "Bob"}).exit_code, 0);
  ASSERT_EQ(Duet("a", {"sync"}).exit_code, 0);
  LiveProcess watch({DUET_PATH, "--home", dir_.File("a"), "watch", "--no-notify"}, dir_.File("watch.err"));
  ASSERT_TRUE(watch.WaitForLine("connected to the relay")) << watch.output() << ReadFile(dir_.File("watch.err"));
  const std::size_t held = watch.output().find(relays_[0]->address()) != std::string::npos ? 0 : 1;
  relays_[held]->Stop();
  ASSERT_TRUE(watch.WaitForLine("connected to the relay " + relays_[1 - held]->address(), 30s)) << watch.output();
  ASSERT_EQ(Duet("b", {"checkin", "--mood", "5", "--note", "after the drain"}).exit_code, 0);
  ASSERT_EQ(Duet("b", {"sync"}).exit_code, 0);
  EXPECT_TRUE(watch.WaitForLine("after the drain")) << watch.output();
}

}  // namespace
}  // namespace duet::testing
