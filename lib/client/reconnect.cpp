#include "reconnect.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <random>

namespace liveai::client::detail {

namespace asio = boost::asio;

asio::awaitable<void> backoff::wait(std::optional<std::chrono::milliseconds> server_delay, std::string_view last_error)
{
    if (failures_ >= policy_.max_attempts)
        throw stream_error(error::retries_exhausted, "gave up after " + std::to_string(failures_) +
                                                         " failed reconnects; last: " + std::string(last_error));
    const auto base = server_delay.value_or(policy_.initial_delay);
    auto delay = base;
    for (unsigned i = 0; i < failures_ && delay < policy_.max_delay; ++i) delay *= 2;
    delay = std::min(delay, std::max(policy_.max_delay, base));
    // Up to 20% jitter so many clients of a restarted server do not return at once.
    thread_local std::minstd_rand rng{std::random_device{}()};
    if (delay.count() > 0 && failures_ > 0)
        delay += std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, delay.count() / 5)(rng));
    ++failures_;
    if (delay.count() == 0) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
}

stream_error http_error(unsigned status, std::string_view body)
{
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec);
    const auto* obj = ec ? nullptr : value.if_object();
    const auto* err = obj ? obj->if_contains("error") : nullptr;
    if (err && err->is_object()) {
        const auto* code = err->get_object().if_contains("code");
        const auto* message = err->get_object().if_contains("message");
        if (code && code->is_string()) {
            const std::string text = message && message->is_string() ? std::string(message->get_string()) : "";
            const auto known = error_from_code(code->get_string());
            return stream_error(known ? *known : error::invalid_request,
                                "HTTP " + std::to_string(status) + " " + std::string(code->get_string()) + ": " + text);
        }
    }
    return stream_error(error::invalid_request, "HTTP " + std::to_string(status) + " without a contract error body");
}

bool retryable_status(unsigned status) noexcept
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

}  // namespace liveai::client::detail
