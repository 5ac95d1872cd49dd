// Server metrics in the Prometheus text format. Counters live in one shard per
// I/O thread (written by that thread only, so counting a chunk is an
// uncontended relaxed add); rendering sums the shards.
#pragma once

#include <liveai/block_config.hpp>
#include <liveai/error.hpp>
#include <liveai/server/server_config.hpp>
#include <liveai/token_stream.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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

// Token counts: OpenTelemetry's advised buckets for gen_ai.client.token.usage.
inline constexpr std::array<std::uint64_t, 14> token_buckets{1,      4,       16,      64,       256,      1024,     4096,
                                                             16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};

// A histogram of counts (tokens per stream), written by one thread.
class count_histogram {
public:
    void observe(std::uint64_t value) noexcept;
    void add_to(std::array<std::uint64_t, token_buckets.size() + 1>& buckets, std::uint64_t& sum, std::uint64_t& count) const noexcept;

private:
    std::array<std::atomic<std::uint64_t>, token_buckets.size() + 1> buckets_{};
    std::atomic<std::uint64_t> sum_{0};
    std::atomic<std::uint64_t> count_{0};
};

// One block's and one key's streams in one shard (key index 0: no key).
struct block_key_series {
    std::array<std::atomic<std::uint64_t>, 3> streams{};  // by stream_outcome
    std::atomic<std::uint64_t> input_tokens{0};
    std::atomic<std::uint64_t> output_tokens{0};
};

// One block in one shard: counted once per stream, when it ends.
struct block_series {
    explicit block_series(std::size_t keys) : by_key(keys + 1) {}

    std::vector<block_key_series> by_key;
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(liveai::error::internal_error) + 1> errors{};
    std::atomic<std::uint64_t> upstream_attempts{0};
    latency_histogram time_to_first_token;
    latency_histogram time_per_output_token;
    latency_histogram operation_duration;  // the provider's whole stream
    count_histogram input_tokens;
    count_histogram output_tokens;
};

// What a stream's end reports for its block's series.
struct stream_report {
    std::size_t block = 0;  // index in the engine's blocks
    std::size_t key = 0;    // 0: no key; i + 1: the config's key i
    stream_outcome outcome = stream_outcome::complete;
    std::optional<liveai::error> error;
    std::optional<liveai::usage> usage;  // what the provider reported
    std::optional<std::chrono::steady_clock::duration> first_token;
    std::chrono::steady_clock::duration duration{};
    std::uint64_t chunks = 0;
    unsigned upstream_attempts = 0;  // 0: the provider makes no upstream requests
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
    // By block (metrics::label_blocks); empty until the labels are set.
    std::vector<std::unique_ptr<block_series>> blocks;

    // Counts a stream's end in its block's series (one thread: the shard's).
    void count(const stream_report& r) noexcept;

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

    // The label sets of the per-block series: the blocks (name, provider,
    // model) and the API key names, all from the config, so the number of
    // series is bounded. Call before any stream runs.
    void label_blocks(std::span<const block_config> blocks, std::span<const api_key> keys);

    // A composed block's attempts, once its stream ended: counted by block,
    // attempt, provider and outcome (liveai_attempts_total). Locks: once
    // per composed stream, never per token.
    void count_attempts(std::string_view block, std::span<const attempt_report> attempts);

private:
    void render_blocks(std::string& out) const;

    std::vector<std::unique_ptr<metrics_shard>> shards_;
    struct block_labels {
        std::string name, provider, model;
    };
    std::vector<block_labels> block_labels_;
    std::vector<std::string> key_names_;
    mutable std::mutex attempts_mutex_;
    std::map<std::string, std::uint64_t, std::less<>> attempts_;  // by their label set
};

}  // namespace liveai::server
