#include "router.hpp"

#include <liveai/error.hpp>
#include <liveai/request_json.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/params_view.hpp>

namespace liveai::server::detail {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view streams_prefix = "/api/streams/";
constexpr std::string_view stream_prefix = "/api/stream/ai-block/";
constexpr std::string_view collect_prefix = "/api/ai-block/";
constexpr std::string_view ws_prefix = "/api/ws/ai-block/";

route_error method_error(std::string_view allow, std::string_view what)
{
    return {error::method_not_allowed, "this endpoint answers " + std::string(what), allow};
}

// The block a path names, or the contract error for it.
std::variant<const block_config*, route_error> find_block(const route_table& table, std::string_view name)
{
    const auto* block = valid_block_name(name) ? table.engine->find(name) : nullptr;
    if (!block) return route_error{error::unknown_block, "no block named \"" + std::string(name.substr(0, 64)) + "\" is configured"};
    return block;
}

// ?prompt= and ?resumable=, percent-decoded ('+' is a space, as forms send it).
std::optional<route_error> read_query(std::string_view query, route& r)
{
    if (query.empty()) return std::nullopt;
    // Boost.URL 1.81 takes a std::string_view as a C string (strlen), which
    // runs past the end of a view into the request head: give it one.
    const std::string text(query);
    if (const auto parsed = boost::urls::parse_query(text.c_str()); !parsed)
        return route_error{error::invalid_request, "malformed query string: " + parsed.error().message() +
                                                       " (percent-encode the prompt, as encodeURIComponent does)"};
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    const boost::urls::params_view params(text.c_str(), opts);
    if (const auto it = params.find("prompt"); it != params.end()) r.prompt = (*it).value;
    if (const auto it = params.find("resumable"); it != params.end()) r.resumable = (*it).value == "1" || (*it).value == "true";
    if (const auto it = params.find("access_token"); it != params.end()) r.access_token = (*it).value;
    return std::nullopt;
}

}  // namespace

std::optional<event_id> parse_event_id(std::string_view text) noexcept
{
    const auto dot = text.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size() || text.size() - dot - 1 > 19)
        return std::nullopt;
    event_id id{text.substr(0, dot), 0};
    for (const char c : text.substr(dot + 1)) {
        if (c < '0' || c > '9') return std::nullopt;
        id.seq = id.seq * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return id;
}

