// Settings shared by the providers that stream from an HTTP upstream
// ([blocks.<name>.openai] / [blocks.<name>.gemini] in the config).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace liveai {

struct upstream_settings {
    // http:// (local servers) or https:// (TLS 1.2+, certificate and host name
    // verified against the system CA store and `ca_file`).
    std::string base_url;
    // The environment variable holding the API key; empty for servers that
    // need none. The key is never stored in the config, nor logged.
    std::string api_key_env;
    std::string ca_file;  // extra PEM bundle, for private CAs
    // Each fires well before the block's default deadlines (30 s to the first
    // token, 30 s between two), so a slow attempt can still be retried.
    std::chrono::milliseconds connect_timeout{5'000};      // resolve, TCP connect, TLS handshake: each
    std::chrono::milliseconds first_byte_timeout{10'000};  // request write, and from it to the response header
    std::chrono::milliseconds read_timeout{20'000};        // between two reads of the body
    // Retries before the first token only (never after one was sent), with
    // capped exponential backoff and jitter. A Retry-After is honoured when
    // the wait fits before the first-token deadline; otherwise the stream
    // fails at once with the upstream's error.
    std::uint32_t max_retries = 2;
    std::chrono::milliseconds retry_base{250};
    std::chrono::milliseconds retry_max{8'000};
    std::size_t max_event_bytes = 1 << 20;  // one SSE event from the upstream
    std::size_t max_tool_call_bytes = 1 << 20;  // the arguments of one tool call, all fragments
    std::size_t pool_size = 16;             // idle keep-alive connections per host and thread
    std::optional<double> temperature;
    std::optional<std::uint32_t> max_tokens;
    // OpenAI: the request field that carries max_tokens. OpenAI itself wants
    // "max_completion_tokens" (reasoning models refuse the old name);
    // "max_tokens" is for OpenAI-compatible servers that know only that one.
    std::string max_tokens_field = "max_completion_tokens";

    // Not a TOML key: set by the engine from the block's deadlines. How long
    // the provider may take to its first token, every attempt and wait
    // included (zero: unbounded). No step outlasts it, and a retry that could
    // not start before it is not waited for.
    std::chrono::milliseconds first_token_budget{0};
};

}  // namespace liveai
