#include <liveai/engine.hpp>

#include <liveai/detail/utf8.hpp>
#include <liveai/error.hpp>
#include <liveai/compose/attempts.hpp>
#include <liveai/compose/deadline_stream.hpp>

#include <algorithm>
#include <stdexcept>

namespace liveai {

std::string_view to_string(disconnect_policy policy) noexcept
{
    return policy == disconnect_policy::detach ? "detach" : "cancel";
}

bool valid_block_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 64) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
        if (!ok) return false;
    }
    return true;
}

bool valid_model_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 256) return false;
    for (const char c : name)
        if (c <= ' ' || c > '~' || c == '"' || c == '\\') return false;
    return true;
}

std::chrono::milliseconds first_token_budget(const liveai::deadlines& d) noexcept
{
    if (d.first_token.count() > 0 && d.total.count() > 0) return std::min(d.first_token, d.total);
    return d.first_token.count() > 0 ? d.first_token : d.total;
}

engine::engine(std::vector<block_config> blocks) : engine(std::move(blocks), provider_registry::builtin()) {}

engine::engine(std::vector<block_config> blocks, provider_registry providers)
    : blocks_(std::move(blocks)), providers_(std::move(providers))
{
    factories_.reserve(blocks_.size());
    for (auto& b : blocks_) {
        if (!b.fallback.empty()) {
            for (const auto& name : b.fallback) {
                const auto* attempt = find(name);
                if (!attempt || attempt == &b || !attempt->fallback.empty())
                    throw std::invalid_argument("block \"" + b.name + "\": fallback names \"" + name +
                                                "\", which is not another block with a provider of its own");
            }
            factories_.push_back(nullptr);
            continue;
        }
        const auto* factory = providers_.find(b.provider);
        if (!factory)
            throw std::invalid_argument("block \"" + b.name + "\": provider \"" + b.provider +
                                        "\" is not registered (registered: " + providers_.list() + ")");
        if (!b.settings.has_value()) b.settings = factory->default_settings();
        factory->prepare(b);
        factories_.push_back(factory);
    }
}

void collect_result::add(const token& t)
{
    switch (t.kind) {
    case token_kind::text:
        text.append(t.text);
        ++chunks;
        return;
    case token_kind::reasoning: reasoning.append(t.text); return;
    case token_kind::tool_call:
        if (t.index >= max_tool_calls)
            throw stream_error(error::upstream_protocol, "tool call index " + std::to_string(t.index) + " is past the limit of " +
                                                             std::to_string(max_tool_calls) + " calls in one answer");
        if (t.index >= tool_calls.size()) tool_calls.resize(t.index + 1);
        auto& call = tool_calls[t.index];
        if (!t.id.empty()) call.id = t.id;
        if (!t.name.empty()) call.name = t.name;
        call.arguments.append(t.text);
        return;
    }
}

const block_config* engine::find(std::string_view name) const noexcept
{
    for (const auto& b : blocks_)
        if (b.name == name) return &b;
    return nullptr;
}

const provider_factory& engine::factory_of(const block_config& block) const
{
    // By position when the block is one of ours (the usual case: no lookup).
    if (&block >= blocks_.data() && &block < blocks_.data() + blocks_.size()) return *factories_[&block - blocks_.data()];
    if (const auto* f = providers_.find(block.provider)) return *f;
    throw stream_error(error::unknown_block, "provider \"" + block.provider + "\" is not registered");
}

const block_config& engine::require(std::string_view name) const
{
    if (const auto* b = find(name)) return *b;
    std::string shown(name.substr(0, 64));
    throw stream_error(error::unknown_block, "no block named \"" + shown + "\" is configured");
}

