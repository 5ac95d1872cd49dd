// The WebSocket twin of the SSE endpoint. A reader handles `start` / `cancel`
// messages; a writer sends queued messages one frame at a time; each stream
// runs in its own coroutine that only formats into the queue, so a `cancel`
// is read while the provider waits. One stream at a time per connection.
#include "sessions.hpp"

#include <liveai/error.hpp>
#include <liveai/transport/event_format.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <vector>

namespace liveai::server::detail {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

// Outgoing messages in a ring of reusable strings: no allocation per message
// once the ring has grown to the queue's high-water mark.
class message_ring {
public:
    bool empty() const noexcept { return count_ == 0; }
    std::size_t bytes() const noexcept { return bytes_; }

    std::string& push()
    {
        if (count_ == slots_.size()) grow();
        auto& slot = slots_[(head_ + count_) % slots_.size()];
        slot.clear();
        ++count_;
        return slot;
    }
    void pushed(const std::string& slot) noexcept { bytes_ += slot.size(); }
    std::string& front() noexcept { return slots_[head_]; }
    void pop() noexcept
    {
        bytes_ -= slots_[head_].size();
        head_ = (head_ + 1) % slots_.size();
        --count_;
    }

private:
    void grow()
    {
        std::vector<std::string> bigger(std::max<std::size_t>(8, slots_.size() * 2));
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
        slots_ = std::move(bigger);
        head_ = 0;
    }

    std::vector<std::string> slots_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
};

class ws_session final : public connection {
public:
    ws_session(worker& w, beast::tcp_stream stream, std::string block)
        : w_(w), ws_(std::move(stream)), block_(std::move(block)), wake_(ws_.get_executor()), space_(ws_.get_executor()),
          stream_done_(ws_.get_executor())
    {
    }

    void shutdown() noexcept override
    {
        shutting_down_ = true;
        control_.request_shutdown();
        if (!control_.active) {
            close_after_drain_ = true;
            if (writer_idle_) wake_.cancel();
        }
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
        // The stream coroutine only touches this session: end it before we go.
        if (control_.active) {
            client_gone_ = true;
            control_.active->cancel();
        }
        while (stream_running_) {
            stream_done_.expires_at(asio::steady_timer::time_point::max());
            boost::system::error_code ignored;
            co_await stream_done_.async_wait(asio::redirect_error(use_awaitable, ignored));
        }
    }

private:
    void enqueue_error(std::string_view code, std::string_view message, bool retryable)
    {
        auto& slot = queue_.push();
        transport::append_error_json(slot, code, message, retryable, true);
        queue_.pushed(slot);
        if (writer_idle_) wake_.cancel();
    }

