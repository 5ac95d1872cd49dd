#include <liveai/transport/event_format.hpp>
#include <liveai/transport/sse_event_writer.hpp>
#include <liveai/transport/ws_message_writer.hpp>

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
    std::string chunk, error, out;
    append_chunk_json(chunk, 0, "Hi", false);
    append_error_json(error, "provider_error", "boom", false, false);
    sse_event_writer::retry(out, std::chrono::milliseconds(1500));
    sse_event_writer::event(out, "abc", 1, event_kind::chunk, chunk);
    sse_event_writer::event(out, "abc", 2, event_kind::error, error);
    sse_event_writer::ping(out);
    sse_event_writer::id_only(out, "abc", 0);
    BOOST_TEST(out ==
               "retry: 1500\n\n"
               "id: abc.1\nevent: chunk\ndata: {\"index\":0,\"text\":\"Hi\"}\n\n"
               "id: abc.2\nevent: error\ndata: {\"code\":\"provider_error\",\"message\":\"boom\",\"retryable\":false}\n\n"
               ": ping\n\n"
               "id: abc.0\n\n");
}

BOOST_AUTO_TEST_CASE(websocket_messages_merge_type_and_id_into_the_payload)
{
    std::string chunk;
    append_chunk_json(chunk, 3, "a\"b", false);
    std::string out;
    ws_message_writer::message(out, event_kind::chunk, chunk, {}, 4);
    BOOST_TEST(out == R"({"type":"chunk","index":3,"text":"a\"b"})");
    out.clear();
    ws_message_writer::message(out, event_kind::chunk, chunk, "abc", 4);
    BOOST_TEST(out == R"({"type":"chunk","id":"abc.4","index":3,"text":"a\"b"})");
    // Each is one JSON object that a parser reads back with every member.
    const auto parsed = boost::json::parse(out).as_object();
    BOOST_TEST(parsed.size() == 4u);
    out.clear();
    ws_message_writer::message(out, event_kind::complete, "{}", {}, 1);
    BOOST_TEST(out == R"({"type":"complete"})");
}

BOOST_AUTO_TEST_CASE(v1_1_reasoning_and_tool_call_payloads)
{
    std::string reasoning;
    append_reasoning_json(reasoning, 2, "hmm \"so\"", false);
    BOOST_TEST(reasoning == R"({"index":2,"text":"hmm \"so\""})");
    std::string first, later;
    append_tool_call_json(first, 1, "call_\"x", "get_weather", R"({"ci)", false);
    append_tool_call_json(later, 1, "", "", R"(ty":"Paris"})", false);
    BOOST_TEST(first == R"({"index":1,"id":"call_\"x","name":"get_weather","arguments":"{\"ci"})");
    BOOST_TEST(later == R"({"index":1,"arguments":"ty\":\"Paris\"}"})");
    // On the WebSocket, "id" is the event's: the call's id is call_id there.
    std::string out;
    ws_message_writer::message(out, event_kind::tool_call, first, "abc", 7);
    BOOST_TEST(out == R"({"type":"tool_call","id":"abc.7","index":1,"call_id":"call_\"x","name":"get_weather","arguments":"{\"ci"})");
    BOOST_TEST(boost::json::parse(out).as_object().size() == 6u);
    out.clear();
    ws_message_writer::message(out, event_kind::tool_call, later, {}, 8);
    BOOST_TEST(out == R"({"type":"tool_call","index":1,"arguments":"ty\":\"Paris\"}"})");
    out.clear();
    append_complete_json(out, liveai::finish_reason::tool_calls, std::nullopt, 0, false, "openai", "gpt-4o");
    BOOST_TEST(out == R"({"finish_reason":"tool_calls","usage":null,"chunks":0,"provider":"openai","model":"gpt-4o"})");
    BOOST_TEST(!liveai::transport::is_terminal(event_kind::tool_call));
    BOOST_TEST(liveai::transport::is_terminal(event_kind::error));
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
    e = parse_stream_event("complete", R"({"finish_reason":"tool_calls","usage":null,"chunks":0})", "a.6");
    BOOST_TEST((e.finish == liveai::finish_reason::tool_calls));
}

BOOST_AUTO_TEST_CASE(clients_read_reasoning_and_tool_calls)
{
    using liveai::client::event_type;
    using liveai::client::parse_stream_event;
    auto r = parse_stream_event("reasoning", R"({"index":1,"text":"hmm"})", "a.2");
    BOOST_TEST((r.type == event_type::reasoning));
    BOOST_TEST(r.index == 1u);
    BOOST_TEST(r.text == "hmm");
    BOOST_TEST(!r.terminal());
    // SSE data names the call's id "id"; a WebSocket message "call_id".
    auto sse = parse_stream_event("tool_call", R"({"index":0,"id":"call_1","name":"f","arguments":"{\"a\""})", "a.3");
    BOOST_TEST((sse.type == event_type::tool_call));
    BOOST_TEST(sse.tool_call_id == "call_1");
    BOOST_TEST(sse.tool_name == "f");
    BOOST_TEST(sse.text == R"({"a")");
    auto ws = parse_stream_event("tool_call", R"({"id":"a.4","index":0,"call_id":"call_1","arguments":":1}"})", "a.4");
    BOOST_TEST(ws.tool_call_id == "call_1");
    BOOST_TEST(ws.tool_name.empty());
    BOOST_CHECK_THROW(parse_stream_event("tool_call", R"({"index":0})", "a.5"), liveai::stream_error);
}

BOOST_AUTO_TEST_SUITE_END()
