// Private: whether a client may resume a stream after an event it names,
// one decision for SSE (Last-Event-ID) and WebSocket ({"type":"resume"}).
#pragma once

#include <liveai/error.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace liveai::server::detail {

// What the owner of a stream knows about it.
struct resumable_stream {
    std::string_view block;
    std::uint64_t first_seq = 1;  // the oldest event still kept
    std::uint64_t last_seq = 0;
    bool ended = false;
};

enum class resume_outcome {
    replay,     // send the events from next_seq on, then the live rest
    delivered,  // it ended and the client has every event: SSE 204, WebSocket "resumed"
    refused,    // code and message say why
};

struct resume_decision {
    resume_outcome outcome = resume_outcome::refused;
    std::uint64_t next_seq = 0;
    liveai::error code = liveai::error::unknown_stream;
    std::string message;
};

// The settings the messages quote.
struct resume_limits {
    std::chrono::milliseconds replay_retention{};
    std::size_t replay_buffer_bytes = 0;
};

// `stream`: null when the owner has no such stream (never existed, or its
// retention ended). `block`: the block the client resumes through.
resume_decision check_resume(const resumable_stream* stream, std::string_view stream_id, std::string_view block,
                             std::uint64_t after_seq, const resume_limits& limits);

}  // namespace liveai::server::detail
