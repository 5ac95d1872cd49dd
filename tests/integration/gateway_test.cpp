// The gateway surface on a real server and real sockets: the
// OpenAI-compatible endpoints, API keys and their limits, CORS and the
// WebSocket Origin check, and the per-block metrics.
#include "../support/test_server.hpp"

#include <liveai/server/api_key_digest.hpp>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>

using namespace liveai::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace websocket = boost::beast::websocket;

namespace {

const std::string web_key = "lk-web-key-for-tests";
const std::string ops_key = "lk-ops-key-for-tests";
const std::string scraper_key = "lk-scraper";

std::string gateway_config(std::uint32_t web_per_minute = 1000)
{
    using liveai::server::digest_of_key;
    using liveai::server::to_hex;
    return R"(
[server]
heartbeat_interval_ms = 60000
cors_allowed_origins = ["https://app.example.com"]

[auth]
metrics_key_sha256 = ")" + to_hex(digest_of_key(scraper_key)) + R"("
[[auth.keys]]
name = "web"
sha256 = ")" + to_hex(digest_of_key(web_key)) + R"("
blocks = ["chat", "agent", "fail", "slow"]
max_streams = 2
requests_per_minute = )" + std::to_string(web_per_minute) + R"(

[[auth.keys]]
name = "ops"
sha256 = ")" + to_hex(digest_of_key(ops_key)) + R"("
blocks = ["*"]

[blocks.chat]
provider = "mock"
streaming = true
model_alias = "gpt-4o-mini"
allow_query_token = true
client_options = ["max_tokens", "temperature"]
[blocks.chat.mock]
tokens = 6
delay_ms = 1

[blocks.agent]
provider = "mock"
streaming = true
[blocks.agent.mock]
tokens = 2
delay_ms = 1
reasoning = "Look it up."
tool_name = "get_weather"
tool_arguments = '{"city":"Paris","unit":"celsius"}'

[blocks.fail]
provider = "mock"
streaming = true
[blocks.fail.mock]
tokens = 8
fail_after = 3
fail_code = "upstream_unavailable"
echo_words = 0

[blocks.slow]
provider = "mock"
streaming = true
[blocks.slow.mock]
tokens = 3
first_token_delay_ms = 60000
delay_ms = 60000

[blocks.private]
provider = "mock"
streaming = true
)";
}

// One request on its own connection, with the given header lines.
http::response<http::string_body> exchange(std::uint16_t port, const std::string& method, const std::string& target,
                                           const std::string& headers, const std::string& body = "")
{
    client_connection c(port);
    std::string text = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + headers;
    if (!body.empty()) text += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    text += "Connection: close\r\n\r\n" + body;
    c.send(text);
    return c.read_response();
}

std::string bearer(const std::string& key) { return "Authorization: Bearer " + key + "\r\n"; }

std::string chat_body(const std::string& model, bool stream, const std::string& extra = "")
{
    return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hello there"}],"stream":)" +
           (stream ? "true" : "false") + extra + "}";
}

// The data: payloads of an OpenAI stream, in order.
std::vector<std::string> data_lines(const std::string& body)
{
    std::vector<std::string> out;
    for (const auto& e : parse_sse(body).events) out.push_back(e.data);
    return out;
}

json::object error_of(const http::response<http::string_body>& res)
{
    const auto v = json::parse(res.body());
    return v.as_object().at("error").as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gateway_openai)

