// OpenAI, Gemini and Anthropic providers against a local replay of each service's wire format.
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/providers/anthropic_provider.hpp>
#include <liveai/request_json.hpp>
#include <liveai/providers/gemini_provider.hpp>
#include <liveai/providers/openai_provider.hpp>

#include "../support/printers.hpp"
#include "../support/replay_upstream.hpp"
#include "../support/run_coro.hpp"
#include "../support/test_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>

using namespace liveai::test;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace asio = boost::asio;
namespace json = boost::json;
using liveai::error;

namespace {

constexpr const char* test_key = "sk-test-key-that-must-never-leak-0123456789";

struct key_env {
    key_env() { ::setenv("LIVEAI_TEST_KEY", test_key, 1); }
};

liveai::upstream_settings settings_for(const replay_upstream& up, const std::string& host = "localhost",
                                       const std::string& path = "/v1")
{
    static key_env env;
    liveai::upstream_settings s;
    s.base_url = up.base_url(host, path);
    s.api_key_env = "LIVEAI_TEST_KEY";
    s.ca_file = replay_upstream::certs_dir() + "/ca.pem";
    s.retry_base = 10ms;
    s.retry_max = 2000ms;
    s.first_byte_timeout = 5000ms;
    s.read_timeout = 5000ms;
    return s;
}

struct outcome {
    std::vector<std::string> tokens;  // text deltas
    std::string reasoning;
    std::vector<liveai::tool_call> tool_calls;
    std::optional<error> failure;
    bool retryable = false;
    std::string message;
    liveai::finish_reason reason = liveai::finish_reason::stop;
    std::optional<liveai::usage> usage;
    unsigned attempts = 0;

    std::string text() const
    {
        std::string all;
        for (const auto& t : tokens) all += t;
        return all;
    }
};

outcome drain(liveai::http_stream_provider& p)
{
    asio::io_context ioc;
    outcome out;
    auto task = [&]() -> asio::awaitable<void> {
        try {
            liveai::collect_result assembled;
            while (auto t = co_await p.next()) {
                if (t->kind == liveai::token_kind::text) out.tokens.emplace_back(t->text);
                assembled.add(*t);
                out.reasoning = assembled.reasoning;
                out.tool_calls = assembled.tool_calls;
            }
        } catch (const liveai::stream_error& e) {
            out.failure = static_cast<error>(e.code().value());
            out.retryable = e.retryable();
            out.message = e.message();
        }
    };
    run_coro(ioc, task(), 30s);
    out.reason = p.finish_reason();
    out.usage = p.usage();
    out.attempts = p.attempts();
    return out;
}

outcome run_openai(replay_upstream& up, std::vector<replay_response> script, liveai::upstream_settings s)
{
    up.script(std::move(script));
    liveai::openai_provider p(s, "gpt-4o-mini", "Be brief.", liveai::request{"Say hello"});
    return drain(p);
}

outcome run_gemini(replay_upstream& up, std::vector<replay_response> script, liveai::upstream_settings s)
{
    up.script(std::move(script));
    liveai::gemini_provider p(s, "gemini-1.5-flash", "Be brief.", liveai::request{"Say hello"});
    return drain(p);
}

outcome run_anthropic(replay_upstream& up, std::vector<replay_response> script, liveai::upstream_settings s)
{
    up.script(std::move(script));
    liveai::anthropic_provider p(s, "claude-sonnet-4-20250514", "Be brief.", liveai::request{"Say hello"});
    return drain(p);
}

replay_response fixture(const std::string& name, std::size_t max_piece = 64, std::uint32_t seed = 1,
                        std::chrono::milliseconds delay = 0ms)
{
    return replay_response{read_fixture(name), max_piece, delay, seed};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openai)

BOOST_AUTO_TEST_CASE(streams_tokens_and_usage_over_tls_and_sends_the_right_request)
{
    replay_upstream up(replay_upstream::tls_mode::trusted);
    const auto out = run_openai(up, {fixture("openai/stream_basic.http")}, settings_for(up));
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.tokens == (std::vector<std::string>{"Hello", " café", " 😀", " 日本語", "!", " ✨"}),
               boost::test_tools::per_element());
    BOOST_TEST(out.reason == liveai::finish_reason::stop);
    BOOST_TEST(out.usage->input_tokens == 19u);
    BOOST_TEST(out.usage->output_tokens == 6u);

    const auto reqs = up.requests();
    BOOST_REQUIRE(reqs.size() == 1u);
    BOOST_TEST(reqs[0].method == "POST");
    BOOST_TEST(reqs[0].target == "/v1/chat/completions");
    BOOST_TEST(reqs[0].headers.at("authorization") == std::string("Bearer ") + test_key);
    BOOST_TEST(reqs[0].headers.at("content-type") == "application/json");
    const auto body = json::parse(reqs[0].body).as_object();
    BOOST_TEST(body.at("model").as_string() == "gpt-4o-mini");
    BOOST_TEST(body.at("stream").as_bool());
    BOOST_TEST(body.at("stream_options").at("include_usage").as_bool());
    const auto& messages = body.at("messages").as_array();
    BOOST_REQUIRE(messages.size() == 2u);
    BOOST_TEST(messages[0].at("role").as_string() == "system");
    BOOST_TEST(messages[1].at("content").as_string() == "Say hello");
}

