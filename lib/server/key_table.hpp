// Private: the API keys of [auth] at run time, shared by every I/O thread.
//
// A presented key is hashed once (SHA-256) and compared with every
// configured digest in constant time, so neither a key nor its position in
// the table shows in the time an answer takes. Each key counts its open
// streams (an atomic, taken with the server's own admission) and its
// requests per minute (a token bucket refilled continuously; a mutex per
// key, taken once per request, never per token).
#pragma once

#include <liveai/server/server_config.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace liveai::server::detail {

class key_state {
public:
    explicit key_state(const api_key& k) noexcept;

    const api_key& key() const noexcept { return *key_; }
    std::string_view name() const noexcept { return key_->name; }
    bool may_use(std::string_view block) const noexcept;

    // 0: the request may go on; otherwise the seconds until the bucket
    // holds a request again (Retry-After).
    std::uint32_t take_request(std::chrono::steady_clock::time_point now) noexcept;

    // One of the key's max_streams, or false at its limit.
    bool take_stream() noexcept;
    void give_back_stream() noexcept { streams_.fetch_sub(1, std::memory_order_relaxed); }

private:
    const api_key* key_;
    std::atomic<std::int64_t> streams_{0};
    std::mutex bucket_mutex_;
    double tokens_;
    std::chrono::steady_clock::time_point refilled_;
};

class key_table {
public:
    explicit key_table(const auth_config& auth);

    bool enabled() const noexcept { return !keys_.empty(); }
    // The key whose digest is the presented key's, or null.
    key_state* find(std::string_view presented) const noexcept;
    // Whether `presented` opens /metrics.
    bool opens_metrics(std::string_view presented) const noexcept;
    // The index of a key in the config (a metric label), or -1.
    std::size_t index_of(const key_state* k) const noexcept;
    std::size_t size() const noexcept { return keys_.size(); }

private:
    const auth_config& auth_;
    std::vector<std::unique_ptr<key_state>> keys_;
};

// Where a request carries its key. `Authorization: Bearer <key>` (the
// scheme in any case); empty when absent or of another scheme.
std::string_view bearer_token(std::string_view authorization) noexcept;
// A browser's WebSocket cannot send headers: it offers the subprotocols
// "liveai" and "liveai.bearer.<key>"; this finds the key in the
// Sec-WebSocket-Protocol list, and whether "liveai" was offered (the
// protocol the server then answers with, RFC 6455 §4.2.2).
struct ws_protocols {
    std::string_view key;
    bool liveai = false;
};
ws_protocols read_ws_protocols(std::string_view header) noexcept;

}  // namespace liveai::server::detail
