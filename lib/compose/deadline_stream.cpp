#include <liveai/compose/deadline_stream.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <time.h>

namespace liveai::compose {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// Shared with the watchdog's pending wait and with a raced inner next(),
// either of which may outlive this stream.
struct deadline_stream::race {
    std::unique_ptr<token_stream> inner;

    // The watchdog is lazy: moving a deadline later (each token moves the
    // idle deadline) does not touch the timer; when it fires early it re-arms
    // for the current deadline. A fast stream costs a timer operation per
    // deadline period, not per token.
    std::optional<asio::steady_timer> timer;
    clock::time_point deadline = clock::time_point::max();  // of the pending wait
    clock::time_point armed_at = clock::time_point::max();  // expiry of the timer, max if idle
    liveai::error which = liveai::error::deadline_exceeded;
    std::chrono::milliseconds limit{0};
    std::optional<liveai::error> fired;
    bool waiting = false;  // a next() is pending

    // The raced path: the inner next() as a child coroutine.
    asio::cancellation_signal cancel_inner;
    bool pending = false;   // a child next() is under way
    bool answered = false;  // ... and has answered
    std::optional<token> answer;
    std::exception_ptr failure;
    // next() waiting for either. Resuming it may run the next next() and its
    // new wait before wake_up returns, so waits alternate between two slots;
    // and a handler is never moved (Boost 1.81's any_completion_handler then
    // wraps itself recursively).
    std::optional<asio::any_completion_handler<void(boost::system::error_code)>> wake[2];
    unsigned wake_index = 0;
    asio::cancellation_signal wait_slot;  // never emitted

    void stop_inner() noexcept
    {
        inner->cancel();
        if (pending) cancel_inner.emit(asio::cancellation_type::terminal);
    }

