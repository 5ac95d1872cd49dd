#include "sse_response.hpp"

#include "sessions.hpp"

#include <liveai/transport/sse_event_writer.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdio>
#include <utility>


namespace liveai::server::detail {

namespace asio = boost::asio;
using asio::use_awaitable;
using clock = std::chrono::steady_clock;
using transport::sse_event_writer;

namespace {

// Constants, not a string per response: a running stream holds no copy.
#define LIVEAI_SSE_HEAD                                     \
    "HTTP/1.1 200 OK\r\n"                                   \
    "Content-Type: text/event-stream; charset=utf-8\r\n"    \
    "Cache-Control: no-cache\r\n"                           \
    "X-Accel-Buffering: no\r\n"
constexpr std::string_view head_chunked = LIVEAI_SSE_HEAD "Transfer-Encoding: chunked\r\n\r\n";
constexpr std::string_view head_chunked_close = LIVEAI_SSE_HEAD "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
constexpr std::string_view head_close_delimited = LIVEAI_SSE_HEAD "Connection: close\r\n\r\n";
#undef LIVEAI_SSE_HEAD

}  // namespace

sse_response::sse_response(worker& w, asio::ip::tcp::socket& socket, boost::beast::flat_buffer& buffer, options opt)
    : w_(w), socket_(socket), buffer_(buffer), opt_(opt), wake_(socket_.get_executor())
{
    if (!opt_.chunked) opt_.keep_alive = false;
    head_ = !opt_.chunked ? head_close_delimited : opt_.keep_alive ? head_chunked : head_chunked_close;
    if (!opt_.extra_head.empty()) {
        own_head_.assign(head_.substr(0, head_.size() - 2)).append(opt_.extra_head).append("\r\n");
        head_ = own_head_;
    }
}

sse_response::~sse_response() = default;

asio::awaitable<bool> sse_response::run(std::unique_ptr<subscription> events, std::uint64_t next_seq)
{
    events_ = std::move(events);
    next_ = next_seq;
    w_.write_buffers.lend(pending_);
    // The preamble: the reconnection delay and, when the client asked for
    // it, the stream's id: an id with no data dispatches no event, but an
    // EventSource remembers it, so even a drop before the first event
    // resumes. Opt-in, so v1 clients see v1 bytes.
    if (!opt_.openai) sse_event_writer::retry(pending_, w_.config.retry);
    if (opt_.announce_id && !opt_.openai) {
        pending_.pop_back();  // one block: "retry: …\nid: <stream_id>.0\n\n"
        sse_event_writer::id_only(pending_, events_->stream_id(), 0);
    }
    last_write_ = clock::now();
    watch();
    bool failed = false;
    // The writer is this coroutine itself, not a child one: a running
    // stream holds one frame fewer.
    try {
        const auto& log = events_->log();
        const std::string_view id = events_->stream_id();
        if (opt_.openai && next_ > log.last_seq()) {
            // No preamble to carry the head: send it alone now, so the client
            // knows at once that the request was taken (OpenAI does so too).
            co_await asio::async_write(socket_, asio::buffer(head_), use_awaitable);
            head_ = {};
            last_write_ = clock::now();
        }
        for (;;) {
            if (aborted_ || client_gone_) throw boost::system::system_error(asio::error::operation_aborted);
            const auto last_seq = log.last_seq();
            if (next_ > last_seq && pending_.empty()) {
                // Waiting holds no write buffer.
                w_.write_buffers.give_back(std::exchange(pending_, {}));
                idle_ = true;
                wake_.expires_at(last_write_ + w_.config.heartbeat_interval);
                boost::system::error_code ec;
                co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
                idle_ = false;
                if (!ec && next_ > log.last_seq()) {
                    w_.write_buffers.lend(pending_);
                    sse_event_writer::ping(pending_);
                }
                // Woken by new events: let the handlers already queued on this
                // thread (the provider's next read, other streams) run first, so
                // the events that become ready in the same round leave in this
                // one write instead of one write each.
                if (ec) co_await asio::post(socket_.get_executor(), use_awaitable);
                continue;
            }
            // Framed into a buffer of our own for this write: the producer may
            // append (and drop written events) while it is in flight.
            w_.write_buffers.lend(pending_);
            if (opt_.openai) {
                for (auto seq = next_; seq <= last_seq; ++seq) pending_.append(log.at(seq).payload);
            } else {
                for (auto seq = next_; seq <= last_seq; ++seq) {
                    const auto e = log.at(seq);
                    sse_event_writer::event(pending_, id, seq, e.kind, e.payload);
                }
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
            head_ = {};
            pending_.clear();
            last_write_ = clock::now();
            if (next_ <= last_seq) {
                next_ = last_seq + 1;
                events_->written(next_);
            }
            if (last) {
                terminator_sent_ = true;
                break;
            }
        }
    } catch (const std::exception&) {
        failed = true;  // a failed write, or aborted
    }
    // The watcher's handler refers to this object: stop it and let it run.
    finishing_ = true;
    while (watching_) {
        boost::system::error_code ec;
        socket_.cancel(ec);
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    w_.write_buffers.give_back(std::exchange(pending_, {}));
    events_.reset();  // detaches: the block's on_disconnect policy applies
    co_return !failed && !client_gone_ && !aborted_ && opt_.keep_alive && terminator_sent_;
}

void sse_response::watch()
{
    // Bytes the client sends meanwhile (a pipelined request) are kept in
    // buffer_ for the next request, up to max_header_bytes; past that the
    // watcher stops (bounded memory) and a failed write notices a departure.
    if (buffer_.size() >= w_.config.max_header_bytes) return;
    // Nothing kept: hold no read buffer while the stream runs (a KiB per
    // stream); it is allocated again when bytes come.
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    watching_ = true;
    // A one-byte read, not async_wait(wait_read): Asio registers a wait with
    // an epoll_ctl call every time, while a read after the request's own
    // (which drained the socket) is queued without a system call.
    socket_.async_read_some(asio::buffer(&probe_, 1),
                            [this](const boost::system::error_code& ec, std::size_t) { on_readable(ec); });
}

void sse_response::on_readable(const boost::system::error_code& ec)
{
    watching_ = false;
    if (finishing_) {
        wake_.cancel();
        return;
    }
    if (ec == asio::error::operation_aborted) return;  // abort(): the writer ends on its own
    if (!ec) {
        // A byte came (an end of file is an error: the client left). Keep it
        // and what else is there now, without waiting, for the next request.
        if (keep_early_bytes(socket_, buffer_, probe_, std::min<std::size_t>(512, w_.config.max_header_bytes - buffer_.size())))
            return watch();
    }
    // The client is gone: end the writer wherever it waits.
    client_gone_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    wake_.cancel();
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

}  // namespace liveai::server::detail
