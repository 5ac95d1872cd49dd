// Private: the OpenAI chat-completions wire format, written (sans-I/O).
//
// A stream's events are framed whole ("data: {...}\n\n") when the producer
// makes them, so the SSE writer sends the log's payloads as they are. Every
// chunk of a stream starts with the same bytes (id, object, created, model,
// the choice's index), formatted once per stream.
#pragma once

#include <liveai/request.hpp>
#include <liveai/token.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace liveai::server::detail {

class openai_chunk_writer {
public:
    openai_chunk_writer(std::string_view stream_id, std::string_view model, std::int64_t created, bool include_usage);

    void text(std::string& out, std::string_view text);
    void reasoning(std::string& out, std::string_view text);
    // One fragment of call `index`; its first carries id and name.
    void tool_call(std::string& out, std::uint64_t index, std::string_view id, std::string_view name, std::string_view arguments);
    // The finish_reason chunk, the usage chunk when asked for, then [DONE].
    // A cancelled stream is no answer: it ends with an error instead.
    void finish(std::string& out, finish_reason reason, const std::optional<usage>& u);

private:
    void open_delta(std::string& out);
    void close_delta(std::string& out, std::string_view finish = {});

    std::string prefix_;  // data: {"id":…,"object":…,"created":…,"model":…,"choices":[{"index":0,"delta":{
    std::string usage_prefix_;
    bool role_sent_ = false;
    bool include_usage_;
};

// An error as OpenAI sends it: {"error":{"message","type","param","code"}}.
// `type` follows the HTTP status (invalid_request_error, authentication_error,
// permission_error, not_found_error, rate_limit_error, server_error).
std::string openai_error_body(unsigned status, std::string_view code, std::string_view message, std::string_view param = {});
// The same as a stream's last event, after which no [DONE] comes.
void append_openai_stream_error(std::string& out, unsigned status, std::string_view code, std::string_view message);

// The non-streaming answer: a chat.completion object.
struct openai_completion {
    std::string_view stream_id;
    std::string_view model;
    std::int64_t created = 0;
    std::string_view text;
    std::string_view reasoning;
    std::span<const tool_call> tool_calls;
    finish_reason reason = finish_reason::stop;
    std::optional<liveai::usage> usage;
};
std::string openai_completion_body(const openai_completion& c);

// OpenAI's finish_reason for ours ("stop", "length", "tool_calls", "content_filter").
std::string_view openai_finish_reason(finish_reason reason) noexcept;

}  // namespace liveai::server::detail
