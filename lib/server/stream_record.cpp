#include "stream_record.hpp"

#include <liveai/error.hpp>
#include <liveai/transport/event_format.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <ctime>
#include <utility>

namespace liveai::server::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

const attempt_report* served_by(const token_stream& s) noexcept
{
    for (const auto& a : s.attempt_reports())
        if (a.outcome == attempt_outcome::served) return &a;
    return nullptr;
}

stream_record::stream_record(worker& w, admission_ticket ticket, const block_config& block,
                             std::unique_ptr<token_stream> ts, std::string_view transport, const openai_stream* openai)
    : w_(w),
      block_(block),
      ts_(std::move(ts)),
      accounting_(w, std::move(ticket), block, transport, w.next_stream_id()),
      log_(w.config.replay_buffer_bytes),
      wake_(w.ioc)
{
    if (openai) openai_.emplace(accounting_.stream_id(), openai->model, static_cast<std::int64_t>(std::time(nullptr)), openai->include_usage);
}

stream_record::~stream_record()
{
    // The grace handler uses `this` only when it was not cancelled.
    if (grace_) grace_->cancel();
}

void stream_record::append(event_kind kind)
{
    log_.append(kind, w_.event_scratch);
    w_.event_scratch.clear();
    // Written events beyond the bound go at once; while nobody is attached
    // the producer pauses instead (must_pause), so nothing is dropped then.
    if (subscriber_) log_.delivered(written_);
    notify();
}

event_kind stream_record::event_kind_of(token_kind k) noexcept
{
    switch (k) {
    case token_kind::reasoning: return event_kind::reasoning;
    case token_kind::tool_call: return event_kind::tool_call;
    default: return event_kind::chunk;
    }
}

void stream_record::append_error(std::string_view code, std::string_view message, bool retryable)
{
    if (openai_) {
        const auto known = error_from_code(code);
        append_openai_stream_error(w_.event_scratch, known ? http_status(*known) : 500, code, message);
    } else {
        transport::append_error_json(w_.event_scratch, code, message, retryable, false);
    }
    append(event_kind::error);
}

bool stream_record::must_pause() const noexcept
{
    const auto bound = w_.config.replay_buffer_bytes;
    if (subscriber_) return log_.bytes_from(written_) >= std::min(w_.config.write_queue_bytes, bound);
    return log_.bytes_from(log_.first_seq()) >= bound;
}

void stream_record::attach(stream_subscriber& s, std::uint64_t next_seq)
{
    if (subscriber_ && subscriber_ != &s) {
        auto* previous = subscriber_;
        subscriber_ = nullptr;
        previous->abort();
    }
    subscriber_ = &s;
    written_ = next_seq;
    room_deadline_.reset();
    if (grace_) grace_->cancel();
    if (waiting_) wake_.cancel();
}

void stream_record::detach(stream_subscriber& s) noexcept
{
    if (subscriber_ != &s) return;
    subscriber_ = nullptr;
    room_deadline_.reset();
    if (!ended() && stop_ == stop_reason::none) {
        if (block_.on_disconnect == disconnect_policy::cancel) {
            stop(stop_reason::client_gone);
        } else {
            metrics_shard::add(w_.shard.detached_streams_total);
            // Made on the first detach: most streams keep their client.
            if (!grace_) grace_.emplace(w_.ioc);
            grace_->expires_after(block_.resume_grace);
            grace_->async_wait([this](const boost::system::error_code& ec) {
                if (!ec && !subscriber_) stop(stop_reason::grace_expired);
            });
        }
    }
    if (waiting_) wake_.cancel();
}

void stream_record::written(stream_subscriber& s, std::uint64_t next_seq) noexcept
{
    if (subscriber_ != &s) return;
    written_ = next_seq;
    log_.delivered(next_seq);
    if (waiting_ && !lingering_) wake_.cancel();
}

void stream_record::stop(stop_reason why) noexcept
{
    if (ended() || stop_ != stop_reason::none) return;
    stop_ = why;
    ts_->cancel();
    if (waiting_ && !lingering_) wake_.cancel();
}

void stream_record::expire() noexcept
{
    expired_ = true;
    if (waiting_ && lingering_) wake_.cancel();
}

asio::awaitable<bool> stream_record::wait_for_room()
{
    while (must_pause() && stop_ == stop_reason::none) {
        if (subscriber_) {
            if (!room_deadline_) room_deadline_ = clock::now() + w_.config.slow_consumer_timeout;
            if (clock::now() >= *room_deadline_) co_return false;
            wake_.expires_at(*room_deadline_);
        } else {
            // Detached and full: wait for the client (attach) or the end of
            // resume_grace (stop), whichever comes first.
            wake_.expires_at(clock::time_point::max());
        }
        boost::system::error_code ignored;
        waiting_ = true;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        waiting_ = false;
    }
    room_deadline_.reset();
    co_return true;
}

