// Test support: a TCP listener on 127.0.0.1 that stalls a client in one
// phase: the connect itself (the accept queue is full, so the SYN is dropped
// and the kernel keeps retrying), or everything after it (accepted, what the
// client sends read, nothing ever sent back: a TLS handshake never completes).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace liveai::test {

class stalling_listener {
public:
    enum class mode { connect_never_completes, accept_and_stay_silent };
    explicit stalling_listener(mode m);
    ~stalling_listener();

    std::uint16_t port() const noexcept { return port_; }
    int accepted() const;
    // When a client closed an accepted connection (silent mode).
    std::optional<std::chrono::steady_clock::time_point> last_client_close() const;
    bool wait_for_client_close(std::chrono::milliseconds timeout) const;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
    std::thread thread_;
    std::uint16_t port_ = 0;
};

}  // namespace liveai::test
