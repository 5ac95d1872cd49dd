// Private: applies a block's deadlines around any token_stream.
#pragma once

#include <liveai/block_config.hpp>
#include <liveai/error.hpp>
#include <liveai/token_stream.hpp>

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

namespace liveai::detail {

// Wraps a provider's stream. A watchdog timer waits for the nearest deadline
// while a next() is pending; when it fires, it cancels the inner stream and
// next() throws the deadline's error.
//
// The watchdog is lazy: moving a deadline later (each token moves the idle
// deadline) does not touch the timer; when it fires early it re-arms for the
// current deadline. So a fast stream costs a timer operation per deadline
// period, not per token, and `next() || timer` (a coroutine spawn and its
// allocations per call) is avoided altogether.
class deadline_stream final : public token_stream {
public:
    deadline_stream(std::unique_ptr<token_stream> inner, liveai::deadlines limits);
    // Cancels the pending watchdog wait: its handler owns the timer, and a
    // forgotten wait would keep the io_context busy until the deadline.
    ~deadline_stream() override;

    boost::asio::awaitable<std::optional<token>> next() override;
    void cancel() noexcept override;

private:
    using clock = std::chrono::steady_clock;

    // Shared with the pending timer handler, which may outlive this stream.
    struct watchdog {
        std::optional<boost::asio::steady_timer> timer;
        token_stream* inner = nullptr;
        clock::time_point deadline = clock::time_point::max();  // of the pending wait
        clock::time_point armed_at = clock::time_point::max();  // expiry of the timer, max if idle
        liveai::error which = liveai::error::deadline_exceeded;
        std::optional<liveai::error> fired;
        bool waiting = false;
    };

    static void arm(const std::shared_ptr<watchdog>& dog);
    void before_wait();
    std::optional<token> after_wait(std::optional<token> result);
    [[noreturn]] void after_failure(const boost::system::system_error& e);

    std::unique_ptr<token_stream> inner_;
    liveai::deadlines limits_;
    std::shared_ptr<watchdog> watchdog_;
    clock::time_point start_{};
    bool got_token_ = false;
};

}  // namespace liveai::detail
