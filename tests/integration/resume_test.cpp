// Resume end to end: the C++ clients through a proxy that cuts connections,
// and the server's answers to every kind of Last-Event-ID.
#include "../support/cutting_proxy.hpp"
#include "../support/printers.hpp"
#include "../support/run_coro.hpp"
#include "../support/test_server.hpp"

#include <liveai/client/sse_client.hpp>
#include <liveai/client/ws_client.hpp>
#include <liveai/error.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

using namespace liveai::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace client = liveai::client;

namespace {

std::string config(const std::string& server = "")
{
    return "[server]\nlog_level = \"warn\"\n" + server + R"(
[blocks.story]
provider = "mock"
streaming = true
on_disconnect = "detach"
resume_grace_ms = 5000
[blocks.story.mock]
tokens = 60
delay_ms = 5
seed = 7

[blocks.short_grace]
provider = "mock"
streaming = true
on_disconnect = "detach"
resume_grace_ms = 200
[blocks.short_grace.mock]
tokens = 1000
delay_ms = 20

[blocks.paced]
provider = "mock"
streaming = true
[blocks.paced.mock]
tokens = 1000
delay_ms = 20

[blocks.quick]
provider = "mock"
streaming = true
[blocks.quick.mock]
tokens = 200
seed = 3
)";
}

std::string collect_text(std::uint16_t port, const std::string& block, const std::string& prompt)
{
    auto res = post(port, "/api/ai-block/" + block, R"({"prompt":")" + prompt + R"("})");
    BOOST_REQUIRE(res.result_int() == 200);
    return std::string(json::parse(res.body()).at("text").as_string());
}

struct received {
    std::string text;
    std::vector<client::stream_event> events;
};

// Checks every event arrived once and in order: chunk index and seq without
// gaps, one terminal event last.
void check_exactly_once(const received& r, std::uint64_t chunks)
{
    BOOST_REQUIRE(!r.events.empty());
    const auto stream_id = r.events[0].id.substr(0, r.events[0].id.find('.'));
    for (std::size_t i = 0; i < r.events.size(); ++i) {
        BOOST_TEST(r.events[i].id == stream_id + "." + std::to_string(i + 1));
        if (i + 1 < r.events.size()) BOOST_TEST(r.events[i].index == i);
    }
    BOOST_TEST(r.events.back().type == client::event_type::complete);
    BOOST_TEST(r.events.back().chunks == chunks);
}

// Reads a whole stream, cutting every connection after each `cut_every` events.
template <class Client>
boost::asio::awaitable<received> read_with_cuts(Client& c, cutting_proxy* proxy, std::size_t cut_every)
{
    received r;
    while (auto ev = co_await c.next()) {
        if (ev->type == client::event_type::chunk) r.text += ev->text;
        r.events.push_back(std::move(*ev));
        if (proxy && cut_every && r.events.size() % cut_every == 0) proxy->cut_all();
    }
    co_return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resume)

BOOST_AUTO_TEST_CASE(sse_client_resumes_after_cuts_with_every_event_once)
{
    test_server s(config());
    cutting_proxy proxy(s.port());
    const auto expected = collect_text(s.port(), "story", "resume me");
    boost::asio::io_context ioc;
    client::sse_client c(ioc.get_executor(), "127.0.0.1", proxy.port(), {.initial_delay = 10ms});
    c.start("story", "resume me");
    const auto r = run_coro(ioc, read_with_cuts(c, &proxy, 7));
    check_exactly_once(r, 60);
    BOOST_TEST(r.text == expected);
    // 61 events, a cut after every 7th: 8 cuts, some of the reconnects
    // landing on the other I/O thread (a mirrored stream). The last cut finds
    // the rest already read when the stream ended during the reconnect
    // before it, so it may need no reconnect.
    BOOST_TEST((c.reconnects() == 8u || c.reconnects() == 7u), "reconnects: " << c.reconnects());
    BOOST_TEST(proxy.connections() == c.reconnects() + 1);
    BOOST_TEST(s.metric("liveai_stream_resumes_total") == static_cast<double>(c.reconnects()));
    BOOST_TEST(s.metric("liveai_streams_total", "outcome=\"complete\"") == 2.0);  // with the collect
    BOOST_TEST_MESSAGE("sse: 61 events over " << proxy.connections() << " connections, text identical to collect");
}

