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

void count_histogram::observe(std::uint64_t value) noexcept
{
    std::size_t i = 0;
    while (i < token_buckets.size() && value > token_buckets[i]) ++i;
    bump(buckets_[i], 1);
    bump(sum_, value);
    bump(count_, 1);
}

void count_histogram::add_to(std::array<std::uint64_t, token_buckets.size() + 1>& buckets, std::uint64_t& sum,
                             std::uint64_t& count) const noexcept
{
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        buckets[i] += running;
    }
    sum += sum_.load(std::memory_order_relaxed);
    count += count_.load(std::memory_order_relaxed);
}

void metrics_shard::count(const stream_report& r) noexcept
{
    if (r.block >= blocks.size()) return;
    auto& b = *blocks[r.block];
    auto& series = b.by_key[r.key < b.by_key.size() ? r.key : 0];
    bump(series.streams[static_cast<std::size_t>(r.outcome)], 1);
    if (r.error) {
        const auto i = static_cast<std::size_t>(*r.error);
        if (i < b.errors.size()) bump(b.errors[i], 1);
    }
    if (r.usage) {
        bump(series.input_tokens, r.usage->input_tokens);
        bump(series.output_tokens, r.usage->output_tokens);
        b.input_tokens.observe(r.usage->input_tokens);
        b.output_tokens.observe(r.usage->output_tokens);
    }
    if (r.first_token) {
        b.time_to_first_token.observe(*r.first_token);
        // After the first chunk, per chunk (a chunk is what the client sees
        // as one output token; a provider's own count is in the usage).
        if (r.chunks > 1) b.time_per_output_token.observe((r.duration - *r.first_token) / static_cast<std::int64_t>(r.chunks - 1));
    }
    b.operation_duration.observe(r.duration);
    bump(b.upstream_attempts, r.upstream_attempts);
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
    render_blocks(out);
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

void metrics::label_blocks(std::span<const block_config> blocks, std::span<const api_key> keys)
{
    block_labels_.clear();
    for (const auto& b : blocks) block_labels_.push_back({b.name, b.provider, b.model});
    key_names_.clear();
    for (const auto& k : keys) key_names_.push_back(k.name);
    for (auto& shard : shards_) {
        shard->blocks.clear();
        for (std::size_t i = 0; i < blocks.size(); ++i) shard->blocks.push_back(std::make_unique<block_series>(keys.size()));
    }
}

namespace {

// A Prometheus label value: backslash, quote and newline escaped.
std::string label_value(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

template <class Array>
void histogram_lines(std::string& out, std::string_view name, const std::string& labels, const Array& buckets,
                     const auto& bounds, const std::string& sum, std::uint64_t count)
{
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        out.append(name).append("_bucket{").append(labels).append(",le=\"");
        if (i < bounds.size()) {
            char bound[32];
            std::snprintf(bound, sizeof bound, "%g", static_cast<double>(bounds[i]));
            out.append(bound);
        } else {
            out.append("+Inf");
        }
        out.append("\"} ").append(std::to_string(buckets[i])).push_back('\n');
    }
    out.append(name).append("_sum{").append(labels).append("} ").append(sum).push_back('\n');
    out.append(name).append("_count{").append(labels).append("} ").append(std::to_string(count)).push_back('\n');
}

}  // namespace

void metrics::render_blocks(std::string& out) const
{
    if (block_labels_.empty()) return;
    const auto keys = key_names_.size() + 1;
    auto key_label = [&](std::size_t k) { return k == 0 ? std::string() : key_names_[k - 1]; };
    std::vector<std::string> block_set, otel_set;
    for (const auto& b : block_labels_) {
        block_set.push_back("block=\"" + label_value(b.name) + "\"");
        otel_set.push_back(block_set.back() + ",gen_ai_provider_name=\"" + label_value(b.provider) +
                           "\",gen_ai_request_model=\"" + label_value(b.model) + "\"");
    }

    static constexpr const char* outcomes[] = {"complete", "error", "cancelled"};
    line(out, "# HELP liveai_block_streams_total Streams ended, by block, provider, model, API key and outcome.");
    line(out, "# TYPE liveai_block_streams_total counter");
    for (std::size_t b = 0; b < block_labels_.size(); ++b)
        for (std::size_t k = 0; k < keys; ++k)
            for (std::size_t o = 0; o < 3; ++o) {
                std::uint64_t n = 0;
                for (const auto& s : shards_) n += s->blocks[b]->by_key[k].streams[o].load(std::memory_order_relaxed);
                // A key's series appear once it has streamed; the key-less ones always.
                if (n == 0 && k != 0) continue;
                out.append("liveai_block_streams_total{").append(block_set[b]).append(",provider=\"")
                    .append(label_value(block_labels_[b].provider)).append("\",model=\"").append(label_value(block_labels_[b].model))
                    .append("\",key=\"").append(key_label(k)).append("\",outcome=\"").append(outcomes[o]).append("\"} ")
                    .append(std::to_string(n)).push_back('\n');
            }

    line(out, "# HELP liveai_block_errors_total Streams that ended in an error, by block and error code.");
    line(out, "# TYPE liveai_block_errors_total counter");
    for (std::size_t b = 0; b < block_labels_.size(); ++b)
        for (std::size_t e = 1; e <= static_cast<std::size_t>(liveai::error::internal_error); ++e) {
            std::uint64_t n = 0;
            for (const auto& s : shards_) n += s->blocks[b]->errors[e].load(std::memory_order_relaxed);
            if (n == 0) continue;
            out.append("liveai_block_errors_total{").append(block_set[b]).append(",code=\"")
                .append(to_code(static_cast<liveai::error>(e))).append("\"} ").append(std::to_string(n)).push_back('\n');
        }

    line(out, "# HELP liveai_block_tokens_total Tokens the providers reported (usage), by block, API key and type.");
    line(out, "# TYPE liveai_block_tokens_total counter");
    for (std::size_t b = 0; b < block_labels_.size(); ++b)
        for (std::size_t k = 0; k < keys; ++k) {
            std::uint64_t in = 0, outn = 0;
            for (const auto& s : shards_) {
                in += s->blocks[b]->by_key[k].input_tokens.load(std::memory_order_relaxed);
                outn += s->blocks[b]->by_key[k].output_tokens.load(std::memory_order_relaxed);
            }
            if (in == 0 && outn == 0 && k != 0) continue;
            for (const auto& [type, n] : {std::pair{"input", in}, std::pair{"output", outn}})
                out.append("liveai_block_tokens_total{").append(block_set[b]).append(",key=\"").append(key_label(k))
                    .append("\",type=\"").append(type).append("\"} ").append(std::to_string(n)).push_back('\n');
        }

    line(out, "# HELP liveai_upstream_attempts_total Upstream requests counted as attempts (1 + retries), by block.");
    line(out, "# TYPE liveai_upstream_attempts_total counter");
    for (std::size_t b = 0; b < block_labels_.size(); ++b) {
        std::uint64_t n = 0;
        for (const auto& s : shards_) n += s->blocks[b]->upstream_attempts.load(std::memory_order_relaxed);
        out.append("liveai_upstream_attempts_total{").append(otel_set[b]).append("} ").append(std::to_string(n)).push_back('\n');
    }

    line(out, "# HELP gen_ai_client_token_usage Tokens per stream as the provider reported them (OpenTelemetry gen_ai.client.token.usage), by block and gen_ai_token_type.");
    line(out, "# TYPE gen_ai_client_token_usage histogram");
    for (std::size_t b = 0; b < block_labels_.size(); ++b)
        for (const bool input : {true, false}) {
            std::array<std::uint64_t, token_buckets.size() + 1> buckets{};
            std::uint64_t sum = 0, count = 0;
            for (const auto& s : shards_) (input ? s->blocks[b]->input_tokens : s->blocks[b]->output_tokens).add_to(buckets, sum, count);
            histogram_lines(out, "gen_ai_client_token_usage", otel_set[b] + ",gen_ai_token_type=\"" + (input ? "input" : "output") + "\"",
                            buckets, token_buckets, std::to_string(sum), count);
        }

    auto latency = [&](const char* name, const char* help, latency_histogram block_series::*member) {
        out.append("# HELP ").append(name).append(" ").append(help).push_back('\n');
        out.append("# TYPE ").append(name).append(" histogram\n");
        for (std::size_t b = 0; b < block_labels_.size(); ++b) {
            std::array<std::uint64_t, latency_buckets.size() + 1> buckets{};
            double sum = 0;
            std::uint64_t count = 0;
            for (const auto& s : shards_) ((*s->blocks[b]).*member).add_to(buckets, sum, count);
            char text[32];
            std::snprintf(text, sizeof text, "%.9f", sum);
            histogram_lines(out, name, otel_set[b], buckets, latency_buckets, text, count);
        }
    };
    latency("gen_ai_server_time_to_first_token_seconds",
            "From a stream's start to its first chunk (OpenTelemetry gen_ai.server.time_to_first_token), by block.",
            &block_series::time_to_first_token);
    latency("gen_ai_server_time_per_output_token_seconds",
            "A stream's time after its first chunk, per further chunk (OpenTelemetry gen_ai.server.time_per_output_token), by block.",
            &block_series::time_per_output_token);
    latency("gen_ai_client_operation_duration_seconds",
            "The provider's whole stream, upstream request and retries included (OpenTelemetry gen_ai.client.operation.duration), by block.",
            &block_series::operation_duration);
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
