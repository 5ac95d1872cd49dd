// The WebSocket twin of the SSE endpoint. Beast answers the handshake; the
// frames are ours (transport/ws_frame.hpp), so every message ready at once
// (the session's own and the stream's events, framed by ws_message_writer
// straight from the stream's log) leaves in one write, where Beast writes
// one frame per call. A reader handles `start`, `resume` and `cancel`
// messages, pings and the close handshake, so a `cancel` is read while the
// provider waits, and a `resume` on a new connection continues after any
// id, on this thread or mirrored from another (subscription.hpp). One
// stream at a time per connection.
#include "sessions.hpp"
#include "socket_deadline.hpp"
#include "stream_record.hpp"
#include "subscription.hpp"

#include <liveai/error.hpp>
#include <liveai/request_json.hpp>
#include <liveai/transport/event_format.hpp>
#include <liveai/transport/ws_frame.hpp>
#include <liveai/transport/ws_message_writer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <deque>
#include <utility>

namespace liveai::server::detail {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
namespace ws_close_code = transport::ws_close_code;
using transport::ws_frame_writer;
using transport::ws_input;
using transport::ws_opcode;

namespace {

constexpr std::size_t max_own_messages = 64;
// After our close frame, how long the client has to answer with its own.
constexpr auto close_answer_timeout = std::chrono::seconds(5);

class ws_session final : public connection, public stream_subscriber {
public:
    ws_session(worker& w, asio::ip::tcp::socket socket, const block_config& block, key_state* key)
        : w_(w), socket_(std::move(socket)), block_(block), key_(key), wake_(socket_.get_executor())
    {
    }

    void shutdown() noexcept override
    {
        shutting_down_ = true;
        // A running stream ends with server_shutdown (the worker stops every
        // record); the connection closes once that is written.
        if (!streaming_) close_after_drain(ws_close_code::going_away);
    }

    void close_now() noexcept override { drop_connection(); }

    asio::awaitable<void> run(http::request<http::string_body> upgrade, beast::flat_buffer& early)
    {
        {
            // Beast answers the upgrade; its timeouts need a tcp_stream, so
            // the handshake's is ours (the suggested server value).
            socket_deadline deadline(socket_);
            deadline.expires_after(websocket::stream_base::timeout::suggested(beast::role_type::server).handshake_timeout);
            websocket::stream<asio::ip::tcp::socket&> handshake(socket_);
            // A browser that offered subprotocols needs one chosen, and
            // only "liveai" may be: the other carries the key.
            if (read_ws_protocols(upgrade[http::field::sec_websocket_protocol]).liveai) {
                const auto choose = [](websocket::response_type& res) { res.set(http::field::sec_websocket_protocol, "liveai"); };
                handshake.set_option(websocket::stream_base::decorator(choose));
            }
            auto [ec] = co_await handshake.async_accept(upgrade, asio::as_tuple(use_awaitable));
            co_await deadline.settle();
            if (ec) co_return;
        }
        last_received_ = clock::now();
        try {
            auto reading = read_loop(early);
            auto writing = write_loop();
            co_await (std::move(reading) && std::move(writing));
        } catch (const std::exception&) {
        }
        subscription_.reset();
    }

    void on_events() noexcept override { wake_writer(); }
    void abort() noexcept override { close_after_drain(ws_close_code::going_away); }

private:
    void wake_writer() noexcept
    {
        if (writer_idle_) wake_.cancel();
    }

    // Ends the session's stream and closes once what is queued is written.
    void close_after_drain(std::uint16_t code) noexcept
    {
        if (!closing_) close_code_ = code;
        closing_ = true;
        subscription_.reset();
        streaming_ = false;
        wake_writer();
    }

    // The TCP connection is gone or must go: no close handshake.
    void drop_connection() noexcept
    {
        gone_ = true;
        subscription_.reset();
        streaming_ = false;
        boost::system::error_code ignored;
        socket_.close(ignored);
        wake_.cancel();
    }

    void enqueue_frame(ws_opcode op, std::string_view payload)
    {
        // A client that sends faster than it reads the answers is cut off:
        // the queue of our own messages stays bounded.
        if (own_.size() >= max_own_messages) return close_after_drain(ws_close_code::going_away);
        std::string frame;
        ws_frame_writer::frame(frame, op, payload);
        own_.push_back(std::move(frame));
        wake_writer();
    }
    void enqueue(std::string_view message) { enqueue_frame(ws_opcode::text, message); }

