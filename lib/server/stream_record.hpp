// Private: a stream that can outlive its connection.
//
// The record's producer pulls tokens and appends each event, as (kind, seq,
// JSON payload), to the stream's log. At most one subscriber (an SSE
// response or a WebSocket session, of this thread or mirrored to another)
// reads the log at a time, from any seq; a client that reconnects with
// Last-Event-ID gets a new subscriber that starts after that seq, so it sees
// every event once, with no gap. Everything here runs on the thread of the
// worker that owns the record: no locks on the per-token path.
//
// Bounds: while a subscriber is attached, the producer stops pulling tokens
// once the events not yet written reach write_queue_bytes (or
// replay_buffer_bytes, if smaller), and written events are dropped from the
// front while the log is larger than replay_buffer_bytes. While nobody is
// attached (on_disconnect = "detach"), the producer pauses when the log
// reaches replay_buffer_bytes, so nothing a returning client needs is ever
// dropped. Either way the log holds at most replay_buffer_bytes plus one event.
#pragma once

#include "admission.hpp"
#include "openai_format.hpp"
#include "resume.hpp"
#include "stream_accounting.hpp"
#include "stream_log.hpp"
#include "worker.hpp"

#include <liveai/block_config.hpp>
#include <liveai/token_stream.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liveai::server::detail {

// Whoever writes a record's events to a client.
class stream_subscriber {
public:
    // New events were appended (the terminal one included).
    virtual void on_events() noexcept = 0;
    // Stop now: another connection resumed the stream, or the client does not
    // read even the final slow_consumer error.
    virtual void abort() noexcept = 0;

protected:
    ~stream_subscriber() = default;
};

// Why a record stopped its provider early.
enum class stop_reason { none, client_gone, grace_expired, cancel_request, shutdown, slow_consumer };

// The attempt of a composition that served the stream, if any.
const attempt_report* served_by(const token_stream& s) noexcept;

// A stream for /v1/chat/completions: its events are OpenAI's chunks.
struct openai_stream {
    std::string model;  // as the client named it
    bool include_usage = false;
};

class stream_record : public std::enable_shared_from_this<stream_record> {
public:
    stream_record(worker& w, admission_ticket ticket, const block_config& block, std::unique_ptr<token_stream> ts,
                  std::string_view transport, const openai_stream* openai = nullptr);
    ~stream_record();
    stream_record(const stream_record&) = delete;
    stream_record& operator=(const stream_record&) = delete;

    const std::string& id() const noexcept { return accounting_.stream_id(); }
    const block_config& block() const noexcept { return block_; }
    // The API key the stream was opened with, if any.
    const key_state* key() const noexcept { return accounting_.key(); }

    const stream_log& log() const noexcept { return log_; }
    std::uint64_t first_seq() const noexcept { return log_.first_seq(); }
    std::uint64_t last_seq() const noexcept { return log_.last_seq(); }
    // The terminal event has been appended: it is last_seq().
    bool ended() const noexcept { return log_.ended(); }
    // What check_resume needs to know.
    resumable_stream resume_view() const noexcept { return {block_.name, first_seq(), last_seq(), ended()}; }

    // Makes `s` the subscriber (a previous one is aborted): it will write
    // events from `next_seq`.
    void attach(stream_subscriber& s, std::uint64_t next_seq);
    // The subscriber's connection ended; applies the block's on_disconnect
    // policy if the stream is still running. No-op for a replaced subscriber.
    void detach(stream_subscriber& s) noexcept;
    // `s` has written every event before `next_seq`.
    void written(stream_subscriber& s, std::uint64_t next_seq) noexcept;
    // An explicit stop: a WebSocket cancel, DELETE /api/streams/{id}, shutdown.
    void stop(stop_reason why) noexcept;

    // Produces the stream, then keeps the record for replay_retention; the
    // worker forgets the record when this returns.
    boost::asio::awaitable<void> run();
    // Ends the retention now (shutdown, or too many ended streams kept).
    void expire() noexcept;
    // Memory an ended record holds (counted against max_retained_bytes).
    std::size_t footprint() const noexcept { return sizeof(*this) + log_.footprint(); }
    std::size_t retained_bytes = 0;  // set while the worker counts it

private:
    void append(event_kind kind);
    static event_kind event_kind_of(token_kind k) noexcept;
    // A terminal error, in the stream's format, appended.
    void append_error(std::string_view code, std::string_view message, bool retryable);
    void notify() noexcept
    {
        if (subscriber_) subscriber_->on_events();
    }
    bool must_pause() const noexcept;
    boost::asio::awaitable<bool> wait_for_room();

    worker& w_;
    const block_config& block_;
    std::unique_ptr<token_stream> ts_;
    stream_accounting accounting_;
    memory_stream_log log_;
    std::optional<openai_chunk_writer> openai_;
    std::uint64_t written_ = 1;  // the subscriber's next seq to write
    stream_subscriber* subscriber_ = nullptr;
    std::optional<std::chrono::steady_clock::time_point> room_deadline_;  // slow consumer, while paused
    boost::asio::steady_timer wake_;   // the producer's pauses, then the retention
    std::optional<boost::asio::steady_timer> grace_;  // detach: resume_grace after the client left
    stop_reason stop_ = stop_reason::none;
    bool waiting_ = false;
    bool lingering_ = false;
    bool expired_ = false;
};

// Creates a record for `ts`, registers it with the worker and starts its producer.
std::shared_ptr<stream_record> start_stream(worker& w, admission_ticket ticket, const block_config& block,
                                            std::unique_ptr<token_stream> ts, std::string_view transport,
                                            const openai_stream* openai = nullptr);

}  // namespace liveai::server::detail
