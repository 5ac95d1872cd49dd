#include "deadline_stream.hpp"

#include <boost/asio/this_coro.hpp>

#include <time.h>

namespace liveai::detail {
namespace asio = boost::asio;

deadline_stream::deadline_stream(std::unique_ptr<token_stream> inner, liveai::deadlines limits)
    : inner_(std::move(inner)), limits_(limits), watchdog_(std::make_shared<watchdog>())
{
    watchdog_->inner = inner_.get();
}

deadline_stream::~deadline_stream()
{
    if (watchdog_->timer) watchdog_->timer->cancel();
}

void deadline_stream::cancel() noexcept
{
    inner_->cancel();
}

void deadline_stream::arm(const std::shared_ptr<watchdog>& dog)
{
    dog->armed_at = dog->deadline;
    dog->timer->expires_at(dog->deadline);
    dog->timer->async_wait([dog](const boost::system::error_code& ec) {
        // Aborted: replaced by a newer wait (which set armed_at) or destroyed.
        if (ec) return;
        dog->armed_at = clock::time_point::max();
        if (!dog->waiting || dog->fired || dog->deadline == clock::time_point::max()) return;
        if (clock::now() < dog->deadline) return arm(dog);  // the deadline moved later meanwhile
        dog->fired = dog->which;
        dog->inner->cancel();
    });
}

namespace {

// A clock read per token adds up: the idle deadline only needs the coarse
// clock (a few ms of resolution, a fraction of the cost). Same epoch as
// steady_clock (CLOCK_MONOTONIC) on Linux.
std::chrono::steady_clock::time_point coarse_now() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

}  // namespace

void deadline_stream::before_wait()
{
    auto& dog = *watchdog_;
    const auto now = coarse_now();
    auto deadline = clock::time_point::max();
    auto which = liveai::error::deadline_exceeded;
    if (limits_.total.count() > 0) deadline = start_ + limits_.total;
    const auto wait_limit = got_token_ ? limits_.idle : limits_.first_token;
    const auto wait_from = got_token_ ? now : start_;
    if (wait_limit.count() > 0 && wait_from + wait_limit < deadline) {
        deadline = wait_from + wait_limit;
        which = got_token_ ? liveai::error::idle_timeout : liveai::error::first_token_timeout;
    }
    dog.deadline = deadline;
    dog.which = which;
    dog.waiting = true;
    // Only a deadline earlier than the armed one needs the timer moved.
    if (deadline != clock::time_point::max() && deadline < dog.armed_at) arm(watchdog_);
}

std::optional<token> deadline_stream::after_wait(std::optional<token> result)
{
    auto& dog = *watchdog_;
    dog.waiting = false;
    set_usage(inner_->usage());
    if (result) {
        got_token_ = true;
        return result;
    }
    if (inner_->current_state() == state::finished) mark_finished(inner_->finish_reason());
    if (dog.fired) {
        dog.timer->cancel();
        mark_failed(make_error_code(*dog.fired));
        const auto limit = *dog.fired == liveai::error::idle_timeout          ? limits_.idle
                           : *dog.fired == liveai::error::first_token_timeout ? limits_.first_token
                                                                              : limits_.total;
        throw stream_error(*dog.fired, std::string(to_code(*dog.fired)) + " after " + std::to_string(limit.count()) + " ms");
    }
    dog.timer->cancel();
    return std::nullopt;
}

void deadline_stream::after_failure(const boost::system::system_error& e)
{
    watchdog_->waiting = false;
    watchdog_->timer->cancel();
    set_usage(inner_->usage());
    mark_failed(e.code());
    throw;
}

asio::awaitable<std::optional<token>> deadline_stream::next()
{
    // Kept lean: Asio recycles coroutine frames only up to about 1 KiB, and
    // this frame is allocated once per token.
    if (done()) co_return std::nullopt;
    if (!watchdog_->timer) {
        watchdog_->timer.emplace(co_await asio::this_coro::executor);
        start_ = clock::now();
    }
    before_wait();
    std::optional<token> result;
    try {
        result = co_await inner_->next();
    } catch (const boost::system::system_error& e) {
        after_failure(e);
    }
    co_return after_wait(result);
}

}  // namespace liveai::detail
