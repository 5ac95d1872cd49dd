// Which browser origins may call the server: the CORS answer of the API
// paths and the Origin check of WebSocket upgrades (RFC 6455 §10.2), as
// pure functions of the request's headers and the configured lists.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace liveai::server {

// scheme://host[:port] with scheme http or https, nothing after the port.
bool valid_origin(std::string_view origin) noexcept;

// Whether `origin` is in `allowed` ("*" matches any origin). Origins compare
// case-insensitively (scheme and host are), with a default port dropped.
bool origin_listed(std::string_view origin, std::span<const std::string> allowed) noexcept;

// Whether a request from `origin` may see the answer: an Origin-less request
// (not from a browser) always may.
bool cors_allowed(std::string_view origin, std::span<const std::string> allowed) noexcept;

// Whether a WebSocket upgrade from `origin` to `host` (the Host header) is
// accepted: no Origin (not a browser) is; with a list, a listed origin is;
// without one, only the origin whose host[:port] is `host`.
bool ws_origin_allowed(std::string_view origin, std::string_view host, std::span<const std::string> allowed) noexcept;

}  // namespace liveai::server
