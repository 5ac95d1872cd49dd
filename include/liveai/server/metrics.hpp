// Server metrics in the Prometheus text format. Counters live in one shard per
// I/O thread (written by that thread only, so counting a chunk is an
// uncontended relaxed add); rendering sums the shards.
#pragma once

#include <liveai/token_stream.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace liveai::server {

enum class stream_outcome { complete = 0, error = 1, cancelled = 2 };

// Upper bounds of the latency histograms' buckets, in seconds.
inline constexpr std::array<double, 14> latency_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                        0.1,    0.25,  0.5,    1.0,   2.5,   5.0,   10.0};

// Written by one thread (its shard's), read by any (render).
class latency_histogram {
public:
    void observe(std::chrono::steady_clock::duration d) noexcept;

    // Cumulative bucket counts (the last one is +Inf), sum in seconds, count.
    void add_to(std::array<std::uint64_t, latency_buckets.size() + 1>& buckets, double& sum, std::uint64_t& count) const noexcept;

private:
    std::array<std::atomic<std::uint64_t>, latency_buckets.size() + 1> buckets_{};
    std::atomic<std::uint64_t> sum_ns_{0};
    std::atomic<std::uint64_t> count_{0};
};

struct alignas(64) metrics_shard {
    std::array<std::atomic<std::uint64_t>, 3> streams_total{};  // by stream_outcome
    std::atomic<std::uint64_t> chunks_total{0};
    std::atomic<std::uint64_t> provider_cancellations_total{0};
    std::atomic<std::uint64_t> connections_total{0};
    std::atomic<std::uint64_t> requests_total{0};
    std::atomic<std::uint64_t> overloaded_total{0};
    std::atomic<std::uint64_t> slow_consumers_total{0};
    std::atomic<std::uint64_t> resumes_total{0};           // reconnects served from a replay buffer
    std::atomic<std::uint64_t> detached_streams_total{0};  // client left, stream kept for resume_grace
    latency_histogram time_to_first_chunk;
    latency_histogram inter_chunk_gap;

    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept
    {
        counter.fetch_add(n, std::memory_order_relaxed);
    }
};

class metrics {
public:
    explicit metrics(unsigned shards);

    metrics_shard& shard(unsigned index) noexcept { return *shards_[index]; }

    // Gauges shared by every thread; they double as the admission counters.
    std::atomic<std::int64_t> streams_active{0};
    std::atomic<std::int64_t> connections_active{0};

    std::string render() const;

    // A composed block's attempts, once its stream ended: counted by block,
    // attempt, provider and outcome (liveai_attempts_total). Locks: once
    // per composed stream, never per token.
    void count_attempts(std::string_view block, std::span<const attempt_report> attempts);

private:
    std::vector<std::unique_ptr<metrics_shard>> shards_;
    mutable std::mutex attempts_mutex_;
    std::map<std::string, std::uint64_t, std::less<>> attempts_;  // by their label set
};

}  // namespace liveai::server
