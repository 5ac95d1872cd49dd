#include <liveai/providers/http_stream_provider.hpp>

#include <liveai/transport/sse_parser.hpp>

#include "upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <array>
#include <cstdlib>
#include <random>

namespace liveai {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::use_awaitable;

struct http_stream_provider::exchange {
    upstream_settings settings;
    detail::upstream_target target;
    std::string pool_key;
    request_spec spec;
    std::unique_ptr<detail::upstream_connection> conn;
    std::unique_ptr<http::response_parser<http::buffer_body>> parser;
    transport::sse_parser sse;
    std::array<char, 16 * 1024> body_buffer{};
    std::string_view unparsed;
    bool body_done = false;
    unsigned attempts = 0;
    std::optional<std::chrono::seconds> retry_after;
    std::string key;  // kept only to scrub it from upstream messages
    std::mt19937_64 rng{std::random_device{}()};

    explicit exchange(upstream_settings s) : settings(std::move(s)), sse(settings.max_event_bytes) {}
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

using response_parser = http::response_parser<http::buffer_body>;

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
    : provider_name_(std::move(provider_name)), x_(std::make_unique<exchange>(std::move(settings)))
{
    std::string why;
    auto target = detail::parse_base_url(x_->settings.base_url, why);
    if (!target) throw stream_error(error::provider_error, provider_name_ + " base_url \"" + x_->settings.base_url + "\" " + why);
    x_->target = std::move(*target);
    x_->pool_key = x_->target.pool_key(x_->settings.ca_file);
    text_.reserve(256);
}

http_stream_provider::~http_stream_provider()
{
    if (x_->conn) x_->conn->close();
}

unsigned http_stream_provider::attempts() const noexcept { return x_->attempts; }
const upstream_settings& http_stream_provider::settings() const noexcept { return x_->settings; }
void http_stream_provider::set_request(request_spec spec) { x_->spec = std::move(spec); }

std::string http_stream_provider::api_key() const
{
    const auto& name = x_->settings.api_key_env;
    if (name.empty()) return {};
    const char* value = std::getenv(name.c_str());
    if (!value || !*value)
        throw stream_error(error::upstream_auth, "the environment variable " + name + " (api_key_env of this " +
                                                     provider_name_ + " block) is not set");
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
    if (x_->conn) x_->conn->close();
    x_->conn.reset();
    x_->parser.reset();
}

void http_stream_provider::cancel() noexcept
{
    if (done()) return;
    cancel_requested_ = true;
    // Closing the socket stops the upstream at once and fails the pending read.
    if (x_->conn) x_->conn->close();
}

void http_stream_provider::end_cancelled() noexcept
{
    close_upstream();
    set_usage({has_upstream_usage_ ? upstream_usage_.input_tokens : 0, tokens_});
    mark_finished(finish_reason::cancelled);
}

void http_stream_provider::finish_stream()
{
    auto u = has_upstream_usage_ ? upstream_usage_ : liveai::usage{0, tokens_};
    set_usage(u);
    mark_finished(finish_);
    // A keep-alive response leaves a reusable connection once fully read.
    if (x_->conn && x_->parser && x_->parser->get().keep_alive() && !cancel_requested_ && x_->settings.pool_size > 0) {
        auto& pool = detail::pool_of(x_->conn->lowest().get_executor());
        if (x_->parser->is_done()) {
            pool.give_back(x_->pool_key, std::move(x_->conn), x_->settings.pool_size);
        } else {
            auto ex = x_->conn->lowest().get_executor();
            asio::co_spawn(ex, drain_then_pool(std::move(x_->conn), std::move(x_->parser), x_->pool_key, x_->settings.pool_size),
                           asio::detached);
        }
    }
    close_upstream();
}

asio::awaitable<void> http_stream_provider::open_once()
{
    auto& x = *x_;
    ++x.attempts;
    x.retry_after.reset();
    x.conn = detail::pool_of(co_await asio::this_coro::executor).take(x.pool_key);
    const bool reused = x.conn != nullptr;
    if (!x.conn) x.conn = co_await detail::connect_upstream(x.target, x.settings.ca_file, x.settings.connect_timeout);

    http::request<http::string_body> req{http::verb::post, x.target.path_prefix + x.spec.path_and_query, 11};
    req.set(http::field::host, x.target.host_header);
    req.set(http::field::user_agent, "liveai/0.1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "text/event-stream");
    for (const auto& [name, value] : x.spec.headers) req.set(name, value);
    req.body() = x.spec.body;
    req.keep_alive(true);
    req.prepare_payload();

    x.conn->lowest().expires_after(x.settings.first_byte_timeout);
    auto write = on_stream(*x.conn, [&](auto& s) { return http::async_write(s, req, asio::as_tuple(use_awaitable)); });
    auto [wec, wn] = co_await std::move(write);
    x.parser = std::make_unique<http::response_parser<http::buffer_body>>();
    x.parser->body_limit(boost::none);  // a stream has no length; each event is bounded instead
    boost::system::error_code hec = wec;
    if (!hec) {
        auto read = on_stream(*x.conn, [&](auto& s) {
            return http::async_read_header(s, x.conn->buffer, *x.parser, asio::as_tuple(use_awaitable));
        });
        auto [rec, rn] = co_await std::move(read);
        hec = rec;
    }
    if (hec) {
        if (hec == asio::error::operation_aborted || cancel_requested_) throw boost::system::system_error(asio::error::operation_aborted);
        if (reused && x.attempts <= 1 + x.settings.max_retries) {
            // A pooled connection the upstream had closed: not a real attempt.
            --x.attempts;
            close_upstream();
            co_return co_await open_once();
        }
        if (hec == beast::error::timeout)
            throw stream_error(error::upstream_timeout, provider_name_ + " sent no response header within " +
                                                            std::to_string(x.settings.first_byte_timeout.count()) + " ms");
        throw stream_error(error::upstream_unavailable, provider_name_ + " connection failed: " + hec.message());
    }
    const unsigned status = x.parser->get().result_int();
    if (status != 200) {
        // Read the (bounded) error body for its message.
        std::string body;
        while (!x.parser->is_done() && body.size() < 64 * 1024) {
            x.parser->get().body().data = x.body_buffer.data();
            x.parser->get().body().size = x.body_buffer.size();
            auto read = on_stream(*x.conn, [&](auto& s) {
                return http::async_read_some(s, x.conn->buffer, *x.parser, asio::as_tuple(use_awaitable));
            });
            auto [ec, n] = co_await std::move(read);
            if (ec == http::error::need_buffer) ec = {};
            body.append(x.body_buffer.data(), x.body_buffer.size() - x.parser->get().body().size);
            if (ec) break;
        }
        if (status == 429 || status == 503) {
            const auto value = x.parser->get()[http::field::retry_after];
            char* end = nullptr;
            const std::string text(value);
            const long seconds = std::strtol(text.c_str(), &end, 10);
            if (!text.empty() && end && *end == '\0' && seconds >= 0) x.retry_after = std::chrono::seconds(seconds);
        }
        throw error_from_response(status, body);
    }
    x.conn->lowest().expires_never();
}

asio::awaitable<std::optional<token>> http_stream_provider::next()
{
    if (done()) co_return std::nullopt;
    auto& x = *x_;
    for (;;) {
        if (cancel_requested_) {
            end_cancelled();
            co_return std::nullopt;
        }
        std::optional<stream_error> failure;
        bool aborted = false;
        try {
            if (!x.parser) {
                x.sse = transport::sse_parser(x.settings.max_event_bytes);
                x.unparsed = {};
                x.body_done = false;
                co_await open_once();
            }
            for (;;) {
                boost::system::error_code ec;
                while (!x.unparsed.empty()) {
                    auto ev = x.sse.next(x.unparsed, ec);
                    if (ec)
                        throw stream_error(error::upstream_protocol, provider_name_ + " sent an event larger than " +
                                                                          std::to_string(x.settings.max_event_bytes) + " bytes");
                    if (!ev) break;
                    const auto action = on_event(ev->data, text_);
                    if (action == event_action::token) {
                        ++tokens_;
                        set_usage({has_upstream_usage_ ? upstream_usage_.input_tokens : 0, tokens_});
                        co_return token{text_};
                    }
                    if (action == event_action::end) {
                        finish_stream();
                        co_return std::nullopt;
                    }
                }
                if (x.body_done) {
                    if (ends_at_eof()) {
                        finish_stream();
                        co_return std::nullopt;
                    }
                    throw stream_error(error::upstream_protocol, provider_name_ + " stream ended without [DONE] (truncated)");
                }
                x.parser->get().body().data = x.body_buffer.data();
                x.parser->get().body().size = x.body_buffer.size();
                x.conn->lowest().expires_after(x.settings.read_timeout);
                auto read = on_stream(*x.conn, [&](auto& s) {
                    return http::async_read_some(s, x.conn->buffer, *x.parser, asio::as_tuple(use_awaitable));
                });
                auto [rec, n] = co_await std::move(read);
                if (rec == http::error::need_buffer) rec = {};
                if (rec) {
                    if (rec == asio::error::operation_aborted || cancel_requested_)
                        throw boost::system::system_error(asio::error::operation_aborted);
                    if (rec == beast::error::timeout)
                        throw stream_error(error::upstream_timeout, provider_name_ + " sent nothing for " +
                                                                        std::to_string(x.settings.read_timeout.count()) + " ms");
                    throw stream_error(error::upstream_protocol, provider_name_ + " stream broke off: " + rec.message());
                }
                x.unparsed = std::string_view(x.body_buffer.data(), x.body_buffer.size() - x.parser->get().body().size);
                if (x.parser->is_done()) x.body_done = true;
            }
        } catch (const stream_error& e) {
            failure.emplace(e);
        } catch (const boost::system::system_error& e) {
            if (e.code() != asio::error::operation_aborted && !cancel_requested_) {
                failure.emplace(error::internal_error, provider_name_ + ": " + e.code().message());
            } else {
                aborted = true;
            }
        }
        if (aborted) {
            end_cancelled();
            co_return std::nullopt;
        }
        close_upstream();
        // Retry only before the first token, and only what may succeed again.
        if (tokens_ == 0 && failure->retryable() && x.attempts <= x.settings.max_retries) {
            const auto cap = std::min(x.settings.retry_max, x.settings.retry_base * (1u << std::min(x.attempts - 1, 16u)));
            auto delay = std::chrono::milliseconds(cap.count() / 2 + static_cast<std::int64_t>(x.rng() % (cap.count() / 2 + 1)));
            if (x.retry_after) {
                if (*x.retry_after > x.settings.retry_max) {
                    mark_failed(failure->code());
                    throw *failure;  // the upstream asks for a longer wait than we allow
                }
                delay = std::max(delay, std::chrono::duration_cast<std::chrono::milliseconds>(*x.retry_after));
            }
            asio::steady_timer timer(co_await asio::this_coro::executor, delay);
            bool interrupted = false;
            try {
                auto [tec] = co_await timer.async_wait(asio::as_tuple(use_awaitable));
                interrupted = !!tec;
            } catch (const boost::system::system_error&) {
                interrupted = true;  // cancelled while backing off
            }
            if (interrupted || cancel_requested_) {
                end_cancelled();
                co_return std::nullopt;
            }
            continue;
        }
        mark_failed(failure->code());
        // Upstreams may quote the key back (e.g. "Incorrect API key provided: ..."): never pass it on.
        std::string message = failure->message();
        for (auto pos = x.key.empty() ? std::string::npos : message.find(x.key); pos != std::string::npos; pos = message.find(x.key))
            message.replace(pos, x.key.size(), "[redacted]");
        throw stream_error(static_cast<liveai::error>(failure->code().value()), std::move(message), failure->retryable());
    }
}

}  // namespace liveai