BOOST_AUTO_TEST_CASE(a_stream_is_openai_chunks_then_done)
{
    test_server srv(gateway_config());
    const auto res = exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key),
                              chat_body("gpt-4o-mini", true, R"(,"stream_options":{"include_usage":true})"));
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res[http::field::content_type] == "text/event-stream; charset=utf-8");
    const auto lines = data_lines(res.body());
    BOOST_REQUIRE(lines.size() >= 4u);
    BOOST_TEST(lines.back() == "[DONE]");
    std::string text;
    std::string finish;
    bool usage_seen = false;
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        const auto chunk = json::parse(lines[i]).as_object();
        BOOST_TEST(chunk.at("object").as_string() == "chat.completion.chunk");
        BOOST_TEST(chunk.at("model").as_string() == "gpt-4o-mini");
        BOOST_TEST(chunk.at("id").as_string().starts_with("chatcmpl-"));
        const auto& choices = chunk.at("choices").as_array();
        if (choices.empty()) {
            const auto& u = chunk.at("usage").as_object();
            BOOST_TEST(u.at("total_tokens").as_int64() == u.at("prompt_tokens").as_int64() + u.at("completion_tokens").as_int64());
            usage_seen = true;
            continue;
        }
        const auto& choice = choices[0].as_object();
        const auto& delta = choice.at("delta").as_object();
        if (i == 0) BOOST_TEST(delta.at("role").as_string() == "assistant");
        else BOOST_TEST(!delta.contains("role"));
        if (const auto* c = delta.if_contains("content")) text += c->as_string();
        if (choice.at("finish_reason").is_string()) finish = choice.at("finish_reason").as_string();
    }
    BOOST_TEST(finish == "stop");
    BOOST_TEST(usage_seen);
    // The same text the liveai collect endpoint gives for the same request.
    const auto collected = exchange(srv.port(), "POST", "/api/ai-block/chat", bearer(web_key), R"({"prompt":"hello there"})");
    BOOST_TEST(json::parse(collected.body()).as_object().at("text").as_string() == text);
}

BOOST_AUTO_TEST_CASE(a_whole_answer_is_a_chat_completion)
{
    test_server srv(gateway_config());
    const auto res = exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key), chat_body("chat", false));
    BOOST_TEST(res.result_int() == 200);
    const auto body = json::parse(res.body()).as_object();
    BOOST_TEST(body.at("object").as_string() == "chat.completion");
    BOOST_TEST(body.at("model").as_string() == "chat");
    const auto& choice = body.at("choices").as_array().at(0).as_object();
    BOOST_TEST(choice.at("finish_reason").as_string() == "stop");
    BOOST_TEST(!choice.at("message").as_object().at("content").as_string().empty());
    BOOST_TEST(body.contains("usage"));
}

BOOST_AUTO_TEST_CASE(tool_calls_stream_in_fragments_with_reasoning)
{
    test_server srv(gateway_config());
    const auto res = exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key),
                              chat_body("agent", true, R"(,"tools":[{"type":"function","function":{"name":"get_weather"}}])"));
    const auto lines = data_lines(res.body());
    BOOST_REQUIRE(!lines.empty());
    BOOST_TEST(lines.back() == "[DONE]");
    std::string arguments, name, id, reasoning, finish;
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        const auto chunk = json::parse(lines[i]);
        const auto& choice = chunk.as_object().at("choices").as_array().at(0).as_object();
        const auto& delta = choice.at("delta").as_object();
        if (const auto* r = delta.if_contains("reasoning_content")) reasoning += r->as_string();
        if (const auto* calls = delta.if_contains("tool_calls")) {
            const auto& call = calls->as_array().at(0).as_object();
            BOOST_TEST(call.at("index").as_int64() == 0);
            if (const auto* i = call.if_contains("id")) {
                id = i->as_string();
                BOOST_TEST(call.at("type").as_string() == "function");
                name = call.at("function").as_object().at("name").as_string();
            }
            arguments += call.at("function").as_object().at("arguments").as_string();
        }
        if (choice.at("finish_reason").is_string()) finish = choice.at("finish_reason").as_string();
    }
    BOOST_TEST(reasoning == "Look it up.");
    BOOST_TEST(name == "get_weather");
    BOOST_TEST(!id.empty());
    BOOST_TEST(arguments == R"({"city":"Paris","unit":"celsius"})");
    BOOST_TEST(finish == "tool_calls");
}

BOOST_AUTO_TEST_CASE(a_failure_after_the_start_ends_with_an_error_and_no_done)
{
    test_server srv(gateway_config());
    const auto res = exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key), chat_body("fail", true));
    BOOST_TEST(res.result_int() == 200);
    const auto lines = data_lines(res.body());
    BOOST_REQUIRE(lines.size() == 4u);  // three chunks, then the error
    for (const auto& l : lines) BOOST_TEST(l != "[DONE]");
    const auto last = json::parse(lines.back()).as_object();
    BOOST_TEST(last.at("error").as_object().at("code").as_string() == "upstream_unavailable");
    BOOST_TEST(last.at("error").as_object().at("type").as_string() == "server_error");
    BOOST_TEST(srv.metric("liveai_block_errors_total", R"(block="fail",code="upstream_unavailable")") == 1.0);
}

