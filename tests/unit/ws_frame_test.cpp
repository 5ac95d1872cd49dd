// WebSocket framing: the server's frames byte for byte, and the reader of a
// client's frames against what RFC 6455 requires of a server.
#include <liveai/transport/ws_frame.hpp>

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

using namespace liveai::transport;

namespace {

// A client frame: masked with a fixed key, as RFC 6455 section 5.3 requires.
std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true)
{
    std::string f;
    f.push_back(static_cast<char>(first_byte));
    const auto n = payload.size();
    const char mask_bit = masked ? static_cast<char>(0x80) : 0;
    if (n < 126) {
        f.push_back(static_cast<char>(mask_bit | static_cast<char>(n)));
    } else if (n <= 0xffff) {
        f.push_back(static_cast<char>(mask_bit | 126));
        f.push_back(static_cast<char>(n >> 8));
        f.push_back(static_cast<char>(n));
    } else {
        f.push_back(static_cast<char>(mask_bit | 127));
        for (int i = 0; i < 8; ++i) f.push_back(static_cast<char>(static_cast<std::uint64_t>(n) >> (56 - 8 * i)));
    }
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (masked) f.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < n; ++i) f.push_back(masked ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i]);
    return f;
}

std::string text(std::string_view p) { return client_frame(0x81, p); }

}  // namespace

BOOST_AUTO_TEST_SUITE(ws_frame_suite)

BOOST_AUTO_TEST_CASE(server_frames_use_the_shortest_length_form)
{
    std::string out;
    ws_frame_writer::frame(out, ws_opcode::text, "Hello");
    BOOST_TEST(out == std::string("\x81\x05Hello"));  // RFC 6455 section 5.7's example
    out.clear();
    ws_frame_writer::frame(out, ws_opcode::text, std::string(126, 'a'));
    BOOST_TEST(out.size() == 4u + 126u);
    BOOST_TEST(out.substr(0, 4) == std::string("\x81\x7e\x00\x7e", 4));
    out.clear();
    ws_frame_writer::frame(out, ws_opcode::binary, std::string(70000, 'b'));
    BOOST_TEST(out.substr(0, 10) == std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
    out.clear();
    ws_frame_writer::close(out, ws_close_code::going_away);
    BOOST_TEST(out == std::string("\x88\x02\x03\xe9", 4));
}

BOOST_AUTO_TEST_CASE(framing_in_place_matches_whole_frames)
{
    for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 100000u}) {
        const std::string payload(n, 'x');
        std::string whole = "prefix";
        ws_frame_writer::frame(whole, ws_opcode::text, payload);
        std::string in_place = "prefix";
        const auto at = ws_frame_writer::begin(in_place);
        in_place += payload;
        ws_frame_writer::end(in_place, at, ws_opcode::text);
        BOOST_TEST(in_place == whole, "payload of " << n << " bytes");
    }
}

BOOST_AUTO_TEST_CASE(reads_messages_in_one_input_and_byte_by_byte)
{
    const std::string wire = text(R"({"type":"start"})") + client_frame(0x89, "hi") + text(std::string(300, 'y')) +
                             client_frame(0x8a, "") + client_frame(0x82, std::string("\x00\x01", 2));
    // All at once.
    {
        ws_frame_reader r(1024);
        std::string buf = wire;
        std::size_t off = 0;
        std::vector<std::pair<ws_input::kind_t, std::string>> got;
        for (;;) {
            auto in = r.next(buf.data() + off, buf.size() - off);
            off += in.consumed;
            if (in.kind == ws_input::need_more) break;
            got.emplace_back(in.kind, std::string(in.payload));
        }
        BOOST_TEST(off == wire.size());
        BOOST_REQUIRE(got.size() == 5u);
        BOOST_TEST((got[0].first == ws_input::text));
        BOOST_TEST(got[0].second == R"({"type":"start"})");
        BOOST_TEST((got[1].first == ws_input::ping));
        BOOST_TEST(got[1].second == "hi");
        BOOST_TEST(got[2].second == std::string(300, 'y'));
        BOOST_TEST((got[3].first == ws_input::pong));
        BOOST_TEST((got[4].first == ws_input::binary));
    }
    // One byte at a time: the reader asks for more until a frame is whole.
    {
        ws_frame_reader r(1024);
        std::string buf;
        int messages = 0;
        for (char c : wire) {
            buf.push_back(c);
            for (;;) {
                auto in = r.next(buf.data(), buf.size());
                const auto kind = in.kind;
                buf.erase(0, in.consumed);
                if (kind == ws_input::need_more) break;
                ++messages;
            }
        }
        BOOST_TEST(messages == 5);
        BOOST_TEST(buf.empty());
    }
}

