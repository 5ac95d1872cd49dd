// One HTTP connection: read a request, route it (router.hpp), then answer it
// (answers.hpp), stream it (sse_response.hpp), collect it, or hand the
// connection to a WebSocket session; keep-alive included.
#include "answers.hpp"
#include "key_table.hpp"
#include "openai_request.hpp"
#include "router.hpp"
#include "sessions.hpp"
#include "socket_deadline.hpp"
#include "sse_response.hpp"
#include "stream_record.hpp"
#include "subscription.hpp"

#include <liveai/error.hpp>
#include <liveai/server/origin_policy.hpp>
#include <liveai/transport/event_format.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <utility>

#include <sys/socket.h>

// GCC 12 warns that a coroutine frame from Asio's recycling allocator
// (aligned_alloc) is released with free() once it inlines read_request()
// into run(): that pair is correct, the warning is a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace liveai::server::detail {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;

bool keep_early_bytes(tcp::socket& socket, beast::flat_buffer& buffer, char first, std::size_t room)
{
    auto* at = static_cast<char*>(buffer.prepare(room).data());
    at[0] = first;
    const auto more = room > 1 ? ::recv(socket.native_handle(), at + 1, room - 1, MSG_DONTWAIT) : 0;
    buffer.commit(1 + static_cast<std::size_t>(std::max<ssize_t>(more, 0)));
    return more > 0 || room == 1 || (more < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
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
        // Nothing kept: hold no buffer while the answer is collected (a few
        // thousand requests, a KiB each), only a one-byte read.
        if (buffer.size() == 0) buffer.shrink_to_fit();
        char first = 0;
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(&first, 1), asio::as_tuple(use_awaitable));
        if (!ec && !keep_early_bytes(socket, buffer, first, std::min<std::size_t>(512, limit - buffer.size())))
            ec = asio::error::eof;
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
    }
}

namespace {

using request_type = http::request<http::string_body>;

class http_session final : public connection {
public:
    http_session(worker& w, tcp::socket socket) : w_(w), socket_(std::move(socket)), deadline_(socket_)
    {
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
            socket_.cancel(ignored);
        }
    }

