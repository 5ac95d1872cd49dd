#include <liveai/client/sse_client.hpp>
#include <liveai/error.hpp>
#include <liveai/transport/sse_parser.hpp>

#include "reconnect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>

namespace liveai::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

namespace {

std::string percent_encode(std::string_view in)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(in.size() * 3);
    for (const unsigned char c : in) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace

struct sse_client::impl {
    impl(asio::any_io_executor ex, std::string h, std::uint16_t p, reconnect_policy pol)
        : executor(std::move(ex)), host(std::move(h)), port(p), policy(pol), retry(policy), stream(executor)
    {
    }

    asio::any_io_executor executor;
    std::string host;
    std::uint16_t port;
    reconnect_policy policy;
    detail::backoff retry;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::buffer_body>> parser;
    transport::sse_parser sse;
    std::array<char, 16 * 1024> body{};
    std::string_view unparsed;
    std::string block;
    std::string prompt;
    std::string last_id;
    std::optional<std::chrono::milliseconds> server_retry;
    unsigned reconnects = 0;
    bool started = false;
    bool connected = false;
    bool finished = true;

    void drop() noexcept
    {
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        connected = false;
        unparsed = {};
        parser.reset();
    }

    // One attempt: connect, send, read the answer's header. Returns an error
    // text for a failure worth retrying; throws for one that is not.
    asio::awaitable<std::string> attempt()
    {
        drop();
        buffer.clear();
        tcp::resolver resolver(executor);
        auto [rerr, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), asio::as_tuple(use_awaitable));
        if (rerr) co_return "resolve " + host + ": " + rerr.message();
        stream.expires_after(policy.connect_timeout);
        auto [cerr, ep] = co_await stream.async_connect(endpoints, asio::as_tuple(use_awaitable));
        if (cerr) co_return "connect: " + cerr.message();
        const bool resuming = !last_id.empty();
        http::request<http::string_body> req{http::verb::get,
                                             "/api/stream/ai-block/" + block + "?resumable=1&prompt=" + percent_encode(prompt), 11};
        req.set(http::field::host, host);
        req.set(http::field::accept, "text/event-stream");
        if (resuming) req.set("Last-Event-ID", last_id);
        auto [werr, wn] = co_await http::async_write(stream, req, asio::as_tuple(use_awaitable));
        if (werr) co_return "send: " + werr.message();
        parser.emplace();
        parser->body_limit(boost::none);
        auto [herr, hn] = co_await http::async_read_header(stream, buffer, *parser, asio::as_tuple(use_awaitable));
        if (herr) co_return "read header: " + herr.message();
        stream.expires_never();
        const unsigned status = parser->get().result_int();
        if (status == 204) {
            // Resumed a stream that ended and was all delivered.
            finished = true;
            drop();
            co_return "";
        }
        if (status != 200) {
            std::string text;
            while (!parser->is_done() && text.size() < 64 * 1024) {
                parser->get().body().data = body.data();
                parser->get().body().size = body.size();
                auto [berr, bn] = co_await http::async_read_some(stream, buffer, *parser, asio::as_tuple(use_awaitable));
                text.append(body.data(), body.size() - parser->get().body().size);
                if (berr && berr != http::error::need_buffer) break;
            }
            if (detail::retryable_status(status)) {
                const std::string after(parser->get()[http::field::retry_after]);
                if (!after.empty() && after.find_first_not_of("0123456789") == std::string::npos)
                    server_retry = std::chrono::seconds(std::stoul(after));
                co_return "HTTP " + std::to_string(status);
            }
            drop();
            throw detail::http_error(status, text);
        }
        sse = transport::sse_parser();
        connected = true;
        if (resuming) ++reconnects;
        co_return "";
    }

    asio::awaitable<void> connect()
    {
        for (;;) {
            auto failure = co_await attempt();
            if (failure.empty()) {
                retry.succeeded();
                co_return;
            }
            drop();
            co_await retry.wait(server_retry, failure);
        }
    }

    asio::awaitable<std::optional<stream_event>> next()
    {
        if (!started) throw stream_error(error::invalid_request, "sse_client: call start() before next()");
        for (;;) {
            if (finished) co_return std::nullopt;
            if (!connected) {
                co_await connect();
                continue;
            }
            boost::system::error_code ec;
            if (auto ev = sse.next(unparsed, ec)) {
                auto e = parse_stream_event(ev->type, ev->data, ev->last_event_id);
                last_id = e.id;
                if (e.terminal()) {
                    finished = true;
                    drop();
                }
                co_return e;
            }
            if (ec) {
                drop();
                throw stream_error(error::invalid_message, "malformed event stream: " + ec.message());
            }
            // The preamble's id (seq 0) counts too: a drop before the first
            // event resumes the same stream instead of starting another.
            if (!sse.last_event_id().empty()) last_id = sse.last_event_id();
            if (const auto r = sse.retry()) server_retry = std::chrono::milliseconds(*r);
            if (parser->is_done()) {
                drop();  // the response ended without a terminal event
                continue;
            }
            parser->get().body().data = body.data();
            parser->get().body().size = body.size();
            auto [rerr, n] = co_await http::async_read_some(stream, buffer, *parser, asio::as_tuple(use_awaitable));
            if (rerr == asio::error::operation_aborted && (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
                drop();
                throw boost::system::system_error(rerr);
            }
            if (rerr && rerr != http::error::need_buffer) {
                drop();  // dropped: reconnect and resume
                continue;
            }
            unparsed = std::string_view(body.data(), body.size() - parser->get().body().size);
        }
    }
};

sse_client::sse_client(asio::any_io_executor executor, std::string host, std::uint16_t port, reconnect_policy policy)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(host), port, policy))
{
}

sse_client::~sse_client() = default;
sse_client::sse_client(sse_client&&) noexcept = default;
sse_client& sse_client::operator=(sse_client&&) noexcept = default;

void sse_client::start(std::string block, std::string prompt)
{
    impl_->drop();
    impl_->block = std::move(block);
    impl_->prompt = std::move(prompt);
    impl_->last_id.clear();
    impl_->reconnects = 0;
    impl_->retry.succeeded();
    impl_->started = true;
    impl_->finished = false;
}

void sse_client::resume(std::string block, std::string last_event_id)
{
    start(std::move(block), "");
    impl_->last_id = std::move(last_event_id);
}

asio::awaitable<std::optional<stream_event>> sse_client::next()
{
    return impl_->next();
}

const std::string& sse_client::last_event_id() const noexcept
{
    return impl_->last_id;
}

unsigned sse_client::reconnects() const noexcept
{
    return impl_->reconnects;
}

void sse_client::close() noexcept
{
    impl_->drop();
    impl_->finished = true;
}

}  // namespace liveai::client