namespace {

void check_text(std::string_view text, const std::string& where)
{
    if (const auto bad = detail::find_invalid_utf8(text); bad != std::string_view::npos)
        throw stream_error(error::invalid_prompt, where + " is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
}

void refuse_option(const block_config& block, const request_options& o)
{
    const auto allowed = [&](std::string_view name) {
        return std::find(block.client_options.begin(), block.client_options.end(), name) != block.client_options.end();
    };
    const auto check = [&](bool set, std::string_view name) {
        if (!set || allowed(name)) return;
        std::string listed;
        for (const auto& n : block.client_options) listed += (listed.empty() ? "" : ", ") + n;
        throw stream_error(error::invalid_request, "options." + std::string(name) + ": block \"" + block.name +
                                                       "\" does not let clients set it (its client_options: " +
                                                       (listed.empty() ? "none" : listed) + ")");
    };
    check(o.max_tokens.has_value(), "max_tokens");
    check(o.temperature.has_value(), "temperature");
    check(o.top_p.has_value(), "top_p");
    check(!o.stop.empty(), "stop");
    check(o.seed.has_value(), "seed");
}

}  // namespace

void engine::validate(const block_config& block, request& req)
{
    if (req.messages.empty()) {
        if (req.prompt.empty()) throw stream_error(error::invalid_prompt, "prompt must not be empty");
        check_text(req.prompt, "prompt");
        if (req.prompt.size() > block.max_prompt_bytes)
            throw stream_error(error::prompt_too_large, "prompt is " + std::to_string(req.prompt.size()) + " bytes; block \"" +
                                                            block.name + "\" accepts at most " +
                                                            std::to_string(block.max_prompt_bytes));
        prompt_to_message(req);
    } else {
        if (!req.prompt.empty()) throw stream_error(error::invalid_request, "send either prompt or messages, not both");
        if (req.messages.size() > block.max_messages)
            throw stream_error(error::invalid_request, "messages: " + std::to_string(req.messages.size()) + " messages; block \"" +
                                                           block.name + "\" accepts at most " + std::to_string(block.max_messages));
    }
    refuse_option(block, req.options);
    std::size_t bytes = 0;
    std::vector<std::string_view> call_ids;
    for (std::size_t i = 0; i < req.messages.size(); ++i) {
        const auto& m = req.messages[i];
        const auto where = "messages[" + std::to_string(i) + "]";
        check_text(m.content, where + ".content");
        bytes += m.content.size() + m.tool_call_id.size();
        for (const auto& c : m.tool_calls) {
            bytes += c.id.size() + c.name.size() + c.arguments.size();
            call_ids.push_back(c.id);
        }
        if (m.role == message_role::tool &&
            std::find(call_ids.begin(), call_ids.end(), std::string_view(m.tool_call_id)) == call_ids.end())
            throw stream_error(error::invalid_request, where + ".tool_call_id: \"" + m.tool_call_id.substr(0, 64) +
                                                           "\" answers no tool call of an earlier assistant message");
    }
    for (const auto& t : req.tools) bytes += t.name.size() + t.description.size() + t.parameters.size();
    for (const auto& s : req.options.stop) bytes += s.size();
    if (bytes > block.max_prompt_bytes)
        throw stream_error(error::prompt_too_large, "the conversation is " + std::to_string(bytes) + " bytes; block \"" +
                                                        block.name + "\" accepts at most " + std::to_string(block.max_prompt_bytes));
    if (last_user_text(req).empty() && req.messages.back().role != message_role::tool)
        throw stream_error(error::invalid_prompt, "the conversation has no user message to answer");
}

std::unique_ptr<token_stream> engine::open(const block_config& block, request req) const
{
    validate(block, req);
    if (block.fallback.empty()) return open_validated(block, std::move(req));
    // A composed block: each attempt is another block, with its own
    // provider and deadlines; the request was checked against this block.
    std::vector<compose::attempt> attempts;
    attempts.reserve(block.fallback.size());
    for (const auto& name : block.fallback) {
        const auto& b = require(name);
        attempts.push_back({b.name, b.provider, b.model, [this, &b, req] { return open_validated(b, req); }});
    }
    auto composed = block.hedge_after.count() > 0 ? compose::hedge(block.hedge_after, std::move(attempts))
                                                  : compose::fallback(std::move(attempts));
    return with_deadlines(block, std::move(composed));
}

std::unique_ptr<token_stream> engine::open_validated(const block_config& block, request req) const
{
    auto provider = factory_of(block).open(block, std::move(req));
    if (!provider) throw stream_error(error::internal_error, "provider \"" + block.provider + "\" opened no stream");
    return with_deadlines(block, std::move(provider));
}

std::unique_ptr<token_stream> engine::with_deadlines(const block_config& block, std::unique_ptr<token_stream> s)
{
    const auto& d = block.deadlines;
    if (d.first_token.count() == 0 && d.idle.count() == 0 && d.total.count() == 0) return s;
    return std::make_unique<compose::deadline_stream>(std::move(s), block.deadlines);
}

std::unique_ptr<token_stream> engine::stream(std::string_view name, request req) const
{
    const auto& block = require(name);
    if (!block.streaming)
        throw stream_error(error::streaming_disabled,
                           "block \"" + block.name + "\" has streaming = false; use the collect endpoint");
    return open(block, std::move(req));
}

boost::asio::awaitable<collect_result> engine::collect(std::string_view name, request req) const
{
    const auto& block = require(name);
    auto stream = open(block, std::move(req));
    collect_result result;
    for (;;) {
        auto t = stream->try_next();
        if (!t && !(t = co_await stream->next())) break;
        result.add(*t);
    }
    result.finish_reason = stream->finish_reason();
    result.usage = stream->usage();
    co_return result;
}

}  // namespace liveai
