// The thin coroutine around upstream::exchange_fsm: it performs the step the
// machine asks for, every wait bound to the stream's one cancellation signal,
// and reports how it went. Decisions live in the machine.
#include <liveai/providers/http_stream_provider.hpp>

#include <liveai/providers/upstream/exchange_fsm.hpp>
#include <liveai/transport/sse_parser.hpp>

#include "upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <array>
#include <cstdlib>

namespace liveai {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using upstream::action;
using upstream::failure_kind;
using response_parser = http::response_parser<http::buffer_body>;

struct http_stream_provider::exchange {
    upstream_settings settings;
    detail::upstream_target target;
    std::string pool_key;
    request_spec spec;
    upstream::exchange_fsm fsm;
    action next_step;
    // The one cancellation source: every operation below binds to its slot;
    // cancel() and the awaiting coroutine's slot emit it.
    asio::cancellation_signal cancel_signal;
    std::optional<tcp::resolver> resolver;
    tcp::resolver::results_type endpoints;
    std::unique_ptr<detail::upstream_connection> conn;
    std::unique_ptr<response_parser> parser;
    transport::sse_parser sse;
    std::array<char, 16 * 1024> body_buffer;  // not zeroed: a memset per stream, for bytes read before they are used
    std::string_view unparsed;
    // What try_next() met in the stream (an oversized event, an end without
    // a finish reason): next() handles it as if it had parsed it.
    std::exception_ptr deferred;
    bool body_done = false;
    std::string error_body;
    unsigned requests_sent = 0;
    // The slot of the coroutine awaiting next(), while it waits.
    asio::cancellation_slot caller_slot;
    std::string key;  // kept only to scrub it from upstream messages

    static upstream::exchange_limits limits_of(const upstream_settings& s, bool tls)
    {
        upstream::exchange_limits l;
        l.tls = tls;
        l.connect_timeout = s.connect_timeout;
        l.first_byte_timeout = s.first_byte_timeout;
        l.read_timeout = s.read_timeout;
        l.max_retries = s.max_retries;
        l.retry_base = s.retry_base;
        l.retry_max = s.retry_max;
        l.first_token_deadline = s.first_token_budget;
        return l;
    }

    exchange(upstream_settings s, detail::upstream_target t)
        : settings(std::move(s)), target(std::move(t)), pool_key(target.pool_key(settings.ca_file)),
          fsm(limits_of(settings, target.tls)), sse(settings.max_event_bytes)
    {
    }

