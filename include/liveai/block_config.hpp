// A block: a named, configured use of a provider ([blocks.<name>] in TOML).
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace liveai {

// Deadlines applied by engine to every stream of a block; zero disables one.
struct deadlines {
    std::chrono::milliseconds first_token{30'000};  // start to first token
    std::chrono::milliseconds idle{30'000};         // between two tokens
    std::chrono::milliseconds total{300'000};       // start to end
};

// The time a provider has to its first token: the nearer of first_token and
// total (zero when neither is set).
std::chrono::milliseconds first_token_budget(const liveai::deadlines& d) noexcept;

// What a server does with a stream whose client disconnected before its end.
// cancel: stop the provider at once (no tokens paid for that nobody reads).
// detach: keep generating into the replay buffer for resume_grace, so a client
// that reconnects with Last-Event-ID gets the whole answer; cancel after that.
enum class disconnect_policy { cancel, detach };

struct block_config {
    std::string name;
    std::string provider = "mock";  // a name in the engine's provider_registry
    std::string model = "mock-1";
    std::string system_prompt;
    bool streaming = false;  // streaming is opt-in; collect always works
    std::size_t max_prompt_bytes = 32 * 1024;  // the whole conversation: every message, tool and option
    std::size_t max_messages = 256;
    // The request options a client may set (max_tokens, temperature, top_p,
    // stop, seed); any other is refused with invalid_request.
    std::vector<std::string> client_options;
    liveai::deadlines deadlines;
    disconnect_policy on_disconnect = disconnect_policy::cancel;
    std::chrono::milliseconds resume_grace{30'000};  // detach: how long to wait for the client
    // A composed block: the blocks it tries, in order (compose::fallback),
    // or, with hedge_after > 0, also in parallel (compose::hedge). Such a
    // block has no provider of its own; its deadlines hold over the whole.
    std::vector<std::string> fallback;
    std::chrono::milliseconds hedge_after{0};
    // The name /v1/models lists and /v1/chat/completions takes as `model`
    // besides the block's own ("" for none).
    std::string model_alias;
    // An API key may come as ?access_token= (EventSource cannot send headers).
    bool allow_query_token = false;
    // The provider's own settings ([blocks.<name>.<provider>]), of the type
    // its factory reads: find_block_settings<T>() / block_settings<T>() in
    // provider_registry.hpp. Empty: the provider's defaults.
    std::any settings;
};

std::string_view to_string(disconnect_policy policy) noexcept;

// The contract's name rule for blocks, and for providers (whose settings
// are a block's table of that name): [a-z0-9][a-z0-9_-]{0,63}.
bool valid_block_name(std::string_view name) noexcept;

// A model name or alias as /v1/models lists it: 1 to 256 printable ASCII
// characters, no space, quote or backslash (it is a metric label too).
bool valid_model_name(std::string_view name) noexcept;

}  // namespace liveai
