// Private: applies a block's deadlines around any token_stream.
#pragma once

#include <liveai/block_config.hpp>
#include <liveai/token_stream.hpp>

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

namespace liveai::detail {

// Wraps a provider's stream. While a next() is pending, a watchdog timer waits
// for the nearest deadline; when it fires, it cancels the inner stream and
// next() throws the deadline's error. A callback timer (not `next() || timer`)
// keeps the per-token path free of coroutine spawns and allocations.
class deadline_stream final : public token_stream {
public:
    deadline_stream(std::unique_ptr<token_stream> inner, liveai::deadlines limits);

    boost::asio::awaitable<std::optional<token>> next() override;
    void cancel() noexcept override;

private:
    using clock = std::chrono::steady_clock;

    // Shared with the pending timer handler, which may run after this stream
    // is gone or after the wait it was armed for has ended.
    struct watchdog {
        std::optional<boost::asio::steady_timer> timer;
        token_stream* inner = nullptr;
        unsigned generation = 0;
        std::optional<liveai::error> fired;
    };

    void sync_from_inner() noexcept;

    std::unique_ptr<token_stream> inner_;
    liveai::deadlines limits_;
    std::shared_ptr<watchdog> watchdog_;
    clock::time_point start_{};
    bool started_ = false;
    bool got_token_ = false;
};

}  // namespace liveai::detail
