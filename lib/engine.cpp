#include <liveai/engine.hpp>

#include <liveai/detail/utf8.hpp>
#include <liveai/error.hpp>
#include <liveai/providers/gemini_provider.hpp>
#include <liveai/providers/mock_provider.hpp>
#include <liveai/providers/openai_provider.hpp>

#include <liveai/compose/deadline_stream.hpp>

#include "providers/upstream.hpp"

namespace liveai {

std::string_view to_string(provider_kind kind) noexcept
{
    switch (kind) {
    case provider_kind::mock: return "mock";
    case provider_kind::openai: return "openai";
    case provider_kind::gemini: return "gemini";
    }
    return "mock";
}

std::string_view to_string(disconnect_policy policy) noexcept
{
    return policy == disconnect_policy::detach ? "detach" : "cancel";
}

std::chrono::milliseconds first_token_budget(const liveai::deadlines& d) noexcept
{
    if (d.first_token.count() > 0 && d.total.count() > 0) return std::min(d.first_token, d.total);
    return d.first_token.count() > 0 ? d.first_token : d.total;
}

engine::engine(std::vector<block_config> blocks) : blocks_(std::move(blocks))
{
    // Load TLS contexts (the system CA store) now, not on an I/O thread at a
    // stream's first handshake, where it would stall every stream of that thread.
    for (const auto& b : blocks_) {
        if (b.provider == provider_kind::mock) continue;
        std::string why;
        if (const auto target = detail::parse_base_url(b.upstream.base_url, why); target && target->tls)
            detail::shared_tls_context(b.upstream.ca_file);
    }
}

const block_config* engine::find(std::string_view name) const noexcept
{
    for (const auto& b : blocks_)
        if (b.name == name) return &b;
    return nullptr;
}

const block_config& engine::require(std::string_view name) const
{
    if (const auto* b = find(name)) return *b;
    std::string shown(name.substr(0, 64));
    throw stream_error(error::unknown_block, "no block named \"" + shown + "\" is configured");
}

void engine::validate(const block_config& block, const request& req)
{
    if (req.prompt.empty()) throw stream_error(error::invalid_prompt, "prompt must not be empty");
    if (req.prompt.size() > block.max_prompt_bytes)
        throw stream_error(error::prompt_too_large, "prompt is " + std::to_string(req.prompt.size()) + " bytes; block \"" +
                                                        block.name + "\" accepts at most " +
                                                        std::to_string(block.max_prompt_bytes));
    if (const auto bad = detail::find_invalid_utf8(req.prompt); bad != std::string_view::npos)
        throw stream_error(error::invalid_prompt, "prompt is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
}

std::unique_ptr<token_stream> engine::open(const block_config& block, request req) const
{
    validate(block, req);
    std::unique_ptr<token_stream> provider;
    // The provider plans its retries within the time the block gives it.
    auto upstream = block.upstream;
    upstream.first_token_budget = first_token_budget(block.deadlines);
    switch (block.provider) {
    case provider_kind::mock: provider = std::make_unique<mock_provider>(block.mock, std::move(req)); break;
    case provider_kind::openai:
        provider = std::make_unique<openai_provider>(std::move(upstream), block.model, block.system_prompt, std::move(req));
        break;
    case provider_kind::gemini:
        provider = std::make_unique<gemini_provider>(std::move(upstream), block.model, block.system_prompt, std::move(req));
        break;
    }
    const auto& d = block.deadlines;
    if (d.first_token.count() == 0 && d.idle.count() == 0 && d.total.count() == 0) return provider;
    return std::make_unique<compose::deadline_stream>(std::move(provider), block.deadlines);
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
        result.text.append(t->text);
        ++result.chunks;
    }
    result.finish_reason = stream->finish_reason();
    result.usage = stream->usage();
    co_return result;
}

}  // namespace liveai
