// OpenAI chat completions streaming (and every OpenAI-compatible server:
// vLLM, llama.cpp server, Ollama...): POST {base_url}/chat/completions with
// stream: true and stream_options.include_usage.
#pragma once

#include <liveai/providers/http_stream_provider.hpp>
#include <liveai/request.hpp>

namespace liveai {

class openai_provider final : public http_stream_provider {
public:
    openai_provider(upstream_settings settings, std::string model, std::string system_prompt, request req);

protected:
    event_action on_event(std::string_view data, std::string& text) override;
    bool ends_at_eof() const noexcept override { return false; }
};

}  // namespace liveai
