// The WebSocket twin of sse_client: sends {"type":"start","resumable":true},
// and after a dropped connection reconnects with backoff and sends
// {"type":"resume","last_event_id":…}, so next() yields every event once.
// cancel() sends {"type":"cancel"}. Same return and error rules as sse_client.
#pragma once

#include <liveai/client/stream_event.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace liveai::client {

class ws_client {
public:
    ws_client(boost::asio::any_io_executor executor, std::string host, std::uint16_t port, reconnect_policy policy = {});
    ~ws_client();
    ws_client(ws_client&&) noexcept;
    ws_client& operator=(ws_client&&) noexcept;

    void start(std::string block, std::string prompt);
    boost::asio::awaitable<std::optional<stream_event>> next();
    // Asks the server to stop the stream; next() then yields its terminal event.
    boost::asio::awaitable<void> cancel();

    const std::string& last_event_id() const noexcept;
    unsigned reconnects() const noexcept;
    void close() noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace liveai::client
