// The WebSocket twin of the SSE endpoint. A reader handles `start`, `resume`
// and `cancel` messages; a writer sends queued messages one frame at a time.
// Each stream is a stream_record (its producer runs on its own), and this
// session is its subscriber: messages are formatted from the record's replay
// log into a ring of reusable strings, so a `cancel` is read while the
// provider waits, and a `resume` on a new connection continues after any id.
// One stream at a time per connection.
#include "sessions.hpp"
#include "stream_record.hpp"

#include <liveai/error.hpp>
#include <liveai/transport/event_format.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <cstdio>
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

    // `seq`: the stream event the message carries; 0 for other messages.
    std::string& push(std::uint64_t seq)
    {
        if (count_ == slots_.size()) grow();
        const auto at = (head_ + count_) % slots_.size();
        slots_[at].clear();
        seqs_[at] = seq;
        ++count_;
        return slots_[at];
    }
    std::uint64_t front_seq() const noexcept { return seqs_[head_]; }
    void clear() noexcept
    {
        head_ = count_ = bytes_ = 0;
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
        std::vector<std::uint64_t> bigger_seqs(bigger.size());
        for (std::size_t i = 0; i < count_; ++i) {
            bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
            bigger_seqs[i] = seqs_[(head_ + i) % slots_.size()];
        }
        slots_ = std::move(bigger);
        seqs_ = std::move(bigger_seqs);
        head_ = 0;
    }

    std::vector<std::string> slots_;
    std::vector<std::uint64_t> seqs_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
};

// The WebSocket form of one stream event: {"type":"chunk",…}, with
// "id":"<sid>.<seq>" when the client asked for a resumable stream (opt-in, so
// v1 clients see v1 messages).
void append_ws_message(std::string& out, const stream_record& record, std::uint64_t seq, bool with_id)
{
    static constexpr std::string_view kinds[] = {"chunk", "complete", "error"};
    const auto e = record.event(seq);
    out.append(R"({"type":")");
    out.append(kinds[static_cast<int>(e.kind)]);
    if (!with_id) {
        out.append("\",");
        out.append(e.data.substr(1));
        return;
    }
    out.append(R"(","id":")");
    out.append(record.id());
    out.push_back('.');
    char digits[24];
    const int n = std::snprintf(digits, sizeof digits, "%llu", static_cast<unsigned long long>(seq));
    out.append(digits, static_cast<std::size_t>(n));
    out.append("\",");
    out.append(e.data.substr(1));
}

class ws_session;

// The session's side of a stream that another worker owns (a `resume` that
// landed on another I/O thread). The session holds it; the owner's thread
// sees it only through posts.
struct ws_inbox {
    ws_session* session = nullptr;  // null once the session ended
};

// Runs on the owner's thread: subscribes to the record there and posts the
// formatted messages to the session's thread, one batch per wake-up.
class remote_feed final : public stream_subscriber, public std::enable_shared_from_this<remote_feed> {
public:
    remote_feed(std::shared_ptr<stream_record> record, std::uint64_t next_seq, asio::any_io_executor home,
                std::weak_ptr<ws_inbox> inbox)
        : record_(std::move(record)), next_(next_seq), home_(std::move(home)), inbox_(std::move(inbox))
    {
    }

    void start()
    {
        record_->attach(*this, next_);
        ship();
    }
    void on_events() noexcept override { ship(); }
    void abort() noexcept override;
    void acked(std::uint64_t next_seq) { record_->written(*this, next_seq); }
    void leave() { record_->detach(*this); }
    void cancel() { record_->stop(stop_reason::cancel_request); }

private:
    void ship() noexcept;

    std::shared_ptr<stream_record> record_;
    std::uint64_t next_;
    asio::any_io_executor home_;
    std::weak_ptr<ws_inbox> inbox_;
};

class ws_session final : public connection, public stream_subscriber {
public:
    ws_session(worker& w, beast::tcp_stream stream, std::string block)
        : w_(w), ws_(std::move(stream)), block_(std::move(block)), wake_(ws_.get_executor())
    {
        inbox_ = std::make_shared<ws_inbox>();
        inbox_->session = this;
    }

    ~ws_session()
    {
        inbox_->session = nullptr;
        leave_stream();
    }

    void shutdown() noexcept override
    {
        shutting_down_ = true;
        // A running stream ends with server_shutdown (the worker stops every
        // record); the connection closes once that is written.
        if (!record_ && !remote_) close_now();
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
        leave_stream();
    }

    // stream_subscriber, for a record of this worker.
    void on_events() noexcept override
    {
        if (!record_) return;
        const auto last = record_->last_seq();
        for (; next_ <= last; ++next_) {
            auto& slot = queue_.push(next_);
            append_ws_message(slot, *record_, next_, with_ids_);
            queue_.pushed(slot);
            if (record_->ended() && next_ == last) stream_ended();
        }
        wake_writer();
    }

