// Opens a listening socket on HOST:PORT for the relay and for its metrics.
// HOST may be an IP address or a name (localhost), looked up once here; its
// first IPv4 address is used, else its first address. Errors name the address and what
// the system said ("cannot listen on 127.0.0.1:7707: Address already in use").
#pragma once

#include <asio/ip/tcp.hpp>

#include "base/result.h"
#include "net/net.h"

namespace duet::daemon {

Status Listen(asio::ip::tcp::acceptor& acceptor, const net::Endpoint& where, const char* what);

}  // namespace duet::daemon