    // Resumes a raced next() that waits (which clears its own slot).
    void wake_up(boost::system::error_code ec) noexcept
    {
        auto& waiting_next = wake[wake_index];
        if (!waiting_next || !*waiting_next) return;
        wake_index ^= 1;
        std::move(*waiting_next)(ec);  // leaves it empty
        waiting_next.reset();
    }
};

namespace {

// The idle deadline moves with every token: the coarse clock (a few ms of
// resolution, a fraction of the cost) is enough. Same epoch as steady_clock
// (CLOCK_MONOTONIC) on Linux.
clock::time_point coarse_now() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

}  // namespace

void deadline_stream::arm(const std::shared_ptr<race>& r)
{
    r->armed_at = r->deadline;
    r->timer->expires_at(r->deadline);
    r->timer->async_wait([r](const boost::system::error_code& ec) {
        // Aborted: replaced by a newer wait (which set armed_at) or destroyed.
        if (ec) return;
        r->armed_at = clock::time_point::max();
        if (!r->waiting || r->fired || r->deadline == clock::time_point::max()) return;
        if (clock::now() < r->deadline) return arm(r);  // the deadline moved later meanwhile
        r->fired = r->which;
        r->stop_inner();
        r->wake_up({});
    });
}

deadline_stream::deadline_stream(std::unique_ptr<token_stream> inner, liveai::deadlines limits)
    : race_(std::make_shared<race>()), limits_(limits)
{
    race_->inner = std::move(inner);
}

deadline_stream::~deadline_stream()
{
    // A raced inner next() still under way finishes on its own; make it quick.
    if (race_->pending) race_->stop_inner();
    if (race_->timer) race_->timer->cancel();
}

void deadline_stream::cancel() noexcept
{
    if (done()) return;
    cancel_requested_ = true;
    race_->stop_inner();
    race_->wake_up(asio::error::operation_aborted);
}

void deadline_stream::end_cancelled() noexcept
{
    auto& r = *race_;
    if (r.pending) r.stop_inner();
    if (r.timer) r.timer->cancel();
    set_usage(r.inner->usage());
    mark_finished(finish_reason::cancelled);
}

void deadline_stream::fire()
{
    auto& r = *race_;
    const auto which = *r.fired;
    r.timer->cancel();
    set_usage(r.inner->usage());
    mark_failed(make_error_code(which));
    throw stream_error(which, std::string(to_code(which)) + " after " + std::to_string(r.limit.count()) + " ms");
}

void deadline_stream::before_wait()
{
    auto& r = *race_;
    const auto now = coarse_now();
    auto deadline = clock::time_point::max();
    auto which = error::deadline_exceeded;
    auto limit = limits_.total;
    if (limits_.total.count() > 0) deadline = start_ + limits_.total;
    const auto wait_limit = got_token_ ? limits_.idle : limits_.first_token;
    const auto wait_from = got_token_ ? now : start_;
    if (wait_limit.count() > 0 && wait_from + wait_limit < deadline) {
        deadline = wait_from + wait_limit;
        which = got_token_ ? error::idle_timeout : error::first_token_timeout;
        limit = wait_limit;
    }
    r.deadline = deadline;
    r.which = which;
    r.limit = limit;
    r.waiting = true;
    // A stream that never suspends still meets its total deadline.
    if (now >= deadline) {
        r.fired = which;
        r.stop_inner();
        fire();
    }
    // Only a deadline earlier than the armed one needs the timer moved.
    if (deadline != clock::time_point::max() && deadline < r.armed_at) arm(race_);
}

std::optional<token> deadline_stream::take_answer()
{
    auto& r = *race_;
    r.answered = false;
    set_usage(r.inner->usage());
    if (r.failure) {
        auto failure = std::exchange(r.failure, nullptr);
        r.timer->cancel();
        try {
            std::rethrow_exception(failure);
        } catch (const boost::system::system_error& e) {
            mark_failed(e.code());
            throw;
        } catch (...) {
            mark_failed(make_error_code(error::internal_error));
            throw;
        }
    }
    if (r.answer) {
        got_token_ = true;
        return std::exchange(r.answer, std::nullopt);
    }
    r.timer->cancel();
    mark_finished(r.inner->finish_reason());
    return std::nullopt;
}

std::optional<token> deadline_stream::try_next()
{
    // A token at hand passes while no deadline has passed; the idle and
    // first-token deadlines are met by a token that is ready now, and the
    // total one is checked on the coarse clock. Firing is next()'s.
    auto& r = *race_;
    if (done() || !started_ || cancel_requested_ || r.fired || r.pending) return std::nullopt;
    if (limits_.total.count() > 0 && coarse_now() >= start_ + limits_.total) return std::nullopt;
    auto t = r.inner->try_next();
    if (t) {
        got_token_ = true;
        set_usage(r.inner->usage());
    }
    return t;
}

asio::awaitable<std::optional<token>> deadline_stream::next()
{
    // Kept lean: Asio recycles coroutine frames only up to about 1 KiB, and
    // this frame is allocated once per token.
    if (done()) co_return std::nullopt;
    auto& r = *race_;
    if (!started_) {
        started_ = true;
        start_ = clock::now();
        r.timer.emplace(co_await asio::this_coro::executor);
    }
    if (cancel_requested_) {
        end_cancelled();
        co_return std::nullopt;
    }
    before_wait();
    if (!r.inner->stops_promptly()) co_return co_await next_raced();

    std::optional<token> result;
    try {
        result = co_await r.inner->next();
    } catch (const boost::system::system_error& e) {
        r.waiting = false;
        if (r.fired) fire();  // the deadline's code, not what the stopped stream threw
        r.timer->cancel();
        set_usage(r.inner->usage());
        mark_failed(e.code());
        throw;
    }
    r.waiting = false;
    if (r.fired) fire();  // a token that came after the deadline is dropped
    set_usage(r.inner->usage());
    if (result) {
        got_token_ = true;
        co_return result;
    }
    r.timer->cancel();
    mark_finished(r.inner->finish_reason());
    co_return std::nullopt;
}

asio::awaitable<std::optional<token>> deadline_stream::next_raced()
{
    auto& r = *race_;
    r.pending = true;
    r.answered = false;
    auto on_answer = [keep = race_](std::exception_ptr e, std::optional<token> t) {
        keep->pending = false;
        keep->answered = true;
        keep->failure = e;
        keep->answer = t;
        keep->wake_up({});
    };
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, r.inner->next(), asio::bind_cancellation_slot(r.cancel_inner.slot(), std::move(on_answer)));
    if (!r.answered && !r.fired) {
        // Woken by the answer, the watchdog, cancel() or the awaiting
        // coroutine's cancellation, which is forwarded while it waits.
        auto caller_slot = (co_await asio::this_coro::cancellation_state).slot();
        if (caller_slot.is_connected()) {
            auto on_cancel = [&r](asio::cancellation_type) { r.wake_up(asio::error::operation_aborted); };
            caller_slot.assign(on_cancel);
        }
        auto wait = [&r](auto handler) { r.wake[r.wake_index].emplace(std::move(handler)); };
        // The wait binds a slot of its own: one left to the coroutine's slot
        // would displace the forwarding handler above.
        auto token = asio::bind_cancellation_slot(r.wait_slot.slot(), asio::as_tuple(asio::use_awaitable));
        try {
            co_await asio::async_initiate<decltype(token), void(boost::system::error_code)>(wait, token);
        } catch (const boost::system::system_error&) {
            // The awaiting coroutine was cancelled before it could wait.
        }
        if (caller_slot.is_connected()) caller_slot.clear();
    }
    r.waiting = false;
    if (r.fired) fire();  // the watchdog already told the inner stream to stop
    if (r.answered) co_return take_answer();
    // Cancelled: by cancel() or through the awaiting coroutine's slot.
    end_cancelled();
    co_return std::nullopt;
}

std::span<const attempt_report> deadline_stream::attempt_reports() const noexcept
{
    return race_->inner->attempt_reports();
}

unsigned deadline_stream::upstream_attempts() const noexcept { return race_->inner->upstream_attempts(); }

}  // namespace liveai::compose
