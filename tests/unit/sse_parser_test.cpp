#include <liveai/transport/sse_parser.hpp>

#include "../support/printers.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

using liveai::transport::sse_parser;

namespace {

struct event {
    std::string type, data, id;
    bool operator==(const event&) const = default;
};

std::ostream& operator<<(std::ostream& out, const event& e)
{
    return out << "{" << e.type << "|" << e.data << "|" << e.id << "}";
}

// Feeds `text` cut at the given offsets and returns the events.
std::vector<event> parse_split(std::string_view text, const std::vector<std::size_t>& cuts, std::size_t max = 1 << 20,
                               bool* failed = nullptr)
{
    sse_parser parser(max);
    std::vector<event> out;
    std::size_t from = 0;
    auto feed = [&](std::string_view piece) {
        boost::system::error_code ec;
        while (auto ev = parser.next(piece, ec)) out.push_back({std::string(ev->type), std::string(ev->data), std::string(ev->last_event_id)});
        if (ec && failed) *failed = true;
    };
    for (auto cut : cuts) {
        feed(text.substr(from, cut - from));
        from = cut;
    }
    feed(text.substr(from));
    return out;
}

struct fixture {
    std::string name;
    std::string text;
    std::vector<event> expected;
};

std::vector<fixture> fixtures()
{
    return {
        {"lf", "data: hello\n\n", {{"message", "hello", ""}}},
        {"crlf", "event: chunk\r\ndata: a\r\n\r\n", {{"chunk", "a", ""}}},
        {"cr", "data: a\rdata: b\r\r", {{"message", "a\nb", ""}}},
        {"bom", "\xEF\xBB\xBF" "data: x\n\n", {{"message", "x", ""}}},
        {"bom only once", "\xEF\xBB\xBF" "data: x\n\n\xEF\xBB\xBF" "data: y\n\n", {{"message", "x", ""}}},
        {"no space", "data:tight\n\n", {{"message", "tight", ""}}},
        {"two spaces keep one", "data:  two\n\n", {{"message", " two", ""}}},
        {"multi-line data", "data: one\ndata: two\ndata\n\n", {{"message", "one\ntwo\n", ""}}},
        {"comments and ping", ": ping\n\n: keep-alive\ndata: x\n\n", {{"message", "x", ""}}},
        {"id persists", "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", {{"message", "a", "7"}, {"message", "b", "7"}, {"message", "c", ""}}},
        {"id with NUL ignored", std::string("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n", 32), {{"message", "a", "1"}, {"message", "b", "1"}}},
        {"empty data dispatches nothing", "event: x\n\ndata: y\n\n", {{"message", "y", ""}}},
        {"unknown field", "foo: bar\ndata: z\n\n", {{"message", "z", ""}}},
        {"unterminated discarded", "data: done\n\ndata: partial", {{"message", "done", ""}}},
        {"utf8", "data: {\"t\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}\n\n", {{"message", "{\"t\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}", ""}}},
        {"openai", "data: {\"choices\":[]}\n\ndata: [DONE]\n\n", {{"message", "{\"choices\":[]}", ""}, {"message", "[DONE]", ""}}},
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sse_parser_suite)

BOOST_AUTO_TEST_CASE(every_fixture_at_every_split)
{
    for (const auto& f : fixtures()) {
        BOOST_TEST_CONTEXT(f.name)
        {
            BOOST_TEST(parse_split(f.text, {}) == f.expected, boost::test_tools::per_element());
            for (std::size_t cut = 0; cut <= f.text.size(); ++cut)
                BOOST_TEST(parse_split(f.text, {cut}) == f.expected, boost::test_tools::per_element());
            std::vector<std::size_t> every;
            for (std::size_t i = 1; i < f.text.size(); ++i) every.push_back(i);
            BOOST_TEST(parse_split(f.text, every) == f.expected, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(cr_at_end_of_read_then_lf)
{
    // "data: a\r" | "\ndata: b\r\n\r\n": the LF belongs to the CR before it.
    const std::string text = "data: a\r\ndata: b\r\n\r\n";
    const auto events = parse_split(text, {8});
    BOOST_REQUIRE(events.size() == 1u);
    BOOST_TEST(events[0].data == "a\nb");
}

BOOST_AUTO_TEST_CASE(random_splits_of_a_long_stream)
{
    std::string text;
    std::vector<event> expected;
    for (int i = 0; i < 200; ++i) {
        const std::string data = "{\"i\":" + std::to_string(i) + ",\"t\":\"\xE2\x9C\xA8\"}";
        text += (i % 3 == 0 ? "data: " : "data:") + data + (i % 2 ? "\r\n\r\n" : "\n\n");
        if (i % 10 == 0) text += ": ping\n\n";
        expected.push_back({"message", data, ""});
    }
    std::mt19937 rng(12345);
    for (int round = 0; round < 50; ++round) {
        std::vector<std::size_t> cuts;
        for (std::size_t pos = 0;;) {
            pos += 1 + rng() % 40;
            if (pos >= text.size()) break;
            cuts.push_back(pos);
        }
        BOOST_TEST(parse_split(text, cuts) == expected, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(bounded_memory)
{
    bool failed = false;
    const auto events = parse_split("data: " + std::string(200, 'x') + "\n\n", {50, 100}, 64, &failed);
    BOOST_TEST(failed);
    BOOST_TEST(events.empty());
    failed = false;
    parse_split(std::string(100, 'y'), {}, 64, &failed);  // one endless line
    BOOST_TEST(failed);
    failed = false;
    parse_split("data: " + std::string(40, 'x') + "\ndata: " + std::string(40, 'x') + "\n\n", {}, 64, &failed);
    BOOST_TEST(failed);  // many lines adding up to one big event
}

BOOST_AUTO_TEST_CASE(retry_field)
{
    sse_parser p;
    std::string_view in = "retry: 1500\n\nretry: x1\n\n";
    boost::system::error_code ec;
    while (p.next(in, ec)) {}
    BOOST_TEST(p.retry().value_or(0) == 1500u);
}

BOOST_AUTO_TEST_SUITE_END()