BOOST_AUTO_TEST_CASE(ws_client_resumes_after_cuts_with_every_event_once)
{
    test_server s(config());
    cutting_proxy proxy(s.port());
    const auto expected = collect_text(s.port(), "story", "over websocket");
    boost::asio::io_context ioc;
    client::ws_client c(ioc.get_executor(), "127.0.0.1", proxy.port(), {.initial_delay = 10ms});
    c.start("story", "over websocket");
    const auto r = run_coro(ioc, read_with_cuts(c, &proxy, 9));
    check_exactly_once(r, 60);
    BOOST_TEST(r.text == expected);
    // 61 events, a cut after every 9th: up to 6 cuts that need a reconnect.
    // On a loaded machine (the sanitizer run) the stream can run ahead of
    // the client while it reconnects, so later cuts find the rest already
    // read and need none: what must hold is every event once, and a resume
    // for every reconnect.
    BOOST_TEST((c.reconnects() >= 1u && c.reconnects() <= 6u), "reconnects: " << c.reconnects());
    BOOST_TEST(s.metric("liveai_stream_resumes_total") == static_cast<double>(c.reconnects()));
}

BOOST_AUTO_TEST_CASE(a_cut_before_the_first_event_resumes_the_same_stream)
{
    test_server s(config());
    cutting_proxy proxy(s.port());
    boost::asio::io_context ioc;
    client::sse_client c(ioc.get_executor(), "127.0.0.1", proxy.port(), {.initial_delay = 10ms});
    c.start("story", "early");
    // The preamble's id (seq 0) is all the client has when the cut comes.
    auto first = [&]() -> boost::asio::awaitable<received> {
        received r;
        auto ev = co_await c.next();
        r.events.push_back(*ev);
        co_return r;
    };
    const auto one = run_coro(ioc, first());
    proxy.cut_all();
    auto rest = run_coro(ioc, read_with_cuts(c, nullptr, 0));
    rest.events.insert(rest.events.begin(), one.events[0]);
    check_exactly_once(rest, 60);
    BOOST_TEST(s.metric("liveai_streams_total") == 1.0);  // one generation, not two
}

BOOST_AUTO_TEST_CASE(clients_stop_on_204_for_a_delivered_stream)
{
    test_server s(config());
    boost::asio::io_context ioc;
    client::sse_client c(ioc.get_executor(), "127.0.0.1", s.port());
    c.start("quick", "all of it");
    const auto whole = run_coro(ioc, read_with_cuts(c, nullptr, 0));
    BOOST_REQUIRE(whole.events.size() == 201u);
    // Another process resumes from the terminal event's id: 204, nothing to do.
    client::sse_client later(ioc.get_executor(), "127.0.0.1", s.port());
    later.resume("quick", whole.events.back().id);
    const auto rest = run_coro(ioc, read_with_cuts(later, nullptr, 0));
    BOOST_TEST(rest.events.empty());
    // From an earlier id: exactly the events after it.
    client::sse_client tail(ioc.get_executor(), "127.0.0.1", s.port());
    tail.resume("quick", whole.events[189].id);
    const auto last = run_coro(ioc, read_with_cuts(tail, nullptr, 0));
    BOOST_REQUIRE(last.events.size() == 11u);
    BOOST_TEST(last.events.front().id == whole.events[190].id);
    BOOST_TEST(last.events.back().type == client::event_type::complete);
}

