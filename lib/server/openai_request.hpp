// Private: a POST /v1/chat/completions body as a liveai request (pure).
//
// The fields an OpenAI client sends map onto the conversation request:
// messages, tools and tool_choice as they are; max_tokens (or
// max_completion_tokens), temperature, top_p, stop and seed as the request's
// options, which the block allowlists (client_options) as for the liveai
// endpoints. Any other field is refused by name: a client must not believe
// a setting took effect when it did not.
#pragma once

#include "router.hpp"

#include <liveai/engine.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace liveai::server::detail {

struct openai_request {
    const block_config* block = nullptr;
    std::string model;  // as the client named it (a block's name or alias)
    liveai::request request;
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
};

std::variant<openai_request, route_error> read_openai_request(std::string_view body, const liveai::engine& engine);

// The block a /v1 `model` names: its name, or its model_alias.
const block_config* find_model(const liveai::engine& engine, std::string_view model) noexcept;

// The `param` an error message names: "messages[0].role: ..." gives
// "messages[0].role", and an option's path loses its "options." prefix.
std::string_view error_param(std::string_view message) noexcept;

}  // namespace liveai::server::detail