    void abort() noexcept override { close_now(); }

    // From a remote_feed, on this thread.
    void deliver(std::vector<std::string>& messages, std::uint64_t first_seq, bool ends)
    {
        if (!remote_ && !awaiting_feed_) return;
        for (auto& m : messages) {
            auto& slot = queue_.push(first_seq++);
            slot.swap(m);
            queue_.pushed(slot);
        }
        if (ends) stream_ended();
        wake_writer();
    }

private:
    void wake_writer() noexcept
    {
        if (writer_idle_) wake_.cancel();
    }

    void close_now() noexcept
    {
        close_after_drain_ = true;
        queue_.clear();
        wake_writer();
    }

    void stream_ended() noexcept
    {
        streaming_ = false;
        if (shutting_down_) close_after_drain_ = true;
    }

    void leave_stream() noexcept
    {
        if (record_) record_->detach(*this);
        record_.reset();
        if (remote_) {
            auto feed = std::move(remote_);
            asio::post(feed_executor_, [feed] { feed->leave(); });
        }
        streaming_ = false;
    }

    void enqueue_error(std::string_view code, std::string_view message, bool retryable)
    {
        auto& slot = queue_.push(0);
        transport::append_error_json(slot, code, message, retryable, true);
        queue_.pushed(slot);
        wake_writer();
    }

