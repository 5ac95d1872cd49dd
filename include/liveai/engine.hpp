// The runtime engine: turns a block name and a request into tokens, either
// collected into one answer or streamed with the block's deadlines applied.
#pragma once

#include <liveai/block_config.hpp>
#include <liveai/provider_registry.hpp>
#include <liveai/request.hpp>
#include <liveai/token_stream.hpp>

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liveai {

// A whole answer, assembled from a stream's deltas.
struct collect_result {
    std::string text;
    std::string reasoning;
    std::vector<liveai::tool_call> tool_calls;  // by the calls' index
    liveai::finish_reason finish_reason = liveai::finish_reason::stop;
    std::optional<liveai::usage> usage;  // nullopt: the provider reported none
    std::size_t chunks = 0;              // text deltas

    // Adds one delta; throws stream_error (upstream_protocol) for a tool
    // call index past max_tool_calls.
    void add(const token& t);
    static constexpr std::size_t max_tool_calls = 128;
};

// Immutable after construction, so one engine may serve many threads at once;
// each stream it returns belongs to the executor that awaits it.
class engine {
public:
    // Each block's provider is looked up in `providers` (without it: the
    // built-in ones) and prepared here, off the I/O threads (the upstream
    // providers load their TLS context, the system CA store, so no I/O
    // thread blocks on it later). A block without settings gets its
    // provider's defaults. Throws std::invalid_argument for a provider that
    // is not registered, stream_error for a block that cannot work (a
    // ca_file that cannot be loaded).
    explicit engine(std::vector<block_config> blocks);
    engine(std::vector<block_config> blocks, provider_registry providers);

    const std::vector<block_config>& blocks() const noexcept { return blocks_; }
    const provider_registry& providers() const noexcept { return providers_; }
    const block_config* find(std::string_view name) const noexcept;

    // A stream for a block that opted in to streaming. Throws stream_error:
    // unknown_block, streaming_disabled, invalid_prompt, prompt_too_large.
    // Expired deadlines end it with first_token_timeout, idle_timeout or
    // deadline_exceeded, and cancel the provider.
    std::unique_ptr<token_stream> stream(std::string_view block, request req) const;

    // The whole answer (the non-streaming mode): works for every block.
    boost::asio::awaitable<collect_result> collect(std::string_view block, request req) const;

    // A stream of any block, streaming opted in or not (what collect uses).
    std::unique_ptr<token_stream> open(const block_config& block, request req) const;

    // Checks a request against a block's limits and makes a prompt its one
    // user message; throws stream_error: invalid_prompt (empty, not UTF-8),
    // prompt_too_large (the whole conversation over max_prompt_bytes),
    // invalid_request (over max_messages, an option the block does not let
    // clients set, a tool message answering no call).
    static void validate(const block_config& block, request& req);

private:
    const block_config& require(std::string_view name) const;
    const provider_factory& factory_of(const block_config& block) const;
    std::unique_ptr<token_stream> open_validated(const block_config& block, request req) const;
    static std::unique_ptr<token_stream> with_deadlines(const block_config& block, std::unique_ptr<token_stream> s);

    std::vector<block_config> blocks_;
    provider_registry providers_;
    std::vector<const provider_factory*> factories_;  // blocks_[i]'s (null for a composed block)
};

}  // namespace liveai