BOOST_AUTO_TEST_CASE(errors_before_the_stream_are_openai_errors)
{
    test_server srv(gateway_config());
    auto res = exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key), chat_body("gpt-5", true));
    BOOST_TEST(res.result_int() == 404);
    BOOST_TEST(error_of(res).at("code").as_string() == "model_not_found");
    BOOST_TEST(error_of(res).at("param").as_string() == "model");
    res = exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key), chat_body("chat", true, R"(,"top_p":0.5)"));
    BOOST_TEST(res.result_int() == 400);
    BOOST_TEST(error_of(res).at("param").as_string() == "top_p");
    BOOST_TEST(error_of(res).at("type").as_string() == "invalid_request_error");
    res = exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key), chat_body("chat", true, R"(,"functions":[]")"));
    BOOST_TEST(res.result_int() == 400);
    BOOST_TEST(error_of(res).at("message").as_string() == "the body is not valid JSON: syntax error");
    res = exchange(srv.port(), "GET", "/v1/chat/completions", bearer(web_key));
    BOOST_TEST(res.result_int() == 405);
    BOOST_TEST(res[http::field::allow] == "POST");
    BOOST_TEST(error_of(res).contains("type"));
}

BOOST_AUTO_TEST_CASE(a_client_that_leaves_cancels_the_provider)
{
    test_server srv(gateway_config());
    {
        client_connection c(srv.port());
        const auto body = chat_body("slow", true);
        c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + bearer(web_key) +
               "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        BOOST_REQUIRE(srv.wait_for_metric("liveai_streams_active", [](double v) { return v == 1; }));
    }
    BOOST_TEST(srv.wait_for_metric("liveai_provider_cancellations_total", [](double v) { return v == 1; }));
    BOOST_TEST(srv.metric("liveai_block_streams_total",
                          R"(block="slow",provider="mock",model="mock-1",key="web",outcome="cancelled")") == 1.0);
}

BOOST_AUTO_TEST_CASE(models_lists_what_the_key_may_use)
{
    test_server srv(gateway_config());
    const auto res = exchange(srv.port(), "GET", "/v1/models", bearer(web_key));
    const auto data = json::parse(res.body()).as_object().at("data").as_array();
    std::vector<std::string> ids;
    for (const auto& m : data) ids.emplace_back(m.as_object().at("id").as_string());
    // In the config's order (TOML tables are sorted by name).
    BOOST_TEST(ids == (std::vector<std::string>{"agent", "gpt-4o-mini", "fail", "slow"}));
    const auto all = json::parse(exchange(srv.port(), "GET", "/v1/models", bearer(ops_key)).body()).as_object();
    BOOST_TEST(all.at("data").as_array().size() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gateway_auth)

BOOST_AUTO_TEST_CASE(keys_are_required_checked_and_scoped)
{
    test_server srv(gateway_config());
    auto res = exchange(srv.port(), "GET", "/api/stream/ai-block/chat?prompt=x", "");
    BOOST_TEST(res.result_int() == 401);
    BOOST_TEST(res[http::field::www_authenticate] == R"(Bearer realm="liveai")");
    BOOST_TEST(error_of(res).at("code").as_string() == "unauthorized");
    res = exchange(srv.port(), "GET", "/api/stream/ai-block/chat?prompt=x", bearer("lk-wrong"));
    BOOST_TEST(res.result_int() == 401);
    BOOST_TEST(res[http::field::www_authenticate] == R"(Bearer realm="liveai", error="invalid_token")");
    res = exchange(srv.port(), "GET", "/api/stream/ai-block/private?prompt=x", bearer(web_key));
    BOOST_TEST(res.result_int() == 403);
    BOOST_TEST(error_of(res).at("message").as_string() == R"(API key "web" may not use block "private")");
    res = exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key), chat_body("private", false));
    BOOST_TEST(res.result_int() == 403);
    BOOST_TEST(error_of(res).at("type").as_string() == "permission_error");
    res = exchange(srv.port(), "GET", "/api/stream/ai-block/private?prompt=x", bearer(ops_key));
    BOOST_TEST(res.result_int() == 200);
    // Open without a key: health and the browser assets.
    BOOST_TEST(exchange(srv.port(), "GET", "/healthz", "").result_int() == 200);
    BOOST_TEST(exchange(srv.port(), "GET", "/streamClient.js", "").result_int() == 200);
    // /metrics takes its own key only.
    BOOST_TEST(exchange(srv.port(), "GET", "/metrics", "").result_int() == 401);
    BOOST_TEST(exchange(srv.port(), "GET", "/metrics", bearer(web_key)).result_int() == 401);
    BOOST_TEST(exchange(srv.port(), "GET", "/metrics", bearer(scraper_key)).result_int() == 200);
}