BOOST_AUTO_TEST_CASE(last_event_id_answers)
{
    test_server s(config("replay_buffer_bytes = 1024\n"));
    client_connection c(s.port());
    const auto whole = c.request(http::verb::get, "/api/stream/ai-block/quick?prompt=x");
    const auto body = parse_sse(whole.body());
    BOOST_REQUIRE(body.events.size() == 201u);
    const auto last = body.events.back().id;
    const auto stream_id = last.substr(0, 16);
    auto with_id = [&](const std::string& block, const std::string& id) {
        client_connection k(s.port());
        k.send("GET /api/stream/ai-block/" + block + "?prompt=x HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " + id + "\r\n\r\n");
        return k.read_response();
    };
    // Ended, and the client has the terminal event: 204, so EventSource stops.
    auto done = with_id("quick", last);
    BOOST_TEST(done.result_int() == 204);
    BOOST_TEST(done.body().empty());
    // The replay buffer keeps ~1 KiB of written events: the latest ones
    // resume, older ones are gone (410).
    auto recent = with_id("quick", stream_id + ".195");
    BOOST_TEST(recent.result_int() == 200);
    const auto tail = parse_sse(recent.body());
    BOOST_REQUIRE(tail.events.size() == 6u);
    BOOST_TEST(tail.events[0].id == stream_id + ".196");
    BOOST_TEST(tail.events[5].event == "complete");
    auto old = with_id("quick", stream_id + ".1");
    BOOST_TEST(old.result_int() == 410);
    BOOST_TEST(json::parse(old.body()).at("error").at("code").as_string() == "stream_expired");
    auto unknown = with_id("quick", "0123456789abcd00.3");
    BOOST_TEST(unknown.result_int() == 404);
    BOOST_TEST(json::parse(unknown.body()).at("error").at("code").as_string() == "unknown_stream");
    auto malformed = with_id("quick", "no-dot-here");
    BOOST_TEST(malformed.result_int() == 400);
    BOOST_TEST(json::parse(malformed.body()).at("error").at("code").as_string() == "invalid_request");
    auto beyond = with_id("quick", stream_id + ".999");
    BOOST_TEST(beyond.result_int() == 400);
    auto other_block = with_id("story", stream_id + ".195");
    BOOST_TEST(other_block.result_int() == 400);
    BOOST_TEST(std::string(json::parse(other_block.body()).at("error").at("message").as_string()).find("quick") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(ended_streams_are_kept_within_max_retained_bytes)
{
    // An ended stream of `quick` keeps about 8 KiB (201 events of ~30 bytes
    // and an 8-byte slot each, its log shrunk to that, and the record); 32
    // KiB for all (one worker) holds three or so: the oldest go.
    test_server s(config("max_retained_bytes = 32768\n"), 1);
    std::vector<std::string> last_ids;
    for (int i = 0; i < 8; ++i) {
        client_connection c(s.port());
        const auto body = parse_sse(c.request(http::verb::get, "/api/stream/ai-block/quick?prompt=" + std::to_string(i)).body());
        BOOST_REQUIRE(body.events.size() == 201u);
        last_ids.push_back(body.events.back().id);
    }
    auto resume_status = [&](const std::string& id) {
        client_connection k(s.port());
        k.send("GET /api/stream/ai-block/quick?prompt=x HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " + id + "\r\n\r\n");
        return k.read_response().result_int();
    };
    BOOST_TEST(resume_status(last_ids.front()) == 404);  // expired to stay within the budget
    BOOST_TEST(resume_status(last_ids.back()) == 204);   // the newest is kept
}

BOOST_AUTO_TEST_CASE(on_disconnect_cancel_stops_the_provider_and_a_resume_gets_the_end)
{
    test_server s(config());
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/paced?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto got = c.read_until(".3\nevent: chunk\n");
    const auto id_at = got.find("id: ") + 4;
    const auto stream_id = got.substr(id_at, 16);
    c.close();
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    BOOST_TEST(s.metric("liveai_streams_total", "outcome=\"cancelled\"") == 1.0);
    // The events it produced are still there, ending with complete/cancelled.
    client_connection k(s.port());
    k.send("GET /api/stream/ai-block/paced?prompt=x HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " + stream_id + ".2\r\n\r\n");
    const auto res = k.read_response();
    BOOST_TEST(res.result_int() == 200);
    const auto events = parse_sse(res.body()).events;
    BOOST_REQUIRE(!events.empty());
    BOOST_TEST(events.front().id == stream_id + ".3");
    BOOST_TEST(events.back().event == "complete");
    BOOST_TEST(json::parse(events.back().data).at("finish_reason").as_string() == "cancelled");
}

BOOST_AUTO_TEST_CASE(on_disconnect_detach_cancels_after_resume_grace)
{
    test_server s(config());
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/short_grace?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until(".2\nevent: chunk\n");
    c.close();
    BOOST_TEST(s.wait_for_metric("liveai_detached_streams_total", [](double v) { return v == 1; }));
    // Still generating right after the drop...
    BOOST_TEST(s.metric("liveai_streams_active") == 1.0);
    // ...and stopped once resume_grace (200 ms) passed with nobody back.
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }, 3000ms));
    BOOST_TEST(s.metric("liveai_streams_active") == 0.0);
}

