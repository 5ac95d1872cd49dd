// The reference server over real sockets on 127.0.0.1.
#include "../support/printers.hpp"
#include "../support/test_server.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>

using namespace liveai::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace websocket = boost::beast::websocket;

namespace {

const std::string blocks = R"(
[blocks.fast]
provider = "mock"
streaming = true
[blocks.fast.mock]
tokens = 12
seed = 1

[blocks.fixed]
provider = "mock"
streaming = true
[blocks.fixed.mock]
text = "Hi \"there\"\nfriend"
echo_words = 0

[blocks.paced]
provider = "mock"
streaming = true
[blocks.paced.mock]
tokens = 10
delay_ms = 5

[blocks.slow]
provider = "mock"
streaming = true
[blocks.slow.mock]
tokens = 3
first_token_delay_ms = 60000
delay_ms = 60000

[blocks.stall]
provider = "mock"
streaming = true
[blocks.stall.mock]
tokens = 3
echo_words = 0
delay_ms = 60000

[blocks.fail]
provider = "mock"
streaming = true
[blocks.fail.mock]
tokens = 16
fail_after = 3
fail_code = "provider_error"
echo_words = 0

[blocks.nostream]
provider = "mock"
streaming = false
[blocks.nostream.mock]
tokens = 5

[blocks.flood]
provider = "mock"
streaming = true
total_timeout_ms = 0
[blocks.flood.mock]
tokens = 1000000
echo_words = 0

[blocks.tiny]
provider = "mock"
streaming = true
max_prompt_bytes = 16
)";

std::string config(const std::string& server = "")
{
    return "[server]\n" + server + "\n" + blocks;
}

// De-chunks a chunked HTTP body already separated from its header.
std::string dechunk(std::string_view raw)
{
    std::string out;
    for (;;) {
        const auto eol = raw.find("\r\n");
        BOOST_REQUIRE(eol != std::string_view::npos);
        const auto size = std::stoul(std::string(raw.substr(0, eol)), nullptr, 16);
        raw.remove_prefix(eol + 2);
        if (size == 0) break;
        out.append(raw.substr(0, size));
        BOOST_REQUIRE(raw.substr(size, 2) == "\r\n");
        raw.remove_prefix(size + 2);
    }
    return out;
}

json::object data_of(const sse_event& e)
{
    return json::parse(e.data).as_object();
}

std::string error_code_of(const http::response<http::string_body>& res)
{
    return std::string(json::parse(res.body()).at("error").at("code").as_string());
}

// Checks the contract's shape of a whole stream and returns the chunk texts.
std::vector<std::string> check_stream(const sse_body& body, const std::string& terminal)
{
    BOOST_TEST(body.retry == "2000");
    BOOST_REQUIRE(!body.events.empty());
    std::vector<std::string> texts;
    const auto stream_id = body.events[0].id.substr(0, body.events[0].id.find('.'));
    BOOST_TEST(stream_id.size() == 16u);
    for (std::size_t i = 0; i < body.events.size(); ++i) {
        const auto& e = body.events[i];
        BOOST_TEST(e.id == stream_id + "." + std::to_string(i + 1));
        if (i + 1 < body.events.size()) {
            BOOST_TEST(e.event == "chunk");
            const auto d = data_of(e);
            BOOST_TEST(d.at("index").as_int64() == static_cast<std::int64_t>(i));
            texts.emplace_back(d.at("text").as_string());
        } else {
            BOOST_TEST(e.event == terminal);
        }
    }
    return texts;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_endpoints)

