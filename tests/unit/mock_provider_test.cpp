#include <liveai/detail/utf8.hpp>
#include <liveai/error.hpp>
#include <liveai/engine.hpp>
#include <liveai/providers/mock_provider.hpp>

#include "../support/run_coro.hpp"
#include "../support/stream_helpers.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <variant>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using liveai::mock_provider;
using liveai::mock_settings;
using liveai::request;
using liveai::test::drain;
using liveai::test::join;
using liveai::test::run_coro;

namespace {

std::vector<std::string> run_mock(mock_settings s, std::string prompt)
{
    asio::io_context ioc;
    mock_provider p(std::move(s), request{std::move(prompt)});
    return run_coro(ioc, drain(p));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mock)

BOOST_AUTO_TEST_CASE(same_prompt_and_seed_give_the_same_tokens)
{
    mock_settings s;
    s.tokens = 40;
    s.seed = 42;
    const auto a = run_mock(s, "tell me a story");
    const auto b = run_mock(s, "tell me a story");
    BOOST_TEST(a.size() == 40u);
    BOOST_TEST(a == b, boost::test_tools::per_element());
    s.seed = 43;
    BOOST_TEST(join(run_mock(s, "tell me a story")) != join(a));
    s.seed = 42;
    BOOST_TEST(join(run_mock(s, "tell me another story")) != join(a));
}

BOOST_AUTO_TEST_CASE(echoes_prompt_words_first_with_any_utf8)
{
    mock_settings s;
    s.tokens = 10;
    s.echo_words = 3;
    const auto t = run_mock(s, "h\xC3\xA9llo \xF0\x9F\x98\x80 w\xC3\xB6rld and more words");
    BOOST_REQUIRE(t.size() == 10u);
    BOOST_TEST(t[0] == "h\xC3\xA9llo");
    BOOST_TEST(t[1] == " \xF0\x9F\x98\x80");
    BOOST_TEST(t[2] == " w\xC3\xB6rld");
    BOOST_TEST(t[3] != " and");
}

BOOST_AUTO_TEST_CASE(every_token_is_whole_utf8)
{
    mock_settings s;
    s.tokens = 500;
    s.echo_words = 100;
    // A long word of emoji without spaces is cut into pieces, never mid-character.
    std::string prompt;
    for (int i = 0; i < 40; ++i) prompt += "\xF0\x9F\x98\x80\xC3\xA9";
    const auto t = run_mock(s, prompt + " tail");
    BOOST_TEST(t.size() == 500u);
    for (const auto& tok : t) {
        BOOST_TEST(!tok.empty());
        BOOST_TEST(liveai::detail::is_valid_utf8(tok));
    }
    BOOST_TEST(join(t).rfind(prompt + " tail", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(generated_tokens_are_4_to_8_bytes)
{
    mock_settings s;
    s.tokens = 256;
    s.echo_words = 0;
    for (const auto& tok : run_mock(s, "x")) {
        BOOST_TEST(tok.size() >= 4u);
        BOOST_TEST(tok.size() <= 8u);
    }
}

BOOST_AUTO_TEST_CASE(fixed_text_streams_exactly_that_text)
{
    mock_settings s;
    s.text = "The quick brown fox jumps.";
    s.echo_words = 1;
    const auto t = run_mock(s, "Q: fox?");
    BOOST_TEST(join(t) == "Q: The quick brown fox jumps.");
    BOOST_TEST(t.size() == 6u);
}

BOOST_AUTO_TEST_CASE(reports_finish_reason_and_usage)
{
    asio::io_context ioc;
    mock_settings s;
    s.tokens = 5;
    s.finish = liveai::finish_reason::length;
    mock_provider p(s, request{"one two three"});
    const auto t = run_coro(ioc, drain(p));
    BOOST_TEST(t.size() == 5u);
    BOOST_TEST(p.current_state() == liveai::token_stream::state::finished);
    BOOST_TEST(p.finish_reason() == liveai::finish_reason::length);
    BOOST_TEST(p.usage()->input_tokens == 3u);
    BOOST_TEST(p.usage()->output_tokens == 5u);
    // After the end, next() keeps returning nullopt.
    BOOST_TEST(!run_coro(ioc, p.next()).has_value());
}

BOOST_AUTO_TEST_CASE(fails_after_n_tokens_with_the_configured_code)
{
    asio::io_context ioc;
    mock_settings s;
    s.tokens = 10;
    s.fail_after = 3;
    s.fail_code = liveai::error::upstream_unavailable;
    s.fail_retryable = false;
    mock_provider p(s, request{"go"});
    std::vector<std::string> got;
    auto task = [&]() -> asio::awaitable<void> {
        while (auto t = co_await p.next()) got.emplace_back(t->text);
    };
    try {
        run_coro(ioc, task());
        BOOST_FAIL("expected a stream_error");
    } catch (const liveai::stream_error& e) {
        BOOST_TEST(e.code() == make_error_code(liveai::error::upstream_unavailable));
        BOOST_TEST(e.retryable() == false);
        BOOST_TEST(liveai::to_code(e.code()) == "upstream_unavailable");
    }
    BOOST_TEST(got.size() == 3u);
    BOOST_TEST(p.current_state() == liveai::token_stream::state::failed);
}

BOOST_AUTO_TEST_CASE(tokens_arrive_in_order_and_not_before_their_time)
{
    asio::io_context ioc;
    mock_settings s;
    s.tokens = 6;
    s.echo_words = 0;
    s.first_token_delay = 30ms;
    s.delay = 10ms;
    s.jitter = 5ms;
    mock_provider p(s, request{"timing"});
    const auto expected = run_mock(s, "timing");
    auto task = [&]() -> asio::awaitable<std::vector<std::chrono::steady_clock::duration>> {
        std::vector<std::chrono::steady_clock::duration> at;
        const auto start = std::chrono::steady_clock::now();
        std::size_t i = 0;
        while (auto t = co_await p.next()) {
            BOOST_TEST(std::string(t->text) == expected[i]);
            ++i;
            at.push_back(std::chrono::steady_clock::now() - start);
        }
        co_return at;
    };
    const auto at = run_coro(ioc, task());
    BOOST_REQUIRE(at.size() == 6u);
    // Each token is due no earlier than first + i * delay; assert only lower bounds.
    for (std::size_t i = 0; i < at.size(); ++i) BOOST_TEST((at[i] >= 30ms + 10ms * i));
}

BOOST_AUTO_TEST_CASE(cancel_before_first_token_with_or_operator)
{
    asio::io_context ioc;
    mock_settings s;
    s.tokens = 3;
    s.first_token_delay = 60s;
    mock_provider p(s, request{"wait"});
    auto task = [&]() -> asio::awaitable<bool> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
        auto result = co_await (p.next() || timer.async_wait(asio::use_awaitable));
        co_return result.index() == 1;
    };
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(run_coro(ioc, task(), 20s));
    BOOST_TEST((std::chrono::steady_clock::now() - start < 20s));
    BOOST_TEST(p.current_state() == liveai::token_stream::state::finished);
    BOOST_TEST(p.finish_reason() == liveai::finish_reason::cancelled);
    BOOST_TEST(!run_coro(ioc, p.next()).has_value());
}

BOOST_AUTO_TEST_CASE(cancel_between_tokens_through_a_cancellation_slot)
{
    asio::io_context ioc;
    mock_settings s;
    s.tokens = 5;
    s.echo_words = 0;
    s.delay = 60s;
    mock_provider p(s, request{"slot"});
    std::vector<std::string> got;
    asio::cancellation_signal signal;
    bool done = false;
    auto consumer = [&]() -> asio::awaitable<void> {
        while (auto t = co_await p.next()) got.emplace_back(t->text);
    };
    asio::co_spawn(ioc, consumer(), asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr) { done = true; }));
    asio::steady_timer timer(ioc, 50ms);
    timer.async_wait([&](auto) { signal.emit(asio::cancellation_type::terminal); });
    ioc.run_for(20s);
    BOOST_TEST(done);
    BOOST_TEST(got.size() == 1u);  // the first token is due at once, the second in 60 s
    BOOST_TEST(p.finish_reason() == liveai::finish_reason::cancelled);
    BOOST_TEST(p.usage()->output_tokens == 1u);
}

BOOST_AUTO_TEST_CASE(cancel_method_ends_a_pending_wait)
{
    asio::io_context ioc;
    mock_settings s;
    s.tokens = 5;
    s.echo_words = 0;
    s.delay = 60s;
    mock_provider p(s, request{"stop"});
    std::vector<std::string> got;
    auto consumer = [&]() -> asio::awaitable<void> {
        while (auto t = co_await p.next()) got.emplace_back(t->text);
    };
    asio::steady_timer timer(ioc, 50ms);
    timer.async_wait([&](auto) { p.cancel(); });
    run_coro(ioc, consumer(), 20s);
    BOOST_TEST(got.size() == 1u);
    BOOST_TEST(p.finish_reason() == liveai::finish_reason::cancelled);
}

BOOST_AUTO_TEST_CASE(zero_delay_does_not_starve_other_coroutines)
{
    asio::io_context ioc;
    mock_settings s;
    s.tokens = 2000;
    mock_provider p(s, request{"fast"});
    std::size_t ticks = 0;
    bool mock_done = false;
    std::size_t ticks_when_done = 0;
    auto ticker = [&]() -> asio::awaitable<void> {
        while (!mock_done) {
            ++ticks;
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        }
    };
    auto consumer = [&]() -> asio::awaitable<void> {
        co_await drain(p);
        mock_done = true;
        ticks_when_done = ticks;
    };
    asio::co_spawn(ioc, ticker(), asio::detached);
    run_coro(ioc, consumer());
    // The ticker ran at least once per yield_every tokens while the mock streamed.
    BOOST_TEST(ticks_when_done >= 2000u / mock_provider::yield_every - 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mock_typed_deltas)

BOOST_AUTO_TEST_CASE(reasoning_then_text_then_a_tool_call_in_fragments)
{
    mock_settings s;
    s.text = "Looking it up.";
    s.echo_words = 0;
    s.reasoning = "The user wants the weather.";
    s.tool_name = "get_weather";
    s.tool_arguments = R"({"city": "Zürich", "unit": "celsius"})";
    boost::asio::io_context ioc;  // outlives the stream, whose timer is the context's
    mock_provider p(s, request{"weather?"});
    std::vector<liveai::token_kind> kinds;
    liveai::collect_result whole;
    std::vector<std::string> ids;
    auto read = [&]() -> boost::asio::awaitable<void> {
        while (auto t = co_await p.next()) {
            kinds.push_back(t->kind);
            if (t->kind == liveai::token_kind::tool_call) {
                BOOST_TEST(t->text.size() <= 8u);
                BOOST_TEST(liveai::detail::is_valid_utf8(t->text));  // never splits ü
                ids.emplace_back(t->id);
            }
            whole.add(*t);
        }
    };
    run_coro(ioc, read());
    BOOST_TEST(whole.reasoning == "The user wants the weather.");
    BOOST_TEST(whole.text == "Looking it up.");
    BOOST_REQUIRE(whole.tool_calls.size() == 1u);
    BOOST_TEST(whole.tool_calls[0].id == "call_mock_0");
    BOOST_TEST(whole.tool_calls[0].name == "get_weather");
    BOOST_TEST(whole.tool_calls[0].arguments == s.tool_arguments);
    BOOST_TEST(p.finish_reason() == liveai::finish_reason::tool_calls);
    // Kinds in order: reasoning, text, tool call; id only on the first fragment.
    const auto stage = [](liveai::token_kind k) { return k == liveai::token_kind::reasoning ? 0 : k == liveai::token_kind::text ? 1 : 2; };
    BOOST_TEST(std::is_sorted(kinds.begin(), kinds.end(), [&](auto a, auto b) { return stage(a) < stage(b); }));
    BOOST_TEST((kinds.front() == liveai::token_kind::reasoning));
    BOOST_TEST(ids.size() > 1u);
    BOOST_TEST(ids.front() == "call_mock_0");
    BOOST_TEST(std::all_of(ids.begin() + 1, ids.end(), [](const std::string& id) { return id.empty(); }));
}

BOOST_AUTO_TEST_SUITE_END()
