// The SSE half of a connection: a subscriber of one stream_record. The writer
// sends every event the record has that this client has not had, in one write
// per batch (header and preamble included in the first); a watcher reads the
// socket so a client that leaves is noticed at once, even while the provider
// waits before its first token or between two. What happens to the stream
// then is the block's on_disconnect policy (stream_record::detach).
#include "sessions.hpp"
#include "stream_record.hpp"

#include <liveai/transport/event_format.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
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

class sse_subscription final : public stream_subscriber {
public:
    sse_subscription(worker& w, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                     std::shared_ptr<stream_record> record, std::uint64_t next_seq, bool keep_alive, bool announce_id)
        : w_(w),
          socket_(stream.socket()),
          buffer_(buffer),
          record_(std::move(record)),
          next_(next_seq),
          keep_alive_(keep_alive),
          wake_(socket_.get_executor())
    {
        head_ =
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/event-stream; charset=utf-8\r\n"
            "Cache-Control: no-cache\r\n"
            "X-Accel-Buffering: no\r\n"
            "Transfer-Encoding: chunked\r\n";
        if (!keep_alive_) head_ += "Connection: close\r\n";
        head_ += "\r\n";
        // The preamble: the reconnection delay and, when the client asked for
        // it (resumable=1), the stream's id: an id with no data dispatches no
        // event, but an EventSource remembers it, so even a drop before the
        // first event resumes. Opt-in, so v1 clients see v1 bytes.
        transport::sse_event_writer::retry(pending_, w_.config.retry);
        if (announce_id) {
            pending_.pop_back();
            pending_ += "id: " + record_->id() + ".0\n\n";
        }
    }

    ~sse_subscription() { record_->detach(*this); }

    asio::awaitable<bool> run()
    {
        record_->attach(*this, next_);
        last_write_ = clock::now();
        bool client_gone = false;
        try {
            auto written = write_loop();
            auto watched = watch_for_close(socket_, buffer_, w_.config.max_header_bytes);
            auto winner = co_await (std::move(written) || std::move(watched));
            client_gone = winner.index() == 1;
        } catch (const std::exception&) {
            client_gone = true;  // a failed write, or aborted
        }
        record_->detach(*this);
        co_return !client_gone && !aborted_ && keep_alive_ && terminator_sent_;
    }

    void on_events() noexcept override
    {
        if (idle_) wake_.cancel();
    }

    void abort() noexcept override
    {
        aborted_ = true;
        boost::system::error_code ignored;
        socket_.cancel(ignored);
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    }

private:
    asio::awaitable<void> write_loop()
    {
        for (;;) {
            if (aborted_) throw boost::system::system_error(asio::error::operation_aborted);
            const auto last_seq = record_->last_seq();
            if (next_ > last_seq && pending_.empty()) {
                idle_ = true;
                wake_.expires_at(last_write_ + w_.config.heartbeat_interval);
                boost::system::error_code ec;
                co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
                idle_ = false;
                if (!ec && next_ > record_->last_seq()) transport::sse_event_writer::ping(pending_);
                continue;
            }
            // Copied out: the producer may grow (reallocate) the log while
            // this write is in flight.
            if (next_ <= last_seq) pending_.append(record_->sse_from(next_));
            const bool last = record_->ended() && next_ <= last_seq;
            char size_line[24];
            const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", pending_.size());
            const std::array<asio::const_buffer, 5> buffers{
                asio::buffer(head_), asio::buffer(size_line, static_cast<std::size_t>(n)), asio::buffer(pending_),
                asio::buffer("\r\n", 2), last ? asio::buffer("0\r\n\r\n", 5) : asio::const_buffer()};
            co_await asio::async_write(socket_, buffers, use_awaitable);
            head_.clear();
            pending_.clear();
            last_write_ = clock::now();
            if (next_ <= last_seq) {
                next_ = last_seq + 1;
                record_->written(*this, next_);
            }
            if (last) {
                terminator_sent_ = true;
                co_return;
            }
        }
    }

    worker& w_;
    asio::ip::tcp::socket& socket_;
    beast::flat_buffer& buffer_;
    std::shared_ptr<stream_record> record_;
    std::uint64_t next_;
    bool keep_alive_;
    asio::steady_timer wake_;
    std::string head_;
    std::string pending_;
    clock::time_point last_write_{};
    bool idle_ = false;
    bool aborted_ = false;
    bool terminator_sent_ = false;
};

}  // namespace

asio::awaitable<bool> serve_sse(worker& w, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                std::shared_ptr<stream_record> record, std::uint64_t next_seq, bool keep_alive,
                                bool announce_id)
{
    sse_subscription s(w, stream, buffer, std::move(record), next_seq, keep_alive, announce_id);
    co_return co_await s.run();
}

}  // namespace liveai::server::detail