    void close_now() noexcept override
    {
        if (forward_) return forward_->close_now();
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    asio::awaitable<void> run();

private:
    // Writes a whole answer; false when the connection must close.
    asio::awaitable<bool> send(http_answer a, bool keep_alive);
    asio::awaitable<bool> send_error(liveai::error e, std::string_view message, bool keep_alive)
    {
        return send(error_answer(e, message, shape_), keep_alive);
    }
    asio::awaitable<bool> send_error(const stream_error& e, bool keep_alive)
    {
        return send_error(static_cast<liveai::error>(e.code().value()), e.message(), keep_alive);
    }

    // A request, or nullopt when the connection is done (an error answer
    // included). Its own coroutine, so that the parser and the error paths
    // take no room in the frames that stay alive while a stream runs.
    asio::awaitable<std::optional<request_type>> read_request();
    // Waits for the first byte of the next request, holding neither a parser
    // (read_request's frame is 1.6 KB) nor a read buffer: what an idle
    // keep-alive connection holds. False when the connection is done.
    asio::awaitable<bool> wait_for_request(bool first);
    boost::system::error_code parse_buffered(http::request_parser<http::string_body>& parser);

    // The handlers decide synchronously and return the coroutine that does
    // the I/O; none keeps a reference to the request, so run() frees it
    // before a stream starts. Only that coroutine's frame lives on while it
    // runs.
    asio::awaitable<bool> handle(request_type& req);
    // The answer that refuses a request [auth] does not let through, or
    // nullopt (key_ is then the request's key, if it needs one).
    std::optional<http_answer> authorize(const request_type& req, const route& r);
    http_answer preflight_answer(const request_type& req) const;
    asio::awaitable<bool> handle_chat_completions(request_type& req);
    asio::awaitable<bool> handle_stream(request_type& req, route& r);
    asio::awaitable<bool> stream_events(std::shared_ptr<stream_record> record, sse_response::options opt);
    // `stream_id` is owned: the request it came from is gone when this runs.
    asio::awaitable<bool> handle_resume(const block_config& block, std::string stream_id, std::uint64_t seq,
                                        sse_response::options opt, bool keep_alive);
    asio::awaitable<bool> handle_collect(request_type& req, route& r);
    // `openai_model` set: the answer is an OpenAI chat.completion naming it.
    asio::awaitable<bool> collect(const block_config& block, std::unique_ptr<token_stream> ts, admission_ticket ticket,
                                  bool keep_alive, std::optional<std::string> openai_model = std::nullopt);
    asio::awaitable<bool> handle_stop(std::string id, bool keep_alive);
    asio::awaitable<bool> handle_extra(request_type req, std::size_t index);
    asio::awaitable<bool> upgrade(request_type req, const block_config& block);

    // Takes one of max_streams and opens the block's stream (streaming or
    // collect alike); on failure returns null with `refused` set.
    std::unique_ptr<token_stream> open_stream(const block_config& block, liveai::request req,
                                              std::optional<admission_ticket>& ticket,
                                              std::optional<stream_error>& refused);

    sse_response::options sse_options(const request_type& req, bool announce_id) const noexcept
    {
        return {req.keep_alive() && !shutting_down_, req.version() >= 11, announce_id, false, cors_};
    }

    worker& w_;
    tcp::socket socket_;
    socket_deadline deadline_;
    beast::flat_buffer buffer_;
    char probe_ = 0;  // the first byte of a request, read while no buffer is held
    stream_control control_;
    connection* forward_ = nullptr;
    bool idle_ = true;
    bool shutting_down_ = false;
    bool http10_ = false;  // the request being answered is HTTP/1.0
    std::string head_;     // the head of the answer being sent
    // Of the request being answered:
    error_shape shape_ = error_shape::liveai;  // OpenAI's error bodies on /v1/
    std::string cors_;                         // CORS header lines every answer carries
    key_state* key_ = nullptr;                 // its API key ([auth])
};

asio::awaitable<bool> http_session::send(http_answer a, bool keep_alive)
{
    keep_alive = keep_alive && !shutting_down_;
    // Formatted by hand into one reused buffer and sent with the body in
    // one write: no header fields allocated per answer.
    head_.clear();
    a.extra_headers += cors_;
    append_response_head(head_, a, keep_alive, http10_, static_cast<std::uint64_t>(w_.config.overload_retry_after.count()));
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(a.body)};
    deadline_.expires_after(w_.config.keep_alive_timeout);
    auto [ec, n] = co_await asio::async_write(socket_, buffers, asio::as_tuple(use_awaitable));
    deadline_.expires_never();
    co_return !ec && keep_alive;
}

// Feeds the parser the bytes already read, up to the end of the message
// (a pipelined request after it stays in the buffer). need_more is not an
// error here: the caller reads on.
boost::system::error_code http_session::parse_buffered(http::request_parser<http::string_body>& parser)
{
    boost::system::error_code ec;
    while (buffer_.size() > 0 && !parser.is_done()) {
        const auto used = parser.put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == http::error::need_more) return {};
        if (ec || used == 0) break;
    }
    return ec;
}

asio::awaitable<void> http_session::run()
{
    bool first = true;
    for (;;) {
        idle_ = true;
        if (shutting_down_) break;
        if (buffer_.size() == 0 && !co_await wait_for_request(first)) break;
        first = false;
        auto req = co_await read_request();
        if (!req) break;
        auto answer = handle(*req);
        req.reset();
        if (!co_await std::move(answer)) break;
    }
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
    co_await deadline_.settle();
}

asio::awaitable<bool> http_session::wait_for_request(bool first)
{
    // The keep-alive idle timeout applies (the header timeout to a new
    // connection's first request).
    deadline_.expires_after(first ? w_.config.header_timeout : w_.config.keep_alive_timeout);
    // A one-byte read first, so no read buffer is held while nothing comes;
    // the rest of what came is read without waiting (one recv more a request).
    buffer_.shrink_to_fit();
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(&probe_, 1), asio::as_tuple(use_awaitable));
    if (ec) co_return false;
    // An end or error after the first byte shows in the next read.
    keep_early_bytes(socket_, buffer_, probe_, 1024);
    co_return true;
}

