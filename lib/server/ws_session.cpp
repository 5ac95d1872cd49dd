// The WebSocket twin of the SSE endpoint. A reader handles `start`, `resume`
// and `cancel` messages; a writer sends the session's own messages (errors,
// `started`, `resumed`) and the events of the stream the connection runs,
// framed by ws_message_writer from the stream's log, so a `cancel` is read
// while the provider waits, and a `resume` on a new connection continues
// after any id, on this thread or mirrored from another (subscription.hpp).
// One stream at a time per connection.
#include "sessions.hpp"
#include "stream_record.hpp"
#include "subscription.hpp"

#include <liveai/error.hpp>
#include <liveai/transport/event_format.hpp>
#include <liveai/transport/ws_message_writer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <deque>

namespace liveai::server::detail {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr std::size_t max_own_messages = 64;

class ws_session final : public connection, public stream_subscriber {
public:
    ws_session(worker& w, beast::tcp_stream stream, const block_config& block)
        : w_(w), ws_(std::move(stream)), block_(block), wake_(ws_.get_executor())
    {
    }

    void shutdown() noexcept override
    {
        shutting_down_ = true;
        // A running stream ends with server_shutdown (the worker stops every
        // record); the connection closes once that is written.
        if (!streaming_) close_after_drain();
    }

    void close_now() noexcept override
    {
        boost::system::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    asio::awaitable<void> run(http::request<http::string_body> upgrade)
    {
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.read_message_max(w_.config.max_ws_message_bytes);
        auto [ec] = co_await ws_.async_accept(upgrade, asio::as_tuple(use_awaitable));
        if (ec) co_return;
        try {
            auto reading = read_loop();
            auto writing = write_loop();
            co_await (std::move(reading) || std::move(writing));
        } catch (const std::exception&) {
        }
        stream_.reset();
    }

    void on_events() noexcept override { wake_writer(); }
    void abort() noexcept override { close_after_drain(); }

private:
    void wake_writer() noexcept
    {
        if (writer_idle_) wake_.cancel();
    }

    void close_after_drain() noexcept
    {
        closing_ = true;
        stream_.reset();
        streaming_ = false;
        wake_writer();
    }

    void enqueue(std::string message)
    {
        // A client that sends faster than it reads the answers is cut off:
        // the queue of our own messages stays bounded.
        if (own_.size() >= max_own_messages) return close_after_drain();
        own_.push_back(std::move(message));
        wake_writer();
    }

    void enqueue_error(liveai::error code, std::string_view message, bool retryable)
    {
        std::string m;
        transport::append_error_json(m, to_code(code), message, retryable, true);
        enqueue(std::move(m));
    }
    void enqueue_error(liveai::error code, std::string_view message)
    {
        enqueue_error(code, message, default_retryable(code));
    }

    asio::awaitable<void> read_loop()
    {
        beast::flat_buffer buffer;
        for (;;) {
            buffer.clear();
            auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(use_awaitable));
            if (ec == websocket::error::message_too_big) {
                enqueue_error(error::invalid_message,
                              "messages are limited to " + std::to_string(w_.config.max_ws_message_bytes) + " bytes");
                co_return;  // Beast has already failed the connection
            }
            if (ec) co_return;
            if (!ws_.got_text()) {
                enqueue_error(error::unsupported_frame, "binary frames are not supported; send JSON text messages");
                continue;
            }
            co_await handle_message(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()));
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
            if (stream_) stream_->stop();
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
        stream_.reset();
        if (kind == "resume") co_await resume(*obj);
        else start(*obj);
    }

    void start(const boost::json::object& message)
    {
        const auto* prompt = message.if_contains("prompt");
        if (!prompt || !prompt->is_string()) {
            enqueue_error(error::invalid_prompt, R"(a "start" message needs a string "prompt")");
            return;
        }
        auto ticket = stream_accounting::admit(w_);
        if (!ticket) {
            enqueue_error(error::overloaded, "the server runs its maximum of " + std::to_string(w_.config.max_streams) + " streams");
            return;
        }
        std::unique_ptr<token_stream> ts;
        try {
            ts = w_.engine.stream(block_.name, liveai::request{std::string(prompt->get_string())});
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
        stream_ = subscribe_local(std::move(record), *this, next_);
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
        auto resumed = co_await subscribe_resume(w_, block_, *id, *this);
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
        if (closing_) co_return;  // aborted while the owner decided
        with_ids_ = true;  // a resuming client knows ids
        next_ = resumed.decision.next_seq;
        stream_ = std::move(resumed.stream);
        wake_writer();  // the events after last_event_id, at once
    }

    // The next message to write, or false when there is none.
    bool next_message()
    {
        out_.clear();
        if (!own_.empty()) {
            out_.swap(own_.front());
            own_.pop_front();
            return true;
        }
        if (!stream_) return false;
        const auto& log = stream_->log();
        if (next_ > log.last_seq()) return false;
        const auto e = log.at(next_);
        transport::ws_message_writer::message(out_, e.kind, e.payload, with_ids_ ? stream_->stream_id() : std::string_view{},
                                              next_);
        out_seq_ = next_++;
        return true;
    }

    asio::awaitable<void> write_loop()
    {
        for (;;) {
            out_seq_ = 0;
            if (!next_message()) {
                if (closing_) {
                    co_await ws_.async_close(websocket::close_code::going_away, asio::as_tuple(use_awaitable));
                    co_return;
                }
                writer_idle_ = true;
                wake_.expires_at(asio::steady_timer::time_point::max());
                boost::system::error_code ec;
                co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
                writer_idle_ = false;
                continue;
            }
            ws_.text(true);
            co_await ws_.async_write(asio::buffer(out_), use_awaitable);
            if (out_seq_ == 0 || !stream_) continue;
            const auto& log = stream_->log();
            const bool caught_up = next_ > log.last_seq();
            // One acknowledgement per drained batch (or per 16 messages), not per message.
            if (caught_up || (next_ & 15) == 0) stream_->written(next_);
            if (caught_up && log.ended()) {
                stream_.reset();
                streaming_ = false;
                if (shutting_down_) close_after_drain();
            }
        }
    }

    worker& w_;
    websocket::stream<beast::tcp_stream> ws_;
    const block_config& block_;
    asio::steady_timer wake_;
    std::deque<std::string> own_;  // the session's own messages, before events
    std::string out_;
    std::unique_ptr<subscription> stream_;
    std::uint64_t next_ = 1;
    std::uint64_t out_seq_ = 0;  // the event in out_, 0 for our own messages
    bool streaming_ = false;
    bool with_ids_ = false;
    bool writer_idle_ = false;
    bool closing_ = false;
    bool shutting_down_ = false;
};

}  // namespace

asio::awaitable<void> run_ws_session(worker& w, beast::tcp_stream stream, http::request<http::string_body> upgrade,
                                     const block_config& block, connection*& forward)
{
    ws_session session(w, std::move(stream), block);
    forward = &session;
    try {
        co_await session.run(std::move(upgrade));
    } catch (...) {
        forward = nullptr;
        throw;
    }
    forward = nullptr;
}

}  // namespace liveai::server::detail
