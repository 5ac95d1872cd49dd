// Reads the members of an OpenAI chat-completions chunk that a stream needs
// (choices[0].delta.content, choices[0].finish_reason, usage, and whether it
// is an error object) with Boost.JSON's event parser: no DOM, the content
// unescaped straight into the caller's buffer, nothing allocated per chunk
// once that buffer has grown. Sans-I/O.
#pragma once

#include <liveai/token.hpp>

#include <boost/system/error_code.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace liveai::providers {

struct openai_chunk {
    // choices: absent, not an array, or empty (e.g. the usage chunk): false.
    bool has_choice = false;
    // choices[0] is there but is not an object.
    bool bad_choice = false;
    bool has_content = false;  // delta.content was a string
    std::string content;       // unescaped
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
