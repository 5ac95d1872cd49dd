// Loading and validating the TOML configuration.
#pragma once

#include <liveai/block_config.hpp>
#include <liveai/server/server_config.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace liveai {

class provider_registry;

struct app_config {
    server::server_config server;
    std::vector<block_config> blocks;
};

// Thrown for a config that cannot be used. Each problem names the file, line,
// column and key, e.g. "liveai.toml:12:1: blocks.chat.mock.delay_ms: ...".
class config_error : public std::runtime_error {
public:
    explicit config_error(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const noexcept { return problems_; }

private:
    std::vector<std::string> problems_;
};

// Reads and validates a config file; throws config_error listing every
// problem. A block's `provider` names one of `providers` (without it: the
// built-in ones, provider_registry::builtin()), whose factory reads the
// block's [blocks.<name>.<provider>] table.
app_config load_config_file(const std::string& path);
app_config load_config_file(const std::string& path, const provider_registry& providers);

// The same for text in memory; `source_name` is used in messages.
app_config parse_config(std::string_view toml_text, std::string_view source_name);
app_config parse_config(std::string_view toml_text, std::string_view source_name, const provider_registry& providers);

// What the environment lacks for a config (each provider says, see
// provider_factory::missing_environment): e.g. each openai/gemini/anthropic
// block whose api_key_env names a variable that is not set (api_key_env = ""
// needs none).
// The server refuses to start on any of them; --check-config lists them.
std::vector<std::string> missing_api_keys(const app_config& config);
std::vector<std::string> missing_api_keys(const app_config& config, const provider_registry& providers);

// Settings that are valid but defeat each other, e.g. retries that can never
// happen because one slow attempt outlasts the block's first-token deadline.
std::vector<std::string> config_warnings(const app_config& config);
std::vector<std::string> config_warnings(const app_config& config, const provider_registry& providers);

}  // namespace liveai
