// Private: one of max_streams, held for the life of a stream.
#pragma once

#include <liveai/server/metrics.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

namespace liveai::server::detail {

// Taken before a provider is opened and given back by its destructor, so no
// failure path between admission and the stream's end can leak a slot.
class admission_ticket {
public:
    // A ticket, or nullopt (and overloaded_total counted) at the limit.
    static std::optional<admission_ticket> take(server::metrics& m, metrics_shard& shard, std::size_t max_streams) noexcept
    {
        const auto before = m.streams_active.fetch_add(1, std::memory_order_relaxed);
        if (before < static_cast<std::int64_t>(max_streams)) return admission_ticket(m);
        m.streams_active.fetch_sub(1, std::memory_order_relaxed);
        metrics_shard::add(shard.overloaded_total);
        return std::nullopt;
    }

    admission_ticket(admission_ticket&& other) noexcept : metrics_(std::exchange(other.metrics_, nullptr)) {}
    admission_ticket& operator=(admission_ticket&& other) noexcept
    {
        if (this != &other) {
            release();
            metrics_ = std::exchange(other.metrics_, nullptr);
        }
        return *this;
    }
    ~admission_ticket() { release(); }

    // Gives the slot back now (the stream ended; its log may stay for resume).
    void release() noexcept
    {
        if (metrics_) std::exchange(metrics_, nullptr)->streams_active.fetch_sub(1, std::memory_order_relaxed);
    }

private:
    explicit admission_ticket(server::metrics& m) noexcept : metrics_(&m) {}

    server::metrics* metrics_;
};

}  // namespace liveai::server::detail
