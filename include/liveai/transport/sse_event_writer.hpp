// SSE framing of a stream's events (WHATWG server-sent events): sans-I/O,
// appends to a caller-owned buffer, so a batch of ready events becomes one
// contiguous write and a token allocates nothing once the buffer has grown.
#pragma once

#include <liveai/transport/event_kind.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace liveai::transport {

struct sse_event_writer {
    // "id: <stream_id>.<seq>\nevent: <kind>\ndata: <payload>\n\n"; the
    // payload is one line of JSON.
    static void event(std::string& out, std::string_view stream_id, std::uint64_t seq, event_kind kind,
                      std::string_view payload);
    // "id: <stream_id>.<seq>\n\n": no data, so no event is dispatched, but an
    // EventSource remembers the id for its reconnect.
    static void id_only(std::string& out, std::string_view stream_id, std::uint64_t seq);
    static void retry(std::string& out, std::chrono::milliseconds interval);
    static void ping(std::string& out);
};

}  // namespace liveai::transport
