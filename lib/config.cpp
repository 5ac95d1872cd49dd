#include <liveai/config.hpp>

#include "providers/upstream.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace liveai {
namespace {

constexpr std::int64_t max_ms = 24LL * 3600 * 1000;

std::string_view type_name(toml::node_type t) noexcept
{
    switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
    }
}

bool valid_block_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 64) return false;
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lower_or_digit(name[0])) return false;
    return std::all_of(name.begin() + 1, name.end(), [&](char c) { return lower_or_digit(c) || c == '_' || c == '-'; });
}

// Collects problems with their file:line:column so one run reports them all.
class problem_list {
public:
    explicit problem_list(std::string file) : file_(std::move(file)) {}

    void add(const toml::source_region& where, std::string_view key, std::string_view what)
    {
        std::ostringstream out;
        out << file_ << ':' << where.begin.line << ':' << where.begin.column << ": " << key << ": " << what;
        problems_.push_back(out.str());
    }
    void add_plain(std::string what) { problems_.push_back(file_ + ": " + what); }
    const std::string& file() const noexcept { return file_; }
    std::vector<std::string>& problems() noexcept { return problems_; }

private:
    std::string file_;
    std::vector<std::string> problems_;
};

// Reads the keys of one table by name and type; finish() reports the keys
// nobody asked for, so a typo never goes unnoticed.
class table_reader {
public:
    table_reader(problem_list& problems, const toml::table& table, std::string path)
        : problems_(problems), table_(table), path_(std::move(path))
    {
    }

