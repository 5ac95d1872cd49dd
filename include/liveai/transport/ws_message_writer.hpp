// WebSocket text messages of a stream's events: the event's JSON payload
// with a leading "type" member (and "id" for resumable streams), sans-I/O.
#pragma once

#include <liveai/transport/event_kind.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace liveai::transport {

struct ws_message_writer {
    // {"type":"<kind>"[,"id":"<stream_id>.<seq>"],<payload's members>}.
    // An empty stream_id leaves the id out (v1 clients see v1 messages).
    // A tool_call's own id is written as "call_id" ("id" is the event's).
    static void message(std::string& out, event_kind kind, std::string_view payload, std::string_view stream_id,
                        std::uint64_t seq);
};

}  // namespace liveai::transport