BOOST_AUTO_TEST_CASE(a_query_token_works_only_where_a_block_allows_it)
{
    test_server srv(gateway_config());
    auto res = exchange(srv.port(), "GET", "/api/stream/ai-block/chat?prompt=x&access_token=" + web_key, "");
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(parse_sse(res.body()).events.back().event == "complete");
    res = exchange(srv.port(), "GET", "/api/stream/ai-block/agent?prompt=x&access_token=" + web_key, "");
    BOOST_TEST(res.result_int() == 401);
    BOOST_TEST(error_of(res).at("message").as_string().find("allow_query_token") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_key_over_its_stream_limit_gets_429)
{
    test_server srv(gateway_config());
    client_connection a(srv.port()), b(srv.port());
    for (auto* c : {&a, &b})
        c->send("GET /api/stream/ai-block/slow?prompt=x HTTP/1.1\r\nHost: x\r\n" + bearer(web_key) + "\r\n");
    BOOST_REQUIRE(srv.wait_for_metric("liveai_streams_active", [](double v) { return v == 2; }));
    auto res = exchange(srv.port(), "GET", "/api/stream/ai-block/chat?prompt=x", bearer(web_key));
    BOOST_TEST(res.result_int() == 429);
    BOOST_TEST(res[http::field::retry_after] == "1");
    BOOST_TEST(error_of(res).at("message").as_string() == R"(API key "web" has its maximum of 2 streams open)");
    // Another key is not held back by it.
    BOOST_TEST(exchange(srv.port(), "GET", "/api/stream/ai-block/chat?prompt=x", bearer(ops_key)).result_int() == 200);
    a.close();
    BOOST_REQUIRE(srv.wait_for_metric("liveai_streams_active", [](double v) { return v == 1; }));
    BOOST_TEST(exchange(srv.port(), "GET", "/api/stream/ai-block/chat?prompt=x", bearer(web_key)).result_int() == 200);
}

BOOST_AUTO_TEST_CASE(a_key_over_its_request_rate_gets_429_with_retry_after)
{
    test_server srv(gateway_config(3));
    for (int i = 0; i < 3; ++i) BOOST_TEST(exchange(srv.port(), "GET", "/v1/models", bearer(web_key)).result_int() == 200);
    const auto res = exchange(srv.port(), "GET", "/v1/models", bearer(web_key));
    BOOST_TEST(res.result_int() == 429);
    const auto wait = std::stoi(std::string(res[http::field::retry_after]));
    BOOST_TEST(wait >= 1);
    BOOST_TEST(wait <= 20);
    BOOST_TEST(error_of(res).at("type").as_string() == "rate_limit_error");
}

BOOST_AUTO_TEST_CASE(a_key_stops_and_resumes_only_its_own_streams)
{
    test_server srv(gateway_config());
    client_connection c(srv.port());
    c.send("GET /api/stream/ai-block/slow?prompt=x&resumable=1 HTTP/1.1\r\nHost: x\r\n" + bearer(ops_key) + "\r\n");
    const auto head = c.read_until(".0\n");
    const auto at = head.find("id: ");
    BOOST_REQUIRE(at != std::string::npos);
    const auto id = head.substr(at + 4, 16);
    // Another key's Last-Event-ID finds nothing.
    auto res = exchange(srv.port(), "GET", "/api/stream/ai-block/slow?prompt=x", bearer(web_key) + "Last-Event-ID: " + id + ".0\r\n");
    BOOST_TEST(res.result_int() == 404);
    BOOST_TEST(error_of(res).at("code").as_string() == "unknown_stream");
    BOOST_TEST(exchange(srv.port(), "DELETE", "/api/streams/" + id, bearer(web_key)).result_int() == 404);
    BOOST_TEST(exchange(srv.port(), "DELETE", "/api/streams/" + id, bearer(ops_key)).result_int() == 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gateway_origins)

BOOST_AUTO_TEST_CASE(cors_preflight_and_answers)
{
    test_server srv(gateway_config());
    auto res = exchange(srv.port(), "OPTIONS", "/v1/chat/completions",
                        "Origin: https://app.example.com\r\nAccess-Control-Request-Method: POST\r\n"
                        "Access-Control-Request-Headers: authorization, content-type\r\n");
    BOOST_TEST(res.result_int() == 204);
    BOOST_TEST(res[http::field::access_control_allow_origin] == "https://app.example.com");
    BOOST_TEST(res[http::field::access_control_allow_headers].find("Authorization") != std::string::npos);
    BOOST_TEST(res[http::field::access_control_allow_methods].find("POST") != std::string::npos);
    BOOST_TEST(res[http::field::vary] == "Origin");
    res = exchange(srv.port(), "OPTIONS", "/v1/chat/completions", "Origin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n");
    BOOST_TEST(res.result_int() == 403);
    BOOST_TEST(res.count(http::field::access_control_allow_origin) == 0u);
    // The real request from the allowed origin carries the header, streams included.
    res = exchange(srv.port(), "GET", "/api/stream/ai-block/chat?prompt=x", "Origin: https://app.example.com\r\n" + bearer(web_key));
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res[http::field::access_control_allow_origin] == "https://app.example.com");
    BOOST_TEST(res[http::field::vary] == "Origin");
    res = exchange(srv.port(), "GET", "/api/stream/ai-block/chat?prompt=x", "Origin: https://evil.example\r\n" + bearer(web_key));
    BOOST_TEST(res.count(http::field::access_control_allow_origin) == 0u);
    // Even a refusal tells an allowed page why.
    res = exchange(srv.port(), "GET", "/v1/models", "Origin: https://app.example.com\r\n");
    BOOST_TEST(res.result_int() == 401);
    BOOST_TEST(res[http::field::access_control_allow_origin] == "https://app.example.com");
}

namespace {

std::string upgrade_headers(const std::string& origin, const std::string& more = "")
{
    return (origin.empty() ? std::string() : "Origin: " + origin + "\r\n") +
           "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + more;
}

}  // namespace

BOOST_AUTO_TEST_CASE(websocket_upgrades_from_foreign_origins_are_refused)
{
    test_server srv(gateway_config());
    // exchange() says Connection: close after our Connection: Upgrade; Beast
    // sees both tokens, so the refusal comes before any handshake.
    auto res = exchange(srv.port(), "GET", "/api/ws/ai-block/chat", upgrade_headers("https://evil.example", bearer(ops_key)));
    BOOST_TEST(res.result_int() == 403);
    BOOST_TEST(error_of(res).at("code").as_string() == "forbidden");
    // The same origin (the Host it came to) is let through.
    const std::string host = "127.0.0.1:" + std::to_string(srv.port());
    client_connection c(srv.port());
    c.send("GET /api/ws/ai-block/chat HTTP/1.1\r\nHost: " + host + "\r\n" + upgrade_headers("http://" + host, bearer(ops_key)) +
           "\r\n");
    BOOST_TEST(c.read_until("\r\n\r\n").starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    // And so is one without Origin (not a browser).
    client_connection d(srv.port());
    d.send("GET /api/ws/ai-block/chat HTTP/1.1\r\nHost: " + host + "\r\n" + upgrade_headers("", bearer(ops_key)) + "\r\n");
    BOOST_TEST(d.read_until("\r\n\r\n").starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
}

BOOST_AUTO_TEST_CASE(a_browser_websocket_sends_its_key_as_a_subprotocol)
{
    test_server srv(gateway_config());
    boost::asio::io_context ioc;
    websocket::stream<tcp::socket> ws(ioc);
    ws.next_layer().connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), srv.port()));
    timeval tv{10, 0};
    ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string host = "127.0.0.1:" + std::to_string(srv.port());
    ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
        req.set(http::field::origin, "http://" + host);
        req.set(http::field::sec_websocket_protocol, "liveai, liveai.bearer." + web_key);
    }));
    websocket::response_type answer;
    ws.handshake(answer, host, "/api/ws/ai-block/chat");
    BOOST_TEST(answer[http::field::sec_websocket_protocol] == "liveai");
    ws.text(true);
    ws.write(boost::asio::buffer(std::string(R"({"type":"start","prompt":"hello"})")));
    std::string last;
    for (int i = 0; i < 32; ++i) {
        boost::beast::flat_buffer b;
        ws.read(b);
        last = boost::beast::buffers_to_string(b.data());
        if (last.find(R"("type":"complete")") != std::string::npos) break;
    }
    BOOST_TEST(last.find(R"("type":"complete")") != std::string::npos, last);
    BOOST_TEST(srv.metric("liveai_block_streams_total", R"(block="chat",provider="mock",model="mock-1",key="web",outcome="complete")") ==
               1.0);

    // Without a key the upgrade is refused before the handshake.
    client_connection c(srv.port());
    c.send("GET /api/ws/ai-block/chat HTTP/1.1\r\nHost: " + host + "\r\n" + upgrade_headers("http://" + host) + "\r\n");
    const auto res = c.read_response();
    BOOST_TEST(res.result_int() == 401);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gateway_metrics)

