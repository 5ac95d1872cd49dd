#include <liveai/compose/deadline_stream.hpp>

#include <boost/asio/as_tuple.hpp>
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

// Shared by this stream and the inner next() it has under way, which may
// outlive it when the inner stream is slow to honour a cancellation.
struct deadline_stream::race {
    std::unique_ptr<token_stream> inner;
    asio::cancellation_signal cancel_inner;
    std::optional<asio::steady_timer> wake;  // expires at the deadline; cancelled by the answer
    bool pending = false;                    // an inner next() is under way
    bool answered = false;                   // ... and has answered
    bool waiting = false;                    // next() waits on `wake`
    std::optional<token> answer;
    std::exception_ptr failure;
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

deadline_stream::deadline_stream(std::unique_ptr<token_stream> inner, liveai::deadlines limits)
    : race_(std::make_shared<race>()), limits_(limits)
{
    race_->inner = std::move(inner);
}

deadline_stream::~deadline_stream()
{
    // An inner next() still under way finishes on its own; make it quick.
    if (race_->pending) {
        race_->cancel_inner.emit(asio::cancellation_type::terminal);
        race_->inner->cancel();
    }
    if (race_->wake) race_->wake->cancel();
}

token_stream& deadline_stream::inner() noexcept { return *race_->inner; }

void deadline_stream::cancel() noexcept
{
    if (done()) return;
    cancel_requested_ = true;
    auto& r = *race_;
    r.inner->cancel();
    if (r.pending) r.cancel_inner.emit(asio::cancellation_type::terminal);
    if (r.waiting) r.wake->cancel();
}

void deadline_stream::end_cancelled() noexcept
{
    auto& r = *race_;
    if (r.pending) {
        r.inner->cancel();
        r.cancel_inner.emit(asio::cancellation_type::terminal);
    }
    set_usage(r.inner->usage());
    mark_finished(finish_reason::cancelled);
}

void deadline_stream::fire(liveai::error which, std::chrono::milliseconds limit)
{
    auto& r = *race_;
    // The inner stream is told to stop; whatever it still yields is dropped.
    r.inner->cancel();
    if (r.pending) r.cancel_inner.emit(asio::cancellation_type::terminal);
    set_usage(r.inner->usage());
    mark_failed(make_error_code(which));
    throw stream_error(which, std::string(to_code(which)) + " after " + std::to_string(limit.count()) + " ms");
}

std::optional<token> deadline_stream::take_answer()
{
    auto& r = *race_;
    r.answered = false;
    set_usage(r.inner->usage());
    if (r.failure) {
        auto failure = std::exchange(r.failure, nullptr);
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
    mark_finished(r.inner->finish_reason());
    return std::nullopt;
}

asio::awaitable<std::optional<token>> deadline_stream::next()
{
    if (done()) co_return std::nullopt;
    auto& r = *race_;
    const auto now = coarse_now();
    if (!started_) {
        started_ = true;
        start_ = clock::now();
        r.wake.emplace(co_await asio::this_coro::executor);
    }
    if (cancel_requested_) {
        end_cancelled();
        co_return std::nullopt;
    }

    // The nearest deadline for this wait.
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
    // A stream that never suspends still meets its total deadline.
    if (now >= deadline) fire(which, limit);

    r.pending = true;
    r.answered = false;
    auto on_answer = [keep = race_](std::exception_ptr e, std::optional<token> t) {
        keep->pending = false;
        keep->answered = true;
        keep->failure = e;
        keep->answer = t;
        if (keep->waiting) keep->wake->cancel();
    };
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, r.inner->next(), asio::bind_cancellation_slot(r.cancel_inner.slot(), std::move(on_answer)));
    // Most answers come at once (a token already parsed or due): no timer.
    if (r.answered) co_return take_answer();

    r.wake->expires_at(deadline);
    r.waiting = true;
    boost::system::error_code ec;
    try {
        auto [wait_ec] = co_await r.wake->async_wait(asio::as_tuple(asio::use_awaitable));
        ec = wait_ec;
    } catch (const boost::system::system_error&) {
        ec = asio::error::operation_aborted;  // the awaiting coroutine was cancelled
    }
    r.waiting = false;
    if (!ec) fire(which, limit);  // the deadline came first, even if the answer came right after
    if (r.answered) co_return take_answer();
    // Cancelled: by cancel() or through the awaiting coroutine's slot.
    end_cancelled();
    co_return std::nullopt;
}

}  // namespace liveai::compose