BOOST_AUTO_TEST_CASE(health_blocks_metrics_and_demo_page)
{
    test_server s(config());
    auto health = get(s.port(), "/healthz");
    BOOST_TEST(health.result_int() == 200);
    BOOST_TEST(health.body() == R"({"status":"ok"})");

    auto list = get(s.port(), "/api/blocks");
    BOOST_TEST(list.result_int() == 200);
    const auto blocks = json::parse(list.body()).at("blocks").as_array();
    BOOST_TEST(blocks.size() == 9u);
    bool saw_nostream = false;
    for (const auto& b : blocks) {
        if (b.at("name") == "nostream") {
            saw_nostream = true;
            BOOST_TEST(b.at("streaming").as_bool() == false);
            BOOST_TEST(b.at("provider").as_string() == "mock");
        }
    }
    BOOST_TEST(saw_nostream);

    auto metrics = get(s.port(), "/metrics");
    BOOST_TEST(metrics.result_int() == 200);
    for (const char* name : {"liveai_streams_active", "liveai_streams_total{outcome=\"complete\"}", "liveai_chunks_total",
                             "liveai_provider_cancellations_total", "liveai_time_to_first_chunk_seconds_bucket",
                             "liveai_inter_chunk_gap_seconds_bucket", "liveai_connections_active"})
        BOOST_TEST(metrics.body().find(name) != std::string::npos, name);

    auto page = get(s.port(), "/");
    BOOST_TEST(page.result_int() == 200);
    BOOST_TEST(page.body().find("EventSource") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sse_get_stream_headers_ids_and_order)
{
    test_server s(config());
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/fast?prompt=hello%20there HTTP/1.1\r\nHost: x\r\n\r\n");
    auto res = c.read_response();
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res[http::field::content_type] == "text/event-stream; charset=utf-8");
    BOOST_TEST(res[http::field::cache_control] == "no-cache");
    BOOST_TEST(res["X-Accel-Buffering"] == "no");
    BOOST_TEST(res.chunked());
    const auto body = parse_sse(res.body());
    BOOST_TEST(res.body().rfind("retry: 2000\n\n", 0) == 0u);
    BOOST_TEST(body.last_event_id.ends_with(".13"));
    const auto texts = check_stream(body, "complete");
    BOOST_TEST(texts.size() == 12u);
    BOOST_TEST(texts[0] == "hello");
    BOOST_TEST(texts[1] == " there");
    const auto done = data_of(body.events.back());
    BOOST_TEST(done.at("finish_reason").as_string() == "stop");
    BOOST_TEST(done.at("chunks").as_int64() == 12);
    BOOST_TEST(done.at("usage").at("output_tokens").as_int64() == 12);
    BOOST_TEST(done.at("usage").at("input_tokens").as_int64() == 2);

    // The collect endpoint gives the same text for the same prompt.
    auto collected = post(s.port(), "/api/ai-block/fast", R"({"prompt":"hello there"})");
    BOOST_TEST(collected.result_int() == 200);
    const auto result = json::parse(collected.body()).as_object();
    std::string joined;
    for (const auto& t : texts) joined += t;
    BOOST_TEST(result.at("text").as_string() == joined);
    BOOST_TEST(result.at("block_type").as_string() == "fast");
    BOOST_TEST(result.at("finish_reason").as_string() == "stop");
    BOOST_TEST(result.at("usage").at("output_tokens").as_int64() == 12);
}

BOOST_AUTO_TEST_CASE(sse_framing_is_byte_exact)
{
    test_server s(config());
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/fixed?prompt=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const std::string raw = c.read_to_close();
    const auto header_end = raw.find("\r\n\r\n");
    BOOST_REQUIRE(header_end != std::string::npos);
    BOOST_TEST(raw.substr(0, header_end + 4) ==
               "HTTP/1.1 200 OK\r\n"
               "Content-Type: text/event-stream; charset=utf-8\r\n"
               "Cache-Control: no-cache\r\n"
               "X-Accel-Buffering: no\r\n"
               "Transfer-Encoding: chunked\r\n"
               "Connection: close\r\n\r\n");
    const std::string body = dechunk(std::string_view(raw).substr(header_end + 4));
    const auto id = body.substr(body.find("id: ") + 4, 16);
    const std::string expected =
        "retry: 2000\n\n"
        "id: " + id + ".1\nevent: chunk\ndata: {\"index\":0,\"text\":\"Hi\"}\n\n"
        "id: " + id + ".2\nevent: chunk\ndata: {\"index\":1,\"text\":\" \\\"there\\\"\"}\n\n"
        "id: " + id + ".3\nevent: chunk\ndata: {\"index\":2,\"text\":\"\\nfriend\"}\n\n"
        "id: " + id + ".4\nevent: complete\ndata: {\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":1,\"output_tokens\":3},\"chunks\":3}\n\n";
    BOOST_TEST(body == expected);
}

BOOST_AUTO_TEST_CASE(http_1_0_clients_get_a_close_delimited_stream)
{
    // RFC 9112 forbids chunked coding toward an HTTP/1.0 client (nginx
    // without proxy_http_version 1.1 is one): the body ends with the connection.
    test_server s(config());
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/fixed?prompt=x HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
    const std::string raw = c.read_to_close();
    const auto header_end = raw.find("\r\n\r\n");
    BOOST_REQUIRE(header_end != std::string::npos);
    const auto head = raw.substr(0, header_end + 4);
    BOOST_TEST(head ==
               "HTTP/1.1 200 OK\r\n"
               "Content-Type: text/event-stream; charset=utf-8\r\n"
               "Cache-Control: no-cache\r\n"
               "X-Accel-Buffering: no\r\n"
               "Connection: close\r\n\r\n");
    const std::string body = raw.substr(header_end + 4);
    BOOST_TEST(body.starts_with("retry: 2000\n\nid: "));
    const auto events = parse_sse(body);
    BOOST_TEST(check_stream(events, "complete").size() == 3u);

    // The answers that are not streams keep their Content-Length, and close too.
    client_connection h(s.port());
    h.send("GET /healthz HTTP/1.0\r\n\r\n");
    const std::string health = h.read_to_close();
    BOOST_TEST(health.find("Content-Length: 15\r\n") != std::string::npos);
    BOOST_TEST(health.ends_with(R"({"status":"ok"})"));
    BOOST_TEST(health.find("Connection: close\r\n") != std::string::npos);

    // One that asks to keep the connection is told it is kept, and is served again.
    client_connection k(s.port());
    k.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const std::string first = k.read_until("{\"status\":\"ok\"}");
    BOOST_TEST(first.find("Connection: keep-alive\r\n") != std::string::npos);
    k.send("GET /healthz HTTP/1.0\r\n\r\n");
    BOOST_TEST(k.read_to_close().ends_with(R"({"status":"ok"})"));
}