BOOST_AUTO_TEST_CASE(fragments_gather_with_control_frames_between)
{
    ws_frame_reader r(1024);
    std::string buf = client_frame(0x01, "Hel") + client_frame(0x89, "p") + client_frame(0x00, "lo, ") +
                      client_frame(0x80, "world");
    auto in = r.next(buf.data(), buf.size());
    BOOST_TEST((in.kind == ws_input::ping));  // a control frame may come between fragments
    BOOST_TEST(in.payload == "p");
    std::size_t off = in.consumed;
    in = r.next(buf.data() + off, buf.size() - off);
    BOOST_TEST((in.kind == ws_input::text));
    BOOST_TEST(in.payload == "Hello, world");
    off += in.consumed;
    BOOST_TEST(off == buf.size());
    // The next message starts afresh.
    std::string next = text("again");
    in = r.next(next.data(), next.size());
    BOOST_TEST(in.payload == "again");
}

BOOST_AUTO_TEST_CASE(a_text_message_is_checked_whole_not_per_fragment)
{
    // "é" (c3 a9) split across two fragments is valid.
    ws_frame_reader r(1024);
    std::string buf = client_frame(0x01, "\xc3") + client_frame(0x80, "\xa9");
    auto in = r.next(buf.data(), buf.size());
    BOOST_TEST((in.kind == ws_input::text));
    BOOST_TEST(in.payload == "\xc3\xa9");
    ws_frame_reader bad(1024);
    std::string invalid = text("\xc3(");
    in = bad.next(invalid.data(), invalid.size());
    BOOST_TEST((in.kind == ws_input::failed));
    BOOST_TEST(in.code == ws_close_code::invalid_payload);
}

BOOST_AUTO_TEST_CASE(close_frames_carry_a_valid_code_or_none)
{
    struct read { ws_input::kind_t kind; std::uint16_t code; std::string payload; };
    auto read_close = [](std::string payload) {
        ws_frame_reader r(1024);
        std::string buf = client_frame(0x88, payload);
        const auto in = r.next(buf.data(), buf.size());
        return read{in.kind, in.code, std::string(in.payload)};
    };
    auto none = read_close("");
    BOOST_TEST((none.kind == ws_input::close));
    BOOST_TEST(none.code == ws_close_code::no_status);
    auto normal = read_close(std::string("\x03\xe8" "bye", 5));
    BOOST_TEST((normal.kind == ws_input::close));
    BOOST_TEST(normal.code == 1000);
    BOOST_TEST(normal.payload == "bye");
    BOOST_TEST(read_close(std::string("\x03\xe8\xff", 3)).code == ws_close_code::invalid_payload);
    for (std::uint16_t reserved : {999, 1004, 1005, 1006, 1015, 2999, 5000}) {
        const char code[2] = {static_cast<char>(reserved >> 8), static_cast<char>(reserved & 0xff)};
        const auto in = read_close(std::string(code, 2));
        BOOST_TEST((in.kind == ws_input::failed), "code " << reserved);
        BOOST_TEST(in.code == ws_close_code::protocol_error);
    }
    BOOST_TEST(read_close("x").code == ws_close_code::protocol_error);  // one byte: no code
}

BOOST_AUTO_TEST_CASE(protocol_violations_fail_with_1002)
{
    const std::string cases[] = {
        client_frame(0x81, "x", false),           // not masked
        client_frame(0xc1, "x"),                  // RSV1 without an extension
        client_frame(0x83, "x"),                  // reserved data opcode
        client_frame(0x8b, "x"),                  // reserved control opcode
        client_frame(0x09, "x"),                  // a fragmented ping
        client_frame(0x89, std::string(126, 'p')),  // a control frame over 125 bytes
        client_frame(0x80, "x"),                  // a continuation with no message
        client_frame(0x01, "a") + client_frame(0x81, "b"),  // a new message inside a fragmented one
        std::string("\x81\xfe\x00\x05" "abcd" "hello", 13),  // a 16-bit length under 126
    };
    for (const auto& c : cases) {
        ws_frame_reader r(1024);
        std::string buf = c;
        ws_input in;
        std::size_t off = 0;
        do {
            in = r.next(buf.data() + off, buf.size() - off);
            off += in.consumed;
        } while (in.kind != ws_input::failed && in.kind != ws_input::need_more);
        BOOST_TEST((in.kind == ws_input::failed));
        BOOST_TEST(in.code == ws_close_code::protocol_error);
        // Once failed, nothing more is read.
        std::string more = text("ok");
        BOOST_TEST((r.next(more.data(), more.size()).kind == ws_input::failed));
    }
}

