#include "sse_response.hpp"

#include "sessions.hpp"

#include <liveai/transport/sse_event_writer.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdio>

namespace liveai::server::detail {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
using transport::sse_event_writer;

sse_response::sse_response(worker& w, boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer, options opt)
    : w_(w), socket_(stream.socket()), buffer_(buffer), opt_(opt), wake_(socket_.get_executor())
{
    if (!opt_.chunked) opt_.keep_alive = false;
    head_ =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\n";
    if (opt_.chunked) head_ += "Transfer-Encoding: chunked\r\n";
    if (!opt_.keep_alive) head_ += "Connection: close\r\n";
    head_ += "\r\n";
}

sse_response::~sse_response() = default;

asio::awaitable<bool> sse_response::run(std::unique_ptr<subscription> events, std::uint64_t next_seq)
{
    events_ = std::move(events);
    next_ = next_seq;
    // The preamble: the reconnection delay and, when the client asked for
    // it, the stream's id: an id with no data dispatches no event, but an
    // EventSource remembers it, so even a drop before the first event
    // resumes. Opt-in, so v1 clients see v1 bytes.
    sse_event_writer::retry(pending_, w_.config.retry);
    if (opt_.announce_id) {
        pending_.pop_back();  // one block: "retry: …\nid: <stream_id>.0\n\n"
        sse_event_writer::id_only(pending_, events_->stream_id(), 0);
    }
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
    events_.reset();  // detaches: the block's on_disconnect policy applies
    co_return !client_gone && !aborted_ && opt_.keep_alive && terminator_sent_;
}

void sse_response::on_events() noexcept
{
    if (idle_) wake_.cancel();
}

void sse_response::abort() noexcept
{
    aborted_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> sse_response::write_loop()
{
    const auto& log = events_->log();
    const std::string_view id = events_->stream_id();
    for (;;) {
        if (aborted_) throw boost::system::system_error(asio::error::operation_aborted);
        const auto last_seq = log.last_seq();
        if (next_ > last_seq && pending_.empty()) {
            idle_ = true;
            wake_.expires_at(last_write_ + w_.config.heartbeat_interval);
            boost::system::error_code ec;
            co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
            idle_ = false;
            if (!ec && next_ > log.last_seq()) sse_event_writer::ping(pending_);
            // Woken by new events: let the handlers already queued on this
            // thread (the provider's next read, other streams) run first, so
            // the events that become ready in the same round leave in this
            // one write instead of one write each.
            if (ec) co_await asio::post(socket_.get_executor(), use_awaitable);
            continue;
        }
        // Framed into our own buffer: the producer may append (and drop
        // written events) while this write is in flight.
        for (auto seq = next_; seq <= last_seq; ++seq) {
            const auto e = log.at(seq);
            sse_event_writer::event(pending_, id, seq, e.kind, e.payload);
        }
        const bool last = log.ended() && next_ <= last_seq;
        char size_line[24];
        int n = 0;
        if (opt_.chunked) n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", pending_.size());
        const std::array<asio::const_buffer, 5> buffers{
            asio::buffer(head_), asio::buffer(size_line, static_cast<std::size_t>(n)), asio::buffer(pending_),
            opt_.chunked ? asio::buffer("\r\n", 2) : asio::const_buffer(),
            last && opt_.chunked ? asio::buffer("0\r\n\r\n", 5) : asio::const_buffer()};
        co_await asio::async_write(socket_, buffers, use_awaitable);
        head_.clear();
        pending_.clear();
        last_write_ = clock::now();
        if (next_ <= last_seq) {
            next_ = last_seq + 1;
            events_->written(next_);
        }
        if (last) {
            terminator_sent_ = true;
            co_return;
        }
    }
}

}  // namespace liveai::server::detail
