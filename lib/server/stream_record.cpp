#include "stream_record.hpp"

#include <liveai/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <utility>

namespace liveai::server::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

stream_record::stream_record(worker& w, const block_config& block, std::unique_ptr<token_stream> ts,
                             std::string_view transport)
    : w_(w),
      block_(block),
      ts_(std::move(ts)),
      accounting_(w, block.name, transport, w.next_stream_id()),
      events_(accounting_.stream_id()),
      wake_(w.ioc),
      grace_(w.ioc)
{
    log_.reserve(512);
    index_.reserve(16);
}

stream_record::~stream_record()
{
    // The grace handler uses `this` only when it was not cancelled.
    grace_.cancel();
}

stream_record::event_view stream_record::event(std::uint64_t seq) const noexcept
{
    const auto& e = index_[head_ + (seq - first_seq_)];
    const std::string_view log(log_);
    return {e.kind, log.substr(e.begin, e.end - e.begin), log.substr(e.begin + e.data, e.end - 2 - e.begin - e.data)};
}

std::string_view stream_record::sse_from(std::uint64_t from) const noexcept
{
    if (from > last_seq()) return {};
    return std::string_view(log_).substr(index_[head_ + (from - first_seq_)].begin);
}

void stream_record::append_end(event_kind kind)
{
    const auto data = log_.find("\ndata: ", mark_) + 7;
    index_.push_back({static_cast<std::uint32_t>(mark_), static_cast<std::uint32_t>(log_.size()),
                      static_cast<std::uint16_t>(data - mark_), kind});
    if (kind != event_kind::chunk) ended_ = true;
    notify();
}

std::size_t stream_record::unwritten_bytes() const noexcept
{
    if (written_ > last_seq()) return 0;
    return log_.size() - index_[head_ + (written_ - first_seq_)].begin;
}

bool stream_record::must_pause() const noexcept
{
    if (subscriber_) return unwritten_bytes() >= w_.config.write_queue_bytes;
    if (head_ == index_.size()) return false;
    return log_.size() - index_[head_].begin >= w_.config.replay_buffer_bytes;
}

void stream_record::trim() noexcept
{
    // Drop written events from the front while the log is over its bound.
    const auto end = log_.size();
    while (head_ < index_.size() && first_seq_ < written_ && end - index_[head_].begin > w_.config.replay_buffer_bytes) {
        ++head_;
        ++first_seq_;
    }
    // Compact lazily so each byte and entry moves O(1) times.
    if (head_ >= 64 && head_ * 2 >= index_.size()) {
        index_.erase(index_.begin(), index_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
    const std::size_t dead = head_ < index_.size() ? index_[head_].begin : end;
    if (dead >= 4096 && dead * 2 >= log_.size()) {
        log_.erase(0, dead);
        for (auto i = head_; i < index_.size(); ++i) {
            index_[i].begin -= static_cast<std::uint32_t>(dead);
            index_[i].end -= static_cast<std::uint32_t>(dead);
        }
    }
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
    grace_.cancel();
    if (waiting_) wake_.cancel();
}

void stream_record::detach(stream_subscriber& s) noexcept
{
    if (subscriber_ != &s) return;
    subscriber_ = nullptr;
    room_deadline_.reset();
    if (!ended_ && stop_ == stop_reason::none) {
        if (block_.on_disconnect == disconnect_policy::cancel) {
            stop(stop_reason::client_gone);
        } else {
            metrics_shard::add(w_.shard.detached_streams_total);
            grace_.expires_after(block_.resume_grace);
            grace_.async_wait([this](const boost::system::error_code& ec) {
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
    trim();
    if (waiting_ && !lingering_) wake_.cancel();
}

void stream_record::stop(stop_reason why) noexcept
{
    if (ended_ || stop_ != stop_reason::none) return;
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
    std::uint64_t index = 0;
    for (;;) {
        if (must_pause() && !co_await wait_for_room()) {
            stop_ = stop_reason::slow_consumer;
            ts_->cancel();
            metrics_shard::add(w_.shard.slow_consumers_total);
            append_begin();
            events_.error(log_, "slow_consumer",
                          "the client did not read for " + std::to_string(w_.config.slow_consumer_timeout.count()) + " ms",
                          false);
            append_end(event_kind::error);
            accounting_.finish(stream_outcome::error, "slow_consumer", true);
            break;
        }
        std::optional<token> t;
        try {
            t = co_await ts_->next();
        } catch (const stream_error& e) {
            const auto code = to_code(e.code());
            append_begin();
            events_.error(log_, code, e.message(), e.retryable());
            append_end(event_kind::error);
            accounting_.finish(stream_outcome::error, code, provider_was_cancelled(*ts_));
            break;
        } catch (const std::exception& e) {
            append_begin();
            events_.error(log_, "internal_error", e.what(), false);
            append_end(event_kind::error);
            accounting_.finish(stream_outcome::error, "internal_error", false);
            break;
        }
        if (!t) {
            const auto reason = ts_->finish_reason();
            append_begin();
            if (stop_ == stop_reason::shutdown) {
                events_.error(log_, "server_shutdown", "the server is shutting down; retry later", true);
                append_end(event_kind::error);
                accounting_.finish(stream_outcome::error, "server_shutdown", true);
            } else {
                events_.complete(log_, reason, ts_->usage(), index);
                append_end(event_kind::complete);
                const bool cancelled = reason == finish_reason::cancelled;
                const bool client_left = stop_ == stop_reason::client_gone || stop_ == stop_reason::grace_expired;
                accounting_.finish(cancelled ? stream_outcome::cancelled : stream_outcome::complete,
                                client_left ? "client_closed" : to_string(reason), cancelled);
            }
            break;
        }
        accounting_.on_chunk();
        append_begin();
        events_.chunk(log_, index++, t->text);
        append_end(event_kind::chunk);
    }
    grace_.cancel();
    ts_.reset();  // the provider's resources (an upstream connection) go back now

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

std::shared_ptr<stream_record> start_stream(worker& w, const block_config& block, std::unique_ptr<token_stream> ts,
                                            std::string_view transport)
{
    auto record = std::make_shared<stream_record>(w, block, std::move(ts), transport);
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