    auto bound() { return asio::bind_cancellation_slot(cancel_signal.slot(), asio::as_tuple(use_awaitable)); }
};

namespace {

// Runs `op(stream)` on whichever stream the connection has.
template <class Op>
auto on_stream(detail::upstream_connection& c, Op&& op)
{
    return c.secure ? op(*c.secure) : op(*c.plain);
}

std::string trim_message(std::string_view text)
{
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    std::string out(text.substr(0, 300));
    for (auto& c : out)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (text.size() > 300) out += "...";
    return out;
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

bool closed_by_peer(const boost::system::error_code& ec)
{
    return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe;
}

// Reads the rest of a response whose stream already ended (OpenAI's final
// zero-length chunk often trails `data: [DONE]`), then pools the connection.
asio::awaitable<void> drain_then_pool(std::unique_ptr<detail::upstream_connection> c, std::unique_ptr<response_parser> p,
                                      std::string key, std::size_t limit)
{
    std::array<char, 1024> sink;
    c->lowest().expires_after(std::chrono::seconds(2));
    while (!p->is_done()) {
        p->get().body().data = sink.data();
        p->get().body().size = sink.size();
        auto read = on_stream(*c, [&](auto& s) { return http::async_read_some(s, c->buffer, *p, asio::as_tuple(use_awaitable)); });
        auto [ec, n] = co_await std::move(read);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return;  // not reusable: closed with c
    }
    if (!p->get().keep_alive()) co_return;
    detail::pool_of(c->lowest().get_executor()).give_back(key, std::move(c), limit);
}

}  // namespace

http_stream_provider::http_stream_provider(std::string provider_name, upstream_settings settings)
    : provider_name_(std::move(provider_name))
{
    std::string why;
    auto target = detail::parse_base_url(settings.base_url, why);
    if (!target) throw stream_error(error::provider_error, provider_name_ + " base_url \"" + settings.base_url + "\" " + why);
    x_ = std::make_unique<exchange>(std::move(settings), std::move(*target));
}

void http_stream_provider::delta_sink::tool_call(std::uint32_t index, std::string_view id, std::string_view name,
                                                 std::string_view arguments)
{
    auto& d = add(token_kind::tool_call);
    d.index = index;
    d.id.assign(id);
    d.name.assign(name);
    d.text.assign(arguments);
}

http_stream_provider::delta_sink::delta& http_stream_provider::delta_sink::add(token_kind kind)
{
    if (next_ == count_) next_ = count_ = 0;  // all taken: reuse from the front
    if (count_ == deltas_.size()) deltas_.emplace_back();
    auto& d = deltas_[count_++];
    d.kind = kind;
    d.index = 0;
    d.id.clear();
    d.name.clear();
    d.text.clear();
    return d;
}

token http_stream_provider::delta_sink::take() noexcept
{
    const auto& d = deltas_[next_++];
    return token{d.text, d.kind, d.index, d.id, d.name};
}

void http_stream_provider::check_tool_calls() const
{
    for (std::size_t i = 0; i < tool_arguments_.size(); ++i) {
        boost::system::error_code ec;
        const auto value = boost::json::parse(tool_arguments_[i], ec);
        if (ec || !value.is_object())
            throw stream_error(error::upstream_protocol, provider_name_ + " sent tool call " + std::to_string(i) +
                                                             " with arguments that are not a JSON object: " +
                                                             upstream_message(tool_arguments_[i]));
    }
}

http_stream_provider::~http_stream_provider()
{
    close_upstream();
}

unsigned http_stream_provider::attempts() const noexcept { return x_->fsm.attempts(); }
unsigned http_stream_provider::requests_sent() const noexcept { return x_->requests_sent; }
const upstream_settings& http_stream_provider::settings() const noexcept { return x_->settings; }
void http_stream_provider::set_request(request_spec spec) { x_->spec = std::move(spec); }

std::string http_stream_provider::api_key() const
{
    const auto& name = x_->settings.api_key_env;
    if (name.empty()) return {};
    const char* value = std::getenv(name.c_str());
    if (!value || !*value)
        throw stream_error(error::upstream_auth, "the environment variable " + name + " (api_key_env of this " +
                                                     provider_name_ + " block) is not set; set it, or set api_key_env = \"\" "
                                                     "for a server that needs no key");
    x_->key = value;
    return value;
}

std::string http_stream_provider::upstream_message(std::string_view body)
{
    boost::system::error_code ec;
    auto json = boost::json::parse(body, ec);
    if (!ec) {
        // Gemini sometimes wraps the error object in an array.
        if (json.is_array() && !json.as_array().empty()) json = json.as_array().front();
        if (const auto* obj = json.if_object()) {
            if (const auto* err = obj->if_contains("error")) {
                if (const auto* e = err->if_object()) {
                    if (const auto* m = e->if_contains("message"); m && m->is_string()) return trim_message(m->get_string());
                } else if (err->is_string()) {
                    return trim_message(err->get_string());
                }
            }
            if (const auto* m = obj->if_contains("message"); m && m->is_string()) return trim_message(m->get_string());
        }
    }
    return trim_message(body);
}

stream_error http_stream_provider::error_from_response(unsigned status, std::string_view body) const
{
    const auto message = provider_name_ + " answered HTTP " + std::to_string(status) + ": " + upstream_message(body);
    if (status == 401 || status == 403) return stream_error(error::upstream_auth, message);
    if (status == 404) return stream_error(error::upstream_not_found, message);
    if (status == 429) return stream_error(error::upstream_rate_limited, message);
    if (status == 408) return stream_error(error::upstream_timeout, message);
    if (status >= 500) return stream_error(error::upstream_unavailable, message);
    return stream_error(error::provider_error, message, false);
}

void http_stream_provider::close_upstream() noexcept
{
    if (x_->resolver) x_->resolver->cancel();
    if (x_->conn) x_->conn->close();
    x_->conn.reset();
    x_->parser.reset();
}

void http_stream_provider::request_cancel() noexcept
{
    auto& x = *x_;
    if (done()) return;
    x.fsm.cancel();
    // Whatever is pending ends now; closing the socket also stops an
    // operation that ignores per-operation cancellation (the resolver does).
    x.cancel_signal.emit(asio::cancellation_type::terminal);
    if (x.resolver) x.resolver->cancel();
    if (x.conn) x.conn->close();
}

void http_stream_provider::cancel() noexcept
{
    request_cancel();
}

void http_stream_provider::end_cancelled() noexcept
{
    close_upstream();
    set_usage(upstream_usage_);
    mark_finished(finish_reason::cancelled);
}

// The answer is whole: its tool calls are checked before the stream
// counts as finished (a failure here is the stream's, never retried after
// the first token).
void http_stream_provider::finish_answer()
{
    check_tool_calls();
    x_->fsm.body_finished();
    finish_stream();
}

void http_stream_provider::finish_stream()
{
    auto& x = *x_;
    set_usage(upstream_usage_);
    mark_finished(finish_);
    // A keep-alive response leaves a reusable connection once fully read.
    if (x.conn && x.parser && x.parser->get().keep_alive() && x.settings.pool_size > 0) {
        auto& pool = detail::pool_of(x.conn->lowest().get_executor());
        if (x.parser->is_done()) {
            pool.give_back(x.pool_key, std::move(x.conn), x.settings.pool_size);
        } else {
            auto ex = x.conn->lowest().get_executor();
            asio::co_spawn(ex, drain_then_pool(std::move(x.conn), std::move(x.parser), x.pool_key, x.settings.pool_size),
                           asio::detached);
        }
    }
    close_upstream();
}

void http_stream_provider::fail_with(const stream_error& failure)
{
    close_upstream();
    set_usage(upstream_usage_);
    mark_failed(failure.code());
    // Upstreams may quote the key back (e.g. "Incorrect API key provided: ..."): never pass it on.
    std::string message = failure.message();
    const auto& key = x_->key;
    for (auto pos = key.empty() ? std::string::npos : message.find(key); pos != std::string::npos; pos = message.find(key))
        message.replace(pos, key.size(), "[redacted]");
    throw stream_error(static_cast<liveai::error>(failure.code().value()), std::move(message), failure.retryable());
}

// A cancellation of the coroutine awaiting next() becomes the stream's own.
// Asio clears that coroutine's slot whenever one of its operations completes
// (each is bound to the stream's own signal instead), so this is renewed
// before every wait.
void http_stream_provider::listen_to_caller() noexcept
{
    auto& slot = x_->caller_slot;
    if (!slot.is_connected()) return;
    auto forward = [this](asio::cancellation_type type) {
        if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                     asio::cancellation_type::total)) != asio::cancellation_type::none)
            request_cancel();
    };
    slot.assign(forward);
}

