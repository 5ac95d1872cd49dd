// WebSocket framing (RFC 6455 section 5), sans-I/O: the server's frames,
// written straight into a caller's buffer so that every message ready at
// once leaves in one write, and a reader of the client's frames that checks
// everything a server must (masking, reserved bits, opcodes, control frame
// rules, fragmentation, UTF-8 of text, message size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace liveai::transport {

enum class ws_opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// The close codes the server sends or names (RFC 6455 section 7.4.1).
namespace ws_close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t no_status = 1005;  // never sent: a close frame without a code
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t too_big = 1009;
}  // namespace ws_close_code

// Server frames are never masked.
struct ws_frame_writer {
    // A whole frame: header and payload.
    static void frame(std::string& out, ws_opcode op, std::string_view payload);
    // A close frame with a code (and a reason of at most 123 bytes).
    static void close(std::string& out, std::uint16_t code, std::string_view reason = {});

    // Framing in place: begin() reserves the two-byte header of a short
    // frame, the caller appends the payload, end() writes the header (and
    // widens it when the payload came out 126 bytes or longer).
    static std::size_t begin(std::string& out)
    {
        const auto at = out.size();
        out.append(2, '\0');
        return at;
    }
    static void end(std::string& out, std::size_t at, ws_opcode op);
};

// One step of reading: what the next complete frame (or message) says.
struct ws_input {
    enum kind_t : std::uint8_t {
        need_more,  // read more bytes (after dropping `consumed`)
        text,       // a whole text message, valid UTF-8, in `payload`
        binary,     // a whole binary message
        ping,       // answer with a pong carrying `payload`
        pong,
        close,      // the peer closes: `code` (no_status when it gave none), reason in `payload`
        failed,     // a protocol violation: close with `code`; read nothing more
    };
    kind_t kind = need_more;
    std::uint16_t code = 0;
    std::string_view payload;  // valid until the next call of next()
    std::size_t consumed = 0;  // bytes of the input used; drop them after handling this step
};

class ws_frame_reader {
public:
    explicit ws_frame_reader(std::size_t max_message_bytes) noexcept : max_message_(max_message_bytes) {}

    // Reads from the start of `data` (bytes the caller has not yet
    // consumed); unmasks payloads in place. A message sent in fragments is
    // gathered here, a whole one in a single frame is returned as a view
    // into `data`.
    ws_input next(char* data, std::size_t size);

    // The most bytes the caller must be able to hold at once: one frame of
    // the largest message with the largest header.
    std::size_t max_buffered_bytes() const noexcept { return max_message_ + max_header_bytes; }

    static constexpr std::size_t max_header_bytes = 14;

private:
    ws_input fail(std::uint16_t code, std::size_t consumed) noexcept;

    std::size_t max_message_;
    std::string fragments_;  // the message so far, when it came in fragments
    ws_opcode message_op_ = ws_opcode::text;
    bool in_message_ = false;
    bool clear_fragments_ = false;
    bool failed_ = false;
};

}  // namespace liveai::transport
