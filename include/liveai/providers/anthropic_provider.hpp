// Anthropic Messages streaming: POST {base_url}/messages with stream: true,
// x-api-key and anthropic-version. Events: message_start (input usage),
// content_block_start / content_block_delta / content_block_stop,
// message_delta (stop_reason, output usage), message_stop (the end), ping,
// and error (an error inside the 200 stream, e.g. overloaded_error).
#pragma once

#include <liveai/providers/http_stream_provider.hpp>
#include <liveai/request.hpp>

#include <optional>
#include <vector>

namespace boost::json {
class value;
}

namespace liveai {

class anthropic_provider final : public http_stream_provider {
public:
    // The API requires max_tokens; without settings.max_tokens this is sent.
    static constexpr std::uint32_t default_max_tokens = 4096;
    // The API version liveai's reading of the event stream was written against.
    static constexpr std::string_view api_version = "2023-06-01";

    anthropic_provider(upstream_settings settings, std::string model, std::string system_prompt, request req);

protected:
    event_action on_event(std::string_view data, delta_sink& out) override;

private:
    struct tool_block {
        std::int64_t block;  // the content block's index
        bool has_input;      // a non-empty input_json_delta came
    };
    // The tool call (0, 1, ...) a content block index carries, if any.
    std::optional<std::uint32_t> call_of(const boost::json::value* block_index) const noexcept;

    std::optional<std::uint64_t> input_tokens_;
    std::vector<tool_block> calls_;
};

// stop_reason as the contract's finish_reason: end_turn, stop_sequence and
// pause_turn -> stop; max_tokens -> length; refusal -> content_filter;
// tool_use -> tool_calls.
liveai::finish_reason anthropic_finish_reason(std::string_view stop_reason) noexcept;

// An error event's error.type as the contract's error: overloaded_error and
// api_error -> upstream_unavailable, rate_limit_error -> upstream_rate_limited,
// authentication_error and permission_error -> upstream_auth, not_found_error
// -> upstream_not_found, timeout_error -> upstream_timeout, anything else
// (invalid_request_error, request_too_large, billing_error) -> provider_error.
liveai::error anthropic_error(std::string_view type) noexcept;

}  // namespace liveai
