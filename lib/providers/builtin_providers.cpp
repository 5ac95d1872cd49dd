// The built-in providers, registered as any application's provider is.
#include <liveai/provider_registry.hpp>

#include <liveai/error.hpp>
#include <liveai/providers/anthropic_provider.hpp>
#include <liveai/providers/gemini_provider.hpp>
#include <liveai/providers/mock_provider.hpp>
#include <liveai/providers/openai_provider.hpp>

#include "upstream.hpp"

#include <boost/json/parse.hpp>

#include <cstdlib>
#include <limits>

namespace liveai {

namespace {

void read_mock(settings_reader& r, mock_settings& m)
{
    r.integer("tokens", m.tokens, 0, 1'000'000);
    if (r.string("text", m.text, 1 << 20) && r.contains("tokens")) r.problem("text", "set either tokens or text, not both");
    r.integer("echo_words", m.echo_words, 0, 100'000);
    r.millis("delay_ms", m.delay, 0, 3'600'000);
    r.millis("jitter_ms", m.jitter, 0, 3'600'000);
    r.millis("first_token_delay_ms", m.first_token_delay, 0, 3'600'000);
    std::optional<double> slow_ratio;
    if (r.number("slow_ratio", slow_ratio, 0, 1)) m.slow_ratio = *slow_ratio;
    r.millis("slow_first_token_delay_ms", m.slow_first_token_delay, 0, 3'600'000);
    r.integer("fail_after", m.fail_after, 0, 1'000'000);
    std::string code;
    if (r.string("fail_code", code)) {
        if (auto e = error_from_code(code))
            m.fail_code = *e;
        else
            r.problem("fail_code", "\"" + code + "\" is not an error code of the contract");
    }
    r.boolean("fail_retryable", m.fail_retryable);
    std::string finish;
    if (r.string("finish_reason", finish)) {
        auto reason = finish_reason_from_string(finish);
        if (!reason || *reason == finish_reason::cancelled)
            r.problem("finish_reason", "must be one of stop, length, content_filter; got \"" + finish + "\"");
        else
            m.finish = *reason;
    }
    r.integer("seed", m.seed, 0, std::numeric_limits<std::int64_t>::max());
    r.string("reasoning", m.reasoning, 1 << 20);
    if (r.string("tool_name", m.tool_name, 64) &&
        (m.tool_name->empty() ||
         m.tool_name->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos))
        r.problem("tool_name", "must be 1 to 64 letters, digits, _ or -");
    if (r.string("tool_arguments", m.tool_arguments, 1 << 20)) {
        boost::system::error_code ec;
        const auto value = boost::json::parse(m.tool_arguments, ec);
        if (ec || !value.is_object()) r.problem("tool_arguments", "must be a JSON object, e.g. '{\"city\": \"Paris\"}'");
        else if (!m.tool_name) r.problem("tool_arguments", "needs tool_name");
    }
}

class mock_factory final : public provider_factory {
public:
    std::any default_settings() const override { return mock_settings{}; }
    void read_settings(settings_reader& table, std::any& settings) const override
    {
        read_mock(table, *std::any_cast<mock_settings>(&settings));
    }
    std::string default_model() const override { return "mock-1"; }
    std::unique_ptr<token_stream> open(const block_config& block, request req) const override
    {
        return std::make_unique<mock_provider>(*find_block_settings<mock_settings>(block), std::move(req));
    }
};

// openai, gemini and anthropic: one HTTP upstream each, the same settings.
class upstream_factory final : public provider_factory {
public:
    enum class wire { openai, gemini, anthropic };

    upstream_factory(wire w, std::string name, std::string base_url, std::string api_key_env)
        : wire_(w), name_(std::move(name))
    {
        defaults_.base_url = std::move(base_url);
        defaults_.api_key_env = std::move(api_key_env);
    }

    std::any default_settings() const override { return defaults_; }

    void read_settings(settings_reader& r, std::any& settings) const override
    {
        auto& u = *std::any_cast<upstream_settings>(&settings);
        if (r.string("base_url", u.base_url, 2048, false)) {
            std::string why;
            if (!detail::parse_base_url(u.base_url, why)) r.problem("base_url", why);
        }
        // Keys never live in the config: this names the variable that holds one.
        if (r.string("api_key_env", u.api_key_env, 256) &&
            u.api_key_env.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
            r.problem("api_key_env", "must be the name of an environment variable (letters, digits, _), not a key");
        r.string("ca_file", u.ca_file, 4096);
        r.millis("connect_timeout_ms", u.connect_timeout, 1, 600'000);
        r.millis("first_byte_timeout_ms", u.first_byte_timeout, 1, 3'600'000);
        r.millis("read_timeout_ms", u.read_timeout, 1, 3'600'000);
        r.integer("max_retries", u.max_retries, 0, 10);
        r.millis("retry_base_ms", u.retry_base, 1, 60'000);
        r.millis("retry_max_ms", u.retry_max, 1, 600'000);
        r.integer("max_event_bytes", u.max_event_bytes, 1024, 64 << 20);
        r.integer("max_tool_call_bytes", u.max_tool_call_bytes, 1024, 64 << 20);
        r.integer("pool_size", u.pool_size, 0, 10'000);
        r.integer("max_tokens", u.max_tokens, 1, 10'000'000);
        if (wire_ == wire::openai && r.string("max_tokens_field", u.max_tokens_field) &&
            u.max_tokens_field != "max_completion_tokens" && u.max_tokens_field != "max_tokens")
            r.problem("max_tokens_field",
                      "must be \"max_completion_tokens\" (OpenAI) or \"max_tokens\" (servers that know only that); got \"" +
                          u.max_tokens_field + "\"");
        // Anthropic accepts 0 to 1, the others 0 to 2.
        r.number("temperature", u.temperature, 0, wire_ == wire::anthropic ? 1 : 2);
    }

    // The TLS context (the system CA store) now, not on an I/O thread at a
    // stream's first handshake, where it would stall every stream of that thread.
    void prepare(const block_config& block) const override
    {
        const auto& u = settings(block);
        std::string why;
        if (const auto target = detail::parse_base_url(u.base_url, why); target && target->tls) detail::shared_tls_context(u.ca_file);
    }

    std::vector<std::string> missing_environment(const block_config& b) const override
    {
        const auto& u = settings(b);
        if (u.api_key_env.empty()) return {};
        const char* value = std::getenv(u.api_key_env.c_str());
        if (value && *value) return {};
        return {"blocks." + b.name + ": the environment variable " + u.api_key_env +
                " (its api_key_env) is not set; set it to the API key, or set api_key_env = \"\" in [blocks." + b.name + "." +
                name_ + "] for a server that needs no key"};
    }

    std::vector<std::string> warnings(const block_config& b) const override
    {
        const auto& u = settings(b);
        const auto budget = first_token_budget(b.deadlines);
        if (u.max_retries == 0 || budget.count() == 0) return {};
        // An upstream that accepts and never answers fails an attempt after
        // first_byte_timeout; the first retry waits at least retry_base / 2.
        const auto slow_attempt = u.first_byte_timeout + u.retry_base / 2;
        if (slow_attempt < budget) return {};
        return {"blocks." + b.name + ": max_retries = " + std::to_string(u.max_retries) +
                " can never apply to a slow upstream: first_byte_timeout_ms (" + std::to_string(u.first_byte_timeout.count()) +
                ") plus the shortest backoff (" + std::to_string(u.retry_base.count() / 2) +
                " ms) is not less than the first-token deadline (" + std::to_string(budget.count()) +
                " ms); lower first_byte_timeout_ms or raise first_token_timeout_ms"};
    }

    std::unique_ptr<token_stream> open(const block_config& block, request req) const override
    {
        // The provider plans its retries within the time the block gives it.
        auto u = settings(block);
        u.first_token_budget = first_token_budget(block.deadlines);
        switch (wire_) {
        case wire::openai: return std::make_unique<openai_provider>(std::move(u), block.model, block.system_prompt, std::move(req));
        case wire::gemini: return std::make_unique<gemini_provider>(std::move(u), block.model, block.system_prompt, std::move(req));
        case wire::anthropic:
            return std::make_unique<anthropic_provider>(std::move(u), block.model, block.system_prompt, std::move(req));
        }
        return nullptr;
    }

private:
    static const upstream_settings& settings(const block_config& block)
    {
        if (const auto* u = find_block_settings<upstream_settings>(block)) return *u;
        throw stream_error(error::internal_error, "block \"" + block.name + "\" holds no upstream settings");
    }

    wire wire_;
    std::string name_;
    upstream_settings defaults_;
};

}  // namespace

const provider_registry& provider_registry::builtin()
{
    static const provider_registry registry = [] {
        provider_registry r;
        r.add("mock", std::make_shared<mock_factory>());
        r.add("openai", std::make_shared<upstream_factory>(upstream_factory::wire::openai, "openai", "https://api.openai.com/v1",
                                                           "OPENAI_API_KEY"));
        r.add("gemini", std::make_shared<upstream_factory>(upstream_factory::wire::gemini, "gemini",
                                                           "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY"));
        r.add("anthropic", std::make_shared<upstream_factory>(upstream_factory::wire::anthropic, "anthropic",
                                                              "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY"));
        return r;
    }();
    return registry;
}

}  // namespace liveai
