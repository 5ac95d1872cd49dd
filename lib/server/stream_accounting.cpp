#include "stream_accounting.hpp"

#include <liveai/error.hpp>

#include <functional>

namespace liveai::server::detail {

stream_accounting::stream_accounting(worker& w, admission_ticket ticket, const block_config& block,
                                     std::string_view transport, std::string stream_id)
    : w_(w), ticket_(std::move(ticket)), block_(block), transport_(transport), id_(std::move(stream_id))
{
}

stream_accounting::~stream_accounting()
{
    if (!finished_) finish(stream_outcome::cancelled, "cancelled", false);
}

void stream_accounting::on_chunk() noexcept
{
    const auto now = clock::now();
    if (chunks_ == 0) {
        first_ = now;
        w_.shard.time_to_first_chunk.observe(now - start_);
    } else {
        w_.shard.inter_chunk_gap.observe(now - last_);
    }
    last_ = now;
    ++chunks_;
}

void stream_accounting::finish(stream_outcome outcome, std::string_view code, bool provider_cancelled,
                               const token_stream* ts) noexcept
{
    if (finished_) return;
    finished_ = true;
    const auto now = clock::now();
    const key_state* key = ticket_.key();
    {
        stream_report r;
        // The block's index among the engine's; a block not of the engine
        // (one an application made) is not counted.
        const auto& all = w_.engine.blocks();
        const std::less<const block_config*> before;
        const bool ours = !all.empty() && !before(&block_, all.data()) && before(&block_, all.data() + all.size());
        r.block = ours ? static_cast<std::size_t>(&block_ - all.data()) : all.size();
        r.key = key && w_.keys ? w_.keys->index_of(key) + 1 : 0;
        r.outcome = outcome;
        if (outcome == stream_outcome::error) r.error = error_from_code(code);
        if (ts) {
            r.usage = ts->usage();
            r.upstream_attempts = ts->upstream_attempts();
        }
        if (chunks_) r.first_token = first_ - start_;
        r.duration = now - start_;
        r.chunks = chunks_;
        w_.shard.count(r);
    }
    // The stream may stay in a replay buffer; it no longer counts as active.
    ticket_.release();
    metrics_shard::add(w_.shard.streams_total[static_cast<std::size_t>(outcome)]);
    metrics_shard::add(w_.shard.chunks_total, chunks_);
    if (provider_cancelled) metrics_shard::add(w_.shard.provider_cancellations_total);
    const auto level = outcome == stream_outcome::error ? log_level::warn : log_level::info;
    if (!w_.log.enabled(level)) return;
    using ms = std::chrono::duration<double, std::milli>;
    static constexpr const char* names[] = {"complete", "error", "cancelled"};
    const double ttfc = chunks_ ? ms(first_ - start_).count() : -1.0;
    const std::string_view key_name = key ? key->name() : std::string_view("-");
    w_.log.write(level, "stream id=%s transport=%.*s block=%s key=%.*s outcome=%s code=%.*s chunks=%llu ttfc_ms=%.3f duration_ms=%.3f%s",
                 id_.c_str(), static_cast<int>(transport_.size()), transport_.data(), block_.name.c_str(),
                 static_cast<int>(key_name.size()), key_name.data(),
                 names[static_cast<int>(outcome)], static_cast<int>(code.size()), code.data(),
                 static_cast<unsigned long long>(chunks_), ttfc, ms(now - start_).count(),
                 provider_cancelled ? " provider_cancelled=1" : "");
}

bool provider_was_cancelled(const token_stream& ts) noexcept
{
    if (ts.current_state() == token_stream::state::finished) return ts.finish_reason() == finish_reason::cancelled;
    if (ts.current_state() == token_stream::state::failed) {
        const auto ec = ts.error();
        return ec == make_error_code(error::first_token_timeout) || ec == make_error_code(error::idle_timeout) ||
               ec == make_error_code(error::deadline_exceeded) || ec == make_error_code(error::slow_consumer);
    }
    return false;
}

}  // namespace liveai::server::detail
