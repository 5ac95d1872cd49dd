#include "sessions.hpp"
#include "stream_record.hpp"
#include "web_assets.hpp"

#include <liveai/detail/utf8.hpp>
#include <liveai/error.hpp>
#include <liveai/transport/event_format.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <utility>

namespace liveai::server::detail {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;

http::status status_for(liveai::error e) noexcept
{
    switch (e) {
    case error::invalid_prompt:
    case error::invalid_json:
    case error::invalid_request:
    case error::invalid_message: return http::status::bad_request;
    case error::unknown_block:
    case error::unknown_stream:
    case error::not_found: return http::status::not_found;
    case error::stream_expired: return http::status::gone;
    case error::method_not_allowed: return http::status::method_not_allowed;
    case error::streaming_disabled: return http::status::conflict;
    case error::prompt_too_large:
    case error::body_too_large: return http::status::payload_too_large;
    case error::uri_too_long: return http::status::uri_too_long;
    case error::headers_too_large: return http::status::request_header_fields_too_large;
    case error::overloaded:
    case error::server_shutdown: return http::status::service_unavailable;
    case error::upstream_rate_limited: return http::status::too_many_requests;
    case error::first_token_timeout:
    case error::idle_timeout:
    case error::deadline_exceeded:
    case error::upstream_timeout: return http::status::gateway_timeout;
    case error::provider_error:
    case error::upstream_auth:
    case error::upstream_not_found:
    case error::upstream_unavailable:
    case error::upstream_protocol: return http::status::bad_gateway;
    default: return http::status::internal_server_error;
    }
}

std::string error_body(std::string_view code, std::string_view message)
{
    std::string body = R"({"error":{"code":)";
    transport::append_json_string(body, code);
    body += R"(,"message":)";
    transport::append_json_string(body, message);
    body += "}}";
    return body;
}

asio::awaitable<void> watch_for_close(tcp::socket& socket, beast::flat_buffer& buffer, std::size_t limit)
{
    for (;;) {
        if (buffer.size() >= limit) {
            // Stop reading (bounded memory) but stay cancellable.
            asio::steady_timer forever(socket.get_executor(), asio::steady_timer::time_point::max());
            boost::system::error_code ignored;
            co_await forever.async_wait(asio::redirect_error(use_awaitable, ignored));
            co_return;
        }
        boost::system::error_code ec;
        const std::size_t n = co_await socket.async_read_some(buffer.prepare(std::min<std::size_t>(512, limit - buffer.size())),
                                                              asio::redirect_error(use_awaitable, ec));
        if (ec) {
            // The client is gone: abort every other operation on the socket
            // now, so a write blocked on a full socket ends whatever the
            // awaitable operators' cancellation does (in Boost 1.81 it did not
            // reach such a write from inside `&&`; see sse_stream.cpp).
            if (ec != asio::error::operation_aborted) {
                boost::system::error_code ignored;
                socket.cancel(ignored);
            }
            co_return;
        }
        buffer.commit(n);
    }
}

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

namespace {

constexpr std::string_view streams_prefix = "/api/streams/";
constexpr std::string_view stream_prefix = "/api/stream/ai-block/";
constexpr std::string_view collect_prefix = "/api/ai-block/";
constexpr std::string_view ws_prefix = "/api/ws/ai-block/";


using request_type = http::request<http::string_body>;

enum class query_lookup { found, missing, malformed };

// Percent-decodes (with '+' as space, as HTML forms send it) into out.
bool decode_query_component(std::string_view in, std::string& out)
{
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= in.size()) return false;
            const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return true;
}

// The decoded value of the first `name=` parameter of a query string.
query_lookup find_query_parameter(std::string_view query, std::string_view name, std::string& value)
{
    std::string key;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        const auto eq = pair.find('=');
        if (!decode_query_component(pair.substr(0, eq), key)) return query_lookup::malformed;
        if (key != name) continue;
        if (!decode_query_component(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), value))
            return query_lookup::malformed;
        return query_lookup::found;
    }
    return query_lookup::missing;
}

