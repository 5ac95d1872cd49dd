// A block's deadlines around any token_stream: the first-token, idle and
// total deadlines end the stream at the deadline, with the deadline's own
// code, whatever the inner stream does or throws afterwards.
#pragma once

#include <liveai/block_config.hpp>
#include <liveai/error.hpp>
#include <liveai/token_stream.hpp>

#include <chrono>
#include <memory>

namespace liveai::compose {

// At a deadline the inner stream is told to stop (cancel(), and a terminal
// cancellation of its pending next()) and next() throws stream_error with
// first_token_timeout, idle_timeout or deadline_exceeded; what the inner
// stream yields or throws after that is dropped.
//
// An inner stream whose stops_promptly() is true (the built-in providers) is
// awaited directly: it returns within milliseconds of the cancel, and a fast
// stream costs one timer operation per deadline period, not per token. Any
// other stream's next() runs as a child coroutine raced against the
// deadline, so the deadline holds even when that stream is slow to stop; it
// is kept alive until it does, also past this object's destruction, so it
// must not outlive its io_context's run either (as any stream).
class deadline_stream final : public token_stream {
public:
    deadline_stream(std::unique_ptr<token_stream> inner, liveai::deadlines limits);
    ~deadline_stream() override;

    boost::asio::awaitable<std::optional<token>> next() override;
    std::optional<token> try_next() override;
    void cancel() noexcept override;
    bool stops_promptly() const noexcept override { return true; }
    std::span<const attempt_report> attempt_reports() const noexcept override;
    unsigned upstream_attempts() const noexcept override;

private:
    struct race;

    static void arm(const std::shared_ptr<race>& r);
    void before_wait();
    [[noreturn]] void fire();
    std::optional<token> take_answer();
    void end_cancelled() noexcept;
    boost::asio::awaitable<std::optional<token>> next_raced();

    std::shared_ptr<race> race_;
    liveai::deadlines limits_;
    std::chrono::steady_clock::time_point start_{};
    bool started_ = false;
    bool got_token_ = false;
    bool cancel_requested_ = false;
};

}  // namespace liveai::compose
