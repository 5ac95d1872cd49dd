// An incremental, sans-I/O server-sent-events parser following the WHATWG
// "event stream interpretation" rules: bytes in, events out, any split.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liveai::transport {

// One dispatched event. The views stay valid until the next call to next().
struct sse_event {
    std::string_view type;  // "message" when the stream named none
    std::string_view data;  // data lines joined with LF
    std::string_view last_event_id;
};

// Rules implemented: a UTF-8 BOM at the very start is skipped; lines end at
// CRLF, LF or CR (also a CR at the end of one read and an LF at the start of
// the next); lines starting with ':' are comments; one space after the colon
// is removed; `data` lines are joined with LF; `event`, `id` (ignored when it
// contains NUL) and `retry` (ASCII digits only) set their buffers; an empty
// line dispatches (nothing when the data buffer is empty); other fields are
// ignored; an unterminated event at the end of the stream is discarded.
//
// Memory is bounded: a line or event larger than max_event_bytes is an error
// (the parser then stays failed).
class sse_parser {
public:
    explicit sse_parser(std::size_t max_event_bytes = 1 << 20) : max_event_bytes_(max_event_bytes) {}

    // Consumes bytes from `input` up to and including the next complete event
    // and returns it; returns nullopt when `input` is used up first (feed the
    // next read then). On error, sets `ec` and returns nullopt.
    std::optional<sse_event> next(std::string_view& input, boost::system::error_code& ec);

    // The reconnection time from the last valid `retry` field, if any.
    std::optional<std::uint64_t> retry() const noexcept { return retry_; }
    bool failed() const noexcept { return failed_; }
    // The last event ID buffer: set by every `id` field, also one in a block
    // without data (which dispatches no event), as an EventSource keeps it.
    std::string_view last_event_id() const noexcept { return last_id_; }

    // Lines that are no SSE field (an upstream that answers a 200 stream with
    // a raw JSON error object, say), joined with LF: at most the first 64 KiB.
    // Call end_of_input() at the end of the body so that an unterminated last
    // line counts too.
    std::string_view unframed() const noexcept { return unframed_; }
    void end_of_input();

private:
    // Handles one complete line; returns true when it dispatched an event.
    bool line(std::string_view text);

    std::size_t max_event_bytes_;
    std::string partial_;       // an incomplete line carried across reads
    std::string data_;
    std::string type_;
    std::string last_id_;
    std::string dispatched_data_;
    std::string dispatched_type_;
    std::string unframed_;
    std::optional<std::uint64_t> retry_;
    bool start_ = true;         // BOM check pending
    bool skip_lf_ = false;      // the previous read ended in CR
    bool failed_ = false;
};

}  // namespace liveai::transport
