// Providers composed: fallback before the first delta only, and hedging
// (the first attempt to produce a delta wins, the others are cancelled),
// with deterministic mock timings.
#include <liveai/compose/attempts.hpp>
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/providers/mock_provider.hpp>

#include "../support/printers.hpp"
#include "../support/run_coro.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using liveai::attempt_outcome;
using liveai::error;
using liveai::mock_settings;

namespace {

struct opened {
    std::string text;
    std::optional<error> failure;
    liveai::finish_reason reason = liveai::finish_reason::stop;
    std::vector<std::pair<std::string, attempt_outcome>> attempts;
};

// An attempt that is a mock with these settings; counts how often it was opened.
liveai::compose::attempt mock_attempt(std::string name, mock_settings s, int* opens = nullptr)
{
    s.echo_words = 0;
    return {name, "mock", name + "-model", [s, opens] {
                if (opens) ++*opens;
                return std::unique_ptr<liveai::token_stream>(std::make_unique<liveai::mock_provider>(s, liveai::request{"x"}));
            }};
}

mock_settings text(std::string t)
{
    mock_settings s;
    s.text = std::move(t);
    return s;
}

// The io_context must outlive the streams (their timers are its): each test
// makes it first.
opened drain(asio::io_context& ioc, liveai::token_stream& s)
{
    opened out;
    auto task = [&]() -> asio::awaitable<void> {
        try {
            while (auto t = co_await s.next()) out.text.append(t->text);
        } catch (const liveai::stream_error& e) {
            out.failure = static_cast<error>(e.code().value());
        }
    };
    liveai::test::run_coro(ioc, task(), 10s);
    out.reason = s.finish_reason();
    for (const auto& a : s.attempt_reports()) out.attempts.emplace_back(std::string(a.block), a.outcome);
    return out;
}

using outcomes = std::vector<std::pair<std::string, attempt_outcome>>;

}  // namespace

BOOST_AUTO_TEST_SUITE(compose_attempts)

BOOST_AUTO_TEST_CASE(fallback_moves_on_before_the_first_delta)
{
    asio::io_context ioc;
    auto failing = text("never");
    failing.fail_after = 0;
    failing.fail_code = error::upstream_unavailable;
    auto s = liveai::compose::fallback({mock_attempt("a", failing), mock_attempt("b", text("from b"))});
    const auto out = drain(ioc, *s);
    BOOST_TEST(!out.failure.has_value());
    BOOST_TEST(out.text == "from b");
    BOOST_TEST((out.attempts == outcomes{{"a", attempt_outcome::failed}, {"b", attempt_outcome::served}}));

    // A rate limit, a timeout: the same. Every attempt failing: the last error.
    auto limited = failing;
    limited.fail_code = error::upstream_rate_limited;
    auto timed_out = failing;
    timed_out.fail_code = error::first_token_timeout;
    auto all = liveai::compose::fallback({mock_attempt("a", limited), mock_attempt("b", timed_out)});
    const auto none = drain(ioc, *all);
    BOOST_TEST((none.failure == error::first_token_timeout));
    BOOST_TEST((none.attempts == outcomes{{"a", attempt_outcome::failed}, {"b", attempt_outcome::failed}}));
}

BOOST_AUTO_TEST_CASE(nothing_switches_after_the_first_delta)
{
    asio::io_context ioc;
    auto partial = text("one two three");
    partial.fail_after = 2;
    partial.fail_code = error::upstream_unavailable;
    int opens_b = 0;
    auto s = liveai::compose::fallback({mock_attempt("a", partial), mock_attempt("b", text("from b"), &opens_b)});
    const auto out = drain(ioc, *s);
    BOOST_TEST((out.failure == error::upstream_unavailable));
    BOOST_TEST(out.text == "one two");  // never restarted on b
    BOOST_TEST(opens_b == 0);
    BOOST_TEST((out.attempts == outcomes{{"a", attempt_outcome::served}}));
}

BOOST_AUTO_TEST_CASE(an_error_another_provider_would_share_does_not_move_on)
{
    asio::io_context ioc;
    auto refused = text("x");
    refused.fail_after = 0;
    refused.fail_code = error::provider_error;  // not retryable, not upstream_*
    int opens_b = 0;
    auto s = liveai::compose::fallback({mock_attempt("a", refused), mock_attempt("b", text("from b"), &opens_b)});
    BOOST_TEST((drain(ioc, *s).failure == error::provider_error));
    BOOST_TEST(opens_b == 0);
}