    void enqueue_error(liveai::error code, std::string_view message, bool retryable)
    {
        std::string m;
        transport::append_error_json(m, to_code(code), message, retryable, true);
        enqueue(m);
    }
    void enqueue_error(liveai::error code, std::string_view message)
    {
        enqueue_error(code, message, default_retryable(code));
    }

    asio::awaitable<void> read_loop(beast::flat_buffer& early)
    {
        transport::ws_frame_reader reader(w_.config.max_ws_message_bytes);
        const auto limit = reader.max_buffered_bytes();
        beast::flat_buffer buffer(limit);
        if (early.size() > 0) {
            // A client may send its first frames right behind the upgrade.
            if (early.size() > limit) co_return drop_connection();
            buffer.commit(asio::buffer_copy(buffer.prepare(early.size()), early.data()));
            early.consume(early.size());
        }
        for (;;) {
            auto in = reader.next(static_cast<char*>(buffer.data().data()), buffer.size());
            if (in.kind == ws_input::need_more) {
                buffer.consume(in.consumed);
                const auto room = std::min(limit - buffer.size(), std::max<std::size_t>(buffer.size(), 512));
                auto [ec, n] = co_await socket_.async_read_some(buffer.prepare(room), asio::as_tuple(use_awaitable));
                if (ec) co_return drop_connection();  // gone: the block's on_disconnect policy applies
                buffer.commit(n);
                last_received_ = clock::now();
                ping_sent_ = false;
                continue;
            }
            switch (in.kind) {
            case ws_input::text:
                co_await handle_message(in.payload);
                break;
            case ws_input::binary:
                enqueue_error(error::unsupported_frame, "binary frames are not supported; send JSON text messages");
                break;
            case ws_input::ping:
                enqueue_frame(ws_opcode::pong, in.payload);
                break;
            case ws_input::pong:
                break;
            case ws_input::close:
                // The client leaves: its stream is given up like a dropped
                // connection's, and our close frame answers with its code.
                peer_closed_ = true;
                close_after_drain(in.code == ws_close_code::no_status ? ws_close_code::normal : in.code);
                if (awaiting_close_) wake_.cancel();
                co_return;
            case ws_input::failed:
                if (in.code == ws_close_code::too_big)
                    enqueue_error(error::invalid_message,
                                  "messages are limited to " + std::to_string(w_.config.max_ws_message_bytes) + " bytes");
                else if (in.code == ws_close_code::invalid_payload)
                    enqueue_error(error::invalid_message, "a text message is not valid UTF-8");
                failing_ = true;
                close_after_drain(in.code);
                co_return co_await discard_until_closed();
            default:
                break;
            }
            if (gone_) co_return;
            buffer.consume(in.consumed);
        }
    }

    // After a protocol failure nothing more is read, but what the client
    // still sends is taken off the socket: closing a socket with unread
    // bytes would reset the connection and lose our close frame.
    asio::awaitable<void> discard_until_closed()
    {
        char sink[512];
        for (;;) {
            auto [ec, n] = co_await socket_.async_read_some(asio::buffer(sink), asio::as_tuple(use_awaitable));
            if (ec) co_return drop_connection();
        }
    }

    asio::awaitable<void> handle_message(std::string_view text)
    {
        boost::system::error_code ec;
        const auto json = boost::json::parse(text, ec);
        const auto* obj = ec ? nullptr : json.if_object();
        const auto* type = obj ? obj->if_contains("type") : nullptr;
        if (!type || !type->is_string()) {
            enqueue_error(error::invalid_message, R"(expected a JSON object with "type": "start", "resume" or "cancel")");
            co_return;
        }
        const auto& kind = type->get_string();
        if (kind == "cancel") {
            // Nothing running: nothing to cancel, not an error.
            if (subscription_) subscription_->stop();
            co_return;
        }
        if (kind != "start" && kind != "resume") {
            enqueue_error(error::invalid_message, "unknown message type \"" + std::string(kind.subview().substr(0, 32)) + "\"");
            co_return;
        }
        if (streaming_) {
            enqueue_error(error::stream_busy, "a stream is already running on this connection; cancel it or wait for its end");
            co_return;
        }
        if (shutting_down_) {
            enqueue_error(error::server_shutdown, "the server is shutting down");
            co_return;
        }
        subscription_.reset();
        if (kind == "resume") co_await resume(*obj);
        else start(*obj);
    }

