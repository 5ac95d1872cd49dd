// Sans-I/O formatting of the contract's events, for SSE and WebSocket.
// Appends to a caller-owned buffer, so a session reuses one buffer for a whole
// stream and formatting a token allocates nothing once the buffer has grown.
#pragma once

#include <liveai/token.hpp>

#include <chrono>
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
// `usage` is written as null when the provider reported none.
void append_complete_json(std::string& out, finish_reason reason, const std::optional<usage>& u, std::uint64_t chunks,
                          bool with_type);
// The usage object, or null.
void append_usage_json(std::string& out, const std::optional<usage>& u);
void append_error_json(std::string& out, std::string_view code, std::string_view message, bool retryable, bool with_type);

// SSE framing: "id: <stream_id>.<seq>\nevent: <name>\ndata: <json>\n\n".
class sse_event_writer {
public:
    explicit sse_event_writer(std::string stream_id) : stream_id_(std::move(stream_id)) {}

    const std::string& stream_id() const noexcept { return stream_id_; }
    std::uint64_t last_seq() const noexcept { return seq_; }

    static void retry(std::string& out, std::chrono::milliseconds interval);
    static void ping(std::string& out);

    void chunk(std::string& out, std::uint64_t index, std::string_view text);
    void complete(std::string& out, finish_reason reason, const std::optional<usage>& u, std::uint64_t chunks);
    void error(std::string& out, std::string_view code, std::string_view message, bool retryable);

private:
    void head(std::string& out, std::string_view event);

    std::string stream_id_;
    std::uint64_t seq_ = 0;
};

}  // namespace liveai::transport