BOOST_AUTO_TEST_CASE(every_stream_fixture_at_random_splits_and_delays)
{
    struct expectation {
        std::string fixture;
        std::string text;
        liveai::finish_reason reason;
        std::optional<error> failure;
    };
    const std::vector<expectation> cases{
        {"openai/stream_basic.http", "Hello café 😀 日本語! ✨", liveai::finish_reason::stop, {}},
        {"openai/stream_length.http", "Cut short", liveai::finish_reason::length, {}},
        {"openai/stream_content_filter.http", "I", liveai::finish_reason::content_filter, {}},
        {"openai/stream_compatible.http", "Local model says hi", liveai::finish_reason::stop, {}},
        {"openai/stream_crlf.http", "Line ends", liveai::finish_reason::stop, {}},
        {"openai/stream_error_inside.http", "Partial", liveai::finish_reason::stop, error::upstream_unavailable},
        {"openai/stream_truncated.http", "Never finished", liveai::finish_reason::stop, error::upstream_protocol},
    };
    replay_upstream up(replay_upstream::tls_mode::none);
    for (const auto& c : cases) {
        for (std::uint32_t seed : {1u, 2u, 3u}) {
            // Pieces of 1..7 bytes split every multi-byte character somewhere.
            const auto out = run_openai(up, {fixture(c.fixture, seed == 1 ? 1 : 7, seed, seed == 3 ? 2ms : 0ms)}, settings_for(up));
            BOOST_TEST_CONTEXT(c.fixture << " seed " << seed)
            {
                BOOST_TEST(out.text() == c.text);
                BOOST_TEST((out.failure == c.failure));
                if (!c.failure) BOOST_TEST(out.reason == c.reason);
                BOOST_TEST(out.attempts == 1u);  // failures after a token are never retried
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(http_errors_map_to_contract_codes)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_retries = 0;
    struct expectation {
        std::string fixture;
        error code;
        bool retryable;
    };
    for (const auto& c : std::vector<expectation>{{"openai/error_401.http", error::upstream_auth, false},
                                                  {"openai/error_404.http", error::upstream_not_found, false},
                                                  {"openai/error_429.http", error::upstream_rate_limited, true},
                                                  {"openai/error_500.http", error::upstream_unavailable, true},
                                                  {"openai/error_400.http", error::provider_error, false}}) {
        const auto out = run_openai(up, {fixture(c.fixture)}, s);
        BOOST_TEST_CONTEXT(c.fixture)
        {
            BOOST_TEST((out.failure == c.code));
            BOOST_TEST(out.retryable == c.retryable);
            BOOST_TEST(out.tokens.empty());
            BOOST_TEST(out.message.find(test_key) == std::string::npos);
        }
    }
    const auto out = run_openai(up, {fixture("openai/error_404.http")}, s);
    BOOST_TEST(out.message.find("The model `gpt-9` does not exist") != std::string::npos, out.message);

    // An upstream that quotes the whole key back: it is scrubbed.
    const std::string quoted = std::string(R"({"error":{"message":"Incorrect API key provided: )") + test_key + R"(","type":"invalid_request_error"}})";
    replay_response echo{"HTTP/1.1 401 Unauthorized\nContent-Type: application/json\nContent-Length: " +
                         std::to_string(quoted.size()) + "\n\n" + quoted};
    const auto scrubbed = run_openai(up, {echo}, s);
    BOOST_TEST((scrubbed.failure == error::upstream_auth));
    BOOST_TEST(scrubbed.message.find(test_key) == std::string::npos, scrubbed.message);
    BOOST_TEST(scrubbed.message.find("[redacted]") != std::string::npos, scrubbed.message);
}

BOOST_AUTO_TEST_CASE(retries_before_the_first_token_only)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_retries = 2;
    // 500, 500, then success: three attempts, and the tokens arrive.
    auto out = run_openai(up, {fixture("openai/error_500.http"), fixture("openai/error_500.http"), fixture("openai/stream_basic.http")}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.attempts == 3u);
    BOOST_TEST(out.tokens.size() == 6u);
    // Always 500: gives up after 1 + max_retries attempts.
    out = run_openai(up, {fixture("openai/error_500.http")}, s);
    BOOST_TEST((out.failure == error::upstream_unavailable));
    BOOST_TEST(out.attempts == 3u);
    // 429 honours Retry-After (1 s) before the retry.
    const auto start = std::chrono::steady_clock::now();
    out = run_openai(up, {fixture("openai/error_429.http"), fixture("openai/stream_basic.http")}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.attempts == 2u);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 1s));
    // Not retryable: one attempt.
    out = run_openai(up, {fixture("openai/error_401.http"), fixture("openai/stream_basic.http")}, s);
    BOOST_TEST((out.failure == error::upstream_auth));
    BOOST_TEST(out.attempts == 1u);
    // An error after the first token: no retry, even though it is retryable.
    out = run_openai(up, {fixture("openai/stream_error_inside.http"), fixture("openai/stream_basic.http")}, s);
    BOOST_TEST((out.failure == error::upstream_unavailable));
    BOOST_TEST(out.attempts == 1u);
    BOOST_TEST(out.text() == "Partial");
}

BOOST_AUTO_TEST_CASE(keep_alive_connections_are_reused)
{
    replay_upstream up(replay_upstream::tls_mode::trusted);
    up.script({fixture("openai/stream_basic.http", 4096)});
    asio::io_context ioc;
    auto s = settings_for(up);
    for (int i = 0; i < 3; ++i) {
        liveai::openai_provider p(s, "m", "", liveai::request{"again"});
        auto task = [&]() -> asio::awaitable<std::size_t> {
            std::size_t n = 0;
            while (co_await p.next()) ++n;
            co_return n;
        };
        BOOST_TEST(run_coro(ioc, task()) == 6u);
    }
    BOOST_TEST(up.requests().size() == 3u);
    BOOST_TEST(up.connections() == 1);
}

BOOST_AUTO_TEST_CASE(a_pooled_connection_the_upstream_closed_is_not_used)
{
    // The upstream closes its keep-alive connection after the first answer
    // (its idle timeout). The next stream must open a new connection, not
    // spend a request on the dead one and retry.
    replay_upstream up(replay_upstream::tls_mode::none);
    auto closing = fixture("openai/stream_basic.http", 4096);
    closing.close_after = true;
    up.script({closing, fixture("openai/stream_basic.http", 4096)});
    auto s = settings_for(up);
    asio::io_context ioc;
    {
        liveai::openai_provider first(s, "m", "", liveai::request{"one"});
        auto task = [&]() -> asio::awaitable<void> {
            while (co_await first.next()) {
            }
            // Let the upstream's end of file reach the idle connection.
            asio::steady_timer settle(co_await asio::this_coro::executor, 100ms);
            co_await settle.async_wait(asio::use_awaitable);
        };
        run_coro(ioc, task());
    }
    liveai::openai_provider second(s, "m", "", liveai::request{"two"});
    std::string text;
    auto task = [&]() -> asio::awaitable<void> {
        while (auto t = co_await second.next()) text += t->text;
    };
    run_coro(ioc, task(), 20s);
    BOOST_TEST(!text.empty());
    BOOST_TEST(second.requests_sent() == 1u);  // none lost on the closed connection
    BOOST_TEST(up.connections() == 2);
    BOOST_TEST(up.requests().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_timeout_on_a_pooled_connection_is_a_counted_attempt)
{
    // One stream leaves a keep-alive connection in the pool; the next one's
    // request on it gets no answer. That is a real attempt (with backoff), not
    // a stale connection retried at once: 1 + max_retries requests, not more.
    replay_upstream up(replay_upstream::tls_mode::none);
    replay_response silent;
    silent.hang_before_head = true;
    up.script({fixture("openai/stream_basic.http", 4096), silent});
    auto s = settings_for(up);
    s.first_byte_timeout = 200ms;
    s.max_retries = 2;
    asio::io_context ioc;
    {
        liveai::openai_provider first(s, "m", "", liveai::request{"one"});
        auto task = [&]() -> asio::awaitable<void> {
            while (co_await first.next()) {
            }
        };
        run_coro(ioc, task());
    }
    liveai::openai_provider second(s, "m", "", liveai::request{"two"});
    std::optional<error> failure;
    auto task = [&]() -> asio::awaitable<void> {
        try {
            while (co_await second.next()) {
            }
        } catch (const liveai::stream_error& e) {
            failure = static_cast<error>(e.code().value());
        }
    };
    run_coro(ioc, task(), 20s);
    BOOST_TEST((failure == error::upstream_timeout));
    BOOST_TEST(second.attempts() == 3u);
    BOOST_TEST(second.requests_sent() == 3u);
    BOOST_TEST(up.requests().size() == 4u);  // the first stream's, then 1 + max_retries
}

BOOST_AUTO_TEST_CASE(cancel_mid_stream_closes_the_upstream_connection)
{
    replay_upstream up(replay_upstream::tls_mode::trusted);
    auto raw = read_fixture("openai/stream_basic.http");
    // Stop right after the event carrying the second token.
    const auto body_start = raw.find("\n\n") + 2;
    replay_response hang{raw, 4096, 0ms, 1, false, raw.find("\n\n", raw.find("café")) + 2 - body_start};
    up.script({hang});
    liveai::openai_provider p(settings_for(up), "m", "", liveai::request{"x"});
    asio::io_context ioc;
    std::vector<std::string> got;
    auto first_two = [&]() -> asio::awaitable<void> {
        while (got.size() < 2) got.emplace_back((co_await p.next())->text);
    };
    run_coro(ioc, first_two(), 20s);
    BOOST_REQUIRE(got.size() == 2u);
    // The third token never comes: cancel the pending next() through its slot.
    asio::cancellation_signal signal;
    bool finished = false;
    std::optional<liveai::token> third;
    asio::co_spawn(ioc, p.next(), asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, std::optional<liveai::token> t) {
        BOOST_TEST(!e);
        third = t;
        finished = true;
    }));
    std::chrono::steady_clock::time_point cancelled_at;
    asio::steady_timer timer(ioc, 100ms);
    timer.async_wait([&](auto) {
        cancelled_at = std::chrono::steady_clock::now();
        signal.emit(asio::cancellation_type::terminal);
    });
    ioc.restart();
    ioc.run_for(10s);
    BOOST_TEST(finished);
    BOOST_TEST(!third.has_value());
    BOOST_TEST(p.finish_reason() == liveai::finish_reason::cancelled);
    BOOST_REQUIRE(up.wait_for_client_close(5s));
    const auto lag = *up.last_client_close() - cancelled_at;
    const double lag_us = std::chrono::duration<double, std::micro>(lag).count();
    BOOST_TEST_MESSAGE("cancel -> upstream saw the close: " << lag_us << " us");
    BOOST_TEST((lag < 2s));
    BOOST_TEST(lag_us >= 0.0);
}