// Performs steps until the machine asks for the body (read_body) or ends (close).
asio::awaitable<void> http_stream_provider::perform_until_body()
{
    auto& x = *x_;
    auto& fsm = x.fsm;
    auto& a = x.next_step;
    const auto now = [] { return upstream::clock::now(); };
    const auto where = x.target.host + ":" + x.target.port;
    // Writing the request and reading the header fail alike: a peer that
    // closed before any byte came back tells a stale pooled connection.
    const auto request_failed = [&](const boost::system::error_code& ec, const char* timeout_text) {
        if (ec == beast::error::timeout)
            return fsm.failure(stream_error(error::upstream_timeout, provider_name_ + timeout_text + ms(a.timeout)),
                               failure_kind::timeout, now());
        return fsm.failure(stream_error(error::upstream_unavailable, provider_name_ + " connection failed: " + ec.message()),
                           closed_by_peer(ec) ? failure_kind::closed_before_data : failure_kind::other, now());
    };
    for (;;) {
        listen_to_caller();
        if (fsm.cancelled()) a = {};
        switch (a.what) {
        case action::type::read_body:
        case action::type::close: co_return;

        case action::type::take_pooled: {
            close_upstream();
            x.conn = detail::pool_of(co_await asio::this_coro::executor).take(x.pool_key);
            a = fsm.pooled(x.conn != nullptr, now());
            break;
        }
        case action::type::resolve: {
            close_upstream();
            auto ex = co_await asio::this_coro::executor;
            x.resolver.emplace(ex);
            // The resolver has no per-operation cancellation nor timeout: a
            // timer cancels it at the step's limit, request_cancel() directly.
            // The timer's handler may run after this frame moved on, so what
            // it touches is shared.
            struct resolve_limit {
                tcp::resolver* resolver = nullptr;
                bool fired = false;
            };
            auto limit_state = std::make_shared<resolve_limit>(resolve_limit{&*x.resolver});
            asio::steady_timer limit(ex, a.timeout);
            auto on_limit = [limit_state](const boost::system::error_code& ec) {
                if (ec || !limit_state->resolver) return;
                limit_state->fired = true;
                limit_state->resolver->cancel();
            };
            limit.async_wait(on_limit);
            auto [ec, results] = co_await x.resolver->async_resolve(x.target.host, x.target.port, x.bound());
            limit_state->resolver = nullptr;
            limit.cancel();
            x.resolver.reset();
            const bool timed_out = limit_state->fired;
            if (fsm.cancelled()) break;
            if (timed_out)
                a = fsm.failure(stream_error(error::upstream_timeout, "resolving " + x.target.host + " took longer than " + ms(a.timeout)),
                                failure_kind::timeout, now());
            else if (ec)
                a = fsm.failure(stream_error(error::upstream_unavailable, "cannot resolve " + x.target.host + ": " + ec.message()),
                                failure_kind::other, now());
            else {
                x.endpoints = std::move(results);
                a = fsm.success(now());
            }
            break;
        }
        case action::type::connect: {
            x.conn = std::make_unique<detail::upstream_connection>();
            x.conn->plain.emplace(co_await asio::this_coro::executor);
            x.conn->plain->expires_after(a.timeout);
            auto [ec, endpoint] = co_await x.conn->plain->async_connect(x.endpoints, x.bound());
            if (fsm.cancelled()) break;
            if (ec == beast::error::timeout)
                a = fsm.failure(stream_error(error::upstream_timeout, "connecting to " + where + " took longer than " + ms(a.timeout)),
                                failure_kind::timeout, now());
            else if (ec)
                a = fsm.failure(stream_error(error::upstream_unavailable, "cannot connect to " + where + ": " + ec.message()),
                                failure_kind::other, now());
            else {
                x.conn->plain->socket().set_option(tcp::no_delay(true));
                x.conn->plain->expires_never();
                a = fsm.success(now());
            }
            break;
        }
        case action::type::tls_handshake: {
            auto& tls = detail::pool_of(co_await asio::this_coro::executor).tls_context(x.settings.ca_file);
            detail::start_tls(*x.conn, tls, x.target);
            x.conn->lowest().expires_after(a.timeout);
            auto [ec] = co_await x.conn->secure->async_handshake(asio::ssl::stream_base::client, x.bound());
            if (fsm.cancelled()) break;
            if (ec == beast::error::timeout) {
                a = fsm.failure(stream_error(error::upstream_timeout, "TLS handshake with " + where + " took longer than " + ms(a.timeout)),
                                failure_kind::timeout, now());
            } else if (ec) {
                // Verification failures will not go away by retrying.
                if (const auto reason = detail::tls_verification_failure(*x.conn); !reason.empty())
                    a = fsm.failure(stream_error(error::upstream_tls, "the TLS certificate of " + where + " failed verification: " + reason),
                                    failure_kind::other, now());
                else
                    a = fsm.failure(stream_error(error::upstream_unavailable, "TLS handshake with " + where + " failed: " + ec.message()),
                                    failure_kind::other, now());
            } else {
                x.conn->lowest().expires_never();
                a = fsm.success(now());
            }
            break;
        }
        case action::type::write_request: {
            http::request<http::string_body> req{http::verb::post, x.target.path_prefix + x.spec.path_and_query, 11};
            req.set(http::field::host, x.target.host_header);
            req.set(http::field::user_agent, "liveai/0.1");
            req.set(http::field::content_type, "application/json");
            req.set(http::field::accept, "text/event-stream");
            for (const auto& [name, value] : x.spec.headers) req.set(name, value);
            req.body() = x.spec.body;
            req.keep_alive(true);
            req.prepare_payload();
            // Fresh per attempt: nothing of an earlier attempt's body may leak in.
            x.sse = transport::sse_parser(x.settings.max_event_bytes);
            x.unparsed = {};
            x.body_done = false;
            x.conn->lowest().expires_after(a.timeout);
            ++x.requests_sent;
            auto write = on_stream(*x.conn, [&](auto& s) { return http::async_write(s, req, x.bound()); });
            auto [ec, n] = co_await std::move(write);
            if (fsm.cancelled()) break;
            a = ec ? request_failed(ec, " took the request for longer than ") : fsm.success(now());
            break;
        }
        case action::type::read_header: {
            x.parser = std::make_unique<response_parser>();
            x.parser->body_limit(boost::none);  // a stream has no length; each event is bounded instead
            x.conn->lowest().expires_after(a.timeout);
            auto read = on_stream(*x.conn, [&](auto& s) { return http::async_read_header(s, x.conn->buffer, *x.parser, x.bound()); });
            auto [ec, n] = co_await std::move(read);
            if (fsm.cancelled()) break;
            if (ec)
                a = request_failed(ec, " sent no response header within ");
            else
                a = fsm.header(x.parser->get().result_int(), x.parser->get()[http::field::retry_after],
                               std::chrono::system_clock::now(), now());
            break;
        }
        case action::type::read_error_body: {
            // Read the (bounded) error body for its message.
            x.error_body.clear();
            x.conn->lowest().expires_after(a.timeout);
            while (!x.parser->is_done() && x.error_body.size() < 64 * 1024) {
                listen_to_caller();
                x.parser->get().body().data = x.body_buffer.data();
                x.parser->get().body().size = x.body_buffer.size();
                auto read = on_stream(*x.conn, [&](auto& s) { return http::async_read_some(s, x.conn->buffer, *x.parser, x.bound()); });
                auto [ec, n] = co_await std::move(read);
                if (ec == http::error::need_buffer) ec = {};
                x.error_body.append(x.body_buffer.data(), x.body_buffer.size() - x.parser->get().body().size);
                if (ec || fsm.cancelled()) break;
            }
            if (fsm.cancelled()) break;
            const unsigned status = x.parser->get().result_int();
            close_upstream();  // an error answer's connection is not worth keeping
            a = fsm.error_response(error_from_response(status, x.error_body), now());
            break;
        }
        case action::type::wait: {
            asio::steady_timer timer(co_await asio::this_coro::executor, a.timeout);
            co_await timer.async_wait(x.bound());
            if (fsm.cancelled()) break;
            a = fsm.success(now());
            break;
        }
        }
    }
}

