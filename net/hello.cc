#include "net/net.h"

namespace duet::net {

Result<v1::Frame> HelloAndAuthenticate(FramedClient& client, const crypto::SigningKeyPair& device,
                                       std::chrono::milliseconds timeout) {
  v1::Frame hello;
  hello.mutable_client_hello()->set_min_version(kProtocolVersion);
  hello.mutable_client_hello()->set_max_version(kProtocolVersion);
  auto server = client.Call(hello, timeout);
  if (!server.ok()) return server.error();
  if (server->has_error()) return MakeError(ErrorKind::kRefused, DescribeError(server->error()));
  if (!server->has_server_hello())
    return MakeError(ErrorKind::kProtocol, "the relay did not answer the hello with its own");
  v1::Frame auth;
  auth.mutable_authenticate()->set_device_key(device.public_key);
  auth.mutable_authenticate()->set_signature(crypto::Sign(
      device, AuthTranscript(client.channel_hash(), server->server_hello().challenge(),
                             server->server_hello().relay_key(), device.public_key)));
  auto ok = client.Call(auth, timeout);
  if (!ok.ok()) return ok.error();
  if (ok->has_error()) return MakeError(ErrorKind::kRefused, DescribeError(ok->error()));
  if (!ok->has_auth_ok()) return MakeError(ErrorKind::kProtocol, "the relay did not confirm authentication");
  return ok;
}

}  // namespace duet::net
