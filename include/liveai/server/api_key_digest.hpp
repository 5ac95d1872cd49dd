// API keys as the server keeps them: SHA-256 digests, never the keys.
#pragma once

#include <liveai/server/server_config.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace liveai::server {

key_digest digest_of_key(std::string_view key) noexcept;

// 64 hex digits (either case), or nullopt.
std::optional<key_digest> parse_key_digest(std::string_view hex) noexcept;
std::string to_hex(const key_digest& d);

// Equal digests, in time independent of where they differ.
bool digests_equal(const key_digest& a, const key_digest& b) noexcept;

// A new key: "lk-" and 43 base64url characters (256 random bits), every one
// a token character, so it can travel in a Sec-WebSocket-Protocol value.
std::string generate_api_key();

// Whether `key` can be an API key at all: 1 to 256 token characters (RFC 9110
// tchar), so that a key never needs quoting in a header or a subprotocol.
bool plausible_api_key(std::string_view key) noexcept;

}  // namespace liveai::server
