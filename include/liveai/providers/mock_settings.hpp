// Settings of the mock provider ([blocks.<name>.mock] in the config).
#pragma once

#include <liveai/error.hpp>
#include <liveai/token.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace liveai {

struct mock_settings {
    // Total chunks, echoed prompt words included. Ignored when `text` is set.
    std::uint32_t tokens = 32;
    // A fixed text to stream (split into words) instead of generated words.
    std::optional<std::string> text;
    // How many leading words of the prompt to echo before its own text.
    std::uint32_t echo_words = 8;
    // Timing. Token i is due at start + first_token_delay + i * delay + a
    // jitter in [0, jitter]: absolute times, so lateness never accumulates.
    std::chrono::milliseconds delay{0};
    std::chrono::milliseconds jitter{0};
    std::chrono::milliseconds first_token_delay{0};
    // A slow first token now and then (for the hedging benchmark): this
    // share of streams (0 to 1; drawn per stream from a process-wide
    // sequence seeded by `seed`) waits slow_first_token_delay instead.
    double slow_ratio = 0;
    std::chrono::milliseconds slow_first_token_delay{0};
    // Fail with fail_code after this many tokens.
    std::optional<std::uint32_t> fail_after;
    liveai::error fail_code = liveai::error::provider_error;
    std::optional<bool> fail_retryable;  // default: the code's own
    liveai::finish_reason finish = liveai::finish_reason::stop;
    std::uint64_t seed = 0;
    // Reasoning to stream (split into words, kind reasoning) before the answer.
    std::optional<std::string> reasoning;
    // A tool call to stream after the answer (its arguments, a JSON object,
    // in fragments of at most 8 bytes); the stream then ends with
    // finish_reason tool_calls. Its id is "call_mock_0".
    std::optional<std::string> tool_name;
    std::string tool_arguments = "{}";
};

}  // namespace liveai
