// An event of the wire contract as a client receives it (SSE or WebSocket).
#pragma once

#include <liveai/token.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liveai::client {

// reasoning and tool_call: contract v1.1.
enum class event_type { chunk, complete, error, reasoning, tool_call };

struct stream_event {
    event_type type = event_type::chunk;
    std::string id;  // "<stream_id>.<seq>"
    // chunk, reasoning (text), tool_call (below)
    std::uint64_t index = 0;
    std::string text;
    // complete
    liveai::finish_reason finish = liveai::finish_reason::stop;
    std::optional<liveai::usage> usage;  // null on the wire: the provider reported none
    std::uint64_t chunks = 0;
    // error
    std::string code;
    std::string message;
    bool retryable = false;

    // tool_call: `index` is the call's, `text` a fragment of its arguments;
    // id and name are set in a call's first fragment.
    std::string tool_call_id;
    std::string tool_name;

    bool terminal() const noexcept { return type == event_type::complete || type == event_type::error; }
};

// Parses an event's JSON payload (`type` names it: chunk, complete or error).
// Throws stream_error(invalid_message) when the payload does not follow the contract.
stream_event parse_stream_event(std::string_view type, std::string_view json, std::string_view id);

// How a client reconnects after a dropped connection: exponential backoff
// from the server's `retry:` value (or initial_delay), capped at max_delay,
// with at most max_attempts failed attempts in a row.
struct reconnect_policy {
    std::chrono::milliseconds initial_delay{250};
    std::chrono::milliseconds max_delay{5'000};
    unsigned max_attempts = 10;
    std::chrono::milliseconds connect_timeout{5'000};
};

}  // namespace liveai::client