// ?resumable=1 (GET) or "resumable": true (POST): the client wants the
// stream's id before its first event.
bool wants_resumable(const request_type& req, std::string_view query)
{
    if (req.method() == http::verb::get) {
        std::string value;
        return find_query_parameter(query, "resumable", value) == query_lookup::found && (value == "1" || value == "true");
    }
    boost::system::error_code ec;
    const auto json = boost::json::parse(req.body(), ec);
    const auto* obj = ec ? nullptr : json.if_object();
    const auto* flag = obj ? obj->if_contains("resumable") : nullptr;
    return flag && flag->is_bool() && flag->get_bool();
}

bool valid_block_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 64) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
        if (!ok) return false;
    }
    return true;
}

class http_session final : public connection {
public:
    http_session(worker& w, tcp::socket socket, std::optional<request_type> first, std::string_view leftover)
        : w_(w), stream_(std::move(socket)), first_(std::move(first))
    {
        if (!leftover.empty()) {
            buffer_.commit(asio::buffer_copy(buffer_.prepare(leftover.size()), asio::buffer(leftover)));
        }
        w_.add(this);
        metrics_shard::add(w_.shard.connections_total);
    }

    ~http_session()
    {
        w_.remove(this);
        w_.metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
    }

    void shutdown() noexcept override
    {
        shutting_down_ = true;
        if (forward_) return forward_->shutdown();
        control_.request_shutdown();
        if (idle_) {
            boost::system::error_code ignored;
            stream_.socket().cancel(ignored);
        }
    }

    asio::awaitable<void> run();

private:
    // Sends a complete response; false when the connection must close.
    asio::awaitable<bool> send(http::status status, std::string body, std::string_view content_type, bool keep_alive,
                               std::string_view allow = {});
    asio::awaitable<bool> send_error(liveai::error e, std::string_view message, bool keep_alive);
    asio::awaitable<bool> send_error(const stream_error& e, bool keep_alive)
    {
        return send_error(static_cast<liveai::error>(e.code().value()), e.message(), keep_alive);
    }

    asio::awaitable<bool> handle(request_type req);
    asio::awaitable<bool> handle_stream(request_type& req, std::string_view block, std::string_view query);
    asio::awaitable<bool> handle_collect(request_type& req, std::string_view block);
    asio::awaitable<bool> handle_blocks(bool keep_alive);
    asio::awaitable<bool> handle_resume(request_type& req, std::string_view block, std::string_view last_event_id);
    asio::awaitable<bool> handle_stop(std::string_view stream_id, bool keep_alive);
    // Moves this connection, with `req`, to the worker that owns a stream.
    asio::awaitable<bool> hand_over(worker& owner, request_type req);

    // Reads the prompt, takes one of max_streams and opens the block's stream
    // (streaming or collect alike); on failure returns null with `refused` set.
    std::unique_ptr<token_stream> open_stream(const request_type& req, std::string_view query, const block_config& block,
                                              std::optional<stream_error>& refused);

    // The prompt of a stream/collect request: ?prompt= for GET, JSON for POST.
    std::optional<std::string> read_prompt(const request_type& req, std::string_view query, liveai::error& code,
                                           std::string& message) const;

    worker& w_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<request_type> first_;
    stream_control control_;
    connection* forward_ = nullptr;
    bool idle_ = true;
    bool shutting_down_ = false;
};

