// The reference server: SSE, WebSocket and collect endpoints of the wire
// contract over Boost.Beast, for liveai-server and for applications that
// embed it on their own io_contexts, beside endpoints of their own.
#pragma once

#include <liveai/engine.hpp>
#include <liveai/server/metrics.hpp>
#include <liveai/server/server_config.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace liveai::server {

// Threading: one io_context per I/O thread, each with its own SO_REUSEPORT
// acceptor, so the kernel spreads connections and a connection never leaves
// its thread: no locks or strands on the per-token path. Only admission
// counters and metrics are shared (relaxed atomics).
class http_server {
public:
    using request = boost::beast::http::request<boost::beast::http::string_body>;
    using response = boost::beast::http::response<boost::beast::http::string_body>;
    // An application's endpoint. It runs on the connection's I/O thread and
    // may co_await; the server sets Content-Length and keep-alive, and
    // answers 500 internal_error if it throws.
    using route_handler = std::function<boost::asio::awaitable<response>(const request&)>;

    // The server runs its own io_contexts (`threads` of them; default one per
    // core) when run() is called.
    http_server(server_config config, std::shared_ptr<const engine> engine);
    // The server runs on the application's io_contexts, one I/O thread each:
    // every context must be run by exactly one thread (a connection and its
    // streams stay on the context that accepted it). config.threads is
    // ignored. Call start(), then run the contexts; shutdown() never stops
    // them.
    http_server(server_config config, std::shared_ptr<const engine> engine,
                std::vector<boost::asio::io_context*> contexts);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Serves every request whose path starts with `path_prefix` with
    // `handler`, before liveai's own routes. Call before start() or run().
    void add_route(std::string path_prefix, route_handler handler);

    // Binds the listening sockets; throws boost::system::system_error. After
    // it, port() is the bound port (useful with port 0).
    void listen();
    std::uint16_t port() const noexcept;

    // Listens (if needed) and starts accepting on every io_context; returns
    // at once. For the application's own contexts.
    void start();

    // Runs the server's own I/O threads (the calling thread is one of them)
    // until a shutdown has finished. Calls start() first.
    void run();

    // Thread-safe, idempotent: stop accepting, end open streams with an
    // `error` event `server_shutdown` (retryable), close idle connections.
    // run() returns once every connection is closed, or after
    // shutdown_timeout at the latest (connections still open then are
    // closed).
    void shutdown();

    server::metrics& metrics() noexcept;
    const server_config& config() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace liveai::server
