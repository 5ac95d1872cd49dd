// What a client asks a block for: a prompt, or a conversation with options
// and tools (contract v1.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace liveai {

// A tool call the model asked for, its fragments joined.
struct tool_call {
    std::string id;
    std::string name;
    std::string arguments;  // a JSON object
};

enum class message_role { system, user, assistant, tool };

struct message {
    message_role role = message_role::user;
    std::string content;  // text
    // assistant: the calls it made (their results follow as tool messages).
    std::vector<liveai::tool_call> tool_calls;
    // tool: which call this is the result of.
    std::string tool_call_id;
};

// A tool the model may call.
struct tool_definition {
    std::string name;         // [a-zA-Z0-9_-]{1,64}
    std::string description;
    std::string parameters;   // a JSON Schema object, serialized; "" for none
};

// Per-request generation options; a block says which a client may set
// (client_options), and unset ones keep the block's settings.
struct request_options {
    std::optional<std::uint32_t> max_tokens;
    std::optional<double> temperature;  // 0 to 2
    std::optional<double> top_p;        // 0 to 1
    std::vector<std::string> stop;      // at most 4
    std::optional<std::int64_t> seed;
};

struct request {
    // One user message. A request has either a prompt or messages; the
    // engine turns a prompt into messages = {{user, prompt}} before a
    // provider sees it, so providers read messages only.
    std::string prompt;
    std::vector<message> messages;
    request_options options;
    std::vector<tool_definition> tools;
    // "" (the provider's default), "auto", "none", "required", or a tool's name.
    std::string tool_choice;
};

std::string_view to_string(message_role role) noexcept;

// Makes a prompt the conversation's one user message (what the engine does
// before a provider sees a request; a provider made by hand calls it too).
void prompt_to_message(request& req);

// The text of the last user message ("" when there is none): what the mock echoes.
std::string_view last_user_text(const request& req) noexcept;

}  // namespace liveai
