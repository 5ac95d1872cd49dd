// A token as a provider yields it, and how a stream ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace liveai {

// One piece of model output. `text` is whole UTF-8 (never a split character)
// and may view into the provider's buffer: it stays valid only until the next
// call to token_stream::next() or the stream's destruction. Copy it to keep it.
struct token {
    std::string_view text;
};

enum class finish_reason { stop, length, content_filter, cancelled };

// The contract's name: "stop", "length", "content_filter", "cancelled".
std::string_view to_string(finish_reason reason) noexcept;
std::optional<finish_reason> finish_reason_from_string(std::string_view name) noexcept;

struct usage {
    std::uint64_t input_tokens = 0;
    std::uint64_t output_tokens = 0;
};

}  // namespace liveai
