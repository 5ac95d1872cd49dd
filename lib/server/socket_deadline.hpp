// Private: a deadline for one connection's socket operations.
//
// When it passes, every operation pending on the socket is cancelled (it
// completes with operation_aborted, and expired() tells why). This is what
// beast::tcp_stream's timeouts do, without its per-connection heap object
// of two timers and operation state (about half a KiB a connection, kept
// for the whole life of a stream).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>

namespace liveai::server::detail {

class socket_deadline {
public:
    explicit socket_deadline(boost::asio::ip::tcp::socket& socket) : socket_(socket), timer_(socket.get_executor()) {}

    void expires_after(std::chrono::steady_clock::duration d)
    {
        expired_ = false;
        timer_.expires_after(d);
        timer_.async_wait([this, armed = ++generation_](const boost::system::error_code& ec) {
            // An expiry already queued when the deadline moved on (a
            // newer expires_after, or expires_never) must not cancel the
            // operations of the next phase.
            if (ec || armed != generation_) return;
            expired_ = true;
            boost::system::error_code ignored;
            socket_.cancel(ignored);
        });
    }

    void expires_never() noexcept
    {
        ++generation_;
        timer_.cancel();
    }

    bool expired() const noexcept { return expired_; }

    // Call before this object goes: a handler the timer queued already has
    // run when it returns (handlers of one io_context thread run in order),
    // so none refers to a destroyed deadline.
    boost::asio::awaitable<void> settle()
    {
        expires_never();
        co_await boost::asio::post(timer_.get_executor(), boost::asio::use_awaitable);
    }

private:
    boost::asio::ip::tcp::socket& socket_;
    boost::asio::steady_timer timer_;
    std::uint32_t generation_ = 0;
    bool expired_ = false;
};

}  // namespace liveai::server::detail
