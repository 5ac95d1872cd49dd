// Bounds and settings of the reference server ([server] in TOML). Every limit
// the server enforces lives here, with a default sane for a small machine.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace liveai::server {

enum class log_level { debug, info, warn, error, off };

struct server_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    unsigned threads = 0;  // 0: one per core
    std::size_t max_connections = 20'000;
    std::size_t max_streams = 12'000;
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_url_bytes = 4 * 1024;
    std::size_t max_body_bytes = 256 * 1024;
    std::size_t max_ws_message_bytes = 256 * 1024;
    std::size_t write_queue_bytes = 64 * 1024;  // per connection, pending event bytes
    // Resume: every stream keeps its events for clients that reconnect with
    // Last-Event-ID. Per stream at most replay_buffer_bytes (older events that
    // were already written are dropped first); an ended stream is kept for
    // replay_retention, and at most max_retained_streams ended streams holding
    // at most max_retained_bytes are kept (the oldest go first).
    std::size_t replay_buffer_bytes = 256 * 1024;
    std::chrono::milliseconds replay_retention{30'000};
    std::size_t max_retained_streams = 4096;
    std::size_t max_retained_bytes = 64 << 20;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds keep_alive_timeout{60'000};
    std::chrono::milliseconds heartbeat_interval{15'000};
    // A WebSocket client silent for half of this gets a ping; one silent for
    // all of it is disconnected.
    std::chrono::milliseconds ws_idle_timeout{300'000};
    std::chrono::milliseconds slow_consumer_timeout{10'000};
    std::chrono::milliseconds shutdown_timeout{5'000};
    std::chrono::milliseconds retry{2'000};  // the SSE `retry:` field
    std::chrono::seconds overload_retry_after{1};
    log_level log = log_level::info;
};

}  // namespace liveai::server