    void start(const boost::json::object& message)
    {
        liveai::request req;
        try {
            req = request_from_json(message);
        } catch (const stream_error& e) {
            enqueue_error(static_cast<liveai::error>(e.code().value()), e.message());
            return;
        }
        auto ticket = stream_accounting::admit(w_);
        if (!ticket) {
            enqueue_error(error::overloaded, "the server runs its maximum of " + std::to_string(w_.config.max_streams) + " streams");
            return;
        }
        if (key_ && !ticket->hold_key(*key_)) {
            enqueue_error(error::rate_limited, "API key \"" + std::string(key_->name()) + "\" has its maximum of " +
                                                   std::to_string(key_->key().max_streams) + " streams open");
            return;
        }
        std::unique_ptr<token_stream> ts;
        try {
            ts = w_.engine.stream(block_.name, std::move(req));
        } catch (const stream_error& e) {
            enqueue_error(static_cast<liveai::error>(e.code().value()), e.message(), e.retryable());
            return;
        }
        auto record = start_stream(w_, std::move(*ticket), block_, std::move(ts), "ws");
        const auto* resumable = message.if_contains("resumable");
        with_ids_ = resumable && resumable->is_bool() && resumable->get_bool();
        if (with_ids_) enqueue(R"({"type":"started","stream_id":")" + record->id() + R"(","id":")" + record->id() + R"(.0"})");
        streaming_ = true;
        next_ = 1;
        subscription_ = subscribe_local(std::move(record), *this, next_);
        wake_writer();  // the producer may already have run (co_spawn dispatches inline)
    }

    asio::awaitable<void> resume(const boost::json::object& message)
    {
        const auto* value = message.if_contains("last_event_id");
        const auto id = value && value->is_string() ? parse_event_id(value->get_string()) : std::nullopt;
        if (!id) {
            enqueue_error(error::invalid_message, R"(a "resume" message needs "last_event_id": "<stream_id>.<seq>")");
            co_return;
        }
        streaming_ = true;
        auto resumed = co_await subscribe_resume(w_, block_, *id, *this, key_);
        switch (resumed.decision.outcome) {
        case resume_outcome::refused:
            streaming_ = false;
            enqueue_error(resumed.decision.code, resumed.decision.message, false);
            co_return;
        case resume_outcome::delivered:
            // The WebSocket form of 204: the stream ended and this client has it all.
            streaming_ = false;
            enqueue(R"({"type":"resumed","stream_id":")" + std::string(id->stream_id.substr(0, 64)) + R"(","delivered":true})");
            co_return;
        case resume_outcome::replay: break;
        }
        if (closing_ || gone_) co_return;  // aborted while the owner decided
        with_ids_ = true;  // a resuming client knows ids
        next_ = resumed.decision.next_seq;
        subscription_ = std::move(resumed.stream);
        wake_writer();  // the events after last_event_id, at once
    }

    // Frames into out_ what is ready: our own messages first, then the
    // stream's events, up to write_queue_bytes (at least one event).
    // Returns whether events were taken.
    bool gather()
    {
        while (!own_.empty()) {
            out_.append(own_.front());
            own_.pop_front();
        }
        if (!subscription_) return false;
        const auto& log = subscription_->log();
        const auto last = log.last_seq();
        const std::string_view id = with_ids_ ? std::string_view(subscription_->stream_id()) : std::string_view{};
        const auto first = next_;
        while (next_ <= last && (next_ == first || out_.size() < w_.config.write_queue_bytes)) {
            const auto e = log.at(next_);
            const auto at = ws_frame_writer::begin(out_);
            transport::ws_message_writer::message(out_, e.kind, e.payload, id, next_);
            ws_frame_writer::end(out_, at, ws_opcode::text);
            ++next_;
        }
        return next_ != first;
    }