asio::awaitable<std::optional<request_type>> http_session::read_request()
{
    const auto& cfg = w_.config;

    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
    parser.body_limit(cfg.max_body_bytes);
    // The request is usually whole in what was read: parse it without
    // I/O (no composed operation, no trip through the queue); otherwise
    // read on, the whole header within header_timeout, so slowloris
    // clients are cut off.
    boost::system::error_code hec = parse_buffered(parser);
    if (!hec && !parser.is_header_done()) {
        deadline_.expires_after(cfg.header_timeout);
        auto [ec, n] = co_await http::async_read_header(socket_, buffer_, parser, asio::as_tuple(use_awaitable));
        hec = ec;
    }
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
        } else if (hec != http::error::end_of_stream && hec != asio::error::eof &&
                   hec != asio::error::operation_aborted && hec != asio::error::connection_reset) {
            co_await send_error(error::invalid_request, "malformed HTTP request: " + hec.message(), false);
        }
        co_return std::nullopt;
    }
    metrics_shard::add(w_.shard.requests_total);
    if (parser.get().target().size() > cfg.max_url_bytes) {
        co_await send_error(error::uri_too_long,
                            "the request target is longer than " + std::to_string(cfg.max_url_bytes) + " bytes", false);
        co_return std::nullopt;
    }
    if (!parser.is_done()) {
        auto [bec, bn] = co_await http::async_read(socket_, buffer_, parser, asio::as_tuple(use_awaitable));
        if (bec == http::error::body_limit) {
            co_await send_error(error::body_too_large,
                                "the request body is larger than " + std::to_string(cfg.max_body_bytes) + " bytes", false);
            co_return std::nullopt;
        }
        if (bec) {
            // operation_aborted: header_timeout passed (or shutdown): no answer, as for the header.
            if (bec != asio::error::operation_aborted && bec != http::error::end_of_stream && bec != asio::error::eof)
                co_await send_error(error::invalid_request, "malformed HTTP request body: " + bec.message(), false);
            co_return std::nullopt;
        }
    }
    deadline_.expires_never();
    co_return parser.release();
}


std::unique_ptr<token_stream> http_session::open_stream(const block_config& block, liveai::request req,
                                                       std::optional<admission_ticket>& ticket,
                                                       std::optional<stream_error>& refused)
{
    if (shutting_down_) {
        refused.emplace(error::server_shutdown, "the server is shutting down");
        return nullptr;
    }
    ticket = stream_accounting::admit(w_);
    if (!ticket) {
        refused.emplace(error::overloaded, "the server runs its maximum of " + std::to_string(w_.config.max_streams) + " streams");
        return nullptr;
    }
    if (key_ && !ticket->hold_key(*key_)) {
        ticket.reset();
        refused.emplace(error::rate_limited, "API key \"" + std::string(key_->name()) + "\" has its maximum of " +
                                                 std::to_string(key_->key().max_streams) + " streams open");
        return nullptr;
    }
    try {
        // The streaming opt-in was checked by the router; collect works for every block.
        return w_.engine.open(block, std::move(req));
    } catch (const stream_error& e) {
        ticket.reset();
        refused.emplace(e);
        return nullptr;
    }
}