BOOST_AUTO_TEST_CASE(sse_post_stream_and_bad_bodies)
{
    test_server s(config());
    auto res = post(s.port(), "/api/stream/ai-block/fast", R"({"prompt":"from post"})");
    BOOST_TEST(res.result_int() == 200);
    const auto texts = check_stream(parse_sse(res.body()), "complete");
    BOOST_TEST(texts.at(0) == "from");

    auto bad_json = post(s.port(), "/api/stream/ai-block/fast", "{not json");
    BOOST_TEST(bad_json.result_int() == 400);
    BOOST_TEST(error_code_of(bad_json) == "invalid_json");
    BOOST_TEST(bad_json[http::field::content_type] == "application/json");

    auto no_prompt = post(s.port(), "/api/stream/ai-block/fast", R"({"text":"x"})");
    BOOST_TEST(no_prompt.result_int() == 400);
    BOOST_TEST(error_code_of(no_prompt) == "invalid_prompt");

    auto empty = get(s.port(), "/api/stream/ai-block/fast?prompt=");
    BOOST_TEST(error_code_of(empty) == "invalid_prompt");
    auto missing = get(s.port(), "/api/stream/ai-block/fast");
    BOOST_TEST(error_code_of(missing) == "invalid_prompt");
    auto bad_utf8 = get(s.port(), "/api/stream/ai-block/fast?prompt=%C3");
    BOOST_TEST(bad_utf8.result_int() == 400);
    BOOST_TEST(error_code_of(bad_utf8) == "invalid_prompt");
    auto bad_escape = get(s.port(), "/api/stream/ai-block/fast?prompt=%ZZ");
    BOOST_TEST(bad_escape.result_int() == 400);
    BOOST_TEST(error_code_of(bad_escape) == "invalid_request");
}

BOOST_AUTO_TEST_CASE(keep_alive_reuse_after_a_stream)
{
    test_server s(config());
    client_connection c(s.port());
    for (int round = 0; round < 3; ++round) {
        auto res = c.request(http::verb::get, "/api/stream/ai-block/paced?prompt=again");
        BOOST_TEST(res.result_int() == 200);
        BOOST_TEST(check_stream(parse_sse(res.body()), "complete").size() == 10u);
        auto health = c.request(http::verb::get, "/healthz");
        BOOST_TEST(health.result_int() == 200);
    }
    BOOST_TEST(s.metric("liveai_connections_total") == 1.0);
}

BOOST_AUTO_TEST_CASE(provider_failure_is_one_error_event_last)
{
    test_server s(config());
    auto res = get(s.port(), "/api/stream/ai-block/fail?prompt=x");
    BOOST_TEST(res.result_int() == 200);
    const auto body = parse_sse(res.body());
    const auto texts = check_stream(body, "error");
    BOOST_TEST(texts.size() == 3u);
    const auto err = data_of(body.events.back());
    BOOST_TEST(err.at("code").as_string() == "provider_error");
    BOOST_TEST(err.at("retryable").as_bool() == false);
    BOOST_TEST(!err.at("message").as_string().empty());
    BOOST_TEST(s.metric("liveai_streams_total", "outcome=\"error\"") == 1.0);
}

