// Bounds and settings of the reference server ([server] in TOML). Every limit
// the server enforces lives here, with a default sane for a small machine.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <array>
#include <string>
#include <vector>

namespace liveai::server {

enum class log_level { debug, info, warn, error, off };

using key_digest = std::array<unsigned char, 32>;  // SHA-256 of an API key

// One API key ([[auth.keys]]): only its digest is kept, never the key.
struct api_key {
    std::string name;  // in log lines and metric labels; [a-z0-9][a-z0-9_-]{0,63}
    key_digest sha256{};
    std::vector<std::string> blocks;  // the blocks it may use; "*" is every block
    std::size_t max_streams = 16;     // open at once (streams and collects)
    std::uint32_t requests_per_minute = 600;  // 0: no rate limit
};

// [auth]: with keys set, every endpoint but /healthz and the browser assets
// needs `Authorization: Bearer <key>`.
struct auth_config {
    std::vector<api_key> keys;
    // /metrics answers only this key when set (any key of `keys` otherwise).
    bool has_metrics_key = false;
    key_digest metrics_sha256{};

    bool enabled() const noexcept { return !keys.empty(); }
};

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
    auth_config auth;
    // Browser origins (scheme://host[:port]) allowed to call the API
    // cross-origin; "*" allows any. Empty: no CORS headers at all.
    std::vector<std::string> cors_allowed_origins;
    // Origins a WebSocket upgrade may come from; empty: the same origin only
    // (the Host the request came to). An upgrade without Origin (not a
    // browser) is allowed.
    std::vector<std::string> ws_allowed_origins;
};

}  // namespace liveai::server
