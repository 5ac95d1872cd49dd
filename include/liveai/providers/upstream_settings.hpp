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
    std::chrono::milliseconds connect_timeout{10'000};     // TCP + TLS
    std::chrono::milliseconds first_byte_timeout{60'000};  // request sent to response header
    std::chrono::milliseconds read_timeout{60'000};        // between two reads of the body
    // Retries before the first token only (never after one was sent), with
    // capped exponential backoff and full jitter.
    std::uint32_t max_retries = 2;
    std::chrono::milliseconds retry_base{250};
    std::chrono::milliseconds retry_max{8'000};
    std::size_t max_event_bytes = 1 << 20;  // one SSE event from the upstream
    std::size_t pool_size = 16;             // idle keep-alive connections per host and thread
    std::optional<double> temperature;
    std::optional<std::uint32_t> max_tokens;
};

}  // namespace liveai