    asio::awaitable<void> read_loop()
    {
        beast::flat_buffer buffer;
        for (;;) {
            buffer.clear();
            auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(use_awaitable));
            if (ec == websocket::error::message_too_big) {
                enqueue_error("invalid_message",
                              "messages are limited to " + std::to_string(w_.config.max_ws_message_bytes) + " bytes", false);
                co_return;  // Beast has already failed the connection
            }
            if (ec) co_return;
            if (!ws_.got_text()) {
                enqueue_error("unsupported_frame", "binary frames are not supported; send JSON text messages", false);
                continue;
            }
            handle_message(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()));
        }
    }

    void handle_message(std::string_view text)
    {
        boost::system::error_code ec;
        const auto json = boost::json::parse(text, ec);
        const auto* obj = ec ? nullptr : json.if_object();
        const auto* type = obj ? obj->if_contains("type") : nullptr;
        if (!type || !type->is_string())
            return enqueue_error("invalid_message", R"(expected a JSON object with "type": "start" or "cancel")", false);
        const auto& kind = type->get_string();
        if (kind == "cancel") {
            if (control_.active) control_.active->cancel();
            return;  // nothing running: nothing to cancel, not an error
        }
        if (kind != "start")
            return enqueue_error("invalid_message", "unknown message type \"" + std::string(kind.subview().substr(0, 32)) + "\"", false);
        if (stream_running_)
            return enqueue_error("stream_busy", "a stream is already running on this connection; cancel it or wait for its end", false);
        const auto* prompt = obj->if_contains("prompt");
        if (!prompt || !prompt->is_string())
            return enqueue_error("invalid_prompt", R"(a "start" message needs a string "prompt")", false);
        if (shutting_down_) return enqueue_error("server_shutdown", "the server is shutting down", true);
        if (!stream_accounting::admit(w_))
            return enqueue_error("overloaded", "the server runs its maximum of " + std::to_string(w_.config.max_streams) + " streams", true);
        std::unique_ptr<token_stream> ts;
        try {
            ts = w_.engine.stream(block_, liveai::request{std::string(prompt->get_string())});
        } catch (const stream_error& e) {
            w_.metrics.streams_active.fetch_sub(1, std::memory_order_relaxed);
            return enqueue_error(to_code(e.code()), e.message(), e.retryable());
        }
        stream_running_ = true;
        control_.active = ts.get();
        asio::co_spawn(ws_.get_executor(), run_stream(std::move(ts)), [this](std::exception_ptr) {
            stream_running_ = false;
            control_.active = nullptr;
            stream_done_.cancel();
            if (shutting_down_) {
                close_after_drain_ = true;
                if (writer_idle_) wake_.cancel();
            }
        });
    }

    asio::awaitable<void> run_stream(std::unique_ptr<token_stream> ts)
    {
        stream_accounting accounting(w_, block_, "ws", w_.next_stream_id());
        std::uint64_t index = 0;
        for (;;) {
            std::optional<token> t;
            try {
                t = co_await ts->next();
            } catch (const stream_error& e) {
                const auto code = to_code(e.code());
                if (!client_gone_) enqueue_error(code, e.message(), e.retryable());
                accounting.finish(stream_outcome::error, code, provider_was_cancelled(*ts));
                co_return;
            }
            if (!t) break;
            accounting.on_chunk();
            auto& slot = queue_.push();
            transport::append_chunk_json(slot, index++, t->text, true);
            queue_.pushed(slot);
            if (writer_idle_) wake_.cancel();
            if (queue_.bytes() >= w_.config.write_queue_bytes) {
                producer_blocked_ = true;
                space_.expires_after(w_.config.slow_consumer_timeout);
                boost::system::error_code ec;
                co_await space_.async_wait(asio::redirect_error(use_awaitable, ec));
                producer_blocked_ = false;
                if (queue_.bytes() >= w_.config.write_queue_bytes && !client_gone_) {
                    ts->cancel();
                    metrics_shard::add(w_.shard.slow_consumers_total);
                    enqueue_error("slow_consumer", "the client did not read for " + std::to_string(w_.config.slow_consumer_timeout.count()) + " ms", false);
                    accounting.finish(stream_outcome::error, "slow_consumer", true);
                    close_after_drain_ = true;
                    co_return;
                }
            }
        }
        if (client_gone_) {
            accounting.finish(stream_outcome::cancelled, "client_closed", true);
            co_return;
        }
        if (ts->finish_reason() == finish_reason::cancelled && control_.shutdown) {
            enqueue_error("server_shutdown", "the server is shutting down; retry later", true);
            accounting.finish(stream_outcome::error, "server_shutdown", true);
            co_return;
        }
        auto& slot = queue_.push();
        transport::append_complete_json(slot, ts->finish_reason(), ts->usage(), index, true);
        queue_.pushed(slot);
        if (writer_idle_) wake_.cancel();
        const bool cancelled = ts->finish_reason() == finish_reason::cancelled;
        accounting.finish(cancelled ? stream_outcome::cancelled : stream_outcome::complete, to_string(ts->finish_reason()),
                          cancelled);
    }

    asio::awaitable<void> write_loop()
    {
        for (;;) {
            if (queue_.empty()) {
                if (close_after_drain_) {
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
            co_await ws_.async_write(asio::buffer(queue_.front()), use_awaitable);
            queue_.pop();
            if (producer_blocked_ && queue_.bytes() < w_.config.write_queue_bytes) space_.cancel();
        }
    }

    worker& w_;
    websocket::stream<beast::tcp_stream> ws_;
    std::string block_;
    asio::steady_timer wake_;
    asio::steady_timer space_;
    asio::steady_timer stream_done_;
    message_ring queue_;
    stream_control control_;
    bool writer_idle_ = false;
    bool producer_blocked_ = false;
    bool stream_running_ = false;
    bool client_gone_ = false;
    bool close_after_drain_ = false;
    bool shutting_down_ = false;
};

}  // namespace

asio::awaitable<void> run_ws_session(worker& w, beast::tcp_stream stream, http::request<http::string_body> upgrade,
                                     std::string block, connection*& forward)
{
    ws_session session(w, std::move(stream), std::move(block));
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
