// OpenAI chat completions streaming (and every OpenAI-compatible server:
// vLLM, llama.cpp server, Ollama...): POST {base_url}/chat/completions with
// stream: true and stream_options.include_usage.
#pragma once

#include <liveai/providers/http_stream_provider.hpp>
#include <liveai/providers/openai_chunk_reader.hpp>
#include <liveai/request.hpp>

namespace boost::json {
class value;
}

namespace liveai {

class openai_provider final : public http_stream_provider {
public:
    openai_provider(upstream_settings settings, std::string model, std::string system_prompt, request req);

protected:
    event_action on_event(std::string_view data, delta_sink& out) override;

private:
    providers::openai_chunk_reader reader_;
    providers::openai_chunk chunk_;
};

// An in-stream or response error object as the contract's error: by its
// type or string code (rate_limit_exceeded, server_error, ...), else by a
// numeric code read as an HTTP status (429 -> upstream_rate_limited,
// 5xx -> upstream_unavailable, retryable), else provider_error.
stream_error openai_stream_error(const boost::json::value& error_value, std::string message);

}  // namespace liveai
