// The provider interface: a pull-based, awaitable async generator of tokens.
#pragma once

#include <liveai/token.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>

#include <optional>
#include <span>
#include <string_view>

namespace liveai {

// Which attempt of a composition (compose::fallback, compose::hedge) served
// a stream, and how each attempt ended, for `complete` and the metrics.
enum class attempt_outcome : std::uint8_t { served, failed, cancelled };
struct attempt_report {
    std::string_view block;
    std::string_view provider;
    std::string_view model;
    attempt_outcome outcome;
};

// A token_stream yields tokens one `co_await next()` at a time.
//
// - next() returns a token, or nullopt once the stream has ended; after that
//   finish_reason() and usage() describe the end. A failure throws
//   liveai::stream_error (a boost::system::system_error in the liveai
//   category); after it, state() is failed and error() names the code.
// - One outstanding next() at a time; a stream belongs to one executor (do not
//   share it across threads without a strand). Its timers and sockets belong to
//   that executor's io_context: destroy the stream before the io_context.
// - Cancellation: a next() cancelled through the awaiting coroutine's
//   cancellation slot (terminal or stronger, e.g. by `next() || timer`), or by
//   cancel(), returns nullopt promptly, also while waiting before the first
//   token or between two. The stream then is finished with reason
//   `cancelled`; the token that was being waited for is not delivered, and no
//   token delivered before is repeated.
class token_stream {
public:
    enum class state { open, finished, failed };

    token_stream() = default;
    token_stream(const token_stream&) = delete;
    token_stream& operator=(const token_stream&) = delete;
    virtual ~token_stream() = default;

    virtual boost::asio::awaitable<std::optional<token>> next() = 0;

    // The next token when it is ready now, without suspending; nullopt
    // means only "co_await next()" (which reports the end and failures, and
    // waits). For a stream that has tokens at hand (a mock without delays,
    // the rest of an upstream read) a consumer takes them without a
    // coroutine frame per token:
    //     auto t = s.try_next();
    //     if (!t) t = co_await s.next();
    // Same token, same order, same state as next() would give; it never
    // throws. The default has nothing at hand.
    virtual std::optional<token> try_next() { return std::nullopt; }

    // Ends the stream from outside a pending next() (a WebSocket `cancel`, a
    // deadline): the pending or next call to next() returns nullopt with reason
    // `cancelled`. Call it on the stream's executor.
    virtual void cancel() noexcept = 0;

    // True when cancel() always makes a pending next() return within a few
    // milliseconds, whatever it waits for (the built-in providers do; tests
    // hold them to it). A decorator such as compose::deadline_stream then
    // awaits next() directly; otherwise it races next() against its deadline
    // in a child coroutine, which costs more per token.
    virtual bool stops_promptly() const noexcept { return false; }

    // A composition's attempts so far; the one served, if any, is marked.
    // Empty for a stream that is no composition.
    virtual std::span<const attempt_report> attempt_reports() const noexcept { return {}; }

    // Upstream requests counted as attempts so far (1 + retries); 0 for a
    // stream that makes none (the mock, a composition: see attempt_reports).
    virtual unsigned upstream_attempts() const noexcept { return 0; }

    state current_state() const noexcept { return state_; }
    bool done() const noexcept { return state_ != state::open; }
    liveai::finish_reason finish_reason() const noexcept { return reason_; }
    // What the provider reported; nullopt when it reported nothing (never
    // made up from what was seen).
    std::optional<liveai::usage> usage() const noexcept { return usage_; }
    boost::system::error_code error() const noexcept { return error_; }

protected:
    void mark_finished(liveai::finish_reason reason) noexcept
    {
        state_ = state::finished;
        reason_ = reason;
    }
    void mark_failed(boost::system::error_code ec) noexcept
    {
        state_ = state::failed;
        error_ = ec;
    }
    void set_usage(std::optional<liveai::usage> u) noexcept { usage_ = u; }

private:
    state state_ = state::open;
    liveai::finish_reason reason_ = liveai::finish_reason::stop;
    std::optional<liveai::usage> usage_;
    boost::system::error_code error_{};
};

}  // namespace liveai
