// Private: admission, metrics and the log line of one stream (SSE, WebSocket
// or collect), shared by every transport so they count the same way.
#pragma once

#include <liveai/block_config.hpp>
#include <liveai/token_stream.hpp>

#include "admission.hpp"
#include "worker.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace liveai::server::detail {

// Lets shutdown reach the stream a session is running.
struct stream_control {
    token_stream* active = nullptr;
    bool shutdown = false;

    void request_shutdown() noexcept
    {
        shutdown = true;
        if (active) active->cancel();
    }
};

class stream_accounting {
public:
    // One of max_streams for `w`, or nullopt at the limit.
    static std::optional<admission_ticket> admit(worker& w) noexcept
    {
        return admission_ticket::take(w.metrics, w.shard, w.config.max_streams);
    }

    // Holds `ticket` until finish().
    stream_accounting(worker& w, admission_ticket ticket, const block_config& block, std::string_view transport,
                      std::string stream_id);
    ~stream_accounting();
    stream_accounting(const stream_accounting&) = delete;
    stream_accounting& operator=(const stream_accounting&) = delete;

    const std::string& stream_id() const noexcept { return id_; }
    const key_state* key() const noexcept { return ticket_.key(); }

    void on_chunk() noexcept;
    // A chunk the provider had ready right after the one before it, with no
    // wait in between: its gap is nil, so the clock is not read (a clock read
    // per chunk, a slow one in a VM, was 1 % of the real path's CPU).
    void on_chunk_in_batch() noexcept
    {
        if (chunks_ == 0) return on_chunk();
        w_.shard.inter_chunk_gap.observe(clock::duration::zero());
        ++chunks_;
    }
    // A chunk of a collect answer: counted, and the first one's time, but no
    // clock read per chunk (its client sees no gaps).
    void on_collected_chunk() noexcept
    {
        if (chunks_ == 0) return on_chunk();
        ++chunks_;
    }
    // `code` names the error for the error outcome. `provider_cancelled`: the
    // provider was stopped before its end (client gone, cancel, deadline...).
    // `ts`, when given, reports its usage and upstream attempts to the block's series.
    void finish(stream_outcome outcome, std::string_view code, bool provider_cancelled,
                const token_stream* ts = nullptr) noexcept;

private:
    using clock = std::chrono::steady_clock;

    worker& w_;
    admission_ticket ticket_;
    const block_config& block_;
    std::string_view transport_;
    std::string id_;
    clock::time_point start_ = clock::now();
    clock::time_point first_{};
    clock::time_point last_{};
    std::uint64_t chunks_ = 0;
    bool finished_ = false;
};

// Whether a stream that ended this way means its provider was stopped early.
bool provider_was_cancelled(const token_stream& ts) noexcept;

}  // namespace liveai::server::detail
