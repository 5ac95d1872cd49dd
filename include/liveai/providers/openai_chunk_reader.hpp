// Reads the members of an OpenAI chat-completions chunk that a stream needs
// (choices[0].delta: content, reasoning_content / reasoning, tool_calls;
// choices[0].finish_reason, usage, and whether it is an error object) with Boost.JSON's event parser: no DOM, the content
// unescaped straight into the caller's buffer, nothing allocated per chunk
// once that buffer has grown. Sans-I/O.
#pragma once

#include <liveai/token.hpp>

#include <boost/system/error_code.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liveai::providers {

struct openai_chunk {
    // choices: absent, not an array, or empty (e.g. the usage chunk): false.
    bool has_choice = false;
    // choices[0] is there but is not an object.
    bool bad_choice = false;
    bool has_content = false;  // delta.content was a string
    std::string content;       // unescaped
    // delta.reasoning_content (vLLM, DeepSeek) or delta.reasoning (Ollama,
    // OpenRouter, llama.cpp): empty when neither was a string.
    std::string reasoning;
    // delta.tool_calls[i]: {index, id, function: {name, arguments}}; only
    // the first tool_call_count entries are this chunk's (the rest are
    // buffers kept for reuse).
    struct tool_call_delta {
        std::int64_t index = -1;  // -1: missing or not an integer
        std::string id;
        std::string name;
        std::string arguments;
    };
    std::vector<tool_call_delta> tool_calls;
    std::size_t tool_call_count = 0;
    std::optional<finish_reason> finish;
    std::optional<liveai::usage> usage;  // when usage was an object
    // {"error": …} (OpenAI, vLLM, llama.cpp) or vLLM's {"object": "error", …}:
    // the caller reads the error with a DOM (rare, not on the token path).
    bool is_error = false;
};

class openai_chunk_reader {
public:
    openai_chunk_reader();
    ~openai_chunk_reader();
    openai_chunk_reader(openai_chunk_reader&&) noexcept;
    openai_chunk_reader& operator=(openai_chunk_reader&&) noexcept;

    // Reads one whole JSON text into `out` (reset first). Fails with a
    // Boost.JSON error, or with error::not_object when the text is valid
    // JSON but not an object.
    void read(std::string_view json, openai_chunk& out, boost::system::error_code& ec);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace liveai::providers
