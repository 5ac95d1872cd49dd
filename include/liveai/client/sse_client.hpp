// A streaming client of liveai-server's SSE endpoint that survives dropped
// connections: it reconnects with backoff and resumes with Last-Event-ID, so
// next() yields every event of the stream once, in order.
//
//   liveai::client::sse_client c(executor, "127.0.0.1", 8080);
//   c.start("chat", "hello");
//   while (auto ev = co_await c.next()) { ... }
//
// next() returns nullopt after the terminal event, or when a reconnect is
// answered 204 (the stream ended and everything was delivered). It throws
// stream_error for what a retry cannot fix: an HTTP error answer (its code,
// e.g. unknown_block or unknown_stream), retries_exhausted, or a malformed
// stream. Cancelling next() (an Asio cancellation slot) closes the connection.
#pragma once

#include <liveai/client/stream_event.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace liveai::client {

class sse_client {
public:
    sse_client(boost::asio::any_io_executor executor, std::string host, std::uint16_t port, reconnect_policy policy = {});
    ~sse_client();
    sse_client(sse_client&&) noexcept;
    sse_client& operator=(sse_client&&) noexcept;

    // Begins a new stream of `block` for `prompt` (the previous one, if any, is dropped).
    void start(std::string block, std::string prompt);
    // Continues a stream from an id it sent (e.g. saved by another process).
    void resume(std::string block, std::string last_event_id);

    boost::asio::awaitable<std::optional<stream_event>> next();

    // "<stream_id>.<seq>" of the last event received ("" before any).
    const std::string& last_event_id() const noexcept;
    // Successful reconnects of the current stream.
    unsigned reconnects() const noexcept;
    // Closes the connection (the server applies the block's on_disconnect policy).
    void close() noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace liveai::client