BOOST_AUTO_TEST_CASE(cancel_before_the_first_byte_closes_the_upstream_connection)
{
    replay_upstream up(replay_upstream::tls_mode::trusted);
    replay_response silent;
    silent.hang_before_head = true;
    up.script({silent});
    liveai::openai_provider p(settings_for(up), "m", "", liveai::request{"x"});
    asio::io_context ioc;
    asio::steady_timer timer(ioc, 100ms);
    timer.async_wait([&](auto) { p.cancel(); });
    BOOST_TEST(!run_coro(ioc, p.next(), 20s).has_value());
    BOOST_TEST(p.finish_reason() == liveai::finish_reason::cancelled);
    BOOST_TEST(up.wait_for_client_close(5s));
}

BOOST_AUTO_TEST_CASE(tls_refuses_untrusted_certificates_and_wrong_host_names)
{
    {
        replay_upstream up(replay_upstream::tls_mode::untrusted);
        const auto out = run_openai(up, {fixture("openai/stream_basic.http")}, settings_for(up));
        BOOST_TEST((out.failure == error::upstream_tls));
        BOOST_TEST(!out.retryable);
        BOOST_TEST(out.message.find("self-signed certificate") != std::string::npos, out.message);
        BOOST_TEST(out.attempts == 1u);
        BOOST_TEST(up.requests().empty());
    }
    {
        // The certificate names "localhost" only.
        replay_upstream up(replay_upstream::tls_mode::trusted);
        const auto out = run_openai(up, {fixture("openai/stream_basic.http")}, settings_for(up, "127.0.0.1"));
        BOOST_TEST((out.failure == error::upstream_tls));
        BOOST_TEST(!out.retryable);
        BOOST_TEST(out.message.find("IP address mismatch") != std::string::npos, out.message);
        BOOST_TEST(up.requests().empty());
    }
    {
        // Signed by the trusted CA, but expired.
        replay_upstream up(replay_upstream::tls_mode::expired);
        const auto out = run_openai(up, {fixture("openai/stream_basic.http")}, settings_for(up));
        BOOST_TEST((out.failure == error::upstream_tls));
        BOOST_TEST(out.message.find("certificate has expired") != std::string::npos, out.message);
        BOOST_TEST(up.requests().empty());
    }
    {
        // Trusted, but for another host name.
        replay_upstream up(replay_upstream::tls_mode::other_host);
        const auto out = run_openai(up, {fixture("openai/stream_basic.http")}, settings_for(up));
        BOOST_TEST((out.failure == error::upstream_tls));
        BOOST_TEST(out.message.find("hostname mismatch") != std::string::npos, out.message);
        BOOST_TEST(up.requests().empty());
    }
}