// Beast's read_some parses one HTTP chunk per call. The rest of what the
// socket read is parsed here, without I/O, so the events the upstream sent
// together are handled (and leave) together. (eager(true) would do this
// inside read_some, but then read_some waits for more bytes after the last
// complete chunk instead of returning what it has.)
void http_stream_provider::drain_read_bytes()
{
    auto& x = *x_;
    auto& p = *x.parser;
    while (!p.is_done() && x.conn->buffer.size() > 0 && p.get().body().size > 0) {
        boost::system::error_code ec;
        const auto used = p.put(x.conn->buffer.data(), ec);
        x.conn->buffer.consume(used);
        if (ec || used == 0) break;  // need_more / need_buffer: the next read goes on from here
    }
}

// Parses what was read; returns a token, or nullopt when more must be read.
// Ends the stream (finish_stream / fail_with) on an end marker or a failure.
token http_stream_provider::deliver()
{
    auto t = deltas_.take();
    x_->fsm.token_delivered();
    if (t.kind == token_kind::tool_call) {
        if (t.index >= max_tool_calls)
            throw stream_error(error::upstream_protocol, provider_name_ + " sent more than " + std::to_string(max_tool_calls) +
                                                             " tool calls in one answer");
        if (t.index >= tool_arguments_.size()) tool_arguments_.resize(t.index + 1);
        auto& args = tool_arguments_[t.index];
        if (args.size() + t.text.size() > x_->settings.max_tool_call_bytes)
            throw stream_error(error::upstream_protocol, provider_name_ + " sent tool call " + std::to_string(t.index) +
                                                             " with more than " + std::to_string(x_->settings.max_tool_call_bytes) +
                                                             " bytes of arguments (max_tool_call_bytes)");
        args.append(t.text);
    }
    return t;
}

