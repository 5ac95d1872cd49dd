#include <liveai/transport/ws_frame.hpp>

#include <liveai/detail/utf8.hpp>

#include <cstring>

namespace liveai::transport {

namespace {

void append_header(std::string& out, ws_opcode op, std::size_t size)
{
    char h[10];
    h[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(op));
    std::size_t n = 2;
    if (size < 126) {
        h[1] = static_cast<char>(size);
    } else if (size <= 0xffff) {
        h[1] = 126;
        h[2] = static_cast<char>(size >> 8);
        h[3] = static_cast<char>(size);
        n = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; ++i) h[2 + i] = static_cast<char>(static_cast<std::uint64_t>(size) >> (56 - 8 * i));
        n = 10;
    }
    out.append(h, n);
}

bool is_valid_close_code(std::uint16_t code) noexcept
{
    // 1004-1006 and 1015 are reserved for use outside frames; 1016-2999 are
    // unassigned; 3000-4999 belong to libraries and applications.
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

void unmask(char* p, std::size_t n, const unsigned char key[4]) noexcept
{
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
}

}  // namespace

void ws_frame_writer::frame(std::string& out, ws_opcode op, std::string_view payload)
{
    append_header(out, op, payload.size());
    out.append(payload);
}

void ws_frame_writer::close(std::string& out, std::uint16_t code, std::string_view reason)
{
    reason = reason.substr(0, 123);
    append_header(out, ws_opcode::close, 2 + reason.size());
    out.push_back(static_cast<char>(code >> 8));
    out.push_back(static_cast<char>(code));
    out.append(reason);
}

void ws_frame_writer::end(std::string& out, std::size_t at, ws_opcode op)
{
    const auto size = out.size() - at - 2;
    if (size < 126) {
        out[at] = static_cast<char>(0x80 | static_cast<std::uint8_t>(op));
        out[at + 1] = static_cast<char>(size);
        return;
    }
    std::string header;
    append_header(header, op, size);
    out.replace(at, 2, header);  // rare: messages of 126 bytes or more
}

ws_input ws_frame_reader::fail(std::uint16_t code, std::size_t consumed) noexcept
{
    failed_ = true;
    ws_input in;
    in.kind = ws_input::failed;
    in.code = code;
    in.consumed = consumed;
    return in;
}

ws_input ws_frame_reader::next(char* data, std::size_t size)
{
    if (clear_fragments_) {
        fragments_.clear();
        clear_fragments_ = false;
    }
    if (failed_) return fail(ws_close_code::protocol_error, 0);
    std::size_t used = 0;
    for (;;) {
        auto* p = reinterpret_cast<unsigned char*>(data + used);
        const std::size_t avail = size - used;
        ws_input more;
        more.consumed = used;
        if (avail < 2) return more;
        const bool fin = (p[0] & 0x80) != 0;
        const auto op = static_cast<ws_opcode>(p[0] & 0x0f);
        const bool control = (p[0] & 0x08) != 0;
        // No extension is negotiated, so no reserved bit may be set; and a
        // client must mask every frame.
        if ((p[0] & 0x70) != 0 || (p[1] & 0x80) == 0) return fail(ws_close_code::protocol_error, used);
        if (control ? (op != ws_opcode::close && op != ws_opcode::ping && op != ws_opcode::pong)
                    : (op != ws_opcode::continuation && op != ws_opcode::text && op != ws_opcode::binary))
            return fail(ws_close_code::protocol_error, used);
        std::uint64_t length = p[1] & 0x7f;
        std::size_t header = 2;
        if (length == 126) {
            if (avail < 4) return more;
            length = (std::uint64_t{p[2]} << 8) | p[3];
            header = 4;
            if (length < 126) return fail(ws_close_code::protocol_error, used);  // not the shortest form
        } else if (length == 127) {
            if (avail < 10) return more;
            length = 0;
            for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
            header = 10;
            if (length <= 0xffff || (length >> 63) != 0) return fail(ws_close_code::protocol_error, used);
        }
        if (control && (!fin || length > 125)) return fail(ws_close_code::protocol_error, used);
        if (!control) {
            if ((op == ws_opcode::continuation) != in_message_) return fail(ws_close_code::protocol_error, used);
            // Refused from the header alone: nothing of an oversized message is buffered.
            if (length > max_message_ - fragments_.size()) return fail(ws_close_code::too_big, used);
        }
        const std::size_t frame = header + 4 + static_cast<std::size_t>(length);
        if (avail < frame) return more;
        char* payload = data + used + header + 4;
        const auto n = static_cast<std::size_t>(length);
        unmask(payload, n, p + header);
        used += frame;

        ws_input in;
        in.consumed = used;
        if (control) {
            in.payload = std::string_view(payload, n);
            if (op == ws_opcode::ping) in.kind = ws_input::ping;
            else if (op == ws_opcode::pong) in.kind = ws_input::pong;
            else {
                in.kind = ws_input::close;
                in.code = ws_close_code::no_status;
                if (n == 1) return fail(ws_close_code::protocol_error, used);
                if (n >= 2) {
                    in.code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                         static_cast<unsigned char>(payload[1]));
                    in.payload = in.payload.substr(2);
                    if (!is_valid_close_code(in.code)) return fail(ws_close_code::protocol_error, used);
                    if (!detail::is_valid_utf8(in.payload)) return fail(ws_close_code::invalid_payload, used);
                }
                failed_ = true;  // nothing after a close frame is read
            }
            return in;
        }
        std::string_view message(payload, n);
        ws_opcode message_op = op;
        if (!fin || in_message_) {
            if (!in_message_) message_op_ = op;
            fragments_.append(payload, n);
            in_message_ = !fin;
            if (!fin) continue;  // the next fragment may be in this input too
            message = fragments_;
            message_op = message_op_;
            clear_fragments_ = true;
        }
        if (message_op == ws_opcode::text && !detail::is_valid_utf8(message))
            return fail(ws_close_code::invalid_payload, used);
        in.kind = message_op == ws_opcode::text ? ws_input::text : ws_input::binary;
        in.payload = message;
        return in;
    }
}

}  // namespace liveai::transport
