// A small HTTP/1.1 server for the relay's /metrics and /healthz, on an
// address of its own (--metrics) so it can stay on loopback or a private
// network while the relay's port faces the internet. It answers GET and HEAD
// only, reads at most 4 KiB of request within 5 s, holds at most 16
// exchanges at once (a newcomer closes the oldest that has not sent a whole
// request yet, or is closed itself), and closes each connection after its
// answer. What each path answers is the route's business; the
// route may answer later (after the store replied). Network thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include "base/result.h"
#include "net/net.h"

namespace duet::daemon {

// The parser of a request's head; no I/O.
struct HttpRequest {
  enum class State { kNeedMore, kBad, kGood };
  State state = State::kNeedMore;
  std::string method;
  std::string path;  // without the query
};
HttpRequest ParseHttpRequest(std::string_view bytes);

// GET /healthz from a relay's metrics address, as a health check runs it
// (`duetd health`, Docker's HEALTHCHECK): ok when it answered 200 within
// `timeout`, else an error saying what it answered or why it could not.
Status ProbeHealth(const net::Endpoint& metrics, std::chrono::milliseconds timeout);

class MetricsServer {
 public:
  using Respond = std::function<void(int status, std::string content_type, std::string body)>;
  using Route = std::function<void(const std::string& path, Respond respond)>;

  // Binds `where` (a name is looked up); the route runs for each good GET.
  static Result<std::unique_ptr<MetricsServer>> Create(asio::io_context& io,
                                                       const net::Endpoint& where, Route route);
  ~MetricsServer();

  net::Endpoint listening() const;
  void Start();
  void Stop();

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace duet::daemon