BOOST_AUTO_TEST_CASE(oversized_messages_fail_from_the_header_alone)
{
    ws_frame_reader r(100);
    BOOST_TEST(r.max_buffered_bytes() == 114u);
    std::string whole = text(std::string(101, 'z'));
    auto in = r.next(whole.data(), 4);  // only the header has come
    BOOST_TEST((in.kind == ws_input::failed));
    BOOST_TEST(in.code == ws_close_code::too_big);
    // Fragments count together.
    ws_frame_reader f(100);
    std::string parts = client_frame(0x01, std::string(60, 'a')) + client_frame(0x80, std::string(41, 'b'));
    in = f.next(parts.data(), parts.size());
    BOOST_TEST((in.kind == ws_input::failed));
    BOOST_TEST(in.code == ws_close_code::too_big);
    ws_frame_reader exact(100);
    std::string fits = text(std::string(100, 'z'));
    in = exact.next(fits.data(), fits.size());
    BOOST_TEST((in.kind == ws_input::text));
    BOOST_TEST(in.payload.size() == 100u);
}

BOOST_AUTO_TEST_CASE(random_fragmentation_and_read_sizes_give_back_every_message)
{
    // Messages cut into random fragments with pings between them, the bytes
    // handed over in random pieces: the reader returns every message whole,
    // in order, and every ping, whatever the cuts.
    std::mt19937 rng(12345);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::string> messages;
        std::string wire;
        int pings = 0;
        const int count = 1 + static_cast<int>(rng() % 6);
        for (int m = 0; m < count; ++m) {
            std::string text;
            const auto length = rng() % 400;
            for (std::size_t i = 0; i < length; ++i) text.push_back(static_cast<char>('a' + rng() % 26));
            messages.push_back(text);
            std::size_t at = 0;
            bool first = true;
            do {
                const auto piece = std::min<std::size_t>(text.size() - at, rng() % 150);
                const bool fin = at + piece == text.size();
                const std::uint8_t op = first ? 0x01 : 0x00;
                wire += client_frame(static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | op), std::string_view(text).substr(at, piece));
                at += piece;
                first = false;
                if (!fin && rng() % 3 == 0) {
                    wire += client_frame(0x89, "p");
                    ++pings;
                }
                if (fin) break;
            } while (true);
        }
        ws_frame_reader r(1024);
        std::string buf;
        std::vector<std::string> got;
        int got_pings = 0;
        for (std::size_t fed = 0; fed < wire.size();) {
            const auto n = std::min<std::size_t>(wire.size() - fed, 1 + rng() % 64);
            buf.append(wire, fed, n);
            fed += n;
            for (;;) {
                auto in = r.next(buf.data(), buf.size());
                BOOST_REQUIRE((in.kind != ws_input::failed));
                if (in.kind == ws_input::text) got.emplace_back(in.payload);
                if (in.kind == ws_input::ping) ++got_pings;
                const bool more = in.kind == ws_input::need_more;
                buf.erase(0, in.consumed);
                if (more) break;
            }
        }
        BOOST_TEST(buf.empty());
        BOOST_TEST(got == messages, boost::test_tools::per_element());
        BOOST_TEST(got_pings == pings);
    }
}

BOOST_AUTO_TEST_CASE(garbage_never_reads_past_the_input)
{
    // Random bytes: the reader fails or asks for more, and never claims more
    // bytes than it was given (ASan checks the reads).
    std::mt19937 rng(777);
    for (int round = 0; round < 2000; ++round) {
        std::string buf(rng() % 64, '\0');
        for (auto& c : buf) c = static_cast<char>(rng());
        ws_frame_reader r(100);
        std::size_t off = 0;
        for (int steps = 0; steps < 100; ++steps) {
            auto in = r.next(buf.data() + off, buf.size() - off);
            BOOST_REQUIRE(in.consumed <= buf.size() - off);
            off += in.consumed;
            if (in.kind == ws_input::need_more || in.kind == ws_input::failed || in.kind == ws_input::close) break;
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
