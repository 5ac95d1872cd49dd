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

// next() runs the inner stream's next() as a child operation and waits for
// whichever comes first, its answer or the nearest deadline. At a deadline it
// cancels the inner stream (cancel() and a terminal cancellation of the child)
// and throws stream_error with first_token_timeout, idle_timeout or
// deadline_exceeded at once, even when the inner stream is slow to stop; what
// the inner stream yields or throws after that is dropped. An inner stream
// still winding down is kept alive until it does, also past this object's
// destruction, so it must not outlive its io_context's run either (as any
// stream).
//
// An answer the inner stream gives without suspending costs no timer
// operation; a pending one costs one timer wait.
class deadline_stream final : public token_stream {
public:
    deadline_stream(std::unique_ptr<token_stream> inner, liveai::deadlines limits);
    ~deadline_stream() override;

    boost::asio::awaitable<std::optional<token>> next() override;
    void cancel() noexcept override;

    // The wrapped stream (for attempts, metrics, tests).
    token_stream& inner() noexcept;

private:
    struct race;

    [[noreturn]] void fire(liveai::error which, std::chrono::milliseconds limit);
    std::optional<token> take_answer();
    void end_cancelled() noexcept;

    std::shared_ptr<race> race_;
    liveai::deadlines limits_;
    std::chrono::steady_clock::time_point start_{};
    bool started_ = false;
    bool got_token_ = false;
    bool cancel_requested_ = false;
};

}  // namespace liveai::compose
