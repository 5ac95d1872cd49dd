#include <liveai/config.hpp>

#include <liveai/provider_registry.hpp>
#include <liveai/server/api_key_digest.hpp>
#include <liveai/server/origin_policy.hpp>
#include <liveai/request_json.hpp>
#include <liveai/settings_reader.hpp>

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

}  // namespace

namespace detail {

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
        known_.emplace_back(key);
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
            known_.emplace_back(key);
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

    // An array of strings, each within max_len bytes and not empty.
    const toml::node* string_list(std::string_view key, std::vector<std::string>& out, std::size_t max_len = 256)
    {
        const auto* node = get(key);
        if (!node) return nullptr;
        const auto* list = node->as_array();
        if (!list) {
            wrong_type(*node, key, "an array of strings");
            return nullptr;
        }
        out.clear();
        for (const auto& item : *list) {
            const auto* text = item.as_string();
            if (!text || text->get().empty() || text->get().size() > max_len)
                problems_.add(item.source(), key_path(key), "each must be a non-empty string of at most " + std::to_string(max_len) + " bytes");
            else
                out.push_back(text->get());
        }
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
    const toml::table& table() const noexcept { return table_; }

    void problem(std::string_view key, std::string_view what)
    {
        const auto* node = table_.get(key);
        problems_.add(node ? node->source() : table_.source(), key_path(key), what);
    }

private:
    problem_list& problems_;
    const toml::table& table_;
    std::string path_;
    std::vector<std::string> known_;  // copies: a provider may read keys it built on the fly
};

}  // namespace detail

std::string settings_reader::key_path(std::string_view key) const { return table_.key_path(key); }

bool settings_reader::contains(std::string_view key) const { return table_.table().contains(key); }

bool settings_reader::integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max)
{
    const auto before = table_.problems().problems().size();
    const bool present = table_.table().contains(key);
    std::int64_t value = out;
    table_.integer(key, value, min, max);
    if (!present || table_.problems().problems().size() != before) return false;
    out = value;
    return true;
}

bool settings_reader::millis(std::string_view key, std::chrono::milliseconds& out, std::int64_t min, std::int64_t max)
{
    std::int64_t value = 0;
    if (!integer(key, value, min, max)) return false;
    out = std::chrono::milliseconds(value);
    return true;
}

bool settings_reader::number(std::string_view key, std::optional<double>& out, double min, double max)
{
    const auto* node = table_.get(key);
    if (!node) return false;
    const auto value = node->value<double>();
    if (!(node->is_floating_point() || node->is_integer()) || !value) {
        table_.wrong_type(*node, key, "a number");
        return false;
    }
    if (*value < min || *value > max) {
        std::ostringstream what;
        what << "must be from " << min << " to " << max;
        table_.problem(key, what.str());
        return false;
    }
    out = *value;
    return true;
}

bool settings_reader::boolean(std::string_view key, bool& out)
{
    const auto* node = table_.get(key);
    if (!node) return false;
    if (!node->is_boolean()) {
        table_.wrong_type(*node, key, "a boolean");
        return false;
    }
    out = *node->value<bool>();
    return true;
}

bool settings_reader::boolean(std::string_view key, std::optional<bool>& out)
{
    bool value = false;
    if (!boolean(key, value)) return false;
    out = value;
    return true;
}

bool settings_reader::string(std::string_view key, std::string& out, std::size_t max_bytes, bool allow_empty)
{
    return table_.string(key, out, max_bytes, allow_empty) != nullptr;
}

bool settings_reader::string(std::string_view key, std::optional<std::string>& out, std::size_t max_bytes)
{
    std::string value;
    if (!string(key, value, max_bytes)) return false;
    out = std::move(value);
    return true;
}

void settings_reader::problem(std::string_view key, std::string_view what) { table_.problem(key, what); }