BOOST_AUTO_TEST_CASE(routing_errors)
{
    test_server s(config());
    auto disabled = get(s.port(), "/api/stream/ai-block/nostream?prompt=x");
    BOOST_TEST(disabled.result_int() == 409);
    BOOST_TEST(error_code_of(disabled) == "streaming_disabled");
    auto collect = post(s.port(), "/api/ai-block/nostream", R"({"prompt":"x"})");
    BOOST_TEST(collect.result_int() == 200);

    auto unknown = get(s.port(), "/api/stream/ai-block/nope?prompt=x");
    BOOST_TEST(unknown.result_int() == 404);
    BOOST_TEST(error_code_of(unknown) == "unknown_block");
    auto bad_name = get(s.port(), "/api/stream/ai-block/..%2Fetc?prompt=x");
    BOOST_TEST(error_code_of(bad_name) == "unknown_block");
    auto nowhere = get(s.port(), "/nowhere");
    BOOST_TEST(nowhere.result_int() == 404);
    BOOST_TEST(error_code_of(nowhere) == "not_found");

    client_connection c(s.port());
    auto put = c.request(http::verb::put, "/api/stream/ai-block/fast");
    BOOST_TEST(put.result_int() == 405);
    BOOST_TEST(put[http::field::allow] == "GET, POST");
    BOOST_TEST(error_code_of(put) == "method_not_allowed");
    auto get_collect = c.request(http::verb::get, "/api/ai-block/fast");
    BOOST_TEST(get_collect.result_int() == 405);
    auto ws_plain = c.request(http::verb::get, "/api/ws/ai-block/fast");
    BOOST_TEST(ws_plain.result_int() == 426);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(server_limits)

BOOST_AUTO_TEST_CASE(oversized_headers_url_body_and_prompt)
{
    test_server s(config("max_header_bytes = 2048\nmax_url_bytes = 512\nmax_body_bytes = 1024"));
    {
        client_connection c(s.port());
        c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
        auto res = c.read_response();
        BOOST_TEST(res.result_int() == 431);
        BOOST_TEST(error_code_of(res) == "headers_too_large");
        BOOST_TEST(c.closed_by_server());
    }
    {
        client_connection c(s.port());
        c.send("GET /api/stream/ai-block/fast?prompt=" + std::string(1000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
        auto res = c.read_response();
        BOOST_TEST(res.result_int() == 414);
        BOOST_TEST(error_code_of(res) == "uri_too_long");
    }
    {
        client_connection c(s.port());
        c.send("GET /api/stream/ai-block/fast?prompt=" + std::string(4000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
        auto res = c.read_response();
        BOOST_TEST(res.result_int() == 414);
    }
    auto body = post(s.port(), "/api/stream/ai-block/fast", R"({"prompt":")" + std::string(2000, 'a') + "\"}");
    BOOST_TEST(body.result_int() == 413);
    BOOST_TEST(error_code_of(body) == "body_too_large");
    auto prompt = post(s.port(), "/api/stream/ai-block/tiny", R"({"prompt":")" + std::string(17, 'a') + "\"}");
    BOOST_TEST(prompt.result_int() == 413);
    BOOST_TEST(error_code_of(prompt) == "prompt_too_large");
    BOOST_TEST(get(s.port(), "/healthz").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(stream_limit_answers_503_with_retry_after)
{
    test_server s(config("max_streams = 1\noverload_retry_after_s = 3"));
    client_connection holder(s.port());
    holder.send("GET /api/stream/ai-block/slow?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    holder.read_until("retry: 2000");
    auto res = get(s.port(), "/api/stream/ai-block/fast?prompt=x");
    BOOST_TEST(res.result_int() == 503);
    BOOST_TEST(error_code_of(res) == "overloaded");
    BOOST_TEST(res[http::field::retry_after] == "3");
    auto collect = post(s.port(), "/api/ai-block/fast", R"({"prompt":"x"})");
    BOOST_TEST(collect.result_int() == 503);
    holder.close();
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }));
    BOOST_TEST(get(s.port(), "/api/stream/ai-block/fast?prompt=x").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(connection_limit)
{
    test_server s(config("max_connections = 2"), 1);
    client_connection a(s.port()), b(s.port());
    a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST(a.read_response().result_int() == 200);
    BOOST_TEST(b.read_response().result_int() == 200);
    client_connection third(s.port());
    auto res = third.read_response();
    BOOST_TEST(res.result_int() == 503);
    BOOST_TEST(error_code_of(res) == "overloaded");
    BOOST_TEST(!res[http::field::retry_after].empty());
}

BOOST_AUTO_TEST_CASE(slowloris_and_idle_keep_alive_are_cut_off)
{
    test_server s(config("header_timeout_ms = 200\nkeep_alive_timeout_ms = 300"));
    client_connection slow(s.port());
    slow.send("GET /healthz HTTP/1.1\r\nHo");
    BOOST_TEST(slow.closed_by_server());
    BOOST_TEST(slow.received().empty());  // cut off, not answered
    // A body that stops coming is cut off the same way (header_timeout
    // covers the whole request), not answered as malformed.
    client_connection slow_body(s.port());
    slow_body.send("POST /api/ai-block/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: 50\r\n\r\n{\"pro");
    BOOST_TEST(slow_body.closed_by_server());
    BOOST_TEST(slow_body.received().empty());
    client_connection idle(s.port());
    BOOST_TEST(idle.request(http::verb::get, "/healthz").result_int() == 200);
    BOOST_TEST(idle.closed_by_server());
}

BOOST_AUTO_TEST_CASE(malformed_http_closes_only_that_connection)
{
    test_server s(config());
    client_connection other(s.port());
    client_connection bad(s.port());
    bad.send("THIS IS NOT HTTP\r\n\r\n");
    auto res = bad.read_response();
    BOOST_TEST(res.result_int() == 400);
    BOOST_TEST(error_code_of(res) == "invalid_request");
    BOOST_TEST(bad.closed_by_server());
    BOOST_TEST(other.request(http::verb::get, "/healthz").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(a_request_sent_during_a_stream_is_answered_after_it)
{
    test_server s(config());
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/paced?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until("event: chunk");
    // Mid-stream, so the stream's watcher reads it (one byte, then what is
    // there) and keeps it for after the stream.
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until("event: complete");
    const auto all = c.read_until("\r\n0\r\n\r\n");
    c.received().erase(0, all.find("\r\n0\r\n\r\n") + 7);
    const auto res = c.read_response();
    BOOST_TEST(res.result_int() == 200);
}

BOOST_AUTO_TEST_CASE(heartbeat_while_the_provider_is_silent)
{
    test_server s(config("heartbeat_interval_ms = 150"));
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/slow?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto got = c.read_until(": ping\n\n");
    BOOST_TEST(got.find("event: chunk") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(slow_reader_gets_slow_consumer_and_memory_stays_bounded)
{
    test_server s(config("write_queue_bytes = 4096\nslow_consumer_timeout_ms = 200"));
    client_connection c(s.port(), 20'000ms, 4096);
    c.send("GET /api/stream/ai-block/flood?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    // Never read: the server must give up on this client by itself.
    BOOST_TEST(s.wait_for_metric("liveai_slow_consumers_total", [](double v) { return v == 1; }, 20'000ms));
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }));
    BOOST_TEST(s.metric("liveai_provider_cancellations_total") == 1.0);
    BOOST_TEST(s.metric("liveai_streams_total", "outcome=\"error\"") == 1.0);
}

BOOST_AUTO_TEST_CASE(a_client_that_leaves_while_the_writer_is_blocked_is_noticed_at_once)
{
    // The socket is full (the client never reads), then the client sends FIN:
    // the stream must end now, not after slow_consumer_timeout.
    test_server s(config("write_queue_bytes = 4096\nslow_consumer_timeout_ms = 60000"));
    client_connection c(s.port(), 20'000ms, 4096);
    c.send("GET /api/stream/ai-block/flood?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(500ms);  // let the server fill the socket and block its writer
    c.socket().shutdown(tcp::socket::shutdown_send);
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }, 10'000ms));
    BOOST_TEST(s.metric("liveai_slow_consumers_total") == 0.0);
    BOOST_TEST(s.metric("liveai_provider_cancellations_total") == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(server_cancellation)

BOOST_AUTO_TEST_CASE(client_close_before_first_token_cancels_the_provider)
{
    test_server s(config());
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/slow?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until("retry: 2000\n\n");
    BOOST_TEST(s.metric("liveai_streams_active") == 1.0);
    c.close();
    // The provider waits 60 s for its first token; the server must not.
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }));
    BOOST_TEST(s.metric("liveai_streams_total", "outcome=\"cancelled\"") == 1.0);
}

BOOST_AUTO_TEST_CASE(client_close_between_tokens_cancels_the_provider)
{
    test_server s(config());
    client_connection c(s.port());
    c.send("GET /api/stream/ai-block/stall?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until("event: chunk");
    c.close();
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }));
    BOOST_TEST(s.metric("liveai_chunks_total") == 1.0);
}

BOOST_AUTO_TEST_CASE(client_close_during_collect_cancels_the_provider)
{
    test_server s(config());
    client_connection c(s.port());
    const std::string body = R"({"prompt":"x"})";
    c.send("POST /api/ai-block/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 1; }));
    c.close();
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }));
}

BOOST_AUTO_TEST_CASE(a_request_sent_during_a_collect_is_answered_after_it)
{
    // 4 tokens 150 ms apart: the next request surely comes while it runs.
    test_server s(config() + "\n[blocks.measured]\nprovider = \"mock\"\n[blocks.measured.mock]\ntokens = 4\ndelay_ms = 150\n");
    client_connection c(s.port());
    const std::string body = R"({"prompt":"x"})";
    c.send("POST /api/ai-block/measured HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 1; }));
    // While the answer is collected, so the watcher reads it (one byte, then
    // what is there) and keeps it for after.
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto collected = c.read_response();
    BOOST_TEST(collected.result_int() == 200);
    BOOST_TEST(collected.body().find("\"text\"") != std::string::npos);
    BOOST_TEST(s.metric("liveai_provider_cancellations_total") == 0.0);
    const auto health = c.read_response();
    BOOST_TEST(health.result_int() == 200);
}

BOOST_AUTO_TEST_CASE(graceful_shutdown_ends_streams_with_server_shutdown)
{
    auto s = std::make_unique<test_server>(config("shutdown_timeout_ms = 5000"));
    client_connection c(s->port());
    c.send("GET /api/stream/ai-block/slow?prompt=x HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until("retry: 2000\n\n");
    client_connection idle(s->port());
    BOOST_TEST(idle.request(http::verb::get, "/healthz").result_int() == 200);
    const auto start = std::chrono::steady_clock::now();
    s->shutdown_and_wait();
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
    const auto raw = c.read_to_close();
    const auto body = parse_sse(dechunk(raw.substr(raw.find("\r\n\r\n") + 4)));
    BOOST_REQUIRE(!body.events.empty());
    BOOST_TEST(body.events.back().event == "error");
    const auto err = data_of(body.events.back());
    BOOST_TEST(err.at("code").as_string() == "server_shutdown");
    BOOST_TEST(err.at("retryable").as_bool() == true);
    BOOST_TEST(idle.closed_by_server());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(server_websocket)

namespace {

struct ws_client {
    boost::asio::io_context ioc;
    websocket::stream<tcp::socket> ws{ioc};

    ws_client(std::uint16_t port, const std::string& block)
    {
        auto& sock = ws.next_layer();
        sock.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
        timeval tv{10, 0};
        ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ws.handshake("127.0.0.1", "/api/ws/ai-block/" + block);
    }
    void send(const std::string& text)
    {
        ws.text(true);
        ws.write(boost::asio::buffer(text));
    }
    json::object receive()
    {
        boost::beast::flat_buffer buffer;
        ws.read(buffer);
        BOOST_TEST(ws.got_text());
        return json::parse(boost::beast::buffers_to_string(buffer.data())).as_object();
    }
    // The next read finds the server's close frame with `code`.
    void expect_close(websocket::close_code code)
    {
        boost::beast::flat_buffer b;
        boost::system::error_code ec;
        ws.read(b, ec);
        BOOST_TEST((ec == websocket::error::closed), ec.message());
        BOOST_TEST(ws.reason().code == code);
    }
    // Messages up to and including the next terminal one.
    std::vector<json::object> until_terminal()
    {
        std::vector<json::object> got;
        for (;;) {
            got.push_back(receive());
            const auto& type = got.back().at("type").as_string();
            if (type == "complete" || type == "error") return got;
        }
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(start_streams_chunks_then_complete_and_again)
{
    test_server s(config());
    ws_client c(s.port(), "fast");
    for (int round = 0; round < 2; ++round) {
        c.send(R"({"type":"start","prompt":"web socket"})");
        const auto msgs = c.until_terminal();
        BOOST_REQUIRE(msgs.size() == 13u);
        for (std::size_t i = 0; i < 12; ++i) {
            BOOST_TEST(msgs[i].at("type").as_string() == "chunk");
            BOOST_TEST(msgs[i].at("index").as_int64() == static_cast<std::int64_t>(i));
        }
        BOOST_TEST(msgs[0].at("text").as_string() == "web");
        BOOST_TEST(msgs[12].at("type").as_string() == "complete");
        BOOST_TEST(msgs[12].at("finish_reason").as_string() == "stop");
        BOOST_TEST(msgs[12].at("chunks").as_int64() == 12);
    }
}

BOOST_AUTO_TEST_CASE(cancel_busy_bad_message_and_binary)
{
    test_server s(config());
    ws_client c(s.port(), "stall");
    c.send(R"({"type":"start","prompt":"x"})");
    BOOST_TEST(c.receive().at("type").as_string() == "chunk");
    c.send(R"({"type":"start","prompt":"y"})");
    auto busy = c.receive();
    BOOST_TEST(busy.at("type").as_string() == "error");
    BOOST_TEST(busy.at("code").as_string() == "stream_busy");
    c.send("not json");
    auto bad = c.receive();
    BOOST_TEST(bad.at("code").as_string() == "invalid_message");
    c.send(R"({"type":"dance"})");
    BOOST_TEST(c.receive().at("code").as_string() == "invalid_message");
    c.ws.binary(true);
    c.ws.write(boost::asio::buffer(std::string("\x01\x02")));
    BOOST_TEST(c.receive().at("code").as_string() == "unsupported_frame");
    c.send(R"({"type":"cancel"})");
    auto done = c.receive();
    BOOST_TEST(done.at("type").as_string() == "complete");
    BOOST_TEST(done.at("finish_reason").as_string() == "cancelled");
    BOOST_TEST(done.at("chunks").as_int64() == 1);
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    // Still usable: a new stream on the same connection.
    c.send(R"({"type":"start","prompt":"z"})");
    BOOST_TEST(c.receive().at("type").as_string() == "chunk");
}

BOOST_AUTO_TEST_CASE(closing_the_socket_cancels_the_provider)
{
    test_server s(config());
    {
        ws_client c(s.port(), "slow");
        c.send(R"({"type":"start","prompt":"x"})");
        BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 1; }));
        c.ws.next_layer().close();
    }
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }));
}

BOOST_AUTO_TEST_CASE(pings_are_answered_and_fragments_make_one_message)
{
    test_server s(config());
    ws_client c(s.port(), "fast");
    std::vector<std::string> pongs;
    c.ws.control_callback([&](websocket::frame_type kind, boost::beast::string_view payload) {
        if (kind == websocket::frame_type::pong) pongs.emplace_back(payload);
    });
    c.ws.ping("are you there");
    // A start message in three fragments, a ping between two of them.
    c.ws.text(true);
    c.ws.write_some(false, boost::asio::buffer(std::string(R"({"type":"st)")));
    c.ws.write_some(false, boost::asio::buffer(std::string(R"(art","prompt")")));
    c.ws.ping("between");
    c.ws.write_some(true, boost::asio::buffer(std::string(R"(:"frag ment"})")));
    const auto msgs = c.until_terminal();
    BOOST_TEST(msgs.size() == 13u);
    BOOST_TEST(msgs.front().at("text").as_string() == "frag");
    BOOST_TEST(msgs.back().at("type").as_string() == "complete");
    BOOST_TEST(pongs == (std::vector<std::string>{"are you there", "between"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_client_close_is_answered_and_cancels_its_stream)
{
    test_server s(config());
    ws_client c(s.port(), "slow");
    c.send(R"({"type":"start","prompt":"x"})");
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 1; }));
    // Beast's close returns without an error once the server's close frame
    // came and the server then closed the TCP connection.
    boost::system::error_code ec;
    c.ws.close(websocket::close_reason(websocket::close_code::normal, "done here"), ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(c.ws.reason().code == websocket::close_code::normal);  // the server's answer echoes the code
    BOOST_TEST(s.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }));
}

BOOST_AUTO_TEST_CASE(oversized_invalid_and_unmasked_messages_close_with_their_codes)
{
    test_server s(config("max_ws_message_bytes = 1024"));
    {
        ws_client c(s.port(), "fast");
        c.send(std::string(2000, 'x'));
        const auto e = c.receive();
        BOOST_TEST(e.at("code").as_string() == "invalid_message");
        BOOST_TEST(std::string(e.at("message").as_string()).find("1024 bytes") != std::string::npos);
        c.expect_close(websocket::close_code::too_big);
    }
    {
        ws_client c(s.port(), "fast");
        c.send("{\"type\":\"start\",\"prompt\":\"\xc3(\"}");
        const auto e = c.receive();
        BOOST_TEST(e.at("code").as_string() == "invalid_message");
        c.expect_close(websocket::close_code::bad_payload);
    }
    {
        ws_client c(s.port(), "fast");
        boost::asio::write(c.ws.next_layer(), boost::asio::buffer(std::string("\x81\x01x", 3)));  // not masked
        c.expect_close(websocket::close_code::protocol_error);
    }
}

BOOST_AUTO_TEST_CASE(a_silent_client_is_pinged_then_dropped)
{
    test_server s(config("ws_idle_timeout_ms = 1000"));
    ws_client c(s.port(), "fast");
    auto& sock = c.ws.next_layer();
    const auto start = std::chrono::steady_clock::now();
    std::string got;
    char buf[64];
    boost::system::error_code ec;
    for (;;) {
        const auto n = sock.read_some(boost::asio::buffer(buf), ec);
        if (ec) break;
        got.append(buf, n);
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST(got == std::string("\x89\x00", 2));  // one empty ping, unanswered
    BOOST_TEST((ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset), ec.message());
    BOOST_TEST(waited >= 900ms);
    BOOST_TEST(waited < 5s);
}

BOOST_AUTO_TEST_CASE(streaming_disabled_and_unknown_block)
{
    test_server s(config());
    BOOST_CHECK_THROW(ws_client(s.port(), "nostream"), boost::system::system_error);
    BOOST_CHECK_THROW(ws_client(s.port(), "nope"), boost::system::system_error);
}


// Contract v1.1: a conversation with a tool round trip, over SSE, WebSocket
// and collect. The mock reasons, says a sentence, calls get_weather; given
// the tool's result it answers with it.
BOOST_AUTO_TEST_CASE(a_tool_round_trip_over_sse_websocket_and_collect)
{
    test_server s(R"(
[blocks.tools]
provider = "mock"
streaming = true
[blocks.tools.mock]
text = "Here it is."
echo_words = 6
reasoning = "The user wants the weather."
tool_name = "get_weather"
tool_arguments = '{"city": "Paris"}'
)");
    const std::string tools = R"("tools": [{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])";
    const std::string ask = R"({"messages": [{"role": "user", "content": "Weather in Paris?"}], )" + tools + "}";
    const std::string answer = R"({"messages": [{"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_mock_0", "type": "function",
          "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_mock_0", "content": "18 C, sunny"}], )" + tools + "}";

    // SSE: reasoning, chunks, the call's fragments, then complete tool_calls.
    auto first = parse_sse(post(s.port(), "/api/stream/ai-block/tools", ask).body());
    std::string reasoning, text, arguments, kinds;
    for (const auto& e : first.events) {
        const auto d = data_of(e);
        if (kinds.empty() || kinds.back() != e.event[0]) kinds += e.event[0];
        if (e.event == "reasoning") reasoning += d.at("text").as_string();
        if (e.event == "chunk") text += d.at("text").as_string();
        if (e.event == "tool_call") {
            arguments += d.at("arguments").as_string();
            BOOST_TEST(d.at("index").as_int64() == 0);
            if (d.contains("name")) BOOST_TEST(d.at("name").as_string() == "get_weather");
        }
    }
    BOOST_TEST(kinds == "rctc");  // reasoning, chunk, tool_call, complete
    BOOST_TEST(reasoning == "The user wants the weather.");
    BOOST_TEST(text == "Weather in Paris? Here it is.");
    BOOST_TEST(arguments == R"({"city": "Paris"})");
    BOOST_TEST(data_of(first.events.back()).at("finish_reason").as_string() == "tool_calls");
    BOOST_TEST(data_of(first.events.back()).at("chunks").as_int64() == 6);  // text chunks only

    // The tool's result goes back; the answer is text and ends with stop.
    auto second = parse_sse(post(s.port(), "/api/stream/ai-block/tools", answer).body());
    std::string final_text;
    for (const auto& e : second.events) {
        BOOST_TEST(e.event != "tool_call");
        if (e.event == "chunk") final_text += data_of(e).at("text").as_string();
    }
    BOOST_TEST(final_text == "18 C, sunny Here it is.");
    BOOST_TEST(data_of(second.events.back()).at("finish_reason").as_string() == "stop");

    // Collect assembles the same.
    const auto collected = json::parse(post(s.port(), "/api/ai-block/tools", ask).body()).as_object();
    BOOST_TEST(collected.at("reasoning").as_string() == "The user wants the weather.");
    BOOST_TEST(collected.at("text").as_string() == "Weather in Paris? Here it is.");
    BOOST_TEST(collected.at("finish_reason").as_string() == "tool_calls");
    BOOST_TEST(collected.at("tool_calls") ==
               json::parse(R"([{"id": "call_mock_0", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}])"));
    const auto answered = json::parse(post(s.port(), "/api/ai-block/tools", answer).body()).as_object();
    BOOST_TEST(answered.at("text").as_string() == "18 C, sunny Here it is.");
    BOOST_TEST(!answered.contains("tool_calls"));

    // WebSocket: the same messages, with "type".
    ws_client c(s.port(), "tools");
    c.send(R"({"type": "start", )" + ask.substr(1));
    const auto got = c.until_terminal();
    std::string ws_arguments;
    bool saw_reasoning = false;
    for (const auto& m : got) {
        if (m.at("type") == "tool_call") {
            ws_arguments += m.at("arguments").as_string();
            if (m.contains("name")) BOOST_TEST(m.at("call_id").as_string() == "call_mock_0");
            BOOST_TEST(!m.contains("id"));  // not resumable: no event id, and the call's is call_id
        }
        saw_reasoning = saw_reasoning || m.at("type") == "reasoning";
    }
    BOOST_TEST(saw_reasoning);
    BOOST_TEST(ws_arguments == R"({"city": "Paris"})");
    BOOST_TEST(got.back().at("finish_reason").as_string() == "tool_calls");
    c.send(R"({"type": "start", )" + answer.substr(1));
    const auto last = c.until_terminal();
    BOOST_TEST(last.back().at("finish_reason").as_string() == "stop");

    // A bad conversation is a 400 naming the field, and an error message on the WebSocket.
    const auto bad = post(s.port(), "/api/stream/ai-block/tools", R"({"messages": [{"role": "tool", "content": "x"}]})");
    BOOST_TEST(bad.result_int() == 400);
    BOOST_TEST(json::parse(bad.body()).at("error").at("message").as_string() ==
               "messages[0].tool_call_id: a tool message names the call it answers");
    c.send(R"({"type": "start", "messages": [{"role": "user", "content": "x"}], "options": {"seed": 1}})");
    const auto refused = c.receive();
    BOOST_TEST(refused.at("type").as_string() == "error");
    BOOST_TEST(refused.at("code").as_string() == "invalid_request");
    BOOST_TEST(refused.at("message").as_string().find("options.seed") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
