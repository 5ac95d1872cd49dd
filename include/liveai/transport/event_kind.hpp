// The kinds of event a stream carries, whatever transport frames them.
#pragma once

#include <cstdint>
#include <string_view>

namespace liveai::transport {

// chunk, complete, error: contract v1; reasoning, tool_call: v1.1.
enum class event_kind : std::uint8_t { chunk, complete, error, reasoning, tool_call };

// The contract's name: SSE `event:` field, WebSocket `type`.
constexpr std::string_view event_name(event_kind k) noexcept
{
    constexpr std::string_view names[] = {"chunk", "complete", "error", "reasoning", "tool_call"};
    return names[static_cast<int>(k)];
}

// Whether the event ends the stream (exactly one does, and nothing follows).
constexpr bool is_terminal(event_kind k) noexcept { return k == event_kind::complete || k == event_kind::error; }

}  // namespace liveai::transport