namespace {

using detail::problem_list;
using detail::table_reader;

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
    for (auto [key, list] : {std::pair{"cors_allowed_origins", &s.cors_allowed_origins},
                             std::pair{"ws_allowed_origins", &s.ws_allowed_origins}}) {
        if (const auto* node = r.string_list(key, *list))
            for (const auto& origin : *list)
                if (origin != "*" && !server::valid_origin(origin))
                    r.problems().add(node->source(), r.key_path(key),
                                     "\"" + origin + "\" is not an origin (scheme://host[:port], no path, or \"*\")");
    }
    r.finish();
}

// A `sha256 = "<64 hex digits>"` key: the digest liveai-server --hash-key prints.
bool read_digest(table_reader& r, std::string_view key, server::key_digest& out, bool required)
{
    std::string hex;
    const auto* node = r.string(key, hex, 128);
    if (!node) {
        if (required && !r.table().contains(key)) r.problems().add_plain(r.key_path(key) + ": missing (liveai-server --hash-key prints it)");
        return false;
    }
    const auto digest = server::parse_key_digest(hex);
    if (!digest) {
        r.problems().add(node->source(), r.key_path(key), "must be 64 hex digits, the SHA-256 of the key (liveai-server --hash-key prints it)");
        return false;
    }
    out = *digest;
    return true;
}

void read_api_keys(table_reader& r, std::string_view key, std::vector<server::api_key>& keys)
{
    const auto* node = r.get(key);
    if (!node) return;
    const auto* list = node->as_array();
    if (!list || !list->is_array_of_tables()) return r.wrong_type(*node, key, "an array of tables ([[" + r.key_path(key) + "]])");
    for (std::size_t i = 0; i < list->size(); ++i) {
        table_reader kr(r.problems(), *list->get(i)->as_table(), r.key_path(key) + "[" + std::to_string(i) + "]");
        server::api_key k;
        const auto* name = kr.string("name", k.name, 64, false);
        if (!name && !kr.table().contains("name")) kr.problems().add_plain(kr.key_path("name") + ": missing");
        if (name && !valid_block_name(k.name))
            kr.problems().add(name->source(), kr.key_path("name"), "must match [a-z0-9][a-z0-9_-]{0,63} (it is a metric label)");
        read_digest(kr, "sha256", k.sha256, true);
        if (!kr.string_list("blocks", k.blocks, 64) && !kr.table().contains("blocks"))
            kr.problems().add_plain(kr.key_path("blocks") + ": missing (the blocks this key may use, or [\"*\"])");
        kr.integer("max_streams", k.max_streams, 1, 1'000'000);
        kr.integer("requests_per_minute", k.requests_per_minute, 0, 10'000'000);
        kr.finish();
        for (const auto& other : keys) {
            if (!k.name.empty() && other.name == k.name)
                kr.problems().add_plain(kr.key_path("name") + ": \"" + k.name + "\" is used by another key");
            if (other.sha256 == k.sha256 && k.sha256 != server::key_digest{})
                kr.problems().add_plain(kr.key_path("sha256") + ": the same key as \"" + other.name + "\"");
        }
        keys.push_back(std::move(k));
    }
}

// A path relative to the config file's directory.
std::string beside(std::string_view config_path, const std::string& path)
{
    if (path.empty() || path.front() == '/') return path;
    const auto slash = config_path.rfind('/');
    return slash == std::string_view::npos ? path : std::string(config_path.substr(0, slash + 1)) + path;
}

void read_auth(table_reader& r, server::auth_config& auth)
{
    read_api_keys(r, "keys", auth.keys);
    auth.has_metrics_key = read_digest(r, "metrics_key_sha256", auth.metrics_sha256, false);
    std::string file;
    if (const auto* node = r.string("keys_file", file, 4096, false)) {
        const auto path = beside(r.problems().file(), file);
        try {
            const auto keys = toml::parse_file(path);
            problem_list& problems = r.problems();
            // The keys file's own file:line:column is what a reader needs.
            problem_list file_problems(path);
            table_reader fr(file_problems, keys, "");
            read_api_keys(fr, "keys", auth.keys);
            fr.finish();
            for (auto& p : file_problems.problems()) problems.problems().push_back(std::move(p));
        } catch (const toml::parse_error& e) {
            r.problems().add(node->source(), r.key_path("keys_file"),
                             "cannot read \"" + path + "\": " + std::string(e.description()));
        }
    }
    if (auth.keys.empty())
        r.problems().add(r.table().source(), "auth", "has no keys ([[auth.keys]] or keys_file): a server with [auth] would refuse everything");
    r.finish();
}

