// Private: what both streaming clients share: backoff and HTTP error answers.
#pragma once

#include <liveai/client/stream_event.hpp>
#include <liveai/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace liveai::client::detail {

// Counts failed attempts in a row and waits before the next one.
class backoff {
public:
    explicit backoff(const reconnect_policy& policy) : policy_(policy) {}

    // Waits before attempt number failures()+1; throws retries_exhausted
    // once max_attempts attempts failed in a row. `server_delay`: the
    // server's retry: or Retry-After, the base of the backoff when known.
    boost::asio::awaitable<void> wait(std::optional<std::chrono::milliseconds> server_delay, std::string_view last_error);
    void succeeded() noexcept { failures_ = 0; }
    unsigned failures() const noexcept { return failures_; }

private:
    const reconnect_policy& policy_;
    unsigned failures_ = 0;
};

// The stream_error for an HTTP error answer with the contract's JSON body.
stream_error http_error(unsigned status, std::string_view body);

// Whether an HTTP error is worth retrying (overloaded, shutting down, 5xx).
bool retryable_status(unsigned status) noexcept;

}  // namespace liveai::client::detail
