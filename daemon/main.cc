// duetd: the duet relay. Stores and forwards sealed records; reads none.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "crypto/crypto.h"
#include "daemon/relay.h"
#include "proto/protobuf_log.h"

int main(int argc, char** argv) {
  duet::proto::RouteProtobufLog("duetd");
  CLI::App app{"duetd: the duet relay. It stores and forwards sealed records and can read none."};
  std::string listen = "127.0.0.1:7707";
  std::string db_path;
  std::string key_path;
  std::string sync_mode = "full";
  int handshake_timeout = 10;
  int idle_timeout = 300;
  app.add_option("--listen", listen, "address to listen on, HOST:PORT (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--db", db_path, "SQLite file holding the couples' sealed records")->required();
  app.add_option("--key", key_path, "relay key file (default: the --db path + .key)");
  app.add_option("--sync", sync_mode,
                 "full: an acknowledged record survives power loss; normal: faster, may lose "
                 "the last commits on power loss")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
  app.add_option("--handshake-timeout", handshake_timeout,
                 "seconds a new connection has to finish the handshake and authenticate")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_option("--idle-timeout", idle_timeout,
                 "seconds an authenticated connection may stay silent (clients ping)")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "duetd: %s; `duetd --help` lists the options\n", e.what());
    return 2;
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
  options.handshake_timeout = std::chrono::seconds(handshake_timeout);
  options.idle_timeout = std::chrono::seconds(idle_timeout);
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
