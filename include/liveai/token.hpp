// A token as a provider yields it, and how a stream ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace liveai {

// What a delta of model output is: answer text, reasoning (a model's
// thinking, as OpenAI-compatible servers, Gemini and Anthropic stream it), or
// a fragment of a tool call.
enum class token_kind : std::uint8_t { text, reasoning, tool_call };

// One piece of model output. Its strings are whole UTF-8 (never a split
// character) and may view into the provider's buffer: they stay valid only
// until the next call to token_stream::next() or the stream's destruction.
// Copy them to keep them.
struct token {
    // text, reasoning: the delta. tool_call: a fragment of the call's
    // arguments (a JSON object once all of its fragments are joined).
    std::string_view text;
    token_kind kind = token_kind::text;
    // tool_call: which call of the answer (0, 1, ... in the order they start).
    std::uint32_t index = 0;
    // tool_call: set in a call's first fragment, and may be empty after it.
    std::string_view id{};
    std::string_view name{};
};

// How an answer ended. tool_calls: the model asks for the tool calls it
// streamed to be run, and their results sent back in a next request.
enum class finish_reason { stop, length, content_filter, cancelled, tool_calls };

// The contract's name: "stop", "length", "content_filter", "cancelled".
std::string_view to_string(finish_reason reason) noexcept;
std::optional<finish_reason> finish_reason_from_string(std::string_view name) noexcept;

struct usage {
    std::uint64_t input_tokens = 0;
    std::uint64_t output_tokens = 0;
};

}  // namespace liveai
