// Sans-I/O JSON payloads of the contract's events, shared by every transport
// (sse_event_writer.hpp and ws_message_writer.hpp frame them).
// Appends to a caller-owned buffer, so a session reuses one buffer for a whole
// stream and formatting a token allocates nothing once the buffer has grown.
#pragma once

#include <liveai/token.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liveai::transport {

// A JSON string literal, quotes included: escapes `"`, `\` and control
// characters; valid UTF-8 passes through unchanged.
void append_json_string(std::string& out, std::string_view text);

// JSON payloads shared by both transports. With `type` set, a leading
// "type" member is added (the WebSocket form).
void append_chunk_json(std::string& out, std::uint64_t index, std::string_view text, bool with_type);
// v1.1: a reasoning delta ({"index","text"}; index counts reasoning events
// from 0), and a tool-call fragment ({"index","id","name","arguments"}; index
// is the call's; id and name only when set, i.e. in a call's first fragment).
void append_reasoning_json(std::string& out, std::uint64_t index, std::string_view text, bool with_type);
void append_tool_call_json(std::string& out, std::uint64_t index, std::string_view id, std::string_view name,
                           std::string_view arguments, bool with_type);
// `usage` is written as null when the provider reported none.
// `provider` and `model` (v1.1, a composed block's serving attempt) are
// written only when provider is set.
void append_complete_json(std::string& out, finish_reason reason, const std::optional<usage>& u, std::uint64_t chunks,
                          bool with_type, std::string_view provider = {}, std::string_view model = {});
// `,"provider":…,"model":…`, or nothing when provider is empty.
void append_served_by(std::string& out, std::string_view provider, std::string_view model);
// The usage object, or null.
void append_usage_json(std::string& out, const std::optional<usage>& u);
void append_error_json(std::string& out, std::string_view code, std::string_view message, bool retryable, bool with_type);

}  // namespace liveai::transport
