// Private: which endpoint a request is for, decided from its head alone.
//
// A pure function, so every contract error a request can earn before a
// stream starts (404 unknown_block, 405 with Allow, 409 streaming_disabled,
// 400 for a bad Last-Event-ID, 426 without an upgrade) has a socket-free
// test; the session only performs the route.
#pragma once

#include <liveai/engine.hpp>
#include <liveai/error.hpp>

#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace liveai::server::detail {

// A Last-Event-ID value, "<stream_id>.<seq>".
struct event_id {
    std::string_view stream_id;
    std::uint64_t seq = 0;
};
std::optional<event_id> parse_event_id(std::string_view text) noexcept;

enum class endpoint : std::uint8_t {
    health,       // GET /healthz
    metrics,      // GET /metrics
    blocks,       // GET /api/blocks
    asset,        // GET /, /streamClient.js, /streamHooks.js
    stream,       // GET|POST /api/stream/ai-block/{block}
    resume,       // the same with Last-Event-ID
    collect,      // POST /api/ai-block/{block}
    websocket,    // GET /api/ws/ai-block/{block} with an upgrade
    stop_stream,  // DELETE /api/streams/{id}
    extra,        // a path prefix the application registered
    chat_completions,  // POST /v1/chat/completions (OpenAI-compatible)
    models,            // GET /v1/models
    preflight,         // OPTIONS on an API path (CORS)
};

// What the request head says; views into the request, which outlives it.
struct request_head {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string_view target;
    std::string_view last_event_id;  // the header, empty if absent
    bool websocket_upgrade = false;
};

struct route {
    endpoint kind = endpoint::health;
    const block_config* block = nullptr;  // stream, resume, collect, websocket
    std::string_view stream_id;           // stop_stream
    std::string_view asset_path;          // asset
    event_id resume_from;                 // resume
    // GET ?prompt= (decoded); POST requests carry it in the body instead.
    std::optional<std::string> prompt;
    bool resumable = false;  // ?resumable=1: announce the stream's id first
    std::optional<std::string> access_token;  // ?access_token= (decoded), for blocks that allow it
    std::size_t extra_index = 0;  // extra: which registered prefix
};

// A contract error: the status comes from the error table, except 426.
struct route_error {
    route_error(liveai::error c, std::string m, std::string_view a = {}) : code(c), message(std::move(m)), allow(a) {}

    liveai::error code = liveai::error::not_found;
    std::string message;
    std::string_view allow;   // for 405
    bool upgrade_required = false;  // 426 instead of the table's 400
    std::string param;  // the request field at fault, where one is (OpenAI's error shape)
};

// What the router knows besides the head: the blocks, the embedded assets
// and the path prefixes an application added.
struct route_table {
    const liveai::engine* engine = nullptr;
    bool (*is_asset)(std::string_view path) noexcept = nullptr;
    std::span<const std::string> extra_prefixes;  // checked first, in order
};

std::variant<route, route_error> route_request(const request_head& head, const route_table& table);

// The prompt and options of a stream or collect request: from the route's
// query for GET, from the JSON body for POST.
struct stream_request {
    liveai::request request;  // a prompt, or a conversation (POST bodies)
    bool resumable = false;
};
std::variant<stream_request, route_error> read_stream_request(route& r, boost::beast::http::verb method,
                                                              std::string_view body);

// The contract's block-name rule (block_config.hpp).
using liveai::valid_block_name;

}  // namespace liveai::server::detail
