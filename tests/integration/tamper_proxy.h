// A man in the middle for tests: a loopback TCP proxy in front of the relay
// that forwards both directions and can flip, drop or repeat bytes of the
// stream at chosen offsets. Runs its own thread; stops when destroyed.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <asio.hpp>

namespace duet::testing {

class TamperProxy {
 public:
  enum class Direction { kToRelay, kToClient };
  // Called with each chunk and the stream offset of its first byte; may
  // change, shorten or lengthen the chunk.
  using Tamper = std::function<void(Direction, std::size_t offset, std::string& chunk)>;

  explicit TamperProxy(std::uint16_t relay_port)
      : relay_port_(relay_port), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TamperProxy() {
    io_.stop();
    thread_.join();
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  // Applies to connections accepted from now on.
  void set_tamper(Tamper tamper) {
    std::lock_guard lock(mutex_);
    tamper_ = std::move(tamper);
  }

 private:
  struct Link : std::enable_shared_from_this<Link> {
    Link(asio::io_context& io, Tamper t) : client(io), relay(io), tamper(std::move(t)) {}
    asio::ip::tcp::socket client, relay;
    Tamper tamper;
    std::array<char, 4096> up{}, down{};
    std::size_t up_offset = 0, down_offset = 0;

    void Pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to, std::array<char, 4096>& buf,
              std::size_t& offset, Direction direction) {
      from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf, &offset,
                                               direction](asio::error_code ec, std::size_t n) {
        if (ec) {
          asio::error_code ignored;
          to.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
          return;
        }
        auto chunk = std::make_shared<std::string>(buf.data(), n);
        if (self->tamper) self->tamper(direction, offset, *chunk);
        offset += n;
        asio::async_write(to, asio::buffer(*chunk),
                          [self, &from, &to, &buf, &offset, direction, chunk](asio::error_code e,
                                                                             std::size_t) {
                            if (!e) self->Pump(from, to, buf, offset, direction);
                          });
      });
    }
  };

  void Accept() {
    auto link = std::make_shared<Link>(io_, nullptr);
    acceptor_.async_accept(link->client, [this, link](asio::error_code ec) {
      if (ec) return;
      {
        std::lock_guard lock(mutex_);
        link->tamper = tamper_;
      }
      link->relay.async_connect({asio::ip::make_address("127.0.0.1"), relay_port_},
                                [link](asio::error_code e) {
                                  if (e) return;
                                  link->Pump(link->client, link->relay, link->up, link->up_offset,
                                             Direction::kToRelay);
                                  link->Pump(link->relay, link->client, link->down,
                                             link->down_offset, Direction::kToClient);
                                });
      Accept();
    });
  }

  std::uint16_t relay_port_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::mutex mutex_;
  Tamper tamper_;
  std::thread thread_;
};

}  // namespace duet::testing