std::optional<token> http_stream_provider::parse_pending()
{
    auto& x = *x_;
    if (!deltas_.empty()) return deliver();
    boost::system::error_code ec;
    while (!x.unparsed.empty()) {
        auto ev = x.sse.next(x.unparsed, ec);
        if (ec)
            throw stream_error(error::upstream_protocol, provider_name_ + " sent an event larger than " +
                                                              std::to_string(x.settings.max_event_bytes) + " bytes");
        if (!ev) break;
        const auto what = on_event(ev->data, deltas_);
        if (!deltas_.empty()) {
            if (what == event_action::end)
                throw stream_error(error::internal_error, provider_name_ + ": an end marker may carry no delta");
            return deliver();
        }
        if (what == event_action::end) {
            if (!finish_seen_)
                throw stream_error(error::upstream_protocol,
                                   provider_name_ + " ended the stream ([DONE]) without a finish_reason: the answer is incomplete");
            finish_answer();
            return std::nullopt;
        }
    }
    return std::nullopt;
}

// The body ended (or broke off after the answer was whole): what the
// upstream said decides, never the mere end of the bytes.
void http_stream_provider::end_of_body()
{
    auto& x = *x_;
    x.sse.end_of_input();
    // Text outside SSE framing: an upstream that reports an error as a raw
    // JSON object in a 200 stream (Gemini does). on_event throws its mapped error.
    if (const auto raw = x.sse.unframed(); !raw.empty()) {
        boost::system::error_code ec;
        auto value = boost::json::parse(raw, ec);
        if (!ec && value.is_array() && !value.as_array().empty()) value = value.as_array().front();
        if (!ec && value.is_object() && value.as_object().contains("error")) {
            const std::string error_object = boost::json::serialize(value);
            on_event(error_object, deltas_);
        }
    }
    if (!finish_seen_)
        throw stream_error(error::upstream_protocol,
                           provider_name_ + " stream ended without a finish reason (cut off): the answer is incomplete");
    finish_answer();
}

