// Private: admission, metrics and the log line of one stream (SSE, WebSocket
// or collect), shared by every transport so they count the same way.
#pragma once

#include <liveai/token_stream.hpp>

#include "worker.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace liveai::server::detail {

// Lets shutdown reach the stream a session is running.
struct stream_control {
    token_stream* active = nullptr;
    bool shutdown = false;

    void request_shutdown() noexcept
    {
        shutdown = true;
        if (active) active->cancel();
    }
};

class stream_accounting {
public:
    // Takes one of max_streams; false (and nothing taken) when at the limit.
    static bool admit(worker& w) noexcept;

    // Owns the admission taken by admit() from here on.
    stream_accounting(worker& w, std::string_view block, std::string_view transport, std::string stream_id);
    ~stream_accounting();
    stream_accounting(const stream_accounting&) = delete;
    stream_accounting& operator=(const stream_accounting&) = delete;

    const std::string& stream_id() const noexcept { return id_; }

    void on_chunk() noexcept;
    // `code` names the error for the error outcome. `provider_cancelled`: the
    // provider was stopped before its end (client gone, cancel, deadline...).
    void finish(stream_outcome outcome, std::string_view code, bool provider_cancelled) noexcept;

private:
    using clock = std::chrono::steady_clock;

    worker& w_;
    std::string block_;
    std::string_view transport_;
    std::string id_;
    clock::time_point start_ = clock::now();
    clock::time_point first_{};
    clock::time_point last_{};
    std::uint64_t chunks_ = 0;
    bool finished_ = false;
};

// Whether a stream that ended this way means its provider was stopped early.
bool provider_was_cancelled(const token_stream& ts) noexcept;

}  // namespace liveai::server::detail