BOOST_AUTO_TEST_CASE(timeouts_and_missing_key)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    replay_response silent;
    silent.hang_before_head = true;
    auto s = settings_for(up);
    s.first_byte_timeout = 200ms;
    s.max_retries = 0;
    auto out = run_openai(up, {silent}, s);
    BOOST_TEST((out.failure == error::upstream_timeout));
    BOOST_TEST(out.retryable);

    s.api_key_env = "LIVEAI_TEST_KEY_THAT_IS_NOT_SET";
    try {
        liveai::openai_provider p(s, "m", "", liveai::request{"x"});
        BOOST_FAIL("a missing key was accepted");
    } catch (const liveai::stream_error& e) {
        BOOST_TEST(e.code() == make_error_code(error::upstream_auth));
        BOOST_TEST(e.message().find("LIVEAI_TEST_KEY_THAT_IS_NOT_SET") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gemini)

BOOST_AUTO_TEST_CASE(streams_parts_keeps_the_last_usage_and_sends_the_right_request)
{
    replay_upstream up(replay_upstream::tls_mode::trusted);
    for (std::uint32_t seed : {1u, 2u}) {
        const auto out = run_gemini(up, {fixture("gemini/stream_basic.http", seed == 1 ? 1 : 9, seed)}, settings_for(up, "localhost", "/v1beta"));
        BOOST_TEST(!out.failure.has_value(), out.message);
        BOOST_TEST(out.tokens == (std::vector<std::string>{"Hello", " from Gem", "ini ☀️"}), boost::test_tools::per_element());
        BOOST_TEST(out.reason == liveai::finish_reason::stop);
        BOOST_TEST(out.usage->input_tokens == 8u);
        BOOST_TEST(out.usage->output_tokens == 5u);
    }
    const auto req = up.requests().back();
    BOOST_TEST(req.target == "/v1beta/models/gemini-1.5-flash:streamGenerateContent?alt=sse");
    BOOST_TEST(req.headers.at("x-goog-api-key") == test_key);
    const auto body = json::parse(req.body).as_object();
    BOOST_TEST(body.at("contents").at(0).at("parts").at(0).at("text").as_string() == "Say hello");
    BOOST_TEST(body.at("systemInstruction").at("parts").at(0).at("text").as_string() == "Be brief.");
}

BOOST_AUTO_TEST_CASE(finish_reasons_blocked_prompts_and_errors)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up, "localhost", "/v1beta");
    s.max_retries = 0;
    auto out = run_gemini(up, {fixture("gemini/stream_max_tokens.http")}, s);
    BOOST_TEST(out.reason == liveai::finish_reason::length);
    BOOST_TEST(out.text() == "Long answer");
    out = run_gemini(up, {fixture("gemini/stream_safety.http")}, s);
    BOOST_TEST(out.reason == liveai::finish_reason::content_filter);
    out = run_gemini(up, {fixture("gemini/stream_other.http")}, s);
    BOOST_TEST(out.reason == liveai::finish_reason::stop);
    out = run_gemini(up, {fixture("gemini/stream_blocked_prompt.http")}, s);
    BOOST_TEST(out.tokens.empty());
    BOOST_TEST(out.reason == liveai::finish_reason::content_filter);
    BOOST_TEST(out.usage->input_tokens == 7u);
    out = run_gemini(up, {fixture("gemini/stream_error_inside.http")}, s);
    BOOST_TEST((out.failure == error::upstream_unavailable));
    BOOST_TEST(out.text() == "Start");
    BOOST_TEST(out.message.find("overloaded") != std::string::npos, out.message);
    out = run_gemini(up, {fixture("gemini/error_403.http")}, s);
    BOOST_TEST((out.failure == error::upstream_auth));
    out = run_gemini(up, {fixture("gemini/error_429.http")}, s);
    BOOST_TEST((out.failure == error::upstream_rate_limited));
    BOOST_TEST(out.message.find("Resource has been exhausted") != std::string::npos, out.message);
    BOOST_TEST(liveai::gemini_finish_reason("RECITATION") == liveai::finish_reason::content_filter);
    BOOST_TEST(liveai::gemini_finish_reason("PROHIBITED_CONTENT") == liveai::finish_reason::content_filter);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(typed_deltas)

BOOST_AUTO_TEST_CASE(openai_tool_calls_in_fragments_and_in_parallel)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_retries = 0;
    for (std::uint32_t seed : {1u, 2u}) {
        auto out = run_openai(up, {fixture("openai/stream_tool_call.http", seed == 1 ? 1 : 11, seed)}, s);
        BOOST_TEST(!out.failure.has_value(), out.message);
        BOOST_TEST(out.tokens.empty());
        BOOST_TEST(out.reason == liveai::finish_reason::tool_calls);
        BOOST_REQUIRE(out.tool_calls.size() == 1u);
        BOOST_TEST(out.tool_calls[0].id == "call_DdmO9pD3xa9XTPNJ32zg2hcA");
        BOOST_TEST(out.tool_calls[0].name == "get_weather");
        BOOST_TEST(out.tool_calls[0].arguments == R"({"location":"Paris, France","unit":"celsius"})");
        BOOST_TEST(out.usage->output_tokens == 24u);

        out = run_openai(up, {fixture("openai/stream_parallel_tool_calls.http", seed == 1 ? 1 : 11, seed)}, s);
        BOOST_TEST(!out.failure.has_value(), out.message);
        BOOST_REQUIRE(out.tool_calls.size() == 2u);
        BOOST_TEST(out.tool_calls[0].name == "get_weather");
        BOOST_TEST(out.tool_calls[0].arguments == R"({"location": "Paris"})");
        BOOST_TEST(out.tool_calls[1].id == "call_Qw4eR5tY6uI7oP8aS9dF0gHj");
        BOOST_TEST(out.tool_calls[1].name == "get_time");
        BOOST_TEST(out.tool_calls[1].arguments == R"({"timezone": "Europe/Paris"})");
    }
    // Arguments that are not JSON once the call is whole: an error, not a complete.
    const auto bad = run_openai(up, {fixture("openai/stream_tool_call_bad_arguments.http", 7)}, s);
    BOOST_TEST((bad.failure == error::upstream_protocol), bad.message);
    BOOST_TEST(bad.message.find("tool call 0 with arguments that are not a JSON object") != std::string::npos, bad.message);
}

BOOST_AUTO_TEST_CASE(openai_compatible_reasoning_fields)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_retries = 0;
    auto out = run_openai(up, {fixture("openai/stream_reasoning_content.http", 3)}, s);  // vLLM, DeepSeek
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.reasoning == "The user greets me; answer briefly.");
    BOOST_TEST(out.text() == "Hello! How can I help?");
    BOOST_TEST(out.usage->output_tokens == 31u);
    out = run_openai(up, {fixture("openai/stream_reasoning_ollama.http", 3)}, s);  // Ollama, OpenRouter
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.reasoning == "Short thought.");
    BOOST_TEST(out.text() == "Hi there.");
    BOOST_TEST(!out.usage.has_value());  // none reported: none made up
}

BOOST_AUTO_TEST_CASE(gemini_function_calls_and_thoughts)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up, "localhost", "/v1beta");
    s.max_retries = 0;
    auto out = run_gemini(up, {fixture("gemini/stream_function_call.http", 5)}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.reason == liveai::finish_reason::tool_calls);  // Gemini says STOP
    BOOST_REQUIRE(out.tool_calls.size() == 1u);
    BOOST_TEST(out.tool_calls[0].id == "call_0");
    BOOST_TEST(out.tool_calls[0].name == "get_weather");
    BOOST_TEST(json::parse(out.tool_calls[0].arguments) == json::parse(R"({"location":"Paris, France","unit":"celsius"})"));
    out = run_gemini(up, {fixture("gemini/stream_thought_and_parallel_calls.http", 5)}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.reasoning == "**Weighing the request**\n\nThe user wants weather");
    BOOST_TEST(out.text() == "I'll check Paris and Rome.");
    BOOST_REQUIRE(out.tool_calls.size() == 2u);
    BOOST_TEST(out.tool_calls[1].id == "call_1");
    BOOST_TEST(out.tool_calls[1].arguments == R"({"location":"Rome"})");
}

