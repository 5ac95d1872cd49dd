#include <liveai/provider_registry.hpp>
#include <liveai/providers/mock_settings.hpp>
#include <liveai/providers/upstream_settings.hpp>
#include <liveai/engine.hpp>
#include <liveai/error.hpp>

#include "../support/run_coro.hpp"
#include "../support/stream_helpers.hpp"

#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using liveai::block_config;
using liveai::engine;
using liveai::error;
using liveai::request;
using liveai::test::drain;
using liveai::test::join;
using liveai::test::run_coro;

namespace {

block_config make_block(std::string name, bool streaming)
{
    block_config b;
    b.name = std::move(name);
    b.streaming = streaming;
    liveai::block_settings<liveai::mock_settings>(b).tokens = 20;
    liveai::block_settings<liveai::mock_settings>(b).seed = 3;
    return b;
}

// Runs `f` and returns the liveai error it threw (fails the test if none).
template <class F>
liveai::error thrown_code(F&& f)
{
    try {
        f();
    } catch (const liveai::stream_error& e) {
        BOOST_TEST((e.code().category() == liveai::liveai_category()));
        BOOST_TEST(!e.message().empty());
        return static_cast<liveai::error>(e.code().value());
    }
    BOOST_FAIL("expected a stream_error");
    return liveai::error::internal_error;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_suite)

BOOST_AUTO_TEST_CASE(collect_equals_the_concatenated_stream)
{
    asio::io_context ioc;
    auto b = make_block("chat", true);
    liveai::block_settings<liveai::mock_settings>(b).delay = 1ms;
    engine e({b});
    auto s = e.stream("chat", request{"same prompt"});
    const auto tokens = run_coro(ioc, drain(*s));
    const auto collected = run_coro(ioc, e.collect("chat", request{"same prompt"}));
    BOOST_TEST(collected.text == join(tokens));
    BOOST_TEST(collected.chunks == tokens.size());
    BOOST_TEST(collected.finish_reason == liveai::finish_reason::stop);
    BOOST_TEST(collected.usage->output_tokens == 20u);
    BOOST_TEST(collected.usage->input_tokens == 2u);
    BOOST_TEST(s->usage()->output_tokens == 20u);
}

BOOST_AUTO_TEST_CASE(streaming_is_opt_in_but_collect_always_works)
{
    asio::io_context ioc;
    engine e({make_block("report", false)});
    BOOST_TEST(thrown_code([&] { e.stream("report", request{"x"}); }) == error::streaming_disabled);
    BOOST_TEST(run_coro(ioc, e.collect("report", request{"x"})).chunks == 20u);
}

BOOST_AUTO_TEST_CASE(rejects_bad_requests_with_clear_codes)
{
    auto b = make_block("chat", true);
    b.max_prompt_bytes = 16;
    engine e({b});
    BOOST_TEST(thrown_code([&] { e.stream("nope", request{"x"}); }) == error::unknown_block);
    BOOST_TEST(thrown_code([&] { e.stream("chat", request{""}); }) == error::invalid_prompt);
    BOOST_TEST(thrown_code([&] { e.stream("chat", request{"bad \xC3"}); }) == error::invalid_prompt);
    BOOST_TEST(thrown_code([&] { e.stream("chat", request{std::string(17, 'a')}); }) == error::prompt_too_large);
    BOOST_CHECK_NO_THROW(e.stream("chat", request{std::string(16, 'a')}));
}

BOOST_AUTO_TEST_CASE(first_token_deadline_cancels_the_provider)
{
    asio::io_context ioc;
    auto b = make_block("slow", true);
    liveai::block_settings<liveai::mock_settings>(b).first_token_delay = 60s;
    b.deadlines.first_token = 50ms;
    engine e({b});
    auto s = e.stream("slow", request{"x"});
    BOOST_TEST(thrown_code([&] { run_coro(ioc, s->next(), 20s); }) == error::first_token_timeout);
    BOOST_TEST(s->current_state() == liveai::token_stream::state::failed);
    BOOST_TEST(!run_coro(ioc, s->next()).has_value());
}

BOOST_AUTO_TEST_CASE(idle_deadline_between_tokens)
{
    asio::io_context ioc;
    auto b = make_block("stall", true);
    liveai::block_settings<liveai::mock_settings>(b).echo_words = 0;
    liveai::block_settings<liveai::mock_settings>(b).delay = 60s;  // token 0 at once, token 1 after a minute
    b.deadlines.idle = 50ms;
    engine e({b});
    auto s = e.stream("stall", request{"x"});
    std::size_t got = 0;
    auto task = [&]() -> asio::awaitable<void> {
        while (co_await s->next()) ++got;
    };
    BOOST_TEST(thrown_code([&] { run_coro(ioc, task(), 20s); }) == error::idle_timeout);
    BOOST_TEST(got == 1u);
    BOOST_TEST(s->usage()->output_tokens == 1u);
}

BOOST_AUTO_TEST_CASE(total_deadline)
{
    asio::io_context ioc;
    auto b = make_block("long", true);
    liveai::block_settings<liveai::mock_settings>(b).tokens = 100'000;
    liveai::block_settings<liveai::mock_settings>(b).delay = 5ms;
    b.deadlines.idle = 10s;
    b.deadlines.total = 100ms;
    engine e({b});
    auto s = e.stream("long", request{"x"});
    std::size_t got = 0;
    auto task = [&]() -> asio::awaitable<void> {
        while (co_await s->next()) ++got;
    };
    BOOST_TEST(thrown_code([&] { run_coro(ioc, task(), 20s); }) == error::deadline_exceeded);
    BOOST_TEST(got >= 1u);
    BOOST_TEST(got < 100'000u);
}

BOOST_AUTO_TEST_CASE(cancel_through_the_engine_stream)
{
    asio::io_context ioc;
    auto b = make_block("chat", true);
    liveai::block_settings<liveai::mock_settings>(b).echo_words = 0;
    liveai::block_settings<liveai::mock_settings>(b).delay = 60s;
    engine e({b});
    auto s = e.stream("chat", request{"x"});
    std::size_t got = 0;
    auto task = [&]() -> asio::awaitable<void> {
        while (co_await s->next()) ++got;
    };
    asio::steady_timer timer(ioc, 50ms);
    timer.async_wait([&](auto) { s->cancel(); });
    run_coro(ioc, task(), 20s);
    BOOST_TEST(got == 1u);
    BOOST_TEST(s->current_state() == liveai::token_stream::state::finished);
    BOOST_TEST(s->finish_reason() == liveai::finish_reason::cancelled);
}

BOOST_AUTO_TEST_CASE(a_destroyed_stream_leaves_no_pending_timer)
{
    asio::io_context ioc;
    auto b = make_block("chat", true);
    liveai::block_settings<liveai::mock_settings>(b).tokens = 100;
    b.deadlines = {60s, 60s, 120s};
    engine e({b});
    auto s = e.stream("chat", request{"x"});
    BOOST_TEST(run_coro(ioc, s->next()).has_value());
    s.reset();
    // Nothing may keep the io_context busy once the stream is gone.
    const auto start = std::chrono::steady_clock::now();
    ioc.restart();
    ioc.run_for(10s);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(failures_pass_through_with_retryable)
{
    asio::io_context ioc;
    auto b = make_block("fail", true);
    liveai::block_settings<liveai::mock_settings>(b).fail_after = 2;
    liveai::block_settings<liveai::mock_settings>(b).fail_code = error::overloaded;
    engine e({b});
    auto s = e.stream("fail", request{"x"});
    try {
        run_coro(ioc, drain(*s));
        BOOST_FAIL("expected failure");
    } catch (const liveai::stream_error& err) {
        BOOST_TEST(err.code() == make_error_code(error::overloaded));
        BOOST_TEST(err.retryable());
    }
    BOOST_TEST(s->error() == make_error_code(error::overloaded));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(error_category)

BOOST_AUTO_TEST_CASE(codes_round_trip)
{
    for (int v = 1; v <= static_cast<int>(error::internal_error); ++v) {
        const auto e = static_cast<error>(v);
        const auto code = liveai::to_code(e);
        BOOST_TEST(!code.empty());
        BOOST_TEST((liveai::error_from_code(code) == e));
        BOOST_TEST(make_error_code(e).message() != "unknown liveai error");
    }
    BOOST_TEST(liveai::to_code(make_error_code(boost::asio::error::operation_aborted)) == "cancelled");
}

BOOST_AUTO_TEST_SUITE_END()