asio::awaitable<bool> http_session::send(http::status status, std::string body, std::string_view content_type,
                                         bool keep_alive, std::string_view allow)
{
    http::response<http::string_body> res{status, 11};
    if (!content_type.empty()) res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-store");
    if (status == http::status::service_unavailable || status == http::status::too_many_requests)
        res.set(http::field::retry_after, std::to_string(w_.config.overload_retry_after.count()));
    if (!allow.empty()) res.set(http::field::allow, allow);
    keep_alive = keep_alive && !shutting_down_;
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    stream_.expires_after(w_.config.keep_alive_timeout);
    auto [ec, n] = co_await http::async_write(stream_, res, asio::as_tuple(use_awaitable));
    stream_.expires_never();
    co_return !ec && keep_alive;
}

asio::awaitable<bool> http_session::send_error(liveai::error e, std::string_view message, bool keep_alive)
{
    std::string_view allow;
    if (e == error::method_not_allowed) allow = "GET, POST";
    co_return co_await send(status_for(e), error_body(to_code(e), message), "application/json", keep_alive, allow);
}

asio::awaitable<void> http_session::run()
{
    const auto& cfg = w_.config;
    bool first = true;
    if (first_) {
        idle_ = false;
        auto req = std::move(*first_);
        first_.reset();
        first = false;
        if (!co_await handle(std::move(req))) {
            boost::system::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            stream_.socket().close(ignored);
            co_return;
        }
    }
    for (;;) {
        idle_ = true;
        if (shutting_down_) break;
        if (buffer_.size() == 0) {
            // Wait for the next request: the keep-alive idle timeout applies.
            stream_.expires_after(first ? cfg.header_timeout : cfg.keep_alive_timeout);
            auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(1024), asio::as_tuple(use_awaitable));
            if (ec) break;
            buffer_.commit(n);
        }
        first = false;

        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
        parser.body_limit(cfg.max_body_bytes);
        // The whole header within header_timeout: slowloris clients are cut off.
        stream_.expires_after(cfg.header_timeout);
        auto [hec, hn] = co_await http::async_read_header(stream_, buffer_, parser, asio::as_tuple(use_awaitable));
        idle_ = false;
        if (hec) {
            if (hec == http::error::body_limit) {
                // A Content-Length above the limit is refused before reading the body.
                co_await send_error(error::body_too_large,
                                    "the request body is larger than " + std::to_string(cfg.max_body_bytes) + " bytes", false);
            } else if (hec == http::error::header_limit) {
                // The parser keeps the target once it has the whole request
                // line: without one, the line itself was too long.
                if (parser.get().target().empty())
                    co_await send_error(error::uri_too_long,
                                        "the request target is longer than " + std::to_string(cfg.max_url_bytes) + " bytes", false);
                else
                    co_await send_error(error::headers_too_large,
                                        "the request headers are larger than " + std::to_string(cfg.max_header_bytes) + " bytes", false);
            } else if (hec != http::error::end_of_stream && hec != asio::error::eof && hec != beast::error::timeout &&
                       hec != asio::error::operation_aborted && hec != asio::error::connection_reset) {
                co_await send_error(error::invalid_request, "malformed HTTP request: " + hec.message(), false);
            }
            break;
        }
        metrics_shard::add(w_.shard.requests_total);
        if (parser.get().target().size() > cfg.max_url_bytes) {
            co_await send_error(error::uri_too_long,
                                "the request target is longer than " + std::to_string(cfg.max_url_bytes) + " bytes", false);
            break;
        }
        if (!parser.is_done()) {
            auto [bec, bn] = co_await http::async_read(stream_, buffer_, parser, asio::as_tuple(use_awaitable));
            if (bec == http::error::body_limit) {
                co_await send_error(error::body_too_large,
                                    "the request body is larger than " + std::to_string(cfg.max_body_bytes) + " bytes", false);
                break;
            }
            if (bec) {
                if (bec != beast::error::timeout && bec != http::error::end_of_stream && bec != asio::error::eof)
                    co_await send_error(error::invalid_request, "malformed HTTP request body: " + bec.message(), false);
                break;
            }
        }
        stream_.expires_never();

        if (!co_await handle(parser.release())) break;
    }
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
}