asio::awaitable<bool> http_session::handle(request_type& req)
{
    const bool keep_alive = req.keep_alive();
    http10_ = req.version() < 11;
    shape_ = req.target().starts_with("/v1/") ? error_shape::openai : error_shape::liveai;
    key_ = nullptr;
    cors_.clear();
    if (const auto& allowed = w_.config.cors_allowed_origins; !allowed.empty()) {
        // The answer depends on Origin: caches must keep them apart.
        const auto origin = req[http::field::origin];
        if (!origin.empty() && origin_listed(origin, allowed)) {
            cors_ = "Access-Control-Allow-Origin: ";
            cors_.append(origin).append("\r\nAccess-Control-Expose-Headers: Retry-After\r\n");
        }
        cors_ += "Vary: Origin\r\n";
    }
    const request_head head{req.method(), req.target(), req["Last-Event-ID"],
                            boost::beast::websocket::is_upgrade(req)};
    auto routed = route_request(head, w_.routes);
    if (auto* e = std::get_if<route_error>(&routed)) return send(error_answer(*e, shape_), keep_alive);
    auto& r = std::get<route>(routed);
    if (r.kind == endpoint::preflight) return send(preflight_answer(req), keep_alive);
    if (auto refused = authorize(req, r)) return send(std::move(*refused), keep_alive);
    switch (r.kind) {
    case endpoint::stream: return handle_stream(req, r);
    case endpoint::resume:
        return handle_resume(*r.block, std::string(r.resume_from.stream_id.substr(0, 64)), r.resume_from.seq,
                             sse_options(req, false), keep_alive);
    case endpoint::collect: return handle_collect(req, r);
    case endpoint::stop_stream: return handle_stop(std::string(r.stream_id.substr(0, 64)), keep_alive);
    case endpoint::extra: return handle_extra(std::move(req), r.extra_index);
    case endpoint::websocket: {
        const auto origin = req[http::field::origin];
        if (!ws_origin_allowed(origin, req[http::field::host], w_.config.ws_allowed_origins))
            return send_error(error::forbidden,
                              "a WebSocket from origin " + std::string(origin.substr(0, 128)) +
                                  " is not allowed (ws_allowed_origins; without it, the same origin only)",
                              keep_alive);
        idle_ = false;
        return upgrade(std::move(req), *r.block);
    }
    case endpoint::chat_completions: return handle_chat_completions(req);
    case endpoint::models: return send(models_answer(w_.engine, w_.started_at, key_), keep_alive);
    default: return send(answer_simple(r, w_.engine, w_.metrics), keep_alive);
    }
}

std::optional<http_answer> http_session::authorize(const request_type& req, const route& r)
{
    if (!w_.keys || !w_.keys->enabled()) return std::nullopt;
    if (r.kind == endpoint::health || r.kind == endpoint::asset) return std::nullopt;
    std::string_view presented = bearer_token(req[http::field::authorization]);
    if (presented.empty() && r.kind == endpoint::websocket) presented = read_ws_protocols(req[http::field::sec_websocket_protocol]).key;
    if (presented.empty() && r.access_token) {
        if (!r.block || !r.block->allow_query_token)
            return error_answer(error::unauthorized, "this endpoint does not take ?access_token= (a block allows it with "
                                                     "allow_query_token = true); send Authorization: Bearer <key>", shape_);
        presented = *r.access_token;
    }
    auto unauthorized = [&] {
        auto a = presented.empty()
                     ? error_answer(error::unauthorized, "an API key is required: send Authorization: Bearer <key>", shape_)
                     : error_answer(error::unauthorized, "the API key is not valid", shape_);
        if (!presented.empty()) a.extra_headers = "WWW-Authenticate: Bearer realm=\"liveai\", error=\"invalid_token\"\r\n";
        return a;
    };
    if (r.kind == endpoint::metrics) {
        if (!presented.empty() && w_.keys->opens_metrics(presented)) return std::nullopt;
        return unauthorized();
    }
    key_ = presented.empty() ? nullptr : w_.keys->find(presented);
    if (!key_) return unauthorized();
    if (r.block && !key_->may_use(r.block->name))
        return error_answer(error::forbidden, "API key \"" + std::string(key_->name()) + "\" may not use block \"" + r.block->name + "\"",
                            shape_);
    if (const auto wait = key_->take_request(std::chrono::steady_clock::now())) {
        auto a = error_answer(error::rate_limited, "API key \"" + std::string(key_->name()) + "\" has used its " +
                                                       std::to_string(key_->key().requests_per_minute) + " requests per minute",
                              shape_);
        a.retry_after_seconds = wait;
        return a;
    }
    return std::nullopt;
}