BOOST_AUTO_TEST_CASE(recorded_tool_call_streams_through_sse)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    static key_env env;
    test_server s("[blocks.gpt]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nstreaming = true\n"
                  "[blocks.gpt.openai]\nbase_url = \"" + up.base_url() + "\"\napi_key_env = \"LIVEAI_TEST_KEY\"\n"
                  "[blocks.gem]\nprovider = \"gemini\"\nmodel = \"gemini-2.0-flash\"\nstreaming = true\n"
                  "[blocks.gem.gemini]\nbase_url = \"" + up.base_url("localhost", "/v1beta") + "\"\napi_key_env = \"LIVEAI_TEST_KEY\"\n");
    up.script({fixture("openai/stream_tool_call.http", 64)});
    auto res = get(s.port(), "/api/stream/ai-block/gpt?prompt=weather");
    BOOST_TEST_MESSAGE("OpenAI tool call through SSE:\n" << res.body());
    auto body = parse_sse(res.body());
    BOOST_REQUIRE(body.events.size() >= 3u);
    std::string arguments;
    for (std::size_t i = 0; i + 1 < body.events.size(); ++i) {
        BOOST_TEST(body.events[i].event == "tool_call");
        const auto e = json::parse(body.events[i].data).as_object();
        BOOST_TEST(e.at("index").as_int64() == 0);
        BOOST_TEST(e.contains("id") == (i == 0));
        arguments += e.at("arguments").as_string();
    }
    BOOST_TEST(arguments == R"({"location":"Paris, France","unit":"celsius"})");
    BOOST_TEST(body.events.back().event == "complete");
    BOOST_TEST(json::parse(body.events.back().data).at("finish_reason").as_string() == "tool_calls");
    BOOST_TEST(json::parse(body.events.back().data).at("chunks").as_int64() == 0);  // no text chunk

    up.script({fixture("gemini/stream_function_call.http", 64)});
    res = get(s.port(), "/api/stream/ai-block/gem?prompt=weather");
    BOOST_TEST_MESSAGE("Gemini function call through SSE:\n" << res.body());
    body = parse_sse(res.body());
    BOOST_REQUIRE(body.events.size() == 2u);
    BOOST_TEST(body.events[0].event == "tool_call");
    BOOST_TEST(json::parse(body.events[0].data) ==
               json::parse(R"({"index":0,"id":"call_0","name":"get_weather","arguments":"{\"location\":\"Paris, France\",\"unit\":\"celsius\"}"})"));
    BOOST_TEST(json::parse(body.events[1].data).at("finish_reason").as_string() == "tool_calls");

    // Collect assembles the calls.
    up.script({fixture("openai/stream_parallel_tool_calls.http", 64)});
    const auto collected = json::parse(post(s.port(), "/api/ai-block/gpt", R"({"prompt":"weather"})").body()).as_object();
    BOOST_TEST(collected.at("finish_reason").as_string() == "tool_calls");
    BOOST_REQUIRE(collected.at("tool_calls").as_array().size() == 2u);
    BOOST_TEST(collected.at("tool_calls").at(1).at("name").as_string() == "get_time");
    BOOST_TEST(collected.at("tool_calls").at(1).at("arguments").as_string() == R"({"timezone": "Europe/Paris"})");
    BOOST_TEST(!collected.contains("reasoning"));
}

BOOST_AUTO_TEST_SUITE_END()

// A conversation with a tool round trip, as each provider's request format.
BOOST_AUTO_TEST_SUITE(conversation_requests)

namespace {

liveai::request conversation()
{
    return liveai::request_from_json(json::parse(R"({
      "messages": [
        {"role": "system", "content": "Use metric units."},
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
          {"id": "call_p", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
          {"id": "call_r", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]},
        {"role": "tool", "tool_call_id": "call_p", "content": "{\"temp_c\":18}"},
        {"role": "tool", "tool_call_id": "call_r", "content": "sunny, 24 C"}
      ],
      "options": {"temperature": 0.3, "max_tokens": 50, "top_p": 0.8, "stop": ["END"], "seed": 11},
      "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
      "tool_choice": "auto"
    })").as_object());
}

json::object sent_body(replay_upstream& up) { return json::parse(up.requests().back().body).as_object(); }

}  // namespace

BOOST_AUTO_TEST_CASE(openai_gets_messages_tools_and_options_as_is)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    up.script({fixture("openai/stream_basic.http")});
    liveai::openai_provider p(settings_for(up), "gpt-4o-mini", "Be brief.", conversation());
    BOOST_TEST(!drain(p).failure.has_value());
    const auto body = sent_body(up);
    const auto& m = body.at("messages").as_array();
    BOOST_REQUIRE(m.size() == 6u);  // the block's system prompt first
    BOOST_TEST(m[0].at("content").as_string() == "Be brief.");
    BOOST_TEST(m[1].at("role").as_string() == "system");
    BOOST_TEST(m[3].at("tool_calls").at(1).at("id").as_string() == "call_r");
    BOOST_TEST(m[3].at("tool_calls").at(1).at("function").at("arguments").as_string() == R"({"city":"Rome"})");
    BOOST_TEST(m[4].at("role").as_string() == "tool");
    BOOST_TEST(m[4].at("tool_call_id").as_string() == "call_p");
    BOOST_TEST(body.at("tools").at(0).at("function").at("parameters").at("type").as_string() == "object");
    BOOST_TEST(body.at("tool_choice").as_string() == "auto");
    BOOST_TEST(body.at("temperature").as_double() == 0.3);
    BOOST_TEST(body.at("max_completion_tokens").as_int64() == 50);
    BOOST_TEST(body.at("top_p").as_double() == 0.8);
    BOOST_TEST(body.at("stop").at(0).as_string() == "END");
    BOOST_TEST(body.at("seed").as_int64() == 11);
}

BOOST_AUTO_TEST_CASE(gemini_gets_model_turns_function_responses_and_declarations)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    up.script({fixture("gemini/stream_basic.http")});
    liveai::gemini_provider p(settings_for(up, "localhost", "/v1beta"), "gemini-2.0-flash", "Be brief.", conversation());
    BOOST_TEST(!drain(p).failure.has_value());
    const auto body = sent_body(up);
    BOOST_TEST(body.at("systemInstruction").at("parts").at(0).at("text").as_string() == "Be brief.\n\nUse metric units.");
    const auto& c = body.at("contents").as_array();
    BOOST_REQUIRE(c.size() == 3u);  // user, model, one user turn with both results
    BOOST_TEST(c[1].at("role").as_string() == "model");
    BOOST_TEST(c[1].at("parts").at(0).at("text").as_string() == "Checking.");
    BOOST_TEST(c[1].at("parts").at(2).at("functionCall").at("args").at("city").as_string() == "Rome");
    const auto& results = c[2].at("parts").as_array();
    BOOST_REQUIRE(results.size() == 2u);
    BOOST_TEST(results[0].at("functionResponse").at("name").as_string() == "get_weather");
    BOOST_TEST(results[0].at("functionResponse").at("response").at("temp_c").as_int64() == 18);
    BOOST_TEST(results[1].at("functionResponse").at("response").at("content").as_string() == "sunny, 24 C");
    BOOST_TEST(body.at("tools").at(0).at("functionDeclarations").at(0).at("name").as_string() == "get_weather");
    BOOST_TEST(body.at("toolConfig").at("functionCallingConfig").at("mode").as_string() == "AUTO");
    const auto& g = body.at("generationConfig");
    BOOST_TEST(g.at("maxOutputTokens").as_int64() == 50);
    BOOST_TEST(g.at("topP").as_double() == 0.8);
    BOOST_TEST(g.at("stopSequences").at(0).as_string() == "END");
    BOOST_TEST(g.at("seed").as_int64() == 11);
}