void read_disconnect_policy(table_reader& r, block_config& b)
{
    std::string policy;
    if (const auto* node = r.string("on_disconnect", policy)) {
        if (policy == "cancel") b.on_disconnect = disconnect_policy::cancel;
        else if (policy == "detach") b.on_disconnect = disconnect_policy::detach;
        else r.problems().add(node->source(), r.key_path("on_disconnect"), "\"" + policy + "\" is not a policy (available: cancel, detach)");
    }
    r.millis("resume_grace_ms", b.resume_grace, 0, 3'600'000);
}

void read_client_options(table_reader& r, block_config& b)
{
    const auto* node = r.get("client_options");
    if (!node) return;
    const auto* list = node->as_array();
    if (!list) return r.wrong_type(*node, "client_options", "an array of option names");
    for (const auto& item : *list) {
        const auto* name = item.as_string();
        if (!name || !is_request_option(name->get()))
            r.problems().add(item.source(), r.key_path("client_options"), "each must be one of max_tokens, temperature, top_p, stop, seed");
        else if (std::find(b.client_options.begin(), b.client_options.end(), name->get()) == b.client_options.end())
            b.client_options.push_back(name->get());
    }
}

// What every block has, composed or not: the opt-in, the request limits,
// the deadlines and the disconnect policy.
void read_stream_settings(table_reader& r, block_config& b)
{
    r.boolean("streaming", b.streaming);
    r.integer("max_prompt_bytes", b.max_prompt_bytes, 1, 16 << 20);
    r.integer("max_messages", b.max_messages, 1, 100'000);
    read_client_options(r, b);
    r.millis("first_token_timeout_ms", b.deadlines.first_token, 0);
    r.millis("idle_timeout_ms", b.deadlines.idle, 0);
    r.millis("total_timeout_ms", b.deadlines.total, 0);
    read_disconnect_policy(r, b);
    if (const auto* node = r.string("model_alias", b.model_alias, 256, false); node && !valid_model_name(b.model_alias))
        r.problems().add(node->source(), r.key_path("model_alias"), "must be printable ASCII without spaces or quotes");
    r.boolean("allow_query_token", b.allow_query_token);
}

void read_block(table_reader& r, block_config& b, const provider_registry& providers)
{
    const provider_factory* factory = nullptr;
    if (const auto* node = r.get("fallback")) {
        const auto* list = node->as_array();
        if (!list || list->empty()) r.wrong_type(*node, "fallback", "a non-empty array of block names");
        if (list)
            for (const auto& item : *list) {
                if (const auto* name = item.as_string()) b.fallback.push_back(name->get());
                else r.problems().add(item.source(), r.key_path("fallback"), "each must be a block's name");
            }
        r.millis("hedge_after_ms", b.hedge_after, 0, 3'600'000);
        b.provider = b.hedge_after.count() > 0 ? "hedge" : "fallback";
        b.model.clear();
        if (const auto* p = r.get("provider"))
            r.problems().add(p->source(), r.key_path("provider"), "a block with fallback has no provider of its own");
        for (const auto* key : {"model", "system_prompt"})
            if (const auto* k = r.get(key))
                r.problems().add(k->source(), r.key_path(key), "is each attempt's own in a block with fallback");
        read_stream_settings(r, b);
        r.finish();
        return;
    }
    if (const auto* h = r.get("hedge_after_ms"))
        r.problems().add(h->source(), r.key_path("hedge_after_ms"), "applies to a block with fallback only");
    const toml::node* provider_node = r.string("provider", b.provider);
    if (provider_node) {
        factory = providers.find(b.provider);
        if (!factory)
            r.problems().add(provider_node->source(), r.key_path("provider"),
                             "\"" + b.provider + "\" is not a provider (available: " + providers.list() + ")");
    } else if (!r.get("provider")) {
        r.problems().add_plain(r.key_path("provider") + ": missing (e.g. provider = \"mock\")");
    }
    if (factory) b.model = factory->default_model();
    const bool has_model = r.get("model") != nullptr;
    r.string("model", b.model, 256, false);
    if (factory && !has_model && b.model.empty())
        r.problems().add(provider_node->source(), r.key_path("model"), "is required for provider \"" + b.provider + "\"");
    r.string("system_prompt", b.system_prompt, 1 << 20);
    read_stream_settings(r, b);
    if (factory) b.settings = factory->default_settings();
    // A table named after a registered provider holds that provider's
    // settings; any other key is reported unknown by finish().
    for (const auto& name : providers.names()) {
        const auto* table = r.table(name);
        if (!table) continue;
        if (!factory || name != b.provider) {
            if (factory)
                r.problems().add(table->source(), r.key_path(name), "settings for provider \"" + name +
                                                                       "\" in a block whose provider is \"" + b.provider + "\"");
            continue;
        }
        table_reader tr(r.problems(), *table, r.key_path(name));
        settings_reader settings(tr);
        factory->read_settings(settings, b.settings);
        tr.finish();
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
    return parse_config(toml_text, source_name, provider_registry::builtin());
}

app_config parse_config(std::string_view toml_text, std::string_view source_name, const provider_registry& providers)
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
    if (const auto* auth = top.table("auth")) {
        table_reader r(problems, *auth, "auth");
        read_auth(r, config.server.auth);
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
            read_block(r, block, providers);
            config.blocks.push_back(std::move(block));
        }
    }
    top.finish();
    for (const auto& b : config.blocks)
        for (const auto& name : b.fallback) {
            const auto it = std::find_if(config.blocks.begin(), config.blocks.end(), [&](const block_config& o) { return o.name == name; });
            if (it == config.blocks.end() || &*it == &b || !it->fallback.empty())
                problems.add_plain("blocks." + b.name + ".fallback: \"" + name + "\" is not another block with a provider of its own");
        }
    for (const auto& k : config.server.auth.keys)
        for (const auto& name : k.blocks)
            if (name != "*" && std::none_of(config.blocks.begin(), config.blocks.end(), [&](const block_config& b) { return b.name == name; }))
                problems.add_plain("auth key \"" + k.name + "\": blocks names \"" + name + "\", which is not a block");
    for (const auto& b : config.blocks)
        for (const auto& o : config.blocks)
            if (&b != &o && !b.model_alias.empty() && (b.model_alias == o.model_alias || b.model_alias == o.name))
                problems.add_plain("blocks." + b.name + ".model_alias: \"" + b.model_alias + "\" is also block \"" + o.name + "\"'s name or alias");
    if (config.blocks.empty() && problems.problems().empty())
        problems.add_plain("no blocks are configured (add a [blocks.<name>] table)");
    if (!problems.problems().empty()) throw config_error(std::move(problems.problems()));
    return config;
}

std::vector<std::string> missing_api_keys(const app_config& config, const provider_registry& providers)
{
    std::vector<std::string> problems;
    for (const auto& b : config.blocks)
        if (const auto* factory = providers.find(b.provider))
            for (auto& p : factory->missing_environment(b)) problems.push_back(std::move(p));
    return problems;
}

std::vector<std::string> missing_api_keys(const app_config& config)
{
    return missing_api_keys(config, provider_registry::builtin());
}

std::vector<std::string> config_warnings(const app_config& config, const provider_registry& providers)
{
    std::vector<std::string> warnings;
    for (const auto& b : config.blocks)
        if (const auto* factory = providers.find(b.provider))
            for (auto& w : factory->warnings(b)) warnings.push_back(std::move(w));
    return warnings;
}

std::vector<std::string> config_warnings(const app_config& config)
{
    return config_warnings(config, provider_registry::builtin());
}

app_config load_config_file(const std::string& path)
{
    return load_config_file(path, provider_registry::builtin());
}

app_config load_config_file(const std::string& path, const provider_registry& providers)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({path + ": cannot open the file"});
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path, providers);
}

}  // namespace liveai