http_answer http_session::preflight_answer(const request_type& req) const
{
    const auto origin = req[http::field::origin];
    const auto& allowed = w_.config.cors_allowed_origins;
    if (origin.empty() || allowed.empty() || !origin_listed(origin, allowed))
        return error_answer(error::forbidden,
                            allowed.empty() ? "cross-origin requests are not allowed (cors_allowed_origins is empty)"
                                            : "origin " + std::string(origin.substr(0, 128)) + " is not in cors_allowed_origins",
                            shape_);
    http_answer a;
    a.status = 204;
    a.extra_headers =
        "Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS\r\n"
        "Access-Control-Allow-Headers: Authorization, Content-Type, Last-Event-ID\r\n"
        "Access-Control-Max-Age: 600\r\n";
    return a;
}

asio::awaitable<bool> http_session::handle_chat_completions(request_type& req)
{
    const bool keep_alive = req.keep_alive();
    auto read = read_openai_request(req.body(), w_.engine);
    if (auto* e = std::get_if<route_error>(&read)) return send(error_answer(*e, shape_), keep_alive);
    auto& chat = std::get<openai_request>(read);
    const auto& block = *chat.block;
    if (key_ && !key_->may_use(block.name))
        return send(error_answer(error::forbidden, "API key \"" + std::string(key_->name()) + "\" may not use model \"" + chat.model + "\"",
                                 shape_, "model"),
                    keep_alive);
    if (chat.stream && !block.streaming)
        return send(error_answer(error::streaming_disabled, "model \"" + chat.model + "\" has streaming = false; send stream: false",
                                 shape_, "stream"),
                    keep_alive);
    std::optional<admission_ticket> ticket;
    std::optional<stream_error> refused;
    auto ts = open_stream(block, std::move(chat.request), ticket, refused);
    if (!ts) return send_error(*refused, keep_alive);
    if (!chat.stream) return collect(block, std::move(ts), std::move(*ticket), keep_alive, std::move(chat.model));
    const openai_stream format{std::move(chat.model), chat.include_usage};
    auto record = start_stream(w_, std::move(*ticket), block, std::move(ts), "openai", &format);
    auto opt = sse_options(req, false);
    opt.openai = true;
    return stream_events(std::move(record), opt);
}

asio::awaitable<bool> http_session::upgrade(request_type req, const block_config& block)
{
    deadline_.expires_never();
    co_await run_ws_session(w_, std::move(socket_), std::move(req), buffer_, block, forward_, key_);
    co_return false;
}

asio::awaitable<bool> http_session::handle_stream(request_type& req, route& r)
{
    const bool keep_alive = req.keep_alive();
    auto read = read_stream_request(r, req.method(), req.body());
    if (auto* e = std::get_if<route_error>(&read)) return send(error_answer(*e), keep_alive);
    auto& sr = std::get<stream_request>(read);
    std::optional<admission_ticket> ticket;
    std::optional<stream_error> refused;
    auto ts = open_stream(*r.block, std::move(sr.request), ticket, refused);
    if (!ts) return send_error(*refused, keep_alive);
    auto record = start_stream(w_, std::move(*ticket), *r.block, std::move(ts), "sse");
    return stream_events(std::move(record), sse_options(req, sr.resumable));
}

asio::awaitable<bool> http_session::stream_events(std::shared_ptr<stream_record> record, sse_response::options opt)
{
    sse_response response(w_, socket_, buffer_, opt);
    auto events = subscribe_local(std::move(record), response, 1);
    const bool again = co_await response.run(std::move(events), 1);
    co_return again && !shutting_down_;
}

asio::awaitable<bool> http_session::handle_resume(const block_config& block, std::string stream_id, std::uint64_t seq,
                                                  sse_response::options opt, bool keep_alive)
{
    sse_response response(w_, socket_, buffer_, opt);
    auto resumed = co_await subscribe_resume(w_, block, event_id{stream_id, seq}, response, key_);
    switch (resumed.decision.outcome) {
    case resume_outcome::refused: co_return co_await send_error(resumed.decision.code, resumed.decision.message, keep_alive);
    case resume_outcome::delivered: {
        // Everything was delivered: 204 tells an EventSource to stop
        // reconnecting instead of starting a new generation.
        http_answer a;
        a.status = 204;
        co_return co_await send(std::move(a), keep_alive);
    }
    case resume_outcome::replay: break;
    }
    const bool again = co_await response.run(std::move(resumed.stream), resumed.decision.next_seq);
    co_return again && !shutting_down_;
}