BOOST_AUTO_TEST_CASE(streams_tokens_and_latency_are_counted_per_block_and_key)
{
    test_server srv(gateway_config());
    for (int i = 0; i < 2; ++i) exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key), chat_body("chat", true));
    exchange(srv.port(), "POST", "/v1/chat/completions", bearer(ops_key), chat_body("chat", false));
    exchange(srv.port(), "POST", "/v1/chat/completions", bearer(web_key), chat_body("fail", true));
    const std::string chat = R"(block="chat",provider="mock",model="mock-1",)";
    BOOST_TEST(srv.metric("liveai_block_streams_total", chat + R"(key="web",outcome="complete")") == 2.0);
    BOOST_TEST(srv.metric("liveai_block_streams_total", chat + R"(key="ops",outcome="complete")") == 1.0);
    BOOST_TEST(srv.metric("liveai_block_streams_total",
                          R"(block="fail",provider="mock",model="mock-1",key="web",outcome="error")") == 1.0);
    BOOST_TEST(srv.metric("liveai_block_tokens_total", R"(block="chat",key="web",type="output")") == 12.0);  // 6 a stream
    const std::string otel = R"(block="chat",gen_ai_provider_name="mock",gen_ai_request_model="mock-1")";
    BOOST_TEST(srv.metric("gen_ai_server_time_to_first_token_seconds_count", otel) == 3.0);
    BOOST_TEST(srv.metric("gen_ai_server_time_per_output_token_seconds_count", otel) == 3.0);
    BOOST_TEST(srv.metric("gen_ai_client_operation_duration_seconds_count", otel) == 3.0);
    BOOST_TEST(srv.metric("gen_ai_client_token_usage_count", otel + R"(,gen_ai_token_type="output")") == 3.0);
    BOOST_TEST(srv.metric("gen_ai_client_token_usage_sum", otel + R"(,gen_ai_token_type="output")") == 18.0);
    BOOST_TEST(srv.metric("gen_ai_client_token_usage_bucket", otel + R"(,gen_ai_token_type="output",le="4")") == 0.0);
    BOOST_TEST(srv.metric("gen_ai_client_token_usage_bucket", otel + R"(,gen_ai_token_type="output",le="16")") == 3.0);
}

BOOST_AUTO_TEST_SUITE_END()
