// A block: a named, configured use of a provider ([blocks.<name>] in TOML).
#pragma once

#include <liveai/providers/mock_settings.hpp>
#include <liveai/providers/upstream_settings.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace liveai {

// Deadlines applied by engine to every stream of a block; zero disables one.
struct deadlines {
    std::chrono::milliseconds first_token{30'000};  // start to first token
    std::chrono::milliseconds idle{30'000};         // between two tokens
    std::chrono::milliseconds total{300'000};       // start to end
};

enum class provider_kind { mock, openai, gemini };

struct block_config {
    std::string name;
    provider_kind provider = provider_kind::mock;
    std::string model = "mock-1";
    std::string system_prompt;
    bool streaming = false;  // streaming is opt-in; collect always works
    std::size_t max_prompt_bytes = 32 * 1024;
    liveai::deadlines deadlines;
    mock_settings mock;
    upstream_settings upstream;  // openai and gemini
};

std::string_view to_string(provider_kind kind) noexcept;

}  // namespace liveai