BOOST_AUTO_TEST_CASE(hedge_starts_the_next_attempt_after_the_delay_and_the_first_delta_wins)
{
    asio::io_context ioc;
    auto slow = text("slow answer");
    slow.first_token_delay = 5s;
    auto s = liveai::compose::hedge(50ms, {mock_attempt("slow", slow), mock_attempt("fast", text("fast answer"))});
    const auto out = drain(ioc, *s);
    BOOST_TEST(!out.failure.has_value());
    BOOST_TEST(out.text == "fast answer");
    // The loser is cancelled at once (the drain would otherwise wait 5 s for nothing: it is bounded by 10 s).
    BOOST_TEST((out.attempts == outcomes{{"slow", attempt_outcome::cancelled}, {"fast", attempt_outcome::served}}));
}

BOOST_AUTO_TEST_CASE(hedge_does_not_start_a_second_attempt_when_the_first_is_quick)
{
    asio::io_context ioc;
    auto quick = text("quick");
    quick.first_token_delay = 5ms;
    int opens_b = 0;
    auto s = liveai::compose::hedge(2s, {mock_attempt("a", quick), mock_attempt("b", text("b"), &opens_b)});
    const auto out = drain(ioc, *s);
    BOOST_TEST(out.text == "quick");
    BOOST_TEST(opens_b == 0);
    BOOST_TEST((out.attempts == outcomes{{"a", attempt_outcome::served}}));
}

BOOST_AUTO_TEST_CASE(hedge_keeps_the_first_attempt_when_it_answers_first_after_all)
{
    asio::io_context ioc;
    auto a = text("a wins");
    a.first_token_delay = 100ms;
    auto b = text("b loses");
    b.first_token_delay = 5s;
    auto s = liveai::compose::hedge(20ms, {mock_attempt("a", a), mock_attempt("b", b)});
    const auto out = drain(ioc, *s);
    BOOST_TEST(out.text == "a wins");
    BOOST_TEST((out.attempts == outcomes{{"a", attempt_outcome::served}, {"b", attempt_outcome::cancelled}}));
}

BOOST_AUTO_TEST_CASE(cancelling_the_composition_cancels_every_running_attempt)
{
    auto slow = text("x");
    slow.first_token_delay = 5s;
    asio::io_context ioc;
    auto s = liveai::compose::hedge(10ms, {mock_attempt("a", slow), mock_attempt("b", slow)});
    asio::steady_timer later(ioc, 100ms);
    later.async_wait([&](auto) { s->cancel(); });
    auto task = [&]() -> asio::awaitable<void> {
        while (co_await s->next()) {
        }
    };
    liveai::test::run_coro(ioc, task(), 10s);
    BOOST_TEST(s->finish_reason() == liveai::finish_reason::cancelled);
    BOOST_REQUIRE(s->attempt_reports().size() == 2u);
    BOOST_TEST((s->attempt_reports()[0].outcome == attempt_outcome::cancelled));
    BOOST_TEST((s->attempt_reports()[1].outcome == attempt_outcome::cancelled));
}

BOOST_AUTO_TEST_CASE(composed_blocks_come_from_the_config)
{
    const auto c = liveai::parse_config(R"(
[blocks.primary]
provider = "mock"
[blocks.primary.mock]
text = "primary"
fail_after = 0
fail_code = "upstream_unavailable"
[blocks.backup]
provider = "mock"
model = "backup-model"
[blocks.backup.mock]
text = "backup"
echo_words = 0
[blocks.chat]
fallback = ["primary", "backup"]
hedge_after_ms = 300
streaming = true
)", "t.toml");
    const liveai::engine engine(c.blocks);
    const auto* chat = engine.find("chat");
    BOOST_TEST(chat->provider == "hedge");
    BOOST_TEST(chat->hedge_after.count() == 300);
    asio::io_context ioc;
    const auto r = liveai::test::run_coro(ioc, engine.collect("chat", liveai::request{"hi"}));
    BOOST_TEST(r.text == "backup");

    const auto problem = [](std::string_view toml) {
        try {
            liveai::parse_config(toml, "t.toml");
        } catch (const liveai::config_error& e) {
            return e.problems().front();
        }
        return std::string("accepted");
    };
    BOOST_TEST(problem("[blocks.a]\nfallback = [\"b\"]\n") == R"(t.toml: blocks.a.fallback: "b" is not another block with a provider of its own)");
    BOOST_TEST(problem("[blocks.a]\nfallback = [\"a\"]\n") == R"(t.toml: blocks.a.fallback: "a" is not another block with a provider of its own)");
    BOOST_TEST(problem("[blocks.b]\nprovider = \"mock\"\n[blocks.a]\nfallback = [\"b\"]\nprovider = \"mock\"\n") ==
               "t.toml:5:12: blocks.a.provider: a block with fallback has no provider of its own");
    BOOST_TEST(problem("[blocks.a]\nprovider = \"mock\"\nhedge_after_ms = 10\n") ==
               "t.toml:3:18: blocks.a.hedge_after_ms: applies to a block with fallback only");
}

BOOST_AUTO_TEST_SUITE_END()