std::optional<token> http_stream_provider::try_next()
{
    auto& x = *x_;
    if (done() || x.deferred || (x.unparsed.empty() && deltas_.empty()) || x.next_step.what != action::type::read_body || x.fsm.cancelled())
        return std::nullopt;
    try {
        return parse_pending();  // may end the stream: next() then says so
    } catch (const stream_error&) {
        x.deferred = std::current_exception();
        return std::nullopt;
    }
}

asio::awaitable<std::optional<token>> http_stream_provider::next()
{
    if (done()) co_return std::nullopt;
    auto& x = *x_;
    auto& fsm = x.fsm;
    x.caller_slot = (co_await asio::this_coro::cancellation_state).slot();
    struct stop_listening {
        asio::cancellation_slot& slot;
        ~stop_listening()
        {
            if (slot.is_connected()) slot.clear();
            slot = {};
        }
    } listening{x.caller_slot};
    try {
        if (fsm.current() == upstream::phase::idle) x.next_step = fsm.start(upstream::clock::now());
        for (;;) {
            if (x.next_step.what != action::type::read_body) {
                co_await perform_until_body();
                if (fsm.cancelled()) {
                    end_cancelled();
                    co_return std::nullopt;
                }
                if (x.next_step.what == action::type::close) {
                    if (const auto& failure = fsm.result().failure) fail_with(*failure);
                    fail_with(stream_error(error::internal_error, provider_name_ + ": the exchange ended without a result"));
                }
            }
            // Streaming the body.
            try {
                if (x.deferred) std::rethrow_exception(std::exchange(x.deferred, nullptr));
                if (auto t = parse_pending()) co_return t;
                if (done()) co_return std::nullopt;
                if (x.body_done) {
                    end_of_body();
                    co_return std::nullopt;
                }
                x.parser->get().body().data = x.body_buffer.data();
                x.parser->get().body().size = x.body_buffer.size();
                // Before the first token a read may not outlast the first-token deadline.
                const auto limit = fsm.delivered_tokens() ? x.settings.read_timeout : x.next_step.timeout;
                x.conn->lowest().expires_after(limit);
                listen_to_caller();
                auto read = on_stream(*x.conn, [&](auto& s) { return http::async_read_some(s, x.conn->buffer, *x.parser, x.bound()); });
                auto [ec, n] = co_await std::move(read);
                if (ec == http::error::need_buffer) ec = {};
                if (fsm.cancelled()) {
                    end_cancelled();
                    co_return std::nullopt;
                }
                if (ec) {
                    // The answer was whole: a connection that broke before the
                    // end marker loses nothing but the trailing usage.
                    if (finish_seen_) {
                        close_upstream();
                        finish_answer();
                        co_return std::nullopt;
                    }
                    if (ec == beast::error::timeout)
                        x.next_step = fsm.failure(stream_error(error::upstream_timeout, provider_name_ + " sent nothing for " + ms(limit)),
                                                  failure_kind::timeout, upstream::clock::now());
                    else
                        x.next_step = fsm.failure(stream_error(error::upstream_protocol, provider_name_ + " stream broke off: " + ec.message()),
                                                  failure_kind::other, upstream::clock::now());
                    continue;
                }
                drain_read_bytes();
                x.unparsed = std::string_view(x.body_buffer.data(), x.body_buffer.size() - x.parser->get().body().size);
                if (x.parser->is_done()) x.body_done = true;
                x.next_step = fsm.success(upstream::clock::now());
            } catch (const stream_error& e) {
                // An error in the stream: retried only before the first token.
                if (done()) throw;
                close_upstream();
                x.next_step = fsm.stream_failed(e, upstream::clock::now());
            }
        }
    } catch (const stream_error& e) {
        if (!done()) fail_with(e);
        throw;
    } catch (const boost::system::system_error& e) {
        // Asio throws operation_aborted where a cancelled coroutine awaits again.
        if (fsm.cancelled() || e.code() == asio::error::operation_aborted) {
            fsm.cancel();
            end_cancelled();
            co_return std::nullopt;
        }
        fail_with(stream_error(error::internal_error, provider_name_ + ": " + e.code().message()));
    }
}

}  // namespace liveai
