// The liveai error category: one enum whose values map one-to-one to the
// wire contract's snake_case `code` strings (see contracts/stream-schema.yaml).
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace liveai {

enum class error {
    // Bad input, before a stream starts.
    invalid_prompt = 1,
    invalid_json,
    invalid_request,
    unknown_block,
    not_found,
    method_not_allowed,
    streaming_disabled,
    prompt_too_large,
    body_too_large,
    uri_too_long,
    headers_too_large,
    overloaded,
    // While streaming.
    provider_error,
    first_token_timeout,
    idle_timeout,
    deadline_exceeded,
    slow_consumer,
    server_shutdown,
    stream_busy,
    invalid_message,
    unsupported_frame,
    // Resume (Last-Event-ID) and the clients that use it.
    unknown_stream,
    stream_expired,
    connection_lost,
    retries_exhausted,
    // Real providers' upstream failures.
    upstream_auth,
    upstream_not_found,
    upstream_rate_limited,
    upstream_unavailable,
    upstream_protocol,
    upstream_timeout,
    upstream_tls,
    // API keys ([auth]): none or a wrong one, a block outside the key's
    // list, the key's own limits.
    unauthorized,
    forbidden,
    rate_limited,
    // Anything else: a bug or an unexpected exception at a session's edge.
    internal_error,
};

const boost::system::error_category& liveai_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept
{
    return {static_cast<int>(e), liveai_category()};
}

// The contract's snake_case code, e.g. "first_token_timeout".
std::string_view to_code(error e) noexcept;

// The contract code of any error_code: liveai codes map to their own name,
// operation_aborted to "cancelled", everything else to "internal_error".
std::string_view to_code(const boost::system::error_code& ec) noexcept;

// Parses a contract code back to the enum (used by config: mock fail_code).
std::optional<error> error_from_code(std::string_view code) noexcept;

// The HTTP status of an error answered before a stream starts (400, 404, 503…).
unsigned http_status(error e) noexcept;

// Whether a client may retry the same request and expect it to succeed.
bool default_retryable(error e) noexcept;

// The exception a token_stream throws when it fails: a system_error in the
// liveai category that also carries the contract's `retryable` flag and a
// message meant for people (without the category suffix that what() adds).
class stream_error : public boost::system::system_error {
public:
    stream_error(error e, std::string message);
    stream_error(error e, std::string message, bool retryable);

    bool retryable() const noexcept { return retryable_; }
    const std::string& message() const noexcept { return message_; }

private:
    std::string message_;
    bool retryable_;
};

}  // namespace liveai

namespace boost::system {
template <>
struct is_error_code_enum<liveai::error> : std::true_type {};
}  // namespace boost::system
