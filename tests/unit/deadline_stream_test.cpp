// compose::deadline_stream over inner streams that misbehave: slow to stop,
// ignoring cancellation, throwing after the deadline. No sockets: timers only.
#include <liveai/compose/deadline_stream.hpp>

#include "../support/run_coro.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using liveai::error;
using liveai::compose::deadline_stream;
using clock_type = std::chrono::steady_clock;

namespace {

// Answers after `delay` whatever happens: cancel() and the awaiting
// coroutine's cancellation are ignored. Then yields a token, or throws.
class stubborn_stream final : public liveai::token_stream {
public:
    stubborn_stream(std::chrono::milliseconds first_delay, std::chrono::milliseconds delay, bool throw_instead, int* answers)
        : first_delay_(first_delay), delay_(delay), throw_(throw_instead), answers_(answers)
    {
    }

    asio::awaitable<std::optional<liveai::token>> next() override
    {
        auto ignore_all = [](asio::cancellation_type) { return asio::cancellation_type::none; };
        co_await asio::this_coro::reset_cancellation_state(ignore_all);
        asio::steady_timer timer(co_await asio::this_coro::executor, calls_++ == 0 ? first_delay_ : delay_);
        co_await timer.async_wait(asio::use_awaitable);
        ++*answers_;
        if (throw_) throw liveai::stream_error(error::upstream_timeout, "too late");
        set_usage(liveai::usage{1, calls_});
        co_return liveai::token{"late"};
    }
    void cancel() noexcept override {}

private:
    std::chrono::milliseconds first_delay_, delay_;
    bool throw_;
    int* answers_;
    std::uint64_t calls_ = 0;
};

// Always has a token ready: never suspends.
class eager_stream final : public liveai::token_stream {
public:
    asio::awaitable<std::optional<liveai::token>> next() override
    {
        if (cancelled_) {
            mark_finished(liveai::finish_reason::cancelled);
            co_return std::nullopt;
        }
        co_return liveai::token{"x"};
    }
    void cancel() noexcept override { cancelled_ = true; }

private:
    bool cancelled_ = false;
};

// Waits for a token that never comes, until cancelled (a well-behaved provider).
class waiting_stream final : public liveai::token_stream {
public:
    explicit waiting_stream(asio::io_context& ioc) : timer_(ioc) {}
    asio::awaitable<std::optional<liveai::token>> next() override
    {
        if (!first_sent_) {
            first_sent_ = true;
            co_return liveai::token{"first"};
        }
        timer_.expires_after(1h);
        auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        mark_finished(liveai::finish_reason::cancelled);
        co_return std::nullopt;
    }
    void cancel() noexcept override { timer_.cancel(); }

private:
    asio::steady_timer timer_;
    bool first_sent_ = false;
};

liveai::deadlines limits(std::chrono::milliseconds first, std::chrono::milliseconds idle, std::chrono::milliseconds total)
{
    return liveai::deadlines{first, idle, total};
}

struct timed_failure {
    std::optional<error> code;
    std::chrono::milliseconds after{};
};

timed_failure next_failure(asio::io_context& ioc, liveai::token_stream& s)
{
    timed_failure out;
    const auto start = clock_type::now();
    auto task = [&]() -> asio::awaitable<void> {
        try {
            while (co_await s.next()) {
            }
        } catch (const liveai::stream_error& e) {
            out.code = static_cast<error>(e.code().value());
        }
        out.after = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    };
    liveai::test::run_coro(ioc, task(), 10s);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deadline_stream_tests)

BOOST_AUTO_TEST_CASE(the_first_token_deadline_holds_over_a_stream_that_ignores_cancellation)
{
    for (const bool throws : {false, true}) {
        BOOST_TEST_CONTEXT((throws ? "inner throws later" : "inner yields later"))
        {
            asio::io_context ioc;
            int answers = 0;
            auto s = std::make_unique<deadline_stream>(std::make_unique<stubborn_stream>(600ms, 600ms, throws, &answers),
                                                       limits(100ms, 0ms, 0ms));
            const auto got = next_failure(ioc, *s);
            BOOST_TEST((got.code == error::first_token_timeout));
            BOOST_TEST(got.after.count() >= 100);
            BOOST_TEST(got.after.count() < 150);  // at the deadline, not when the inner answers (600 ms)
            BOOST_TEST(s->error() == make_error_code(error::first_token_timeout));
            BOOST_TEST(answers == 0);
            // Destroyed while the inner next() is still under way: it finishes on
            // its own later, and its answer goes nowhere.
            s.reset();
            ioc.restart();
            ioc.run_for(2s);
            BOOST_TEST(answers == 1);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_idle_deadline_ends_a_stream_that_stalls_after_a_token)
{
    asio::io_context ioc;
    int answers = 0;
    deadline_stream s(std::make_unique<stubborn_stream>(10ms, 500ms, false, &answers), limits(1000ms, 80ms, 0ms));
    auto first = [&]() -> asio::awaitable<std::string> { co_return std::string((co_await s.next())->text); };
    BOOST_TEST(liveai::test::run_coro(ioc, first()) == "late");
    const auto got = next_failure(ioc, s);
    BOOST_TEST((got.code == error::idle_timeout));
    BOOST_TEST(got.after.count() < 130);
    BOOST_TEST(s.usage().has_value());
}

BOOST_AUTO_TEST_CASE(the_total_deadline_ends_a_stream_that_never_suspends)
{
    asio::io_context ioc;
    deadline_stream s(std::make_unique<eager_stream>(), limits(0ms, 0ms, 50ms));
    std::size_t tokens = 0;
    std::optional<error> code;
    auto task = [&]() -> asio::awaitable<void> {
        try {
            // Bounded: at a few million tokens a second, 50 ms are far fewer than this.
            for (std::size_t i = 0; i < 500'000'000; ++i) {
                if (!co_await s.next()) break;
                ++tokens;
            }
        } catch (const liveai::stream_error& e) {
            code = static_cast<error>(e.code().value());
        }
    };
    liveai::test::run_coro(ioc, task(), 20s);
    BOOST_TEST((code == error::deadline_exceeded));
    BOOST_TEST(tokens > 0u);
}

BOOST_AUTO_TEST_CASE(cancel_and_the_callers_slot_end_a_pending_next_at_once)
{
    for (const bool by_slot : {false, true}) {
        BOOST_TEST_CONTEXT((by_slot ? "slot" : "cancel()"))
        {
            asio::io_context ioc;
            deadline_stream s(std::make_unique<waiting_stream>(ioc), limits(5000ms, 5000ms, 0ms));
            auto first = [&]() -> asio::awaitable<bool> { co_return (co_await s.next()).has_value(); };
            BOOST_TEST(liveai::test::run_coro(ioc, first()));
            asio::cancellation_signal signal;
            bool finished = false;
            std::optional<liveai::token> got;
            const auto start = clock_type::now();
            clock_type::time_point ended;
            auto done = [&](std::exception_ptr e, std::optional<liveai::token> t) {
                BOOST_TEST(!e);
                got = t;
                finished = true;
                ended = clock_type::now();
            };
            asio::co_spawn(ioc, s.next(), asio::bind_cancellation_slot(signal.slot(), done));
            asio::steady_timer timer(ioc, 50ms);
            timer.async_wait([&](auto) {
                if (by_slot) signal.emit(asio::cancellation_type::terminal);
                else s.cancel();
            });
            ioc.restart();
            ioc.run_for(3s);
            BOOST_TEST(finished);
            BOOST_TEST(!got.has_value());
            BOOST_TEST(s.finish_reason() == liveai::finish_reason::cancelled);
            BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(ended - start).count() < 100);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
