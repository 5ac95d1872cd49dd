// Private: the whole answers of the endpoints that do not stream (health,
// metrics, the block list, the browser assets, every contract error), as
// pure functions of the route; the session only writes them.
#pragma once

#include "key_table.hpp"
#include "router.hpp"

#include <liveai/engine.hpp>
#include <liveai/error.hpp>
#include <liveai/server/metrics.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace liveai::server::detail {

struct http_answer {
    unsigned status = 200;
    std::string_view content_type;  // empty: no Content-Type (204)
    std::string body;
    std::string_view allow;  // 405
    bool retry_after = false;  // 429 and 503 say when to come back
    std::uint32_t retry_after_seconds = 0;  // when set, instead of the server's overload_retry_after
    std::string extra_headers;  // whole lines ("Name: value\r\n"): WWW-Authenticate, CORS
};

// Which error body a path speaks: liveai's contract, or OpenAI's (/v1/).
enum class error_shape { liveai, openai };

// {"error":{"code":"…","message":"…"}}
std::string error_body(std::string_view code, std::string_view message);

// A contract error with its status from the error table.
http_answer error_answer(liveai::error code, std::string_view message, error_shape shape = error_shape::liveai,
                         std::string_view param = {});
http_answer error_answer(const route_error& e, error_shape shape = error_shape::liveai);

// GET /v1/models: the blocks `key` may use (every block without one), each
// as its model_alias or its name.
http_answer models_answer(const liveai::engine& engine, std::int64_t created, const key_state* key);

// health, metrics, blocks and asset routes.
http_answer answer_simple(const route& r, const liveai::engine& engine, const server::metrics& metrics);

// The status line and headers of a whole answer, up to the blank line:
// Content-Type, Cache-Control: no-store, Retry-After (seconds) on 429/503,
// Allow on 405, Content-Length (none on 204), and Connection: close, or
// keep-alive for an HTTP/1.0 client that keeps the connection.
void append_response_head(std::string& out, const http_answer& a, bool keep_alive, bool http10,
                          std::uint64_t retry_after_seconds);

// The asset table's lookup, for route_table::is_asset.
bool is_web_asset(std::string_view path) noexcept;

}  // namespace liveai::server::detail
