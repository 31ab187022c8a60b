#include "daemon/metrics_server.h"

#include <array>
#include <map>

#include <asio.hpp>

#include "daemon/listener.h"

namespace duet::daemon {
namespace {

constexpr std::size_t kMaxRequestBytes = 4096;
constexpr std::size_t kMaxExchanges = 16;
constexpr auto kExchangeDeadline = std::chrono::seconds(5);

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

}  // namespace

HttpRequest ParseHttpRequest(std::string_view bytes) {
  HttpRequest request;
  const auto head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    request.state = bytes.size() >= kMaxRequestBytes ? HttpRequest::State::kBad
                                                      : HttpRequest::State::kNeedMore;
    return request;
  }
  const std::string_view line = bytes.substr(0, bytes.find("\r\n"));
  const auto first_space = line.find(' ');
  const auto second_space = line.find(' ', first_space + 1);
  request.state = HttpRequest::State::kBad;
  if (first_space == std::string_view::npos || second_space == std::string_view::npos) return request;
  const std::string_view version = line.substr(second_space + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return request;
  std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  if (target.empty() || target[0] != '/') return request;
  target = target.substr(0, target.find('?'));
  request.method = std::string(line.substr(0, first_space));
  request.path = std::string(target);
  request.state = HttpRequest::State::kGood;
  return request;
}

Status ProbeHealth(const net::Endpoint& metrics, std::chrono::milliseconds timeout) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::ip::tcp::resolver resolver(io);
  std::string request = "GET /healthz HTTP/1.1\r\nHost: duetd\r\nConnection: close\r\n\r\n";
  std::string response;
  std::array<char, 1024> chunk{};
  asio::error_code failure;
  std::function<void()> read_more = [&] {
    socket.async_read_some(asio::buffer(chunk), [&](asio::error_code ec, std::size_t n) {
      response.append(chunk.data(), n);
      if (ec) {
        if (ec != asio::error::eof) failure = ec;
        return;
      }
      if (response.size() < kMaxRequestBytes) read_more();
    });
  };
  resolver.async_resolve(metrics.host, std::to_string(metrics.port),
                         [&](asio::error_code ec, asio::ip::tcp::resolver::results_type found) {
                           if (ec) return void(failure = ec);
                           asio::async_connect(socket, found, [&](asio::error_code ec2, const auto&) {
                             if (ec2) return void(failure = ec2);
                             asio::async_write(socket, asio::buffer(request),
                                               [&](asio::error_code ec3, std::size_t) {
                                                 if (ec3) return void(failure = ec3);
                                                 read_more();
                                               });
                           });
                         });
  io.run_for(timeout);
  const std::string where = "http://" + metrics.ToString() + "/healthz";
  if (!io.stopped())
    return MakeError(ErrorKind::kNetwork, where + " did not answer within " +
                                              std::to_string(timeout.count()) + " ms");
  if (failure) return MakeError(ErrorKind::kNetwork, "cannot reach " + where + ": " + failure.message());
  const auto line_end = response.find("\r\n");
  const std::string status_line = response.substr(0, line_end);
  const auto body_start = response.find("\r\n\r\n");
  std::string body = body_start == std::string::npos ? "" : response.substr(body_start + 4);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  if (status_line.rfind("HTTP/1.1 200 ", 0) == 0) return Status::Ok();
  return MakeError(ErrorKind::kRefused,
                   where + " answered \"" + status_line + "\"" + (body.empty() ? "" : ": " + body));
}

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
  struct Exchange : std::enable_shared_from_this<Exchange> {
    Exchange(asio::ip::tcp::socket s, Impl& owner, std::uint64_t number)
        : socket(std::move(s)), timer(socket.get_executor()), server(owner.weak_from_this()),
          serial(number) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    std::weak_ptr<Impl> server;
    const std::uint64_t serial;
    bool read_whole = false;  // its request is in; it waits on the route or writes
    std::array<char, 1024> chunk{};
    std::string received;
    std::string answer;
    bool head_only = false;
    bool answered = false;

    void Begin() {
      timer.expires_after(kExchangeDeadline);
      timer.async_wait([self = shared_from_this()](asio::error_code ec) {
        if (!ec) self->End();
      });
      Read();
    }
    void Read() {
      socket.async_read_some(asio::buffer(chunk), [self = shared_from_this()](asio::error_code ec,
                                                                              std::size_t n) {
        if (ec) return self->End();
        self->received.append(self->chunk.data(), n);
        const HttpRequest request = ParseHttpRequest(self->received);
        if (request.state == HttpRequest::State::kNeedMore) return self->Read();
        if (request.state == HttpRequest::State::kBad)
          return self->Send(400, "text/plain", "bad request\n");
        if (request.method != "GET" && request.method != "HEAD")
          return self->Send(405, "text/plain", "only GET and HEAD\n");
        self->head_only = request.method == "HEAD";
        self->read_whole = true;
        auto server = self->server.lock();
        if (!server) return self->End();
        server->route(request.path, [self](int status, std::string type, std::string body) {
          self->Send(status, std::move(type), std::move(body));
        });
      });
    }
    void Send(int status, std::string type, std::string body) {
      if (answered || !socket.is_open()) return;
      answered = true;
      answer = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
               "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
      if (!head_only) answer += body;
      asio::async_write(socket, asio::buffer(answer),
                        [self = shared_from_this()](asio::error_code, std::size_t) { self->End(); });
    }
    void End() {
      asio::error_code ignored;
      timer.cancel();
      socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      if (auto owner = server.lock()) owner->exchanges.erase(serial);
    }
  };

  Impl(asio::io_context& io, Route r) : acceptor(io), backoff(io), route(std::move(r)) {}

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](asio::error_code ec, asio::ip::tcp::socket s) {
      if (!self->acceptor.is_open()) return;
      if (ec) {
        // Out of file descriptors: accepting again at once would spin.
        self->backoff.expires_after(std::chrono::milliseconds(100));
        self->backoff.async_wait([self](asio::error_code e) {
          if (!e && self->acceptor.is_open()) self->Accept();
        });
        return;
      }
      if (self->exchanges.size() >= kMaxExchanges) self->EndOldestReader();
      if (self->exchanges.size() >= kMaxExchanges) {
        asio::error_code ignored;
        s.close(ignored);  // every slot is answering a request: come back later
      } else {
        auto exchange = std::make_shared<Exchange>(std::move(s), *self, ++self->serials);
        self->exchanges.emplace(exchange->serial, exchange.get());
        exchange->Begin();
      }
      self->Accept();
    });
  }

  // Idle connections must not keep a health check out: the oldest one that
  // has not yet sent a whole request makes room for a newcomer.
  void EndOldestReader() {
    for (const auto& [serial, exchange] : exchanges)
      if (!exchange->read_whole) return exchange->End();
  }

  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer backoff;
  Route route;
  std::uint64_t serials = 0;
  // Open exchanges, oldest first; each owns itself through its handlers.
  std::map<std::uint64_t, Exchange*> exchanges;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsServer::~MetricsServer() { Stop(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::Create(asio::io_context& io,
                                                             const net::Endpoint& where, Route route) {
  auto impl = std::make_unique<Impl>(io, std::move(route));
  DUET_RETURN_IF_ERROR(Listen(impl->acceptor, where, "--metrics"));
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

net::Endpoint MetricsServer::listening() const {
  const auto endpoint = impl_->acceptor.local_endpoint();
  return net::Endpoint{endpoint.address().to_string(), endpoint.port()};
}

void MetricsServer::Start() { impl_->Accept(); }

void MetricsServer::Stop() {
  asio::error_code ignored;
  impl_->acceptor.close(ignored);
  // End() erases from the set: copy first.
  impl_->backoff.cancel();
  std::vector<Impl::Exchange*> open;
  for (const auto& [serial, exchange] : impl_->exchanges) open.push_back(exchange);
  for (auto* exchange : open) exchange->End();
}

}  // namespace duet::daemon

