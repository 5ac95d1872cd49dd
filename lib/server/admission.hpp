// Private: one of max_streams, held for the life of a stream.
#pragma once

#include <liveai/server/metrics.hpp>

#include "key_table.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

namespace liveai::server::detail {

// Taken before a provider is opened and given back by its destructor, so no
// failure path between admission and the stream's end can leak a slot. With
// an API key it holds one of the key's max_streams as well.
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

    // Also one of `key`'s streams; false (and nothing held) at its limit.
    bool hold_key(key_state& key) noexcept
    {
        if (!key.take_stream()) return false;
        key_ = &key;
        return true;
    }
    const key_state* key() const noexcept { return key_; }

    admission_ticket(admission_ticket&& other) noexcept
        : metrics_(std::exchange(other.metrics_, nullptr)),
          key_(std::exchange(other.key_, nullptr)),
          key_released_(other.key_released_)
    {
    }
    admission_ticket& operator=(admission_ticket&& other) noexcept
    {
        if (this != &other) {
            release();
            metrics_ = std::exchange(other.metrics_, nullptr);
            key_ = std::exchange(other.key_, nullptr);
            key_released_ = other.key_released_;
        }
        return *this;
    }
    ~admission_ticket() { release(); }

    // Gives the slot back now (the stream ended; its log may stay for resume).
    void release() noexcept
    {
        if (metrics_) std::exchange(metrics_, nullptr)->streams_active.fetch_sub(1, std::memory_order_relaxed);
        // key_ stays set: the name is still the stream's label.
        if (key_ && !key_released_) {
            key_released_ = true;
            key_->give_back_stream();
        }
    }

private:
    explicit admission_ticket(server::metrics& m) noexcept : metrics_(&m) {}

    server::metrics* metrics_;
    key_state* key_ = nullptr;
    bool key_released_ = false;
};

}  // namespace liveai::server::detail
