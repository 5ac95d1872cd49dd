#include <liveai/transport/event_format.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace liveai::transport;

BOOST_AUTO_TEST_SUITE(event_format)

BOOST_AUTO_TEST_CASE(json_strings_round_trip_through_a_json_parser)
{
    const std::string nasty = std::string("quote \" backslash \\ newline \n tab \t nul ") + '\0' + " \x01 \x1f caf\xC3\xA9 \xF0\x9F\x98\x80 </script>";
    std::string out;
    append_json_string(out, nasty);
    BOOST_TEST(boost::json::parse(out).as_string() == nasty);
}

BOOST_AUTO_TEST_CASE(sse_events_have_ids_and_sequence)
{
    sse_event_writer w("abc");
    std::string out;
    sse_event_writer::retry(out, std::chrono::milliseconds(1500));
    w.chunk(out, 0, "Hi");
    w.error(out, "provider_error", "boom", false);
    BOOST_TEST(out ==
               "retry: 1500\n\n"
               "id: abc.1\nevent: chunk\ndata: {\"index\":0,\"text\":\"Hi\"}\n\n"
               "id: abc.2\nevent: error\ndata: {\"code\":\"provider_error\",\"message\":\"boom\",\"retryable\":false}\n\n");
    BOOST_TEST(w.last_seq() == 2u);
}

BOOST_AUTO_TEST_CASE(websocket_messages)
{
    std::string out;
    append_complete_json(out, liveai::finish_reason::length, liveai::usage{3, 4}, 4, true);
    BOOST_TEST(out == R"({"type":"complete","finish_reason":"length","usage":{"input_tokens":3,"output_tokens":4},"chunks":4})");
    // A provider that reported no usage: null, never made-up numbers.
    out.clear();
    append_complete_json(out, liveai::finish_reason::stop, std::nullopt, 2, false);
    BOOST_TEST(out == R"({"finish_reason":"stop","usage":null,"chunks":2})");
}

BOOST_AUTO_TEST_SUITE_END()

#include <liveai/client/stream_event.hpp>
#include <liveai/error.hpp>

BOOST_AUTO_TEST_SUITE(client_stream_event)

BOOST_AUTO_TEST_CASE(complete_with_usage_or_null)
{
    using liveai::client::parse_stream_event;
    auto e = parse_stream_event("complete", R"({"finish_reason":"stop","usage":{"input_tokens":3,"output_tokens":4},"chunks":4})", "a.5");
    BOOST_REQUIRE(e.usage.has_value());
    BOOST_TEST(e.usage->input_tokens == 3u);
    BOOST_TEST(e.usage->output_tokens == 4u);
    e = parse_stream_event("complete", R"({"finish_reason":"stop","usage":null,"chunks":4})", "a.5");
    BOOST_TEST(!e.usage.has_value());
    BOOST_TEST(e.chunks == 4u);
    BOOST_CHECK_THROW(parse_stream_event("complete", R"({"finish_reason":"stop","usage":7,"chunks":4})", "a.5"), liveai::stream_error);
    BOOST_CHECK_THROW(parse_stream_event("complete", R"({"finish_reason":"stop","chunks":4})", "a.5"), liveai::stream_error);
}

BOOST_AUTO_TEST_SUITE_END()
