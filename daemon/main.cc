// duetd: the duet relay. Stores and forwards sealed records; reads none.
#include <cstdio>
#include <ctime>
#include <string>

#include <CLI/CLI.hpp>

#include "crypto/crypto.h"
#include "daemon/relay.h"
#include "daemon/relay_token.h"
#include "proto/protobuf_log.h"

int main(int argc, char** argv) {
  duet::proto::RouteProtobufLog("duetd");
  CLI::App app{"duetd: the duet relay. It stores and forwards sealed records and can read none."};
  app.fallthrough();  // `duetd token create --db F` takes --db after the subcommand
  std::string listen = "127.0.0.1:7707";
  std::string db_path;
  std::string key_path;
  std::string sync_mode = "full";
  std::string mode = "open";
  duet::daemon::RelayLimits limits;
  int handshake_timeout = static_cast<int>(limits.handshake_timeout.count());
  int frame_timeout = static_cast<int>(limits.frame_timeout.count());
  int idle_timeout = static_cast<int>(limits.idle_timeout.count());
  app.add_option("--listen", listen, "address to listen on, HOST:PORT (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--db", db_path, "SQLite file holding the couples' sealed records")->required();
  app.add_option("--key", key_path, "relay key file (default: the --db path + .key)");
  app.add_option("--sync", sync_mode,
                 "full: an acknowledged record survives power loss; normal: faster, may lose "
                 "the last commits on power loss")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
  app.add_option("--mode", mode,
                 "open: any device may open a couple's mailbox; invite-only: a new couple needs "
                 "a token from `duetd token create`")
      ->check(CLI::IsMember({"open", "invite-only"}))
      ->capture_default_str();
  app.add_option("--handshake-timeout", handshake_timeout,
                 "seconds a new connection has to finish the handshake and authenticate")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_option("--frame-timeout", frame_timeout,
                 "seconds a frame may take from its first byte to its last")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_option("--idle-timeout", idle_timeout,
                 "seconds an authenticated connection may stay silent (clients ping)")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--max-connections", limits.max_connections, "connections held at once")
      ->check(CLI::Range(8, 1'000'000))
      ->capture_default_str();
  std::uint64_t receive_budget_mib = limits.receive_budget_bytes >> 20;
  app.add_option("--receive-budget-mib", receive_budget_mib,
                 "MiB all receive buffers together may hold")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--couple-max-records", limits.max_records_per_couple,
                 "records one couple may store")
      ->check(CLI::Range(1, 100'000'000))
      ->capture_default_str();
  std::uint64_t couple_max_mib = limits.max_bytes_per_couple >> 20;
  app.add_option("--couple-max-mib", couple_max_mib, "MiB of records one couple may store")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  auto* token = app.add_subcommand("token", "one-time tokens for an invite-only relay");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand(
      "create", "print a new token; a couple passes it to `duet init --relay-token`");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "duetd: %s; `duetd --help` lists the options\n", e.what());
    return 2;
  }

  if (token_create->parsed()) {
    auto made = duet::daemon::CreateRelayToken(db_path, static_cast<std::int64_t>(std::time(nullptr)));
    if (!made.ok()) {
      std::fprintf(stderr, "duetd: %s\n", made.error().message.c_str());
      return 2;
    }
    std::printf("%s\n", made.value().c_str());
    return 0;
  }

  auto endpoint = duet::net::ParseEndpoint(listen, /*allow_port_zero=*/true);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "duetd: %s\n", endpoint.error().message.c_str());
    return 2;
  }
  duet::daemon::RelayOptions options;
  options.listen = endpoint.value();
  options.db_path = db_path;
  options.key_path = key_path.empty() ? db_path + ".key" : key_path;
  options.synchronous_full = sync_mode == "full";
  options.admission =
      mode == "open" ? duet::daemon::Admission::kOpen : duet::daemon::Admission::kInviteOnly;
  limits.receive_budget_bytes = static_cast<std::size_t>(receive_budget_mib) << 20;
  limits.max_bytes_per_couple = couple_max_mib << 20;
  limits.handshake_timeout = std::chrono::seconds(handshake_timeout);
  limits.frame_timeout = std::chrono::seconds(frame_timeout);
  limits.idle_timeout = std::chrono::seconds(idle_timeout);
  limits.max_stranger_connections = std::min(limits.max_stranger_connections, limits.max_connections / 4);
  options.limits = limits;
  auto relay = duet::daemon::Relay::Create(options);
  if (!relay.ok()) {
    std::fprintf(stderr, "duetd: %s\n", relay.error().message.c_str());
    return 2;
  }
  std::printf("duetd listening on %s relay-key %s\n",
              relay.value()->listening().ToString().c_str(),
              duet::crypto::Base64UrlEncode(relay.value()->public_key()).c_str());
  std::fflush(stdout);
  if (duet::crypto::MemoryLockFailed())
    std::fprintf(stderr, "duetd: warning: the relay key's memory could not be locked (see ulimit -l)\n");
  relay.value()->Run();
  std::fprintf(stderr, "duetd: stopped\n");
  return 0;
}
