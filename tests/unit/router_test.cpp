// The router, the answers and the resume decision: every contract error a
// request can earn before a stream starts, without a socket.
#include "answers.hpp"
#include "resume.hpp"
#include "router.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace http = boost::beast::http;
using namespace liveai::server::detail;
using liveai::error;

namespace {

liveai::engine make_engine()
{
    std::vector<liveai::block_config> blocks(2);
    blocks[0].name = "chat";
    blocks[0].streaming = true;
    blocks[1].name = "batch";
    blocks[1].streaming = false;
    return liveai::engine(std::move(blocks));
}

const liveai::engine engine_ = make_engine();
const std::vector<std::string> extra{"/app/"};
const route_table table{&engine_, &is_web_asset, extra};

std::variant<route, route_error> go(http::verb method, std::string_view target, std::string_view last_event_id = {},
                                    bool upgrade = false)
{
    return route_request({method, target, last_event_id, upgrade}, table);
}

template <class T>
route_error refused(const std::variant<T, route_error>& r)
{
    BOOST_REQUIRE(std::holds_alternative<route_error>(r));
    return std::get<route_error>(r);
}

route routed(const std::variant<route, route_error>& r)
{
    if (auto* e = std::get_if<route_error>(&r)) BOOST_FAIL("refused: " << e->message);
    return std::get<route>(r);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router)

BOOST_AUTO_TEST_CASE(every_endpoint_routes)
{
    BOOST_TEST((routed(go(http::verb::get, "/healthz")).kind == endpoint::health));
    BOOST_TEST((routed(go(http::verb::get, "/metrics")).kind == endpoint::metrics));
    BOOST_TEST((routed(go(http::verb::get, "/api/blocks")).kind == endpoint::blocks));
    BOOST_TEST((routed(go(http::verb::get, "/")).kind == endpoint::asset));
    BOOST_TEST((routed(go(http::verb::get, "/streamClient.js")).kind == endpoint::asset));
    const auto s = routed(go(http::verb::get, "/api/stream/ai-block/chat?prompt=a%20b+c&resumable=1"));
    BOOST_TEST((s.kind == endpoint::stream));
    BOOST_TEST(s.block->name == "chat");
    BOOST_TEST(*s.prompt == "a b c");
    BOOST_TEST(s.resumable);
    BOOST_TEST((routed(go(http::verb::post, "/api/stream/ai-block/chat")).kind == endpoint::stream));
    BOOST_TEST((routed(go(http::verb::post, "/api/ai-block/batch")).kind == endpoint::collect));
    BOOST_TEST((routed(go(http::verb::get, "/api/ws/ai-block/chat", {}, true)).kind == endpoint::websocket));
    const auto stop = routed(go(http::verb::delete_, "/api/streams/0123456789abcdef"));
    BOOST_TEST((stop.kind == endpoint::stop_stream));
    BOOST_TEST(stop.stream_id == "0123456789abcdef");
    const auto app = routed(go(http::verb::put, "/app/things?x=1"));
    BOOST_TEST((app.kind == endpoint::extra));
    BOOST_TEST(app.extra_index == 0u);
}

BOOST_AUTO_TEST_CASE(openai_paths_preflight_and_access_token_route)
{
    BOOST_TEST((routed(go(http::verb::post, "/v1/chat/completions")).kind == endpoint::chat_completions));
    BOOST_TEST((routed(go(http::verb::get, "/v1/models")).kind == endpoint::models));
    auto e = refused(go(http::verb::get, "/v1/chat/completions"));
    BOOST_TEST((e.code == error::method_not_allowed));
    BOOST_TEST(e.allow == "POST");
    e = refused(go(http::verb::post, "/v1/embeddings"));
    BOOST_TEST((e.code == error::not_found));
    BOOST_TEST(e.message.find("POST /v1/chat/completions") != std::string::npos);
    // A preflight for any API path, before the path's own method rules.
    BOOST_TEST((routed(go(http::verb::options, "/v1/chat/completions")).kind == endpoint::preflight));
    BOOST_TEST((routed(go(http::verb::options, "/api/stream/ai-block/chat")).kind == endpoint::preflight));
    BOOST_TEST((refused(go(http::verb::options, "/healthz")).code == error::method_not_allowed));
    // ?access_token= for the EventSource and WebSocket paths (a resume included).
    auto r = routed(go(http::verb::get, "/api/stream/ai-block/chat?prompt=x&access_token=lk-a%2Bb"));
    BOOST_REQUIRE(r.access_token.has_value());
    BOOST_TEST(*r.access_token == "lk-a+b");
    r = routed(go(http::verb::get, "/api/stream/ai-block/chat?access_token=k", "0123456789abcdef.4"));
    BOOST_TEST((r.kind == endpoint::resume));
    BOOST_TEST(r.access_token.value_or("") == "k");
    r = routed(go(http::verb::get, "/api/ws/ai-block/chat?access_token=k", {}, true));
    BOOST_TEST((r.kind == endpoint::websocket));
    BOOST_TEST(r.access_token.value_or("") == "k");
}

BOOST_AUTO_TEST_CASE(the_query_is_read_within_the_target_only)
{
    // A target is a view into the request head, not a C string: what
    // follows it must not leak into the prompt.
    const std::string head = "/api/stream/ai-block/chat?prompt=ab HTTP/1.1\r\nHost: x\r\n";
    const std::string_view target = std::string_view(head).substr(0, head.find(' '));
    BOOST_TEST(*routed(go(http::verb::get, target)).prompt == "ab");
}

BOOST_AUTO_TEST_CASE(resume_routes_carry_the_event_id)
{
    const auto r = routed(go(http::verb::get, "/api/stream/ai-block/chat?prompt=x", "0123456789abcdef.41"));
    BOOST_TEST((r.kind == endpoint::resume));
    BOOST_TEST(r.resume_from.stream_id == "0123456789abcdef");
    BOOST_TEST(r.resume_from.seq == 41u);
    for (const auto* bad : {"garbage", "abc.", ".4", "abc.4x", "abc.99999999999999999999"}) {
        const auto e = refused(go(http::verb::get, "/api/stream/ai-block/chat", bad));
        BOOST_TEST((e.code == error::invalid_request), bad);
    }
}

BOOST_AUTO_TEST_CASE(contract_errors_with_their_statuses)
{
    struct expectation {
        http::verb method;
        std::string_view target;
        bool upgrade;
        error code;
        unsigned status;
        std::string_view allow;
    };
    const expectation cases[] = {
        {http::verb::get, "/nope", false, error::not_found, 404, ""},
        {http::verb::post, "/healthz", false, error::method_not_allowed, 405, "GET"},
        {http::verb::put, "/api/stream/ai-block/chat", false, error::method_not_allowed, 405, "GET, POST"},
        {http::verb::get, "/api/ai-block/chat", false, error::method_not_allowed, 405, "POST"},
        {http::verb::get, "/api/streams/x", false, error::method_not_allowed, 405, "DELETE"},
        {http::verb::get, "/api/stream/ai-block/nope?prompt=x", false, error::unknown_block, 404, ""},
        // A name outside [a-z0-9][a-z0-9_-]{0,63}, even percent-encoded.
        {http::verb::get, "/api/stream/ai-block/..%2Fetc?prompt=x", false, error::unknown_block, 404, ""},
        {http::verb::get, "/api/stream/ai-block/Chat?prompt=x", false, error::unknown_block, 404, ""},
        {http::verb::get, "/api/stream/ai-block/batch?prompt=x", false, error::streaming_disabled, 409, ""},
        {http::verb::get, "/api/ws/ai-block/batch", true, error::streaming_disabled, 409, ""},
        {http::verb::get, "/api/ws/ai-block/nope", true, error::unknown_block, 404, ""},
        {http::verb::get, "/api/stream/ai-block/chat?prompt=%ZZ", false, error::invalid_request, 400, ""},
    };
    for (const auto& c : cases) {
        const auto e = refused(go(c.method, c.target, {}, c.upgrade));
        BOOST_TEST((e.code == c.code), c.target);
        const auto a = error_answer(e);
        BOOST_TEST(a.status == c.status, c.target);
        BOOST_TEST(a.allow == c.allow, c.target);
        const auto body = boost::json::parse(a.body).at("error").as_object();
        BOOST_TEST(body.at("code").as_string() == liveai::to_code(c.code));
        BOOST_TEST(!body.at("message").as_string().empty());
    }
    // Without an upgrade the WebSocket endpoint says so: 426.
    BOOST_TEST(!routed(go(http::verb::get, "/api/stream/ai-block/chat")).prompt);  // no query at all
    const auto e = refused(go(http::verb::get, "/api/ws/ai-block/chat"));
    BOOST_TEST(error_answer(e).status == 426u);
}

BOOST_AUTO_TEST_CASE(the_error_table_has_the_http_statuses)
{
    BOOST_TEST(liveai::http_status(error::overloaded) == 503u);
    BOOST_TEST(liveai::http_status(error::stream_expired) == 410u);
    BOOST_TEST(liveai::http_status(error::uri_too_long) == 414u);
    BOOST_TEST(liveai::http_status(error::headers_too_large) == 431u);
    BOOST_TEST(liveai::http_status(error::upstream_rate_limited) == 429u);
    BOOST_TEST(error_answer(error::overloaded, "full").retry_after);
    BOOST_TEST(!error_answer(error::not_found, "no").retry_after);
}

BOOST_AUTO_TEST_CASE(stream_requests_read_get_and_post_alike)
{
    auto r = routed(go(http::verb::get, "/api/stream/ai-block/chat?prompt=caf%C3%A9"));
    auto got = read_stream_request(r, http::verb::get, {});
    BOOST_TEST(std::get<stream_request>(got).request.prompt == "caf\xC3\xA9");

    auto empty = routed(go(http::verb::get, "/api/stream/ai-block/chat?prompt="));
    BOOST_TEST(std::get<stream_request>(read_stream_request(empty, http::verb::get, {})).request.prompt.empty());

    auto missing = routed(go(http::verb::get, "/api/stream/ai-block/chat?other=1"));
    BOOST_TEST((refused(read_stream_request(missing, http::verb::get, {})).code == error::invalid_prompt));

    auto post = routed(go(http::verb::post, "/api/stream/ai-block/chat"));
    auto body = read_stream_request(post, http::verb::post, R"({"prompt":"hi","resumable":true})");
    BOOST_TEST(std::get<stream_request>(body).request.prompt == "hi");
    BOOST_TEST(std::get<stream_request>(body).resumable);
    BOOST_TEST((refused(read_stream_request(post, http::verb::post, "{nope")).code == error::invalid_json));
    BOOST_TEST((refused(read_stream_request(post, http::verb::post, R"({"prompt":3})")).code == error::invalid_prompt));
}

BOOST_AUTO_TEST_CASE(simple_endpoints_answer_whole)
{
    liveai::server::metrics m(1);
    const auto health = answer_simple(routed(go(http::verb::get, "/healthz")), engine_, m);
    BOOST_TEST(health.body == R"({"status":"ok"})");
    const auto blocks = answer_simple(routed(go(http::verb::get, "/api/blocks")), engine_, m);
    const auto list = boost::json::parse(blocks.body).at("blocks").as_array();
    BOOST_TEST(list.size() == 2u);
    BOOST_TEST(list[1].at("streaming").as_bool() == false);
    const auto metrics = answer_simple(routed(go(http::verb::get, "/metrics")), engine_, m);
    BOOST_TEST(metrics.body.find("liveai_streams_active") != std::string::npos);
    const auto page = answer_simple(routed(go(http::verb::get, "/")), engine_, m);
    BOOST_TEST(page.content_type.starts_with("text/html"));
}

BOOST_AUTO_TEST_CASE(response_heads_are_byte_exact)
{
    std::string out;
    append_response_head(out, error_answer(error::overloaded, "full"), true, false, 3);
    const auto body = error_body("overloaded", "full");
    BOOST_TEST(out == "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
                      "Retry-After: 3\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    out.clear();
    auto a = error_answer(route_error{error::method_not_allowed, "no", "GET"});
    append_response_head(out, a, false, false, 1);
    BOOST_TEST(out.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
    BOOST_TEST(out.find("Allow: GET\r\n") != std::string::npos);
    BOOST_TEST(out.ends_with("Connection: close\r\n\r\n"));
    out.clear();
    http_answer none;
    none.status = 204;
    append_response_head(out, none, true, true, 1);
    BOOST_TEST(out == "HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(resume_decision_suite)

BOOST_AUTO_TEST_CASE(one_decision_for_every_transport)
{
    const resume_limits limits{std::chrono::milliseconds(60000), 1024};
    const resumable_stream running{"chat", 5, 20, false};
    const resumable_stream ended{"chat", 1, 9, true};

    auto d = check_resume(&running, "s", "chat", 10, limits);
    BOOST_TEST((d.outcome == resume_outcome::replay));
    BOOST_TEST(d.next_seq == 11u);
    // The oldest kept event is 5: resuming after 4 still misses nothing.
    BOOST_TEST((check_resume(&running, "s", "chat", 4, limits).outcome == resume_outcome::replay));
    d = check_resume(&running, "s", "chat", 3, limits);
    BOOST_TEST((d.code == error::stream_expired));
    BOOST_TEST(d.message.find("replay_buffer_bytes = 1024") != std::string::npos);
    BOOST_TEST((check_resume(&running, "s", "chat", 21, limits).code == error::invalid_request));
    BOOST_TEST((check_resume(&running, "s", "other", 10, limits).code == error::invalid_request));
    d = check_resume(nullptr, "s", "chat", 1, limits);
    BOOST_TEST((d.outcome == resume_outcome::refused));
    BOOST_TEST((d.code == error::unknown_stream));
    BOOST_TEST(d.message.find("60000 ms") != std::string::npos);
    BOOST_TEST((check_resume(&ended, "s", "chat", 9, limits).outcome == resume_outcome::delivered));
    BOOST_TEST((check_resume(&ended, "s", "chat", 8, limits).outcome == resume_outcome::replay));
    BOOST_TEST((check_resume(&ended, "s", "chat", 0, limits).outcome == resume_outcome::replay));
}

BOOST_AUTO_TEST_SUITE_END()