    std::string key_path(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

    const toml::node* get(std::string_view key)
    {
        known_.push_back(key);
        return table_.get(key);
    }

    template <class T>
    void integer(std::string_view key, T& out, std::int64_t min, std::int64_t max)
    {
        const auto* node = get(key);
        if (!node) return;
        const auto value = node->value_exact<std::int64_t>();
        if (!node->is_integer() || !value) {
            wrong_type(*node, key, "an integer");
            return;
        }
        if (*value < min || *value > max) {
            problems_.add(node->source(), key_path(key),
                          "must be from " + std::to_string(min) + " to " + std::to_string(max) + ", got " + std::to_string(*value));
            return;
        }
        out = static_cast<T>(*value);
    }

    template <class T>
    void optional_integer(std::string_view key, std::optional<T>& out, std::int64_t min, std::int64_t max)
    {
        if (!table_.contains(key)) {
            known_.push_back(key);
            return;
        }
        T value{};
        const auto before = problems_.problems().size();
        integer(key, value, min, max);
        if (problems_.problems().size() == before) out = value;
    }

    void millis(std::string_view key, std::chrono::milliseconds& out, std::int64_t min, std::int64_t max = max_ms)
    {
        std::int64_t value = out.count();
        integer(key, value, min, max);
        out = std::chrono::milliseconds(value);
    }

    void boolean(std::string_view key, bool& out)
    {
        const auto* node = get(key);
        if (!node) return;
        if (!node->is_boolean()) return wrong_type(*node, key, "a boolean");
        out = *node->value<bool>();
    }

    void optional_boolean(std::string_view key, std::optional<bool>& out)
    {
        const auto* node = get(key);
        if (!node) return;
        if (!node->is_boolean()) return wrong_type(*node, key, "a boolean");
        out = *node->value<bool>();
    }

    // Returns the node when present and a string within max_len bytes.
    const toml::node* string(std::string_view key, std::string& out, std::size_t max_len = 1 << 20, bool allow_empty = true)
    {
        const auto* node = get(key);
        if (!node) return nullptr;
        if (!node->is_string()) {
            wrong_type(*node, key, "a string");
            return nullptr;
        }
        const std::string& value = node->as_string()->get();
        if (value.size() > max_len) {
            problems_.add(node->source(), key_path(key), "must be at most " + std::to_string(max_len) + " bytes");
            return nullptr;
        }
        if (!allow_empty && value.empty()) {
            problems_.add(node->source(), key_path(key), "must not be empty");
            return nullptr;
        }
        out = value;
        return node;
    }

    const toml::table* table(std::string_view key)
    {
        const auto* node = get(key);
        if (!node) return nullptr;
        if (!node->is_table()) {
            wrong_type(*node, key, "a table");
            return nullptr;
        }
        return node->as_table();
    }

    void finish()
    {
        for (auto&& [key, node] : table_) {
            if (std::find(known_.begin(), known_.end(), key.str()) != known_.end()) continue;
            problems_.add(key.source(), key_path(key.str()), "unknown key");
        }
    }

    void wrong_type(const toml::node& node, std::string_view key, std::string_view expected)
    {
        problems_.add(node.source(), key_path(key),
                      "expected " + std::string(expected) + ", got " + std::string(type_name(node.type())));
    }

    problem_list& problems() noexcept { return problems_; }

private:
    problem_list& problems_;
    const toml::table& table_;
    std::string path_;
    std::vector<std::string_view> known_;
};

void read_server(table_reader& r, server::server_config& s)
{
    std::string host;
    if (r.string("host", host, 255, false)) s.host = host;
    r.integer("port", s.port, 0, 65535);
    r.integer("threads", s.threads, 0, 256);
    r.integer("max_connections", s.max_connections, 1, 1'000'000);
    r.integer("max_streams", s.max_streams, 1, 1'000'000);
    r.integer("max_header_bytes", s.max_header_bytes, 1024, 1 << 20);
    r.integer("max_url_bytes", s.max_url_bytes, 256, 1 << 20);
    r.integer("max_body_bytes", s.max_body_bytes, 1, 64 << 20);
    r.integer("max_ws_message_bytes", s.max_ws_message_bytes, 128, 64 << 20);
    r.integer("write_queue_bytes", s.write_queue_bytes, 1024, 64 << 20);
    r.integer("replay_buffer_bytes", s.replay_buffer_bytes, 1024, 1 << 30);
    r.millis("replay_retention_ms", s.replay_retention, 0, 86'400'000);
    r.integer("max_retained_streams", s.max_retained_streams, 0, 10'000'000);
    r.integer("max_retained_bytes", s.max_retained_bytes, 0, std::int64_t{1} << 40);
    r.millis("header_timeout_ms", s.header_timeout, 100);
    r.millis("keep_alive_timeout_ms", s.keep_alive_timeout, 100);
    r.millis("heartbeat_interval_ms", s.heartbeat_interval, 100, 3'600'000);
    r.millis("ws_idle_timeout_ms", s.ws_idle_timeout, 1'000, 86'400'000);
    r.millis("slow_consumer_timeout_ms", s.slow_consumer_timeout, 10);
    r.millis("shutdown_timeout_ms", s.shutdown_timeout, 0, 600'000);
    r.millis("retry_ms", s.retry, 0, 3'600'000);
    std::int64_t retry_after = s.overload_retry_after.count();
    r.integer("overload_retry_after_s", retry_after, 1, 3600);
    s.overload_retry_after = std::chrono::seconds(retry_after);
    std::string level;
    if (const auto* node = r.string("log_level", level)) {
        using server::log_level;
        static constexpr std::pair<std::string_view, log_level> levels[] = {
            {"debug", log_level::debug}, {"info", log_level::info}, {"warn", log_level::warn},
            {"error", log_level::error}, {"off", log_level::off}};
        auto it = std::find_if(std::begin(levels), std::end(levels), [&](auto& p) { return p.first == level; });
        if (it == std::end(levels))
            r.problems().add(node->source(), r.key_path("log_level"), "must be one of debug, info, warn, error, off; got \"" + level + "\"");
        else
            s.log = it->second;
    }
    r.finish();
}

void read_mock(table_reader& r, mock_settings& m)
{
    const bool has_tokens = r.get("tokens") != nullptr;
    r.integer("tokens", m.tokens, 0, 1'000'000);
    std::string text;
    if (const auto* node = r.string("text", text, 1 << 20)) {
        if (has_tokens)
            r.problems().add(node->source(), r.key_path("text"), "set either tokens or text, not both");
        m.text = text;
    }
    r.integer("echo_words", m.echo_words, 0, 100'000);
    r.millis("delay_ms", m.delay, 0, 3'600'000);
    r.millis("jitter_ms", m.jitter, 0, 3'600'000);
    r.millis("first_token_delay_ms", m.first_token_delay, 0, 3'600'000);
    r.optional_integer("fail_after", m.fail_after, 0, 1'000'000);
    std::string code;
    if (const auto* node = r.string("fail_code", code)) {
        if (auto e = error_from_code(code))
            m.fail_code = *e;
        else
            r.problems().add(node->source(), r.key_path("fail_code"), "\"" + code + "\" is not an error code of the contract");
    }
    r.optional_boolean("fail_retryable", m.fail_retryable);
    std::string finish;
    if (const auto* node = r.string("finish_reason", finish)) {
        auto reason = finish_reason_from_string(finish);
        if (!reason || *reason == finish_reason::cancelled)
            r.problems().add(node->source(), r.key_path("finish_reason"), "must be one of stop, length, content_filter; got \"" + finish + "\"");
        else
            m.finish = *reason;
    }
    std::int64_t seed = 0;
    r.integer("seed", seed, 0, std::numeric_limits<std::int64_t>::max());
    m.seed = static_cast<std::uint64_t>(seed);
    r.finish();
}

void read_upstream(table_reader& r, upstream_settings& u, bool openai)
{
    if (const auto* node = r.string("base_url", u.base_url, 2048, false)) {
        std::string why;
        if (!detail::parse_base_url(u.base_url, why)) r.problems().add(node->source(), r.key_path("base_url"), why);
    }
    if (const auto* node = r.string("api_key_env", u.api_key_env, 256)) {
        // Keys never live in the config: this names the variable that holds one.
        if (u.api_key_env.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
            r.problems().add(node->source(), r.key_path("api_key_env"),
                             "must be the name of an environment variable (letters, digits, _), not a key");
    }
    r.string("ca_file", u.ca_file, 4096);
    r.millis("connect_timeout_ms", u.connect_timeout, 1, 600'000);
    r.millis("first_byte_timeout_ms", u.first_byte_timeout, 1, 3'600'000);
    r.millis("read_timeout_ms", u.read_timeout, 1, 3'600'000);
    r.integer("max_retries", u.max_retries, 0, 10);
    r.millis("retry_base_ms", u.retry_base, 1, 60'000);
    r.millis("retry_max_ms", u.retry_max, 1, 600'000);
    r.integer("max_event_bytes", u.max_event_bytes, 1024, 64 << 20);
    r.integer("pool_size", u.pool_size, 0, 10'000);
    std::optional<std::uint32_t> max_tokens;
    r.optional_integer("max_tokens", max_tokens, 1, 10'000'000);
    if (max_tokens) u.max_tokens = max_tokens;
    if (openai) {
        if (const auto* node = r.string("max_tokens_field", u.max_tokens_field)) {
            if (u.max_tokens_field != "max_completion_tokens" && u.max_tokens_field != "max_tokens")
                r.problems().add(node->source(), r.key_path("max_tokens_field"),
                                 "must be \"max_completion_tokens\" (OpenAI) or \"max_tokens\" (servers that know only that); got \"" +
                                     u.max_tokens_field + "\"");
        }
    }
    if (const auto* node = r.get("temperature")) {
        const auto value = node->value<double>();
        if (!(node->is_floating_point() || node->is_integer()) || !value)
            r.wrong_type(*node, "temperature", "a number");
        else if (*value < 0 || *value > 2)
            r.problems().add(node->source(), r.key_path("temperature"), "must be from 0 to 2");
        else
            u.temperature = *value;
    }
    r.finish();
}

void read_block(table_reader& r, block_config& b)
{
    std::string provider;
    const toml::node* provider_node = r.string("provider", provider);
    if (provider_node) {
        if (provider == "mock") {
            b.provider = provider_kind::mock;
        } else if (provider == "openai") {
            b.provider = provider_kind::openai;
            b.upstream.base_url = "https://api.openai.com/v1";
            b.upstream.api_key_env = "OPENAI_API_KEY";
        } else if (provider == "gemini") {
            b.provider = provider_kind::gemini;
            b.upstream.base_url = "https://generativelanguage.googleapis.com/v1beta";
            b.upstream.api_key_env = "GEMINI_API_KEY";
        } else {
            r.problems().add(provider_node->source(), r.key_path("provider"),
                             "\"" + provider + "\" is not a provider (available: mock, openai, gemini)");
        }
    } else if (!r.get("provider")) {
        r.problems().add_plain(r.key_path("provider") + ": missing (e.g. provider = \"mock\")");
    }
    const bool has_model = r.get("model") != nullptr;
    r.string("model", b.model, 256, false);
    if (b.provider != provider_kind::mock && provider_node && !has_model)
        r.problems().add(provider_node->source(), r.key_path("model"), "is required for provider \"" + provider + "\"");
    r.string("system_prompt", b.system_prompt, 1 << 20);
    r.boolean("streaming", b.streaming);
    r.integer("max_prompt_bytes", b.max_prompt_bytes, 1, 16 << 20);
    r.millis("first_token_timeout_ms", b.deadlines.first_token, 0);
    r.millis("idle_timeout_ms", b.deadlines.idle, 0);
    r.millis("total_timeout_ms", b.deadlines.total, 0);
    std::string policy;
    if (const auto* node = r.string("on_disconnect", policy)) {
        if (policy == "cancel") b.on_disconnect = disconnect_policy::cancel;
        else if (policy == "detach") b.on_disconnect = disconnect_policy::detach;
        else r.problems().add(node->source(), r.key_path("on_disconnect"), "\"" + policy + "\" is not a policy (available: cancel, detach)");
    }
    r.millis("resume_grace_ms", b.resume_grace, 0, 3'600'000);
    for (const char* name : {"mock", "openai", "gemini"}) {
        const auto* table = r.table(name);
        if (!table) continue;
        const std::string_view kind = name;
        if (provider_node && kind != provider) {
            r.problems().add(table->source(), r.key_path(kind), "settings for provider \"" + std::string(kind) +
                                                                   "\" in a block whose provider is \"" + provider + "\"");
            continue;
        }
        table_reader tr(r.problems(), *table, r.key_path(kind));
        if (kind == "mock") read_mock(tr, b.mock);
        else read_upstream(tr, b.upstream, kind == "openai");
    }
    r.finish();
}

}  // namespace

config_error::config_error(std::vector<std::string> problems)
    : std::runtime_error([&] {
          std::string all;
          for (const auto& p : problems) all += p + "\n";
          if (!all.empty()) all.pop_back();
          return all;
      }()),
      problems_(std::move(problems))
{
}

app_config parse_config(std::string_view toml_text, std::string_view source_name)
{
    problem_list problems{std::string(source_name)};
    toml::table root;
    try {
        root = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source();
        problems.add(where, "(syntax)", e.description());
        throw config_error(std::move(problems.problems()));
    }

    app_config config;
    table_reader top(problems, root, "");
    if (const auto* server = top.table("server")) {
        table_reader r(problems, *server, "server");
        read_server(r, config.server);
    }
    if (const auto* blocks = top.table("blocks")) {
        for (auto&& [name, node] : *blocks) {
            const std::string path = "blocks." + std::string(name.str());
            if (!valid_block_name(name.str())) {
                problems.add(name.source(), path, "block names must match [a-z0-9][a-z0-9_-]{0,63}");
                continue;
            }
            if (!node.is_table()) {
                problems.add(node.source(), path, "expected a table, got " + std::string(type_name(node.type())));
                continue;
            }
            block_config block;
            block.name = std::string(name.str());
            table_reader r(problems, *node.as_table(), path);
            read_block(r, block);
            config.blocks.push_back(std::move(block));
        }
    }
    top.finish();
    if (config.blocks.empty() && problems.problems().empty())
        problems.add_plain("no blocks are configured (add a [blocks.<name>] table)");
    if (!problems.problems().empty()) throw config_error(std::move(problems.problems()));
    return config;
}

std::vector<std::string> missing_api_keys(const app_config& config)
{
    std::vector<std::string> problems;
    for (const auto& b : config.blocks) {
        if (b.provider == provider_kind::mock || b.upstream.api_key_env.empty()) continue;
        const char* value = std::getenv(b.upstream.api_key_env.c_str());
        if (!value || !*value)
            problems.push_back("blocks." + b.name + ": the environment variable " + b.upstream.api_key_env +
                               " (its api_key_env) is not set; set it to the API key, or set api_key_env = \"\" in [blocks." +
                               b.name + "." + std::string(to_string(b.provider)) + "] for a server that needs no key");
    }
    return problems;
}

std::vector<std::string> config_warnings(const app_config& config)
{
    std::vector<std::string> warnings;
    for (const auto& b : config.blocks) {
        if (b.provider == provider_kind::mock || b.upstream.max_retries == 0) continue;
        const auto budget = first_token_budget(b.deadlines);
        if (budget.count() == 0) continue;
        // An upstream that accepts and never answers fails an attempt after
        // first_byte_timeout; the first retry waits at least retry_base / 2.
        const auto slow_attempt = b.upstream.first_byte_timeout + b.upstream.retry_base / 2;
        if (slow_attempt >= budget)
            warnings.push_back("blocks." + b.name + ": max_retries = " + std::to_string(b.upstream.max_retries) +
                               " can never apply to a slow upstream: first_byte_timeout_ms (" +
                               std::to_string(b.upstream.first_byte_timeout.count()) + ") plus the shortest backoff (" +
                               std::to_string(b.upstream.retry_base.count() / 2) + " ms) is not less than the first-token deadline (" +
                               std::to_string(budget.count()) + " ms); lower first_byte_timeout_ms or raise first_token_timeout_ms");
    }
    return warnings;
}

app_config load_config_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({path + ": cannot open the file"});
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

}  // namespace liveai
