#include <liveai/error.hpp>

#include <boost/asio/error.hpp>

#include <array>

namespace liveai {
namespace {

struct code_entry {
    error value;
    std::string_view code;
    std::string_view message;
    bool retryable;
    unsigned http_status;  // when the error is answered before a stream starts
};

// The single table of codes: contract name, human message, retryable default,
// HTTP status.
constexpr std::array code_table{
    code_entry{error::invalid_prompt, "invalid_prompt", "the prompt is missing, empty or not valid UTF-8", false, 400},
    code_entry{error::invalid_json, "invalid_json", "the request body is not valid JSON", false, 400},
    code_entry{error::invalid_request, "invalid_request", "the request is malformed", false, 400},
    code_entry{error::unknown_block, "unknown_block", "no block with that name is configured", false, 404},
    code_entry{error::not_found, "not_found", "no such endpoint", false, 404},
    code_entry{error::method_not_allowed, "method_not_allowed", "the endpoint does not accept that method", false, 405},
    code_entry{error::streaming_disabled, "streaming_disabled", "the block has not opted in to streaming", false, 409},
    code_entry{error::prompt_too_large, "prompt_too_large", "the prompt is larger than the configured limit", false, 413},
    code_entry{error::body_too_large, "body_too_large", "the request body is larger than the configured limit", false, 413},
    code_entry{error::uri_too_long, "uri_too_long", "the request target is longer than the configured limit", false, 414},
    code_entry{error::headers_too_large, "headers_too_large", "the request headers are larger than the configured limit", false, 431},
    code_entry{error::overloaded, "overloaded", "the server is at its configured capacity", true, 503},
    code_entry{error::provider_error, "provider_error", "the provider failed", false, 502},
    code_entry{error::first_token_timeout, "first_token_timeout", "the provider sent no token within the first-token deadline", true, 504},
    code_entry{error::idle_timeout, "idle_timeout", "the provider was silent between two tokens for longer than the idle deadline", true, 504},
    code_entry{error::deadline_exceeded, "deadline_exceeded", "the stream ran longer than its total deadline", false, 504},
    code_entry{error::slow_consumer, "slow_consumer", "the client read too slowly and its write queue stayed full", false, 500},
    code_entry{error::server_shutdown, "server_shutdown", "the server is shutting down", true, 503},
    code_entry{error::stream_busy, "stream_busy", "a stream is already running on this connection", false, 500},
    code_entry{error::invalid_message, "invalid_message", "the message is not a valid command", false, 400},
    code_entry{error::unsupported_frame, "unsupported_frame", "binary frames are not supported", false, 500},
    code_entry{error::unknown_stream, "unknown_stream", "no stream with that id is known (it never existed or ended too long ago)", false, 404},
    code_entry{error::stream_expired, "stream_expired", "the events after that id are no longer in the stream's replay buffer", false, 410},
    code_entry{error::connection_lost, "connection_lost", "the connection to the server was lost", true, 500},
    code_entry{error::retries_exhausted, "retries_exhausted", "the client gave up reconnecting after its retry budget", false, 500},
    code_entry{error::upstream_auth, "upstream_auth", "the upstream provider rejected the credentials", false, 502},
    code_entry{error::upstream_not_found, "upstream_not_found", "the upstream provider does not know the model or endpoint", false, 502},
    code_entry{error::upstream_rate_limited, "upstream_rate_limited", "the upstream provider is rate limiting", true, 429},
    code_entry{error::upstream_unavailable, "upstream_unavailable", "the upstream provider is unavailable", true, 502},
    code_entry{error::upstream_protocol, "upstream_protocol", "the upstream provider sent a malformed stream", false, 502},
    code_entry{error::upstream_timeout, "upstream_timeout", "the upstream provider did not answer in time", true, 504},
    code_entry{error::upstream_tls, "upstream_tls", "the upstream's TLS certificate failed verification", false, 502},
    code_entry{error::unauthorized, "unauthorized", "a valid API key is required (Authorization: Bearer <key>)", false, 401},
    code_entry{error::forbidden, "forbidden", "the API key may not use this block or endpoint", false, 403},
    code_entry{error::rate_limited, "rate_limited", "the API key is at its configured limit", true, 429},
    code_entry{error::internal_error, "internal_error", "internal server error", false, 500},
};

constexpr const code_entry* find(error e) noexcept
{
    for (const auto& entry : code_table)
        if (entry.value == e) return &entry;
    return nullptr;
}

static_assert(code_table.size() == static_cast<std::size_t>(error::internal_error),
              "every liveai::error value needs one row in code_table");

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "liveai"; }

    std::string message(int value) const override
    {
        if (const auto* entry = find(static_cast<error>(value))) return std::string(entry->message);
        return "unknown liveai error";
    }
};

}  // namespace

const boost::system::error_category& liveai_category() noexcept
{
    static const category instance;
    return instance;
}

std::string_view to_code(error e) noexcept
{
    const auto* entry = find(e);
    return entry ? entry->code : std::string_view("internal_error");
}

std::string_view to_code(const boost::system::error_code& ec) noexcept
{
    if (ec.category() == liveai_category()) return to_code(static_cast<error>(ec.value()));
    if (ec == boost::asio::error::operation_aborted) return "cancelled";
    return "internal_error";
}

std::optional<error> error_from_code(std::string_view code) noexcept
{
    for (const auto& entry : code_table)
        if (entry.code == code) return entry.value;
    return std::nullopt;
}

unsigned http_status(error e) noexcept
{
    const auto* entry = find(e);
    return entry ? entry->http_status : 500;
}

bool default_retryable(error e) noexcept
{
    const auto* entry = find(e);
    return entry && entry->retryable;
}

stream_error::stream_error(error e, std::string message)
    : stream_error(e, std::move(message), default_retryable(e))
{
}

stream_error::stream_error(error e, std::string message, bool retryable)
    : boost::system::system_error(make_error_code(e), message), message_(std::move(message)), retryable_(retryable)
{
}

}  // namespace liveai