BOOST_AUTO_TEST_CASE(anthropic_gets_tool_use_and_tool_result_blocks)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    up.script({fixture("anthropic/stream_basic.http")});
    liveai::anthropic_provider p(settings_for(up), "claude-sonnet-4-20250514", "Be brief.", conversation());
    BOOST_TEST(!drain(p).failure.has_value());
    const auto body = sent_body(up);
    BOOST_TEST(body.at("system").as_string() == "Be brief.\n\nUse metric units.");
    const auto& m = body.at("messages").as_array();
    BOOST_REQUIRE(m.size() == 3u);
    BOOST_TEST(m[1].at("content").at(1).at("type").as_string() == "tool_use");
    BOOST_TEST(m[1].at("content").at(2).at("input").at("city").as_string() == "Rome");
    BOOST_TEST(m[2].at("role").as_string() == "user");
    BOOST_TEST(m[2].at("content").at(1).at("tool_use_id").as_string() == "call_r");
    BOOST_TEST(body.at("tools").at(0).at("input_schema").at("type").as_string() == "object");
    BOOST_TEST(body.at("tool_choice").at("type").as_string() == "auto");
    BOOST_TEST(body.at("max_tokens").as_int64() == 50);
    BOOST_TEST(body.at("stop_sequences").at(0).as_string() == "END");
    BOOST_TEST(!body.contains("seed"));  // the Messages API has none
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(anthropic)

BOOST_AUTO_TEST_CASE(streams_text_deltas_with_usage_and_sends_the_right_request)
{
    replay_upstream up(replay_upstream::tls_mode::trusted);
    for (std::uint32_t seed : {1u, 2u}) {
        const auto out = run_anthropic(up, {fixture("anthropic/stream_basic.http", seed == 1 ? 1 : 9, seed)}, settings_for(up));
        BOOST_TEST(!out.failure.has_value(), out.message);
        BOOST_TEST(out.tokens == (std::vector<std::string>{"Hello", " from Claude", " — café 😀"}), boost::test_tools::per_element());
        BOOST_TEST(out.reason == liveai::finish_reason::stop);
        BOOST_REQUIRE(out.usage.has_value());
        BOOST_TEST(out.usage->input_tokens == 25u);   // message_start
        BOOST_TEST(out.usage->output_tokens == 15u);  // message_delta: the final count, not message_start's 1
    }
    const auto req = up.requests().back();
    BOOST_TEST(req.method == "POST");
    BOOST_TEST(req.target == "/v1/messages");
    BOOST_TEST(req.headers.at("x-api-key") == test_key);
    BOOST_TEST(req.headers.at("anthropic-version") == "2023-06-01");
    BOOST_TEST(req.headers.count("authorization") == 0u);
    const auto body = json::parse(req.body).as_object();
    BOOST_TEST(body.at("model").as_string() == "claude-sonnet-4-20250514");
    BOOST_TEST(body.at("stream").as_bool());
    BOOST_TEST(body.at("system").as_string() == "Be brief.");
    BOOST_TEST(body.at("max_tokens").as_int64() == liveai::anthropic_provider::default_max_tokens);
    BOOST_TEST(body.at("messages").at(0).at("role").as_string() == "user");
    BOOST_TEST(body.at("messages").at(0).at("content").as_string() == "Say hello");
}

BOOST_AUTO_TEST_CASE(thinking_is_reasoning_and_tool_use_is_a_tool_call)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_retries = 0;
    s.max_tokens = 200;
    s.temperature = 0.25;
    auto out = run_anthropic(up, {fixture("anthropic/stream_thinking.http", 5)}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.text() == "The answer is 4.");
    BOOST_TEST(out.reasoning == "2 + 2 is 4, so the answer is 4.");  // signature_delta is not output
    BOOST_TEST(out.tool_calls.empty());
    BOOST_TEST(out.usage->input_tokens == 38u);  // message_delta's own input count, when it has one
    BOOST_TEST(out.usage->output_tokens == 41u);
    const auto body = json::parse(up.requests().back().body).as_object();
    BOOST_TEST(body.at("max_tokens").as_int64() == 200);
    BOOST_TEST(body.at("temperature").as_double() == 0.25);
    out = run_anthropic(up, {fixture("anthropic/stream_tool_use.http", 5)}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.text() == "Let me check.");
    BOOST_TEST(out.reason == liveai::finish_reason::tool_calls);
    BOOST_REQUIRE(out.tool_calls.size() == 1u);
    BOOST_TEST(out.tool_calls[0].id == "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    BOOST_TEST(out.tool_calls[0].name == "get_weather");
    BOOST_TEST(out.tool_calls[0].arguments == R"({"location": "San Francisco, CA"})");
}

BOOST_AUTO_TEST_CASE(http_and_in_stream_errors_map_to_contract_codes)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_retries = 0;
    auto out = run_anthropic(up, {fixture("anthropic/error_401.http")}, s);
    BOOST_TEST((out.failure == error::upstream_auth));
    BOOST_TEST(out.message.find("invalid x-api-key") != std::string::npos, out.message);
    out = run_anthropic(up, {fixture("anthropic/error_400.http")}, s);
    BOOST_TEST((out.failure == error::provider_error));
    BOOST_TEST(!out.retryable);
    BOOST_TEST(out.message.find("max_tokens: 100000 > 64000") != std::string::npos, out.message);
    out = run_anthropic(up, {fixture("anthropic/error_429.http")}, s);
    BOOST_TEST((out.failure == error::upstream_rate_limited));
    out = run_anthropic(up, {fixture("anthropic/error_529.http")}, s);
    BOOST_TEST((out.failure == error::upstream_unavailable));
    BOOST_TEST(out.retryable);
    BOOST_TEST(out.message.find("Overloaded") != std::string::npos, out.message);
    BOOST_TEST((liveai::anthropic_error("rate_limit_error") == error::upstream_rate_limited));
    BOOST_TEST((liveai::anthropic_error("permission_error") == error::upstream_auth));
    BOOST_TEST((liveai::anthropic_error("not_found_error") == error::upstream_not_found));
    BOOST_TEST((liveai::anthropic_error("billing_error") == error::provider_error));
    BOOST_TEST((liveai::anthropic_finish_reason("stop_sequence") == liveai::finish_reason::stop));
    BOOST_TEST(liveai::anthropic_finish_reason("tool_use") == liveai::finish_reason::tool_calls);
}

