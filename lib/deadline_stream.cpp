#include "deadline_stream.hpp"

#include <liveai/error.hpp>

#include <boost/asio/this_coro.hpp>

namespace liveai::detail {
namespace asio = boost::asio;

deadline_stream::deadline_stream(std::unique_ptr<token_stream> inner, liveai::deadlines limits)
    : inner_(std::move(inner)), limits_(limits), watchdog_(std::make_shared<watchdog>())
{
    watchdog_->inner = inner_.get();
}

void deadline_stream::cancel() noexcept
{
    inner_->cancel();
}

void deadline_stream::sync_from_inner() noexcept
{
    set_usage(inner_->usage());
    if (inner_->current_state() == state::finished) mark_finished(inner_->finish_reason());
}

asio::awaitable<std::optional<token>> deadline_stream::next()
{
    if (done()) co_return std::nullopt;
    auto& dog = *watchdog_;
    const auto now = clock::now();
    if (!started_) {
        started_ = true;
        start_ = now;
        dog.timer.emplace(co_await asio::this_coro::executor);
    }

    // The nearest deadline for this wait, and the error it stands for.
    auto deadline = clock::time_point::max();
    liveai::error which = liveai::error::deadline_exceeded;
    if (limits_.total.count() > 0) deadline = start_ + limits_.total;
    const auto wait_limit = got_token_ ? limits_.idle : limits_.first_token;
    if (wait_limit.count() > 0 && (got_token_ ? now : start_) + wait_limit < deadline) {
        deadline = (got_token_ ? now : start_) + wait_limit;
        which = got_token_ ? liveai::error::idle_timeout : liveai::error::first_token_timeout;
    }

    const bool armed = deadline != clock::time_point::max();
    if (armed) {
        dog.timer->expires_at(deadline);
        const unsigned generation = ++dog.generation;
        dog.timer->async_wait([w = watchdog_, generation, which](const boost::system::error_code& ec) {
            if (ec || w->generation != generation || w->fired) return;
            w->fired = which;
            w->inner->cancel();
        });
    }

    std::optional<token> result;
    try {
        result = co_await inner_->next();
    } catch (const boost::system::system_error& e) {
        ++dog.generation;
        if (armed) dog.timer->cancel();
        set_usage(inner_->usage());
        mark_failed(e.code());
        throw;
    }
    ++dog.generation;
    if (armed) dog.timer->cancel();

    if (result) {
        got_token_ = true;
        set_usage(inner_->usage());
        co_return result;
    }
    sync_from_inner();
    if (dog.fired) {
        mark_failed(make_error_code(*dog.fired));
        const auto limit = *dog.fired == liveai::error::idle_timeout   ? limits_.idle
                           : *dog.fired == liveai::error::first_token_timeout ? limits_.first_token
                                                                                : limits_.total;
        throw stream_error(*dog.fired, std::string(to_code(*dog.fired)) + " after " + std::to_string(limit.count()) + " ms");
    }
    co_return std::nullopt;
}

}  // namespace liveai::detail