asio::awaitable<bool> http_session::handle_extra(request_type req, std::size_t index)
{
    const bool keep_alive = req.keep_alive() && !shutting_down_;
    auto& handler = w_.extra_routes[index].handler;
    http::response<http::string_body> res;
    std::string failure;
    try {
        res = co_await handler(req);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (!failure.empty() || res.result_int() == 0)
        co_return co_await send_error(error::internal_error, "the route handler failed: " + failure, false);
    res.keep_alive(keep_alive && res.keep_alive());
    res.prepare_payload();
    deadline_.expires_after(w_.config.keep_alive_timeout);
    auto [ec, n] = co_await http::async_write(socket_, res, asio::as_tuple(use_awaitable));
    deadline_.expires_never();
    co_return !ec && res.keep_alive();
}

namespace {

enum class stop_result { unknown, stopped, already_ended };

// Runs on the worker that owns the stream.
// With [auth], a key stops only its own streams (others look unknown).
asio::awaitable<stop_result> stop_on_owner(worker& owner, std::string stream_id, const key_state* key)
{
    const auto record = owner.find_stream(stream_id);
    if (!record) co_return stop_result::unknown;
    if (key && record->key() != key) co_return stop_result::unknown;
    if (record->ended()) co_return stop_result::already_ended;
    record->stop(stop_reason::cancel_request);
    co_return stop_result::stopped;
}

}  // namespace

asio::awaitable<bool> http_session::handle_stop(std::string id, bool keep_alive)
{
    const auto owner = w_.owner_of(id);
    stop_result result = stop_result::unknown;
    if (owner) {
        auto& owner_worker = *w_.peers[*owner];
        auto stopping = stop_on_owner(owner_worker, id, key_);
        result = co_await asio::co_spawn(owner_worker.ioc, std::move(stopping), use_awaitable);
    }
    if (result == stop_result::unknown)
        co_return co_await send_error(error::unknown_stream, "stream " + id + " is unknown, or ended and expired", keep_alive);
    http_answer a;
    a.content_type = "application/json";
    a.body = R"({"stream_id":)";
    transport::append_json_string(a.body, id);
    a.body += result == stop_result::stopped ? R"(,"status":"cancelled"})" : R"(,"status":"ended"})";
    co_return co_await send(std::move(a), keep_alive);
}

asio::awaitable<bool> http_session::handle_collect(request_type& req, route& r)
{
    const bool keep_alive = req.keep_alive();
    auto read = read_stream_request(r, req.method(), req.body());
    if (auto* e = std::get_if<route_error>(&read)) return send(error_answer(*e), keep_alive);
    std::optional<admission_ticket> ticket;
    std::optional<stream_error> refused;
    auto ts = open_stream(*r.block, std::move(std::get<stream_request>(read).request), ticket, refused);
    if (!ts) return send_error(*refused, keep_alive);
    return collect(*r.block, std::move(ts), std::move(*ticket), keep_alive);
}

asio::awaitable<bool> http_session::collect(const block_config& block, std::unique_ptr<token_stream> ts,
                                            admission_ticket ticket, bool keep_alive, std::optional<std::string> openai_model)
{
    stream_accounting accounting(w_, std::move(ticket), block, openai_model ? "openai" : "collect", w_.next_stream_id());
    control_.active = ts.get();

    collect_result result;
    std::optional<stream_error> failure;
    auto gather = [&]() -> asio::awaitable<void> {
        try {
            for (;;) {
                auto t = ts->try_next();
                if (!t && !(t = co_await ts->next())) break;
                accounting.on_collected_chunk();
                result.add(*t);
            }
        } catch (const stream_error& e) {
            failure.emplace(e);
        }
    };
    // Keep watching the socket: a client that leaves cancels the provider.
    auto collected = gather();
    auto watched = watch_for_close(socket_, buffer_, w_.config.max_header_bytes);
    bool client_gone = false;
    try {
        auto winner = co_await (std::move(collected) || std::move(watched));
        client_gone = winner.index() == 1;
    } catch (const std::exception&) {
        client_gone = true;
    }
    control_.active = nullptr;
    if (client_gone) ts->cancel();
    if (const auto reports = ts->attempt_reports(); !reports.empty()) w_.metrics.count_attempts(block.name, reports);
    if (client_gone) {
        accounting.finish(stream_outcome::cancelled, "client_closed", true, ts.get());
        co_return false;
    }
    if (failure) {
        accounting.finish(stream_outcome::error, to_code(failure->code()), provider_was_cancelled(*ts), ts.get());
        co_return co_await send_error(*failure, keep_alive);
    }
    if (control_.shutdown) {
        accounting.finish(stream_outcome::error, "server_shutdown", true, ts.get());
        co_return co_await send_error(error::server_shutdown, "the server is shutting down; retry the request", false);
    }
    const auto usage = ts->usage();
    const auto reason = ts->finish_reason();
    accounting.finish(reason == finish_reason::cancelled ? stream_outcome::cancelled : stream_outcome::complete, to_string(reason),
                      provider_was_cancelled(*ts), ts.get());
    if (openai_model) {
        if (reason == finish_reason::cancelled)
            co_return co_await send_error(error::provider_error, "the answer was cancelled before its end", keep_alive);
        openai_completion c;
        c.stream_id = accounting.stream_id();
        c.model = *openai_model;
        c.created = static_cast<std::int64_t>(std::time(nullptr));
        c.text = result.text;
        c.reasoning = result.reasoning;
        c.tool_calls = result.tool_calls;
        c.reason = reason;
        c.usage = usage;
        http_answer a;
        a.content_type = "application/json";
        a.body = openai_completion_body(c);
        co_return co_await send(std::move(a), keep_alive);
    }
    std::string body = R"({"block_type":)";
    transport::append_json_string(body, block.name);
    body += R"(,"text":)";
    transport::append_json_string(body, result.text);
    // v1.1, only when the answer has them: a text-only answer is v1's.
    if (!result.reasoning.empty()) {
        body += R"(,"reasoning":)";
        transport::append_json_string(body, result.reasoning);
    }
    if (!result.tool_calls.empty()) {
        body += R"(,"tool_calls":[)";
        for (std::size_t i = 0; i < result.tool_calls.size(); ++i) {
            const auto& call = result.tool_calls[i];
            body += i ? R"(,{"id":)" : R"({"id":)";
            transport::append_json_string(body, call.id);
            body += R"(,"name":)";
            transport::append_json_string(body, call.name);
            body += R"(,"arguments":)";
            transport::append_json_string(body, call.arguments);
            body += '}';
        }
        body += ']';
    }
    body += R"(,"finish_reason":")";
    body += to_string(reason);
    body += R"(","usage":)";
    transport::append_usage_json(body, usage);
    if (const auto* served = served_by(*ts)) transport::append_served_by(body, served->provider, served->model);
    body += '}';
    http_answer a;
    a.content_type = "application/json";
    a.body = std::move(body);
    co_return co_await send(std::move(a), keep_alive);
}

}  // namespace

asio::awaitable<void> run_http_session(worker& w, tcp::socket socket)
{
    http_session session(w, std::move(socket));
    co_await session.run();
}

asio::awaitable<void> reject_connection(worker& w, tcp::socket socket)
{
    const std::string body = error_body("overloaded", "the server has its maximum of " +
                                                          std::to_string(w.config.max_connections) + " connections open");
    const std::string response = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: " +
                                 std::to_string(w.config.overload_retry_after.count()) +
                                 "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    socket_deadline deadline(socket);
    deadline.expires_after(std::chrono::seconds(2));
    co_await asio::async_write(socket, asio::buffer(response), asio::as_tuple(use_awaitable));
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    co_await deadline.settle();
}

}  // namespace liveai::server::detail