    // A client that sent nothing for half of ws_idle_timeout gets a ping
    // (browsers answer it on their own); one silent for all of it is gone.
    // Returns false when the connection was dropped for silence.
    bool keep_alive_check(clock::time_point now)
    {
        const auto idle = w_.config.ws_idle_timeout;
        if (now - last_received_ >= idle) {
            drop_connection();
            return false;
        }
        if (!ping_sent_ && now - last_received_ >= idle / 2) {
            ping_sent_ = true;
            enqueue_frame(ws_opcode::ping, {});
        }
        return true;
    }

    asio::awaitable<void> write_loop()
    {
        for (;;) {
            if (gone_) co_return;
            out_.clear();
            w_.write_buffers.lend(out_);
            const bool events = gather();
            if (out_.empty()) {
                // Waiting holds no write buffer.
                w_.write_buffers.give_back(std::exchange(out_, {}));
                if (closing_) co_return co_await close_handshake();
                writer_idle_ = true;
                wake_.expires_at(last_received_ + (ping_sent_ ? w_.config.ws_idle_timeout : w_.config.ws_idle_timeout / 2));
                boost::system::error_code ec;
                co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
                writer_idle_ = false;
                if (!ec) {
                    if (!keep_alive_check(clock::now())) co_return;
                } else if (!gone_) {
                    // Woken by new events: let the handlers already queued on
                    // this thread run first, so the events that become ready
                    // in the same round leave in this one write.
                    co_await asio::post(socket_.get_executor(), use_awaitable);
                }
                continue;
            }
            auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_), asio::as_tuple(use_awaitable));
            if (ec) co_return drop_connection();
            if (!keep_alive_check(clock::now())) co_return;
            if (!events || !subscription_) continue;
            const auto& log = subscription_->log();
            subscription_->written(next_);
            if (next_ > log.last_seq() && log.ended()) {
                subscription_.reset();
                streaming_ = false;
                if (shutting_down_) close_after_drain(ws_close_code::going_away);
            }
        }
    }

    // Our close frame; then, unless the client closed first or broke the
    // protocol, a bounded wait for its answer. The server closes the TCP
    // connection (RFC 6455 section 7.1.1).
    asio::awaitable<void> close_handshake()
    {
        out_.clear();
        ws_frame_writer::close(out_, close_code_);
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_), asio::as_tuple(use_awaitable));
        boost::system::error_code ignored;
        if (!ec && failing_) socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        if (!ec && !peer_closed_) {
            // Until the client's close frame (or, after a failure, its end
            // of the connection) comes in, or the timeout.
            awaiting_close_ = true;
            wake_.expires_after(close_answer_timeout);
            boost::system::error_code ignored;
            co_await wake_.async_wait(asio::redirect_error(use_awaitable, ignored));
        }
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        drop_connection();
    }

    worker& w_;
    asio::ip::tcp::socket socket_;
    const block_config& block_;
    key_state* key_;
    asio::steady_timer wake_;
    std::deque<std::string> own_;  // framed: the session's own messages and pongs, before events
    std::string out_;              // what the write in flight sends, in a buffer lent by w_.write_buffers
    std::unique_ptr<subscription> subscription_;
    std::uint64_t next_ = 1;
    clock::time_point last_received_{};
    std::uint16_t close_code_ = ws_close_code::going_away;
    bool streaming_ = false;
    bool with_ids_ = false;
    bool writer_idle_ = false;
    bool closing_ = false;         // a close frame is to be sent once the queue is written
    bool peer_closed_ = false;     // the client's close frame came in
    bool failing_ = false;         // the client broke the protocol
    bool awaiting_close_ = false;  // our close frame is out; the client's is awaited
    bool ping_sent_ = false;
    bool gone_ = false;
    bool shutting_down_ = false;
};

}  // namespace

asio::awaitable<void> run_ws_session(worker& w, asio::ip::tcp::socket socket, http::request<http::string_body> upgrade,
                                     beast::flat_buffer& early, const block_config& block, connection*& forward,
                                     key_state* key)
{
    ws_session session(w, std::move(socket), block, key);
    forward = &session;
    try {
        co_await session.run(std::move(upgrade), early);
    } catch (...) {
        forward = nullptr;
        throw;
    }
    forward = nullptr;
}

}  // namespace liveai::server::detail
