// The reference server: SSE, WebSocket and collect endpoints of the wire
// contract over Boost.Beast, for liveai-server and for embedders.
#pragma once

#include <liveai/engine.hpp>
#include <liveai/server/metrics.hpp>
#include <liveai/server/server_config.hpp>

#include <cstdint>
#include <memory>

namespace liveai::server {

// Threading: one io_context per thread (`threads`, default one per core), each
// with its own SO_REUSEPORT acceptor, so the kernel spreads connections and a
// connection never leaves its thread: no locks or strands on the per-token
// path. Only admission counters and metrics are shared (relaxed atomics).
class http_server {
public:
    http_server(server_config config, std::shared_ptr<const engine> engine);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds the listening sockets; throws boost::system::system_error. After
    // it, port() is the bound port (useful with port 0).
    void listen();
    std::uint16_t port() const noexcept;

    // Runs the I/O threads (the calling thread is one of them) until a
    // shutdown has finished. Calls listen() first if needed.
    void run();

    // Thread-safe, idempotent: stop accepting, end open streams with an
    // `error` event `server_shutdown` (retryable), close idle connections.
    // run() returns once every connection is closed, or after
    // shutdown_timeout at the latest.
    void shutdown();

    server::metrics& metrics() noexcept;
    const server_config& config() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace liveai::server
