#include "daemon/listener.h"

#include <asio.hpp>

namespace duet::daemon {

Status Listen(asio::ip::tcp::acceptor& acceptor, const net::Endpoint& where, const char* what) {
  asio::error_code ec;
  asio::ip::tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(where.host, ec);
  if (!ec) {
    endpoint = asio::ip::tcp::endpoint(address, where.port);
  } else {
    asio::ip::tcp::resolver resolver(acceptor.get_executor());
    const auto found = resolver.resolve(where.host, std::to_string(where.port),
                                        asio::ip::resolver_base::passive |
                                            asio::ip::resolver_base::numeric_service,
                                        ec);
    if (ec || found.empty())
      return MakeError(ErrorKind::kInvalidInput,
                       std::string(what) + " '" + where.host + "' is neither an IP address nor a name this machine can look up" +
                           (ec ? " (" + ec.message() + ")" : std::string()));
    // A name such as localhost may stand for ::1 and 127.0.0.1: clients
    // given the name's IPv4 address are the likelier, so IPv4 comes first.
    endpoint = found.begin()->endpoint();
    for (const auto& entry : found)
      if (entry.endpoint().address().is_v4()) {
        endpoint = entry.endpoint();
        break;
      }
  }
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor.close(ignored);
    return MakeError(ErrorKind::kNetwork,
                     std::string(what) + ": cannot listen on " + where.ToString() + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace duet::daemon