BOOST_AUTO_TEST_CASE(overloaded_before_the_first_token_is_retried)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_retries = 2;
    // A 529, then an overloaded_error inside a 200 stream before any text, then an answer.
    const auto out = run_anthropic(up, {fixture("anthropic/error_529.http"), fixture("anthropic/stream_overloaded_first.http"),
                                        fixture("anthropic/stream_basic.http")}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.attempts == 3u);
    BOOST_TEST(out.text() == "Hello from Claude — café 😀");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(providers_in_the_server)

BOOST_AUTO_TEST_CASE(an_openai_block_streams_through_sse_and_collect)
{
    replay_upstream up(replay_upstream::tls_mode::trusted);
    up.script({fixture("openai/stream_basic.http", 16)});
    static key_env env;
    test_server s("[blocks.gpt]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nstreaming = true\n"
                  "[blocks.gpt.openai]\nbase_url = \"" + up.base_url() + "\"\napi_key_env = \"LIVEAI_TEST_KEY\"\n"
                  "ca_file = \"" + replay_upstream::certs_dir() + "/ca.pem\"\n");
    auto res = get(s.port(), "/api/stream/ai-block/gpt?prompt=hi");
    BOOST_TEST(res.result_int() == 200);
    const auto body = parse_sse(res.body());
    BOOST_REQUIRE(body.events.size() == 7u);
    BOOST_TEST(json::parse(body.events[1].data).at("text").as_string() == " café");
    const auto done = json::parse(body.events.back().data);
    BOOST_TEST(done.at("usage").at("input_tokens").as_int64() == 19);
    auto collected = post(s.port(), "/api/ai-block/gpt", R"({"prompt":"hi"})");
    BOOST_TEST(json::parse(collected.body()).at("text").as_string() == "Hello café 😀 日本語! ✨");
}

// A hedged block whose primary is a real upstream that never answers: the
// mock backup starts after hedge_after_ms and wins, and the primary's
// upstream connection is closed at once; complete and the metrics say so.
BOOST_AUTO_TEST_CASE(a_hedged_block_closes_the_losing_upstream)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    replay_response hanging{read_fixture("openai/stream_basic.http"), 64};
    hanging.hang_before_head = true;
    up.script({hanging});
    static key_env env;
    test_server s("[blocks.gpt]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n"
                  "[blocks.gpt.openai]\nbase_url = \"" + up.base_url() + "\"\napi_key_env = \"LIVEAI_TEST_KEY\"\n"
                  "[blocks.local]\nprovider = \"mock\"\nmodel = \"local-1\"\n[blocks.local.mock]\ntext = \"from the backup\"\necho_words = 0\n"
                  "[blocks.chat]\nfallback = [\"gpt\", \"local\"]\nhedge_after_ms = 100\nstreaming = true\n");
    const auto started = std::chrono::steady_clock::now();
    auto res = get(s.port(), "/api/stream/ai-block/chat?prompt=hi");
    const auto body = parse_sse(res.body());
    BOOST_REQUIRE(!body.events.empty());
    const auto done = json::parse(body.events.back().data).as_object();
    BOOST_TEST(body.events.back().event == "complete");
    BOOST_TEST(done.at("provider").as_string() == "mock");
    BOOST_TEST(done.at("model").as_string() == "local-1");
    BOOST_TEST(up.wait_for_client_close(2000ms));  // the loser's upstream saw the close
    BOOST_TEST((*up.last_client_close() - started < 2000ms));
    const auto metrics = get(s.port(), "/metrics").body();
    BOOST_TEST(metrics.find(R"(liveai_attempts_total{block="chat",attempt="gpt",provider="openai",outcome="cancelled"} 1)") !=
               std::string::npos, metrics);
    BOOST_TEST(metrics.find(R"(liveai_attempts_total{block="chat",attempt="local",provider="mock",outcome="served"} 1)") !=
               std::string::npos);
    const auto listed = json::parse(get(s.port(), "/api/blocks").body()).at("blocks").as_array();
    bool found = false;
    for (const auto& b : listed)
        if (b.at("name") == "chat") found = b.at("provider") == "hedge";
    BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(an_anthropic_block_from_toml_streams_through_sse_and_collect)
{
    replay_upstream up(replay_upstream::tls_mode::trusted);
    up.script({fixture("anthropic/stream_basic.http", 16), fixture("anthropic/stream_basic.http", 16)});
    static key_env env;
    test_server s("[blocks.claude]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-20250514\"\nstreaming = true\n"
                  "[blocks.claude.anthropic]\nbase_url = \"" + up.base_url() + "\"\napi_key_env = \"LIVEAI_TEST_KEY\"\n"
                  "max_tokens = 64\nca_file = \"" + replay_upstream::certs_dir() + "/ca.pem\"\n");
    auto res = get(s.port(), "/api/stream/ai-block/claude?prompt=hi");
    BOOST_TEST(res.result_int() == 200);
    const auto body = parse_sse(res.body());
    BOOST_REQUIRE(body.events.size() == 4u);  // three chunks, complete
    BOOST_TEST(json::parse(body.events[2].data).at("text").as_string() == " — café 😀");
    const auto done = json::parse(body.events.back().data);
    BOOST_TEST(body.events.back().event == "complete");
    BOOST_TEST(done.at("finish_reason").as_string() == "stop");
    BOOST_TEST(done.at("usage").at("output_tokens").as_int64() == 15);
    BOOST_TEST(json::parse(up.requests().back().body).at("max_tokens").as_int64() == 64);
    auto collected = post(s.port(), "/api/ai-block/claude", R"({"prompt":"hi"})");
    BOOST_TEST(json::parse(collected.body()).at("text").as_string() == "Hello from Claude — café 😀");
}

BOOST_AUTO_TEST_SUITE_END()

// Every end-of-stream and error-mapping rule, one recorded fixture each, each
// replayed with every byte in a write of its own and at random splits.
BOOST_AUTO_TEST_SUITE(end_of_stream_rules)

