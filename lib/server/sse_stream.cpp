// The SSE half of a connection: one producer pulls tokens and formats events
// into `pending_`; one writer sends whatever is pending in one write; a
// watcher reads the socket so a client that leaves is noticed at once, even
// while the provider waits before its first token or between two.
//
// Slow readers: the producer stops pulling tokens while write_queue_bytes are
// pending (so at most twice that is buffered: one batch being written, one
// pending). If that lasts slow_consumer_timeout, the provider is cancelled and
// the stream ends with an `error` event `slow_consumer`; if even that cannot
// be written within another slow_consumer_timeout, the connection is closed.
#include "sessions.hpp"

#include <liveai/error.hpp>
#include <liveai/transport/event_format.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdio>

namespace liveai::server::detail {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

using clock = std::chrono::steady_clock;

asio::awaitable<bool> cancelled_from_outside()
{
    co_return (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
}

class sse_stream {
public:
    sse_stream(worker& w, beast::tcp_stream& stream, beast::flat_buffer& buffer, token_stream& ts,
               stream_accounting& accounting, stream_control& control, bool keep_alive)
        : w_(w),
          socket_(stream.socket()),
          buffer_(buffer),
          ts_(ts),
          accounting_(accounting),
          control_(control),
          keep_alive_(keep_alive),
          events_(accounting.stream_id()),
          wake_(socket_.get_executor()),
          space_(socket_.get_executor())
    {
        head_ =
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/event-stream; charset=utf-8\r\n"
            "Cache-Control: no-cache\r\n"
            "X-Accel-Buffering: no\r\n"
            "Transfer-Encoding: chunked\r\n";
        if (!keep_alive_) head_ += "Connection: close\r\n";
        head_ += "\r\n";
        pending_.reserve(256);
        writing_.reserve(256);
    }

    asio::awaitable<bool> run()
    {
        transport::sse_event_writer::retry(pending_, w_.config.retry);
        last_write_ = clock::now();
        bool client_gone = false;
        try {
            auto produced = produce();
            auto written = write_loop();
            auto watched = watch_for_close(socket_, buffer_, w_.config.max_header_bytes);
            auto winner = co_await ((std::move(produced) && std::move(written)) || std::move(watched));
            client_gone = winner.index() == 1;
        } catch (const std::exception&) {
            // A failed write, or a slow consumer that would not drain.
            client_gone = true;
        }
        if (client_gone) {
            const bool was_open = !ts_.done();
            ts_.cancel();
            if (slow_consumer_) {
                accounting_.finish(stream_outcome::error, "slow_consumer", true);
            } else if (!outcome_) {
                accounting_.finish(stream_outcome::cancelled, "client_closed", was_open || provider_was_cancelled(ts_));
            }
        }
        co_return !client_gone && keep_alive_ && !control_.shutdown && terminator_sent_;
    }

private:
    void wake_writer() noexcept
    {
        if (writer_idle_) wake_.cancel();
    }

    // Waits until the writer has taken the pending bytes; false on timeout.
    asio::awaitable<bool> wait_for_space()
    {
        producer_blocked_ = true;
        space_.expires_after(w_.config.slow_consumer_timeout);
        boost::system::error_code ec;
        co_await space_.async_wait(asio::redirect_error(use_awaitable, ec));
        producer_blocked_ = false;
        if (co_await cancelled_from_outside()) throw boost::system::system_error(asio::error::operation_aborted);
        co_return pending_.size() < w_.config.write_queue_bytes;
    }

    // Waits until the writer has sent everything, terminator included; throws
    // slow_consumer (which closes the connection) after slow_consumer_timeout.
    asio::awaitable<void> wait_for_flush()
    {
        const auto deadline = clock::now() + w_.config.slow_consumer_timeout;
        while (!terminator_sent_) {
            if (clock::now() >= deadline) {
                // Abort the stuck write directly rather than through the
                // parallel group's cancellation, which does not reach an
                // async_write blocked on a full socket in Boost 1.81.
                boost::system::error_code ignored;
                socket_.cancel(ignored);
                throw stream_error(error::slow_consumer, "the client does not read");
            }
            producer_blocked_ = true;
            space_.expires_at(deadline);
            boost::system::error_code ec;
            co_await space_.async_wait(asio::redirect_error(use_awaitable, ec));
            producer_blocked_ = false;
            if (co_await cancelled_from_outside()) throw boost::system::system_error(asio::error::operation_aborted);
        }
    }

    void end_with(stream_outcome outcome, std::string_view code, bool provider_cancelled)
    {
        outcome_ = outcome;
        accounting_.finish(outcome, code, provider_cancelled);
    }

    asio::awaitable<void> produce()
    {
        std::uint64_t index = 0;
        for (;;) {
            std::optional<token> t;
            try {
                t = co_await ts_.next();
            } catch (const stream_error& e) {
                const auto code = to_code(e.code());
                events_.error(pending_, code, e.message(), e.retryable());
                end_with(stream_outcome::error, code, provider_was_cancelled(ts_));
                break;
            }
            if (!t) {
                if (co_await cancelled_from_outside()) co_return;  // client gone: nothing left to send
                if (ts_.finish_reason() == finish_reason::cancelled && control_.shutdown) {
                    events_.error(pending_, "server_shutdown", "the server is shutting down; retry later", true);
                    end_with(stream_outcome::error, "server_shutdown", true);
                } else {
                    events_.complete(pending_, ts_.finish_reason(), ts_.usage(), index);
                    const bool cancelled = ts_.finish_reason() == finish_reason::cancelled;
                    end_with(cancelled ? stream_outcome::cancelled : stream_outcome::complete,
                             to_string(ts_.finish_reason()), cancelled);
                }
                break;
            }
            accounting_.on_chunk();
            events_.chunk(pending_, index++, t->text);
            wake_writer();
            if (pending_.size() >= w_.config.write_queue_bytes && !co_await wait_for_space()) {
                ts_.cancel();
                slow_consumer_ = true;
                metrics_shard::add(w_.shard.slow_consumers_total);
                events_.error(pending_, "slow_consumer",
                              "the client did not read for " + std::to_string(w_.config.slow_consumer_timeout.count()) + " ms",
                              false);
                end_with(stream_outcome::error, "slow_consumer", true);
                finished_ = true;
                wake_writer();
                co_await wait_for_flush();
                co_return;
            }
        }
        finished_ = true;
        wake_writer();
    }

    asio::awaitable<void> write_loop()
    {
        for (;;) {
            if (pending_.empty()) {
                if (finished_) co_return;
                writer_idle_ = true;
                wake_.expires_at(last_write_ + w_.config.heartbeat_interval);
                boost::system::error_code ec;
                co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
                writer_idle_ = false;
                if (!ec && pending_.empty() && !finished_) transport::sse_event_writer::ping(pending_);
                continue;
            }
            std::swap(pending_, writing_);
            const bool last = finished_;
            char size_line[24];
            const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", writing_.size());
            const std::array<asio::const_buffer, 5> buffers{
                asio::buffer(head_), asio::buffer(size_line, static_cast<std::size_t>(n)), asio::buffer(writing_),
                asio::buffer("\r\n", 2), last ? asio::buffer("0\r\n\r\n", 5) : asio::const_buffer()};
            co_await asio::async_write(socket_, buffers, use_awaitable);
            head_.clear();
            writing_.clear();
            last_write_ = clock::now();
            if (last) terminator_sent_ = true;
            if (producer_blocked_) space_.cancel();
            if (last) co_return;
        }
    }

    worker& w_;
    asio::ip::tcp::socket& socket_;
    beast::flat_buffer& buffer_;
    token_stream& ts_;
    stream_accounting& accounting_;
    stream_control& control_;
    bool keep_alive_;
    transport::sse_event_writer events_;
    asio::steady_timer wake_;
    asio::steady_timer space_;
    std::string head_;
    std::string pending_;
    std::string writing_;
    clock::time_point last_write_{};
    std::optional<stream_outcome> outcome_;
    bool writer_idle_ = false;
    bool producer_blocked_ = false;
    bool finished_ = false;
    bool terminator_sent_ = false;
    bool slow_consumer_ = false;
};

}  // namespace

asio::awaitable<bool> serve_sse(worker& w, beast::tcp_stream& stream, beast::flat_buffer& buffer, token_stream& ts,
                                stream_accounting& accounting, stream_control& control, bool keep_alive)
{
    sse_stream s(w, stream, buffer, ts, accounting, control, keep_alive);
    co_return co_await s.run();
}

}  // namespace liveai::server::detail
