#include <liveai/server/metrics.hpp>

#include <algorithm>
#include <cstdio>

namespace liveai::server {

namespace {

// The bucket bounds in nanoseconds: an observation compares integers.
constexpr auto bucket_ns = [] {
    std::array<std::uint64_t, latency_buckets.size()> ns{};
    for (std::size_t i = 0; i < ns.size(); ++i) ns[i] = static_cast<std::uint64_t>(latency_buckets[i] * 1e9 + 0.5);
    return ns;
}();

// A shard has one writer (its I/O thread): a relaxed load and store is
// enough, and costs none of a locked read-modify-write per observation.
void bump(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept
{
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

void latency_histogram::observe(std::chrono::steady_clock::duration d) noexcept
{
    const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(0, std::chrono::nanoseconds(d).count()));
    std::size_t i = 0;
    while (i < bucket_ns.size() && ns > bucket_ns[i]) ++i;
    bump(buckets_[i], 1);
    bump(sum_ns_, ns);
    bump(count_, 1);
}

void latency_histogram::add_to(std::array<std::uint64_t, latency_buckets.size() + 1>& buckets, double& sum,
                               std::uint64_t& count) const noexcept
{
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        buckets[i] += running;
    }
    sum += static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    count += count_.load(std::memory_order_relaxed);
}

metrics::metrics(unsigned shards)
{
    for (unsigned i = 0; i < std::max(1u, shards); ++i) shards_.push_back(std::make_unique<metrics_shard>());
}

namespace {

void line(std::string& out, const char* text)
{
    out.append(text);
    out.push_back('\n');
}

void counter(std::string& out, const char* name, const char* help, std::uint64_t value)
{
    char buf[256];
    std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                  static_cast<unsigned long long>(value));
    out.append(buf);
}

void gauge(std::string& out, const char* name, const char* help, std::int64_t value)
{
    char buf[256];
    std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name,
                  static_cast<long long>(value));
    out.append(buf);
}

}  // namespace

std::string metrics::render() const
{
    auto sum_of = [&](auto member) {
        std::uint64_t total = 0;
        for (const auto& s : shards_) total += ((*s).*member).load(std::memory_order_relaxed);
        return total;
    };
    std::string out;
    out.reserve(4096);
    gauge(out, "liveai_streams_active", "Streams open now.", streams_active.load());
    gauge(out, "liveai_connections_active", "Client connections open now.", connections_active.load());

    line(out, "# HELP liveai_streams_total Streams ended, by outcome.");
    line(out, "# TYPE liveai_streams_total counter");
    static constexpr const char* outcomes[] = {"complete", "error", "cancelled"};
    for (std::size_t i = 0; i < 3; ++i) {
        std::uint64_t total = 0;
        for (const auto& s : shards_) total += s->streams_total[i].load(std::memory_order_relaxed);
        out.append("liveai_streams_total{outcome=\"").append(outcomes[i]).append("\"} ").append(std::to_string(total)).push_back('\n');
    }
    counter(out, "liveai_chunks_total", "Chunks sent to clients.", sum_of(&metrics_shard::chunks_total));
    counter(out, "liveai_provider_cancellations_total",
            "Providers stopped before their end (client gone, cancel message, deadline, shutdown).",
            sum_of(&metrics_shard::provider_cancellations_total));
    counter(out, "liveai_connections_total", "Client connections accepted.", sum_of(&metrics_shard::connections_total));
    counter(out, "liveai_requests_total", "HTTP requests read.", sum_of(&metrics_shard::requests_total));
    counter(out, "liveai_overloaded_total", "Requests refused with 503 overloaded.", sum_of(&metrics_shard::overloaded_total));
    counter(out, "liveai_slow_consumers_total", "Streams ended because the client read too slowly.",
            sum_of(&metrics_shard::slow_consumers_total));
    counter(out, "liveai_stream_resumes_total", "Reconnects (Last-Event-ID or WebSocket resume) served from a replay buffer.",
            sum_of(&metrics_shard::resumes_total));
    counter(out, "liveai_detached_streams_total", "Streams that kept generating after their client left (on_disconnect = detach).",
            sum_of(&metrics_shard::detached_streams_total));

    auto histogram = [&](const char* name, const char* help, latency_histogram metrics_shard::*member) {
        std::array<std::uint64_t, latency_buckets.size() + 1> buckets{};
        double sum = 0;
        std::uint64_t count = 0;
        for (const auto& s : shards_) ((*s).*member).add_to(buckets, sum, count);
        char buf[160];
        std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
        out.append(buf);
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            if (i < latency_buckets.size())
                std::snprintf(buf, sizeof buf, "%s_bucket{le=\"%g\"} %llu\n", name, latency_buckets[i],
                              static_cast<unsigned long long>(buckets[i]));
            else
                std::snprintf(buf, sizeof buf, "%s_bucket{le=\"+Inf\"} %llu\n", name, static_cast<unsigned long long>(buckets[i]));
            out.append(buf);
        }
        std::snprintf(buf, sizeof buf, "%s_sum %.9f\n%s_count %llu\n", name, sum, name, static_cast<unsigned long long>(count));
        out.append(buf);
    };
    histogram("liveai_time_to_first_chunk_seconds", "From stream start to its first chunk.", &metrics_shard::time_to_first_chunk);
    histogram("liveai_inter_chunk_gap_seconds", "Between two chunks of a stream (SSE and WebSocket; a collect answer has no gaps a client sees).", &metrics_shard::inter_chunk_gap);
    {
        std::lock_guard lock(attempts_mutex_);
        if (!attempts_.empty()) {
            line(out, "# HELP liveai_attempts_total Attempts of composed blocks (fallback, hedge), by block, attempt, provider and outcome.");
            line(out, "# TYPE liveai_attempts_total counter");
            for (const auto& [labels, n] : attempts_) out += "liveai_attempts_total{" + labels + "} " + std::to_string(n) + "\n";
        }
    }
    return out;
}

void metrics::count_attempts(std::string_view block, std::span<const attempt_report> attempts)
{
    static constexpr std::string_view outcomes[] = {"served", "failed", "cancelled"};
    std::lock_guard lock(attempts_mutex_);
    for (const auto& a : attempts) {
        // Names are config block and provider names ([a-z0-9_-]): no escaping needed.
        std::string labels = "block=\"" + std::string(block) + "\",attempt=\"" + std::string(a.block) + "\",provider=\"" +
                             std::string(a.provider) + "\",outcome=\"" + std::string(outcomes[static_cast<int>(a.outcome)]) + "\"";
        ++attempts_[labels];
    }
}

}  // namespace liveai::server