    void enqueue_started()
    {
        auto& slot = queue_.push(0);
        slot = R"({"type":"started","stream_id":")" + record_->id() + R"(","id":")" + record_->id() + R"(.0"})";
        queue_.pushed(slot);
        wake_writer();
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
            enqueue_error("invalid_message", R"(expected a JSON object with "type": "start", "resume" or "cancel")", false);
            co_return;
        }
        const auto& kind = type->get_string();
        if (kind == "cancel") {
            // Nothing running: nothing to cancel, not an error.
            if (record_) record_->stop(stop_reason::cancel_request);
            if (remote_) asio::post(feed_executor_, [feed = remote_] { feed->cancel(); });
            co_return;
        }
        if (kind != "start" && kind != "resume") {
            enqueue_error("invalid_message", "unknown message type \"" + std::string(kind.subview().substr(0, 32)) + "\"", false);
            co_return;
        }
        if (streaming_) {
            enqueue_error("stream_busy", "a stream is already running on this connection; cancel it or wait for its end", false);
            co_return;
        }
        if (shutting_down_) {
            enqueue_error("server_shutdown", "the server is shutting down", true);
            co_return;
        }
        leave_stream();
        if (kind == "resume") {
            co_await resume(*obj);
            co_return;
        }
        const auto* prompt = obj->if_contains("prompt");
        if (!prompt || !prompt->is_string()) {
            enqueue_error("invalid_prompt", R"(a "start" message needs a string "prompt")", false);
            co_return;
        }
        if (!stream_accounting::admit(w_)) {
            enqueue_error("overloaded", "the server runs its maximum of " + std::to_string(w_.config.max_streams) + " streams", true);
            co_return;
        }
        std::unique_ptr<token_stream> ts;
        try {
            ts = w_.engine.stream(block_, liveai::request{std::string(prompt->get_string())});
        } catch (const stream_error& e) {
            w_.metrics.streams_active.fetch_sub(1, std::memory_order_relaxed);
            enqueue_error(to_code(e.code()), e.message(), e.retryable());
            co_return;
        }
        record_ = start_stream(w_, *w_.engine.find(block_), std::move(ts), "ws");
        streaming_ = true;
        next_ = 1;
        const auto* resumable = obj->if_contains("resumable");
        with_ids_ = resumable && resumable->is_bool() && resumable->get_bool();
        if (with_ids_) enqueue_started();
        record_->attach(*this, next_);
        on_events();  // the producer may already have run (co_spawn dispatches inline)
    }

    asio::awaitable<void> resume(const boost::json::object& message)
    {
        const auto* value = message.if_contains("last_event_id");
        const auto id = value && value->is_string() ? parse_event_id(value->get_string()) : std::nullopt;
        if (!id) {
            enqueue_error("invalid_message", R"(a "resume" message needs "last_event_id": "<stream_id>.<seq>")", false);
            co_return;
        }
        const std::string stream_id(id->stream_id.substr(0, 64));
        const auto owner = w_.owner_of(stream_id);
        if (!owner) {
            enqueue_error("unknown_stream", "stream " + stream_id + " is unknown", false);
            co_return;
        }
        auto& owner_worker = *w_.peers[*owner];
        // Checked (and, for another worker, subscribed) on the owner's thread.
        std::weak_ptr<ws_inbox> inbox = inbox_;
        auto check = [](worker& ow, std::string sid, std::uint64_t seq, std::string block, asio::any_io_executor home,
                        std::weak_ptr<ws_inbox> in, bool local) -> asio::awaitable<resume_check> {
            resume_check r;
            auto record = ow.find_stream(sid);
            if (!record) {
                r.code = "unknown_stream";
                r.message = "stream " + sid + " is unknown: it never existed, or it ended more than " +
                            std::to_string(ow.config.replay_retention.count()) + " ms ago";
            } else if (record->block().name != block) {
                r.code = "invalid_message";
                r.message = "stream " + sid + " belongs to block \"" + record->block().name + "\"";
            } else if (seq > record->last_seq()) {
                r.code = "invalid_message";
                r.message = "stream " + sid + " has sent no event " + std::to_string(seq);
            } else if (record->ended() && seq == record->last_seq()) {
                r.delivered = true;  // nothing left to send
            } else if (seq + 1 < record->first_seq()) {
                r.code = "stream_expired";
                r.message = "the events of stream " + sid + " after " + std::to_string(seq) + " are no longer kept";
            } else {
                metrics_shard::add(ow.shard.resumes_total);
                if (local) {
                    r.record = std::move(record);
                } else {
                    r.feed = std::make_shared<remote_feed>(std::move(record), seq + 1, std::move(home), std::move(in));
                    r.feed->start();
                }
            }
            co_return r;
        };
        const bool local = &owner_worker == &w_;
        auto checking = check(owner_worker, stream_id, id->seq, block_, ws_.get_executor(), inbox, local);
        // The feed may post batches (even the terminal one) before this
        // answer arrives: be streaming already.
        awaiting_feed_ = !local;
        streaming_ = true;
        with_ids_ = true;  // a resuming client knows ids
        next_ = id->seq + 1;
        // Not a conditional expression: g++ 12 miscompiles co_await in `?:`.
        resume_check result;
        if (local) result = co_await std::move(checking);
        else result = co_await asio::co_spawn(owner_worker.ioc, std::move(checking), use_awaitable);
        awaiting_feed_ = false;
        if (result.delivered || !result.code.empty()) streaming_ = false;
        if (result.delivered) {
            // The WebSocket form of 204: the stream ended and this client has it all.
            auto& slot = queue_.push(0);
            slot = R"({"type":"resumed","stream_id":")" + stream_id + R"(","delivered":true})";
            queue_.pushed(slot);
            wake_writer();
            co_return;
        }
        if (!result.code.empty()) {
            enqueue_error(result.code, result.message, false);
            co_return;
        }
        if (result.record) {
            record_ = std::move(result.record);
            record_->attach(*this, next_);
            on_events();  // the events after last_event_id, at once
        } else {
            remote_ = std::move(result.feed);
            feed_executor_ = owner_worker.ioc.get_executor();
        }
    }

    struct resume_check {
        std::string code;  // empty: resumed (or delivered)
        std::string message;
        bool delivered = false;
        std::shared_ptr<stream_record> record;
        std::shared_ptr<remote_feed> feed;
    };

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
            const auto seq = queue_.front_seq();
            queue_.pop();
            if (seq == 0) continue;
            if (record_) {
                record_->written(*this, seq + 1);
            } else if (remote_ && queue_.empty()) {
                // One acknowledgement per drained batch, not per message.
                asio::post(feed_executor_, [feed = remote_, next = seq + 1] { feed->acked(next); });
            }
        }
    }

    worker& w_;
    websocket::stream<beast::tcp_stream> ws_;
    std::string block_;
    asio::steady_timer wake_;
    message_ring queue_;
    std::shared_ptr<ws_inbox> inbox_;
    std::shared_ptr<stream_record> record_;  // a stream of this worker
    std::shared_ptr<remote_feed> remote_;    // or one of another worker
    asio::any_io_executor feed_executor_;
    std::uint64_t next_ = 1;
    bool streaming_ = false;
    bool with_ids_ = false;
    bool awaiting_feed_ = false;
    bool writer_idle_ = false;
    bool close_after_drain_ = false;
    bool shutting_down_ = false;
};

void remote_feed::ship() noexcept
{
    const auto last = record_->last_seq();
    if (next_ > last) return;
    std::vector<std::string> messages;
    messages.reserve(static_cast<std::size_t>(last - next_ + 1));
    const auto first = next_;
    for (; next_ <= last; ++next_) append_ws_message(messages.emplace_back(), *record_, next_, true);
    const bool ends = record_->ended();
    asio::post(home_, [inbox = inbox_, messages = std::move(messages), first, ends]() mutable {
        if (auto in = inbox.lock(); in && in->session) in->session->deliver(messages, first, ends);
    });
}

void remote_feed::abort() noexcept
{
    asio::post(home_, [inbox = inbox_] {
        if (auto in = inbox.lock(); in && in->session) in->session->abort();
    });
}

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