asio::awaitable<void> stream_record::run()
{
    std::uint64_t index = 0;            // of chunk events: complete.chunks counts them
    std::uint64_t reasoning_index = 0;  // of reasoning events
    for (;;) {
        const bool paused = must_pause();
        if (paused && !co_await wait_for_room()) {
            stop_ = stop_reason::slow_consumer;
            ts_->cancel();
            metrics_shard::add(w_.shard.slow_consumers_total);
            append_error("slow_consumer", "the client did not read for " + std::to_string(w_.config.slow_consumer_timeout.count()) + " ms",
                         false);
            accounting_.finish(stream_outcome::error, "slow_consumer", true, ts_.get());
            break;
        }
        std::optional<token> t = ts_->try_next();
        const bool in_batch = t && !paused;  // nothing awaited since the chunk before
        try {
            if (!t) t = co_await ts_->next();
        } catch (const stream_error& e) {
            const auto code = to_code(e.code());
            append_error(code, e.message(), e.retryable());
            accounting_.finish(stream_outcome::error, code, provider_was_cancelled(*ts_), ts_.get());
            break;
        } catch (const std::exception& e) {
            append_error("internal_error", e.what(), false);
            accounting_.finish(stream_outcome::error, "internal_error", false, ts_.get());
            break;
        }
        if (!t) {
            const auto reason = ts_->finish_reason();
            if (stop_ == stop_reason::shutdown) {
                append_error("server_shutdown", "the server is shutting down; retry later", true);
                accounting_.finish(stream_outcome::error, "server_shutdown", true, ts_.get());
            } else {
                const auto served = served_by(*ts_);
                if (openai_)
                    openai_->finish(w_.event_scratch, reason, ts_->usage());
                else
                    transport::append_complete_json(w_.event_scratch, reason, ts_->usage(), index, false,
                                                    served ? served->provider : std::string_view{},
                                                    served ? served->model : std::string_view{});
                // An OpenAI stream that was cancelled ends in an error event.
                append(openai_ && reason == finish_reason::cancelled ? event_kind::error : event_kind::complete);
                const bool cancelled = reason == finish_reason::cancelled;
                const bool client_left = stop_ == stop_reason::client_gone || stop_ == stop_reason::grace_expired;
                accounting_.finish(cancelled ? stream_outcome::cancelled : stream_outcome::complete,
                                client_left ? "client_closed" : to_string(reason), cancelled, ts_.get());
            }
            break;
        }
        if (in_batch)
            accounting_.on_chunk_in_batch();
        else
            accounting_.on_chunk();
        if (openai_) {
            switch (t->kind) {
            case token_kind::text: openai_->text(w_.event_scratch, t->text); break;
            case token_kind::reasoning: openai_->reasoning(w_.event_scratch, t->text); break;
            case token_kind::tool_call: openai_->tool_call(w_.event_scratch, t->index, t->id, t->name, t->text); break;
            }
            append(event_kind_of(t->kind));
            continue;
        }
        switch (t->kind) {
        case token_kind::text:
            transport::append_chunk_json(w_.event_scratch, index++, t->text, false);
            break;
        case token_kind::reasoning:
            transport::append_reasoning_json(w_.event_scratch, reasoning_index++, t->text, false);
            break;
        case token_kind::tool_call:
            transport::append_tool_call_json(w_.event_scratch, t->index, t->id, t->name, t->text, false);
            break;
        }
        append(event_kind_of(t->kind));
    }
    if (grace_) grace_->cancel();
    if (const auto reports = ts_->attempt_reports(); !reports.empty()) w_.metrics.count_attempts(block_.name, reports);
    ts_.reset();  // the provider's resources (an upstream connection) go back now
    // Kept for resume from here on: little slack in the log.
    log_.shrink_to_fit();

    lingering_ = true;
    if (stop_ == stop_reason::slow_consumer && subscriber_ && written_ <= last_seq()) {
        // The final error gets slow_consumer_timeout to be written; then the
        // connection is closed.
        wake_.expires_after(w_.config.slow_consumer_timeout);
        boost::system::error_code ignored;
        waiting_ = true;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        waiting_ = false;
        if (subscriber_ && written_ <= last_seq()) subscriber_->abort();
    }
    w_.retain(shared_from_this());
    const auto until = clock::now() + w_.config.replay_retention;
    while (!expired_ && (subscriber_ || clock::now() < until)) {
        wake_.expires_at(subscriber_ ? clock::time_point::max() : until);
        boost::system::error_code ignored;
        waiting_ = true;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        waiting_ = false;
    }
}

std::shared_ptr<stream_record> start_stream(worker& w, admission_ticket ticket, const block_config& block,
                                            std::unique_ptr<token_stream> ts, std::string_view transport,
                                            const openai_stream* openai)
{
    auto record = std::make_shared<stream_record>(w, std::move(ticket), block, std::move(ts), transport, openai);
    w.streams.emplace(record->id(), record);
    auto run = record->run();
    auto forget = [&w, record](std::exception_ptr) {
        w.retained_bytes -= std::exchange(record->retained_bytes, 0);
        w.streams.erase(record->id());
    };
    asio::co_spawn(w.ioc, std::move(run), std::move(forget));
    return record;
}

}  // namespace liveai::server::detail