BOOST_AUTO_TEST_CASE(delete_stops_a_stream_by_id)
{
    test_server s(config());
    client_connection c(s.port());
    // resumable=1: the stream's id comes first, before any event.
    c.send("GET /api/stream/ai-block/story?prompt=x&resumable=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto got = c.read_until(".0\n\n");
    BOOST_TEST(got.find("retry: 2000\nid: ") != std::string::npos);
    const auto stream_id = got.substr(got.find("id: ") + 4, 16);
    client_connection d(s.port());
    const auto stopped = d.request(http::verb::delete_, "/api/streams/" + stream_id);
    BOOST_TEST(stopped.result_int() == 200);
    BOOST_TEST(json::parse(stopped.body()).at("status").as_string() == "cancelled");
    const auto rest = c.read_until("event: complete\n");
    BOOST_TEST(rest.find(R"("finish_reason":"cancelled")") != std::string::npos);
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    const auto again = d.request(http::verb::delete_, "/api/streams/" + stream_id);
    BOOST_TEST(json::parse(again.body()).at("status").as_string() == "ended");
    const auto unknown = d.request(http::verb::delete_, "/api/streams/0123456789abcd00");
    BOOST_TEST(unknown.result_int() == 404);
}

BOOST_AUTO_TEST_CASE(clients_report_what_a_retry_cannot_fix)
{
    test_server s(config());
    boost::asio::io_context ioc;
    client::sse_client c(ioc.get_executor(), "127.0.0.1", s.port());
    c.start("no_such_block", "x");
    try {
        run_coro(ioc, read_with_cuts(c, nullptr, 0));
        BOOST_FAIL("expected unknown_block");
    } catch (const liveai::stream_error& e) {
        BOOST_TEST(e.code() == liveai::make_error_code(liveai::error::unknown_block));
    }
    // Nobody listening: the retry budget runs out.
    cutting_proxy proxy(s.port());
    client::sse_client gone(ioc.get_executor(), "127.0.0.1", 1, {.initial_delay = 1ms, .max_delay = 5ms, .max_attempts = 3});
    gone.start("story", "x");
    try {
        run_coro(ioc, read_with_cuts(gone, nullptr, 0));
        BOOST_FAIL("expected retries_exhausted");
    } catch (const liveai::stream_error& e) {
        BOOST_TEST(e.code() == liveai::make_error_code(liveai::error::retries_exhausted));
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(clients_v1_1)

// The C++ clients give reasoning and tool-call events as such, over SSE and WebSocket.
BOOST_AUTO_TEST_CASE(cpp_clients_expose_reasoning_and_tool_calls)
{
    test_server s(R"(
[blocks.agent]
provider = "mock"
streaming = true
[blocks.agent.mock]
text = "On it."
echo_words = 0
reasoning = "Call the tool."
tool_name = "get_weather"
tool_arguments = '{"city": "Paris"}'
)");
    auto read = [](auto& c) -> boost::asio::awaitable<std::vector<client::stream_event>> {
        std::vector<client::stream_event> got;
        while (auto ev = co_await c.next()) got.push_back(std::move(*ev));
        co_return got;
    };
    boost::asio::io_context ioc;
    client::sse_client sse(ioc.get_executor(), "127.0.0.1", s.port());
    sse.start("agent", "weather");
    client::ws_client ws(ioc.get_executor(), "127.0.0.1", s.port());
    ws.start("agent", "weather");
    const auto via_sse = run_coro(ioc, read(sse));
    const auto via_ws = run_coro(ioc, read(ws));
    for (const auto* events : {&via_sse, &via_ws}) {
        std::string reasoning, text, arguments, id, name;
        for (const auto& e : *events) {
            if (e.type == client::event_type::reasoning) reasoning += e.text;
            if (e.type == client::event_type::chunk) text += e.text;
            if (e.type == client::event_type::tool_call) {
                arguments += e.text;
                if (!e.tool_call_id.empty()) id = e.tool_call_id;
                if (!e.tool_name.empty()) name = e.tool_name;
            }
        }
        BOOST_TEST(reasoning == "Call the tool.");
        BOOST_TEST(text == "On it.");
        BOOST_TEST(arguments == R"({"city": "Paris"})");
        BOOST_TEST(id == "call_mock_0");
        BOOST_TEST(name == "get_weather");
        BOOST_REQUIRE(!events->empty());
        BOOST_TEST((events->back().type == client::event_type::complete));
        BOOST_TEST((events->back().finish == liveai::finish_reason::tool_calls));
    }
}

BOOST_AUTO_TEST_SUITE_END()