std::optional<std::string> http_session::read_prompt(const request_type& req, std::string_view query,
                                                     liveai::error& code, std::string& message) const
{
    if (req.method() == http::verb::get) {
        std::string value;
        switch (find_query_parameter(query, "prompt", value)) {
        case query_lookup::found: return value;
        case query_lookup::malformed:
            code = error::invalid_request;
            message = "malformed query string (bad percent-encoding)";
            return std::nullopt;
        case query_lookup::missing: break;
        }
        code = error::invalid_prompt;
        message = "missing ?prompt= query parameter";
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto json = boost::json::parse(req.body(), ec);
    if (ec) {
        code = error::invalid_json;
        message = "the body is not valid JSON: " + ec.message();
        return std::nullopt;
    }
    const auto* obj = json.if_object();
    const auto* prompt = obj ? obj->if_contains("prompt") : nullptr;
    if (!prompt || !prompt->is_string()) {
        code = error::invalid_prompt;
        message = R"(the body must be a JSON object with a string "prompt")";
        return std::nullopt;
    }
    return std::string(prompt->get_string());
}

std::unique_ptr<token_stream> http_session::open_stream(const request_type& req, std::string_view query,
                                                       const block_config& block, std::optional<stream_error>& refused)
{
    liveai::error code{};
    std::string message;
    auto prompt = read_prompt(req, query, code, message);
    if (!prompt) {
        refused.emplace(code, message);
        return nullptr;
    }
    if (shutting_down_) {
        refused.emplace(error::server_shutdown, "the server is shutting down");
        return nullptr;
    }
    if (!stream_accounting::admit(w_)) {
        refused.emplace(error::overloaded, "the server runs its maximum of " + std::to_string(w_.config.max_streams) + " streams");
        return nullptr;
    }
    try {
        // The streaming opt-in was checked by the caller; collect works for every block.
        return w_.engine.open(block, liveai::request{std::move(*prompt)});
    } catch (const stream_error& e) {
        w_.metrics.streams_active.fetch_sub(1, std::memory_order_relaxed);
        refused.emplace(e);
        return nullptr;
    }
}

asio::awaitable<bool> http_session::handle(request_type req)
{
    const std::string_view target = req.target();
    const auto qpos = target.find('?');
    const std::string_view path = target.substr(0, qpos);
    const std::string_view query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    const bool keep_alive = req.keep_alive();
    const auto method = req.method();
    const bool get = method == http::verb::get;

    auto only_get = [&]() -> asio::awaitable<bool> {
        co_return co_await send(http::status::method_not_allowed,
                                error_body("method_not_allowed", "this endpoint answers GET only"), "application/json",
                                keep_alive, "GET");
    };

    if (path == "/healthz") {
        if (!get) co_return co_await only_get();
        co_return co_await send(http::status::ok, R"({"status":"ok"})", "application/json", keep_alive);
    }
    if (path == "/metrics") {
        if (!get) co_return co_await only_get();
        co_return co_await send(http::status::ok, w_.metrics.render(), "text/plain; version=0.0.4; charset=utf-8", keep_alive);
    }
    if (path == "/api/blocks") {
        if (!get) co_return co_await only_get();
        co_return co_await handle_blocks(keep_alive);
    }
    for (const auto& asset : web_assets()) {
        if (path != asset.path) continue;
        if (!get) co_return co_await only_get();
        co_return co_await send(http::status::ok, std::string(asset.body), asset.content_type, keep_alive);
    }
    if (path.starts_with(streams_prefix)) {
        if (method != http::verb::delete_)
            co_return co_await send(http::status::method_not_allowed,
                                    error_body("method_not_allowed", "this endpoint answers DELETE only"),
                                    "application/json", keep_alive, "DELETE");
        co_return co_await handle_stop(path.substr(streams_prefix.size()), keep_alive);
    }
    if (path.starts_with(stream_prefix)) {
        const auto block = path.substr(stream_prefix.size());
        if (!get && method != http::verb::post)
            co_return co_await send_error(error::method_not_allowed, "this endpoint answers GET and POST", keep_alive);
        co_return co_await handle_stream(req, block, query);
    }
    if (path.starts_with(collect_prefix)) {
        const auto block = path.substr(collect_prefix.size());
        if (method != http::verb::post)
            co_return co_await send(http::status::method_not_allowed,
                                    error_body("method_not_allowed", "this endpoint answers POST only"),
                                    "application/json", keep_alive, "POST");
        co_return co_await handle_collect(req, block);
    }
    if (path.starts_with(ws_prefix)) {
        const auto block = path.substr(ws_prefix.size());
        if (!get) co_return co_await only_get();
        if (!valid_block_name(block) || !w_.engine.find(block))
            co_return co_await send_error(error::unknown_block, "no block named \"" + std::string(block.substr(0, 64)) + "\" is configured", keep_alive);
        if (!boost::beast::websocket::is_upgrade(req))
            co_return co_await send(http::status::upgrade_required,
                                    error_body("invalid_request", "this endpoint needs a WebSocket upgrade"),
                                    "application/json", keep_alive);
        if (!w_.engine.find(block)->streaming)
            co_return co_await send_error(error::streaming_disabled,
                                          "block \"" + std::string(block) + "\" has streaming = false; use the collect endpoint", keep_alive);
        idle_ = false;
        co_await run_ws_session(w_, std::move(stream_), std::move(req), std::string(block), forward_);
        co_return false;
    }
    co_return co_await send_error(error::not_found, "no endpoint at " + std::string(path.substr(0, 128)), keep_alive);
}

asio::awaitable<bool> http_session::handle_blocks(bool keep_alive)
{
    boost::json::array list;
    for (const auto& b : w_.engine.blocks()) {
        list.push_back(boost::json::object{{"name", b.name},
                                           {"provider", to_string(b.provider)},
                                           {"model", b.model},
                                           {"streaming", b.streaming},
                                           {"on_disconnect", to_string(b.on_disconnect)}});
    }
    boost::json::object body{{"blocks", std::move(list)}};
    co_return co_await send(http::status::ok, boost::json::serialize(body), "application/json", keep_alive);
}

asio::awaitable<bool> http_session::handle_stream(request_type& req, std::string_view block_name, std::string_view query)
{
    const bool keep_alive = req.keep_alive();
    if (!valid_block_name(block_name) || !w_.engine.find(block_name))
        co_return co_await send_error(error::unknown_block,
                                      "no block named \"" + std::string(block_name.substr(0, 64)) + "\" is configured", keep_alive);
    const auto& block = *w_.engine.find(block_name);
    if (!block.streaming)
        co_return co_await send_error(error::streaming_disabled,
                                      "block \"" + block.name + "\" has streaming = false; use POST /api/ai-block/" + block.name,
                                      keep_alive);
    if (const auto last_event_id = req["Last-Event-ID"]; !last_event_id.empty())
        co_return co_await handle_resume(req, block_name, last_event_id);
    std::optional<stream_error> refused;
    auto ts = open_stream(req, query, block, refused);
    if (!ts) co_return co_await send_error(*refused, keep_alive);
    auto record = start_stream(w_, block, std::move(ts), "sse");
    const bool again = co_await serve_sse(w_, stream_, buffer_, record, 1, keep_alive, wants_resumable(req, query));

    co_return again && !shutting_down_;
}

asio::awaitable<bool> http_session::handle_resume(request_type& req, std::string_view block_name,
                                                  std::string_view last_event_id)
{
    const bool keep_alive = req.keep_alive();
    const auto id = parse_event_id(last_event_id);
    if (!id)
        co_return co_await send_error(error::invalid_request,
                                      "Last-Event-ID must be <stream_id>.<seq> as sent in the stream's id: fields", keep_alive);
    const std::string stream_id(id->stream_id.substr(0, 64));
    const auto owner = w_.owner_of(stream_id);
    if (owner && *owner != w_.index) co_return co_await hand_over(*w_.peers[*owner], std::move(req));
    const auto record = owner ? w_.find_stream(stream_id) : nullptr;
    if (!record)
        co_return co_await send_error(error::unknown_stream,
                                      "stream " + stream_id + " is unknown: it never existed, or it ended more than " +
                                          std::to_string(w_.config.replay_retention.count()) + " ms ago",
                                      keep_alive);
    if (record->block().name != block_name)
        co_return co_await send_error(error::invalid_request,
                                      "stream " + stream_id + " belongs to block \"" + record->block().name + "\"", keep_alive);
    if (id->seq > record->last_seq())
        co_return co_await send_error(error::invalid_request,
                                      "stream " + stream_id + " has sent no event " + std::to_string(id->seq) +
                                          " (its last is " + std::to_string(record->last_seq()) + ")",
                                      keep_alive);
    if (record->ended() && id->seq == record->last_seq()) {
        // Everything was delivered: 204 tells an EventSource to stop
        // reconnecting instead of starting a new generation.
        co_return co_await send(http::status::no_content, {}, {}, keep_alive);
    }
    if (id->seq + 1 < record->first_seq())
        co_return co_await send_error(error::stream_expired,
                                      "the events of stream " + stream_id + " after " + std::to_string(id->seq) +
                                          " are no longer kept (replay_buffer_bytes = " +
                                          std::to_string(w_.config.replay_buffer_bytes) + ")",
                                      keep_alive);
    metrics_shard::add(w_.shard.resumes_total);
    const bool again = co_await serve_sse(w_, stream_, buffer_, record, id->seq + 1, keep_alive);

    co_return again && !shutting_down_;
}

asio::awaitable<bool> http_session::hand_over(worker& owner, request_type req)
{
    boost::system::error_code ec;
    auto& socket = stream_.socket();
    const auto protocol = socket.local_endpoint(ec).protocol();
    if (ec) co_return false;
    std::string leftover = beast::buffers_to_string(buffer_.data());
    const auto fd = socket.release(ec);
    if (ec) co_return false;
    // The new session's destructor counts this connection out again.
    w_.metrics.connections_active.fetch_add(1, std::memory_order_relaxed);
    auto adopt = [&owner, protocol, fd, req = std::move(req), leftover = std::move(leftover)]() mutable {
        boost::system::error_code ec;
        tcp::socket socket(owner.ioc);
        socket.assign(protocol, fd, ec);
        if (ec) {
            ::close(fd);
            owner.metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        asio::co_spawn(owner.ioc, run_http_session(owner, std::move(socket), std::move(req), std::move(leftover)),
                       asio::detached);
    };
    asio::post(owner.ioc, std::move(adopt));
    co_return false;
}

namespace {

enum class stop_result { unknown, stopped, already_ended };

// Runs on the worker that owns the stream.
asio::awaitable<stop_result> stop_on_owner(worker& owner, std::string stream_id)
{
    const auto record = owner.find_stream(stream_id);
    if (!record) co_return stop_result::unknown;
    if (record->ended()) co_return stop_result::already_ended;
    record->stop(stop_reason::cancel_request);
    co_return stop_result::stopped;
}

}  // namespace

asio::awaitable<bool> http_session::handle_stop(std::string_view stream_id, bool keep_alive)
{
    const std::string id(stream_id.substr(0, 64));
    const auto owner = w_.owner_of(id);
    stop_result result = stop_result::unknown;
    if (owner) {
        auto& owner_worker = *w_.peers[*owner];
        auto stopping = stop_on_owner(owner_worker, id);
        result = co_await asio::co_spawn(owner_worker.ioc, std::move(stopping), use_awaitable);
    }
    if (result == stop_result::unknown)
        co_return co_await send_error(error::unknown_stream, "stream " + id + " is unknown, or ended and expired", keep_alive);
    std::string body = R"({"stream_id":)";
    transport::append_json_string(body, id);
    body += result == stop_result::stopped ? R"(,"status":"cancelled"})" : R"(,"status":"ended"})";
    co_return co_await send(http::status::ok, std::move(body), "application/json", keep_alive);
}

asio::awaitable<bool> http_session::handle_collect(request_type& req, std::string_view block_name)
{
    const bool keep_alive = req.keep_alive();
    if (!valid_block_name(block_name) || !w_.engine.find(block_name))
        co_return co_await send_error(error::unknown_block,
                                      "no block named \"" + std::string(block_name.substr(0, 64)) + "\" is configured", keep_alive);
    const auto& block = *w_.engine.find(block_name);
    std::optional<stream_error> refused;
    auto ts = open_stream(req, {}, block, refused);
    if (!ts) co_return co_await send_error(*refused, keep_alive);
    stream_accounting accounting(w_, block.name, "collect", w_.next_stream_id());
    control_.active = ts.get();

    std::string text;
    std::optional<stream_error> failure;
    auto collect = [&]() -> asio::awaitable<void> {
        try {
            while (auto t = co_await ts->next()) {
                accounting.on_chunk();
                text.append(t->text);
            }
        } catch (const stream_error& e) {
            failure.emplace(e);
        }
    };
    // Keep watching the socket: a client that leaves cancels the provider.
    auto collected = collect();
    auto watched = watch_for_close(stream_.socket(), buffer_, w_.config.max_header_bytes);
    bool client_gone = false;
    try {
        auto winner = co_await (std::move(collected) || std::move(watched));
        client_gone = winner.index() == 1;
    } catch (const std::exception&) {
        client_gone = true;
    }
    control_.active = nullptr;
    if (client_gone) {
        ts->cancel();
        accounting.finish(stream_outcome::cancelled, "client_closed", true);
        co_return false;
    }
    if (failure) {
        accounting.finish(stream_outcome::error, to_code(failure->code()), provider_was_cancelled(*ts));
        co_return co_await send_error(*failure, keep_alive);
    }
    if (control_.shutdown) {
        accounting.finish(stream_outcome::error, "server_shutdown", true);
        co_return co_await send_error(error::server_shutdown, "the server is shutting down; retry the request", false);
    }
    const auto usage = ts->usage();
    const auto reason = ts->finish_reason();
    accounting.finish(reason == finish_reason::cancelled ? stream_outcome::cancelled : stream_outcome::complete, "",
                      provider_was_cancelled(*ts));
    std::string body = R"({"block_type":)";
    transport::append_json_string(body, block.name);
    body += R"(,"text":)";
    transport::append_json_string(body, text);
    body += R"(,"finish_reason":")";
    body += to_string(reason);
    body += R"(","usage":)";
    transport::append_usage_json(body, usage);
    body += '}';
    co_return co_await send(http::status::ok, std::move(body), "application/json", keep_alive);
}

}  // namespace

asio::awaitable<void> run_http_session(worker& w, tcp::socket socket, std::optional<request_type> first,
                                       std::string leftover)
{
    http_session session(w, std::move(socket), std::move(first), leftover);
    co_await session.run();
}

asio::awaitable<void> reject_connection(worker& w, tcp::socket socket)
{
    beast::tcp_stream stream(std::move(socket));
    const std::string body = error_body("overloaded", "the server has its maximum of " +
                                                          std::to_string(w.config.max_connections) + " connections open");
    const std::string response = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: " +
                                 std::to_string(w.config.overload_retry_after.count()) +
                                 "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    stream.expires_after(std::chrono::seconds(2));
    co_await asio::async_write(stream, asio::buffer(response), asio::as_tuple(use_awaitable));
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace liveai::server::detail
