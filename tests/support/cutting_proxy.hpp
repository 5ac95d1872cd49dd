// Test support: a TCP proxy on 127.0.0.1 in front of a server, on its own
// thread, that can cut every connection through it at once — a dropped
// network path, as a client of a real deployment would see it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace liveai::test {

class cutting_proxy {
public:
    explicit cutting_proxy(std::uint16_t target_port);
    ~cutting_proxy();

    std::uint16_t port() const noexcept { return port_; }
    // Resets every open connection (both sides see a broken connection).
    void cut_all();
    unsigned connections() const noexcept { return connections_.load(); }

    struct state;

private:
    std::shared_ptr<state> state_;
    std::thread thread_;
    std::uint16_t port_ = 0;
    std::atomic<unsigned> connections_{0};
};

}  // namespace liveai::test