std::variant<route, route_error> route_request(const request_head& head, const route_table& table)
{
    const auto qpos = head.target.find('?');
    const std::string_view path = head.target.substr(0, qpos);
    const std::string_view query = qpos == std::string_view::npos ? std::string_view{} : head.target.substr(qpos + 1);
    const bool get = head.method == http::verb::get;
    route r;

    for (std::size_t i = 0; i < table.extra_prefixes.size(); ++i) {
        if (!path.starts_with(table.extra_prefixes[i])) continue;
        r.kind = endpoint::extra;
        r.extra_index = i;
        return r;
    }

    auto simple = [&](endpoint kind) -> std::variant<route, route_error> {
        if (!get) return method_error("GET", "GET only");
        r.kind = kind;
        return r;
    };
    if (head.method == http::verb::options && (path.starts_with("/api/") || path.starts_with("/v1/"))) {
        r.kind = endpoint::preflight;
        return r;
    }
    if (path == "/v1/chat/completions") {
        if (head.method != http::verb::post) return method_error("POST", "POST only");
        r.kind = endpoint::chat_completions;
        return r;
    }
    if (path == "/v1/models") return simple(endpoint::models);
    if (path.starts_with("/v1/")) return route_error{error::not_found, "no endpoint at " + std::string(path.substr(0, 128)) +
                                                                           " (the OpenAI-compatible ones: POST /v1/chat/completions, GET /v1/models)"};
    if (path == "/healthz") return simple(endpoint::health);
    if (path == "/metrics") return simple(endpoint::metrics);
    if (path == "/api/blocks") return simple(endpoint::blocks);
    if (table.is_asset && table.is_asset(path)) {
        r.asset_path = path;
        return simple(endpoint::asset);
    }

    if (path.starts_with(streams_prefix)) {
        if (head.method != http::verb::delete_) return method_error("DELETE", "DELETE only");
        r.kind = endpoint::stop_stream;
        r.stream_id = path.substr(streams_prefix.size(), 64);
        return r;
    }

    if (path.starts_with(stream_prefix)) {
        if (!get && head.method != http::verb::post) return method_error("GET, POST", "GET and POST");
        auto block = find_block(table, path.substr(stream_prefix.size()));
        if (auto* e = std::get_if<route_error>(&block)) return std::move(*e);
        r.block = std::get<const block_config*>(block);
        if (!r.block->streaming)
            return route_error{error::streaming_disabled, "block \"" + r.block->name +
                                                              "\" has streaming = false; use POST /api/ai-block/" + r.block->name};
        if (get) {
            if (auto e = read_query(query, r)) return std::move(*e);
        }
        if (!head.last_event_id.empty()) {
            const auto id = parse_event_id(head.last_event_id);
            if (!id)
                return route_error{error::invalid_request,
                                   "Last-Event-ID must be <stream_id>.<seq> as sent in the stream's id: fields"};
            r.kind = endpoint::resume;
            r.resume_from = *id;
            return r;
        }
        r.kind = endpoint::stream;
        return r;
    }

    if (path.starts_with(collect_prefix)) {
        if (head.method != http::verb::post) return method_error("POST", "POST only");
        auto block = find_block(table, path.substr(collect_prefix.size()));
        if (auto* e = std::get_if<route_error>(&block)) return std::move(*e);
        r.kind = endpoint::collect;
        r.block = std::get<const block_config*>(block);
        return r;
    }

    if (path.starts_with(ws_prefix)) {
        if (!get) return method_error("GET", "GET only");
        auto block = find_block(table, path.substr(ws_prefix.size()));
        if (auto* e = std::get_if<route_error>(&block)) return std::move(*e);
        r.block = std::get<const block_config*>(block);
        if (auto e = read_query(query, r)) return std::move(*e);
        if (!head.websocket_upgrade) {
            route_error e{error::invalid_request, "this endpoint needs a WebSocket upgrade"};
            e.upgrade_required = true;
            return e;
        }
        if (!r.block->streaming)
            return route_error{error::streaming_disabled,
                               "block \"" + r.block->name + "\" has streaming = false; use the collect endpoint"};
        r.kind = endpoint::websocket;
        return r;
    }

    return route_error{error::not_found, "no endpoint at " + std::string(path.substr(0, 128))};
}

std::variant<stream_request, route_error> read_stream_request(route& r, http::verb method, std::string_view body)
{
    stream_request out;
    if (method == http::verb::get) {
        if (!r.prompt) return route_error{error::invalid_prompt, "missing ?prompt= query parameter"};
        out.request.prompt = std::move(*r.prompt);
        out.resumable = r.resumable;
        return out;
    }
    // Parsed into a stack buffer (the prompt is copied out): no heap for an
    // ordinary request body.
    unsigned char scratch[2048];
    boost::json::monotonic_resource memory(scratch, sizeof scratch);
    boost::system::error_code ec;
    const auto json = boost::json::parse(body, ec, &memory);
    if (ec) return route_error{error::invalid_json, "the body is not valid JSON: " + ec.message()};
    const auto* obj = json.if_object();
    if (!obj) return route_error{error::invalid_prompt, R"(the body must be a JSON object with a string "prompt" or a "messages" array)"};
    try {
        out.request = request_from_json(*obj);
    } catch (const stream_error& e) {
        return route_error{static_cast<liveai::error>(e.code().value()), e.message()};
    }
    const auto* flag = obj->if_contains("resumable");
    out.resumable = flag && flag->is_bool() && flag->get_bool();
    return out;
}

}  // namespace liveai::server::detail