BOOST_AUTO_TEST_CASE(each_rule_with_every_byte_split)
{
    struct rule {
        std::string fixture;
        std::string text;
        std::optional<error> failure;  // none: complete
        liveai::finish_reason reason = liveai::finish_reason::stop;
        bool retryable = false;
        bool usage_reported = false;
        std::string message;  // a part of the message the client gets
    };
    const std::vector<rule> rules{
        // OpenAI-compatible.
        {"openai/stream_basic.http", "Hello café 😀 日本語! ✨", {}, liveai::finish_reason::stop, false, true, ""},
        {"openai/stream_finish_without_done.http", "Whole answer", {}, liveai::finish_reason::stop, false, false, ""},
        {"openai/stream_done_without_finish.http", "Half an", error::upstream_protocol, {}, false, false, "without a finish_reason"},
        {"openai/stream_truncated.http", "Never finished", error::upstream_protocol, {}, false, false, "cut off"},
        {"openai/stream_cut_close_delimited.http", "Cut here", error::upstream_protocol, {}, false, false, "cut off"},
        {"openai/stream_vllm_error.http", "Before", error::upstream_unavailable, {}, true, false, "CUDA out of memory"},
        {"openai/stream_error_numeric_429.http", "Some", error::upstream_rate_limited, {}, true, false, "too many concurrent"},
        {"openai/stream_error_inside.http", "Partial", error::upstream_unavailable, {}, true, false, ""},
        {"openai/stream_compatible.http", "Local model says hi", {}, liveai::finish_reason::stop, false, false, ""},
        // Gemini.
        {"gemini/stream_basic.http", "Hello from Gemini ☀️", {}, liveai::finish_reason::stop, false, true, ""},
        {"gemini/stream_cut_no_finish.http", "Never ends", error::upstream_protocol, {}, false, true, "cut off"},
        {"gemini/stream_cut_mid_event.http", "Almost", error::upstream_protocol, {}, false, true, "cut off"},
        {"gemini/stream_raw_error_after_tokens.http", "Some text", error::upstream_unavailable, {}, true, true, "overloaded"},
        {"gemini/stream_error_inside.http", "Start", error::upstream_unavailable, {}, true, false, "overloaded"},
        {"gemini/stream_blocked_prompt.http", "", {}, liveai::finish_reason::content_filter, false, true, ""},
        // Anthropic.
        {"anthropic/stream_basic.http", "Hello from Claude — café 😀", {}, liveai::finish_reason::stop, false, true, ""},
        {"anthropic/stream_max_tokens.http", "A long answer", {}, liveai::finish_reason::length, false, true, ""},
        {"anthropic/stream_refusal.http", "I can", {}, liveai::finish_reason::content_filter, false, true, ""},
        {"anthropic/stream_cut_no_stop.http", "Never ends", error::upstream_protocol, {}, false, false, "cut off"},
        {"anthropic/stream_stop_without_reason.http", "Half", error::upstream_protocol, {}, false, false, "without a finish"},
        {"anthropic/stream_overloaded_inside.http", "Partial", error::upstream_unavailable, {}, true, false, "Overloaded"},
        {"anthropic/stream_tool_use.http", "Let me check.", {}, liveai::finish_reason::tool_calls, false, true, ""},
    };
    replay_upstream up(replay_upstream::tls_mode::none);
    BOOST_TEST_MESSAGE("| fixture | ends with | usage |");
    for (const auto& r : rules) {
        const bool gemini = r.fixture.starts_with("gemini/");
        const bool anthropic = r.fixture.starts_with("anthropic/");
        auto s = gemini ? settings_for(up, "localhost", "/v1beta") : settings_for(up);
        s.max_retries = 0;
        for (std::uint32_t seed : {1u, 2u, 3u}) {
            // seed 1: every byte its own write, so every split point is seen.
            auto script = std::vector<replay_response>{fixture(r.fixture, seed == 1 ? 1 : 7, seed, seed == 3 ? 1ms : 0ms)};
            const auto out = gemini      ? run_gemini(up, script, s)
                             : anthropic ? run_anthropic(up, script, s)
                                         : run_openai(up, script, s);
            BOOST_TEST_CONTEXT(r.fixture << " seed " << seed)
            {
                BOOST_TEST(out.text() == r.text);
                BOOST_TEST((out.failure == r.failure), (out.failure ? liveai::to_code(*out.failure) : "complete") << ": " << out.message);
                if (r.failure) {
                    BOOST_TEST(out.retryable == r.retryable);
                } else {
                    BOOST_TEST(out.reason == r.reason);
                    BOOST_TEST(out.usage.has_value() == r.usage_reported);
                }
                if (!r.message.empty()) BOOST_TEST(out.message.find(r.message) != std::string::npos, out.message);
                if (seed == 1)
                    BOOST_TEST_MESSAGE("| " << r.fixture << " | "
                                            << (out.failure ? "error " + std::string(liveai::to_code(*out.failure)) +
                                                                  (out.retryable ? " (retryable)" : "")
                                                            : "complete " + std::string(liveai::to_string(out.reason)))
                                            << " | " << (out.usage ? "reported" : "null") << " |");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(http_error_answers_map_by_provider)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up, "localhost", "/v1beta");
    s.max_retries = 0;
    auto out = run_gemini(up, {fixture("gemini/error_400_api_key_invalid.http")}, s);
    BOOST_TEST((out.failure == error::upstream_auth));
    BOOST_TEST(out.message.find("API key not valid") != std::string::npos, out.message);
    BOOST_TEST_MESSAGE("| gemini/error_400_api_key_invalid.http | error " << liveai::to_code(*out.failure) << " | - |");
}

BOOST_AUTO_TEST_CASE(an_in_stream_5xx_before_the_first_token_is_retried)
{
    // vLLM's error object with a numeric 500 code, before any token: retryable.
    const std::string body = "data: {\"error\": {\"object\": \"error\", \"message\": \"engine restarting\", \"type\": \"InternalServerError\", "
                             "\"param\": null, \"code\": 500}}\n\ndata: [DONE]\n\n";
    replay_response early{"HTTP/1.1 200 OK\nContent-Type: text/event-stream\nContent-Length: " + std::to_string(body.size()) + "\n\n" + body};
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_retries = 1;
    const auto out = run_openai(up, {early, fixture("openai/stream_basic.http")}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(out.attempts == 2u);
    BOOST_TEST(out.text() == "Hello café 😀 日本語! ✨");
}

BOOST_AUTO_TEST_CASE(max_tokens_goes_out_under_the_configured_name)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.max_tokens = 64;
    // The default first (left as it is: OpenAI's current name), then the old one.
    for (const auto& [field, other] : {std::pair{"max_completion_tokens", "max_tokens"}, std::pair{"max_tokens", "max_completion_tokens"}}) {
        if (s.max_tokens_field != field) s.max_tokens_field = field;
        run_openai(up, {fixture("openai/stream_basic.http")}, s);
        const auto body = json::parse(up.requests().back().body).as_object();
        BOOST_TEST(body.at(field).as_int64() == 64);
        BOOST_TEST(!body.contains(other));
    }
}

BOOST_AUTO_TEST_CASE(a_keyless_server_gets_no_authorization_header)
{
    replay_upstream up(replay_upstream::tls_mode::none);
    auto s = settings_for(up);
    s.api_key_env = "";
    const auto out = run_openai(up, {fixture("openai/stream_compatible.http")}, s);
    BOOST_TEST(!out.failure.has_value(), out.message);
    BOOST_TEST(!up.requests().back().headers.contains("authorization"));
}

BOOST_AUTO_TEST_SUITE_END()
