#include <liveai/client/ws_client.hpp>
#include <liveai/error.hpp>
#include <liveai/transport/event_format.hpp>

#include "reconnect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace liveai::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

struct ws_client::impl {
    impl(asio::any_io_executor ex, std::string h, std::uint16_t p, reconnect_policy pol)
        : executor(std::move(ex)), host(std::move(h)), port(p), policy(pol), retry(policy)
    {
    }

    asio::any_io_executor executor;
    std::string host;
    std::uint16_t port;
    reconnect_policy policy;
    detail::backoff retry;
    std::optional<websocket::stream<beast::tcp_stream>> ws;
    beast::flat_buffer buffer;
    std::string block;
    std::string prompt;
    std::string last_id;
    unsigned reconnects = 0;
    bool started = false;
    bool sent_start = false;
    bool finished = true;

    void drop() noexcept
    {
        if (!ws) return;
        boost::system::error_code ignored;
        ws->next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
        ws->next_layer().close();
        ws.reset();
    }

    asio::awaitable<void> send(const std::string& text)
    {
        ws->text(true);
        co_await ws->async_write(asio::buffer(text), use_awaitable);
    }

    asio::awaitable<std::string> attempt()
    {
        drop();
        tcp::resolver resolver(executor);
        auto [rerr, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), asio::as_tuple(use_awaitable));
        if (rerr) co_return "resolve " + host + ": " + rerr.message();
        ws.emplace(executor);
        ws->next_layer().expires_after(policy.connect_timeout);
        auto [cerr, ep] = co_await ws->next_layer().async_connect(endpoints, asio::as_tuple(use_awaitable));
        if (cerr) co_return "connect: " + cerr.message();
        websocket::response_type res;
        auto [herr] = co_await ws->async_handshake(res, host, "/api/ws/ai-block/" + block, asio::as_tuple(use_awaitable));
        if (herr) {
            // Only a declined upgrade has read a real answer (the response's
            // status is meaningless after a transport error).
            const unsigned status = res.result_int();
            if (herr == websocket::error::upgrade_declined && !detail::retryable_status(status))
                throw detail::http_error(status, res.body());
            co_return "handshake: " + herr.message();
        }
        ws->next_layer().expires_never();
        ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        std::string message;
        if (last_id.empty() && !sent_start) {
            message = R"({"type":"start","resumable":true,"prompt":)";
            transport::append_json_string(message, prompt);
            message += "}";
        } else {
            message = R"({"type":"resume","last_event_id":)";
            transport::append_json_string(message, last_id);
            message += "}";
        }
        ws->text(true);
        auto [werr, wn] = co_await ws->async_write(asio::buffer(message), asio::as_tuple(use_awaitable));
        if (werr) co_return "send: " + werr.message();
        if (!last_id.empty() || sent_start) ++reconnects;
        sent_start = true;
        co_return "";
    }

    asio::awaitable<std::optional<stream_event>> next()
    {
        if (!started) throw stream_error(error::invalid_request, "ws_client: call start() before next()");
        for (;;) {
            if (finished) co_return std::nullopt;
            if (!ws) {
                for (;;) {
                    auto failure = co_await attempt();
                    if (failure.empty()) break;
                    drop();
                    co_await retry.wait(std::nullopt, failure);
                }
                retry.succeeded();
            }
            buffer.clear();
            auto [rerr, n] = co_await ws->async_read(buffer, asio::as_tuple(use_awaitable));
            if (rerr) {
                if (rerr == asio::error::operation_aborted &&
                    (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
                    drop();
                    throw boost::system::system_error(rerr);
                }
                drop();  // dropped: reconnect and resume
                continue;
            }
            const auto text = beast::buffers_to_string(buffer.data());
            boost::system::error_code ec;
            auto value = boost::json::parse(text, ec);
            auto* obj = ec ? nullptr : value.if_object();
            const auto* type = obj ? obj->if_contains("type") : nullptr;
            if (!type || !type->is_string()) throw stream_error(error::invalid_message, "malformed message: " + text.substr(0, 200));
            const std::string kind(type->get_string());
            const auto* id = obj->if_contains("id");
            const std::string id_text = id && id->is_string() ? std::string(id->get_string()) : std::string();
            if (kind == "started") {
                last_id = id_text;
                continue;
            }
            if (kind == "resumed") {
                finished = true;  // the stream ended and this client has it all
                drop();
                co_return std::nullopt;
            }
            obj->erase("type");
            obj->erase("id");
            auto e = parse_stream_event(kind, boost::json::serialize(*obj), id_text);
            if (e.type == event_type::error && id_text.empty()) {
                // An answer to a start or resume, not an event of the stream.
                drop();
                finished = true;
                throw stream_error(error_from_code(e.code).value_or(error::invalid_request), e.code + ": " + e.message);
            }
            last_id = e.id;
            if (e.terminal()) {
                finished = true;
                drop();
            }
            co_return e;
        }
    }
};

ws_client::ws_client(asio::any_io_executor executor, std::string host, std::uint16_t port, reconnect_policy policy)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(host), port, policy))
{
}

ws_client::~ws_client() = default;
ws_client::ws_client(ws_client&&) noexcept = default;
ws_client& ws_client::operator=(ws_client&&) noexcept = default;

void ws_client::start(std::string block, std::string prompt)
{
    impl_->drop();
    impl_->block = std::move(block);
    impl_->prompt = std::move(prompt);
    impl_->last_id.clear();
    impl_->reconnects = 0;
    impl_->retry.succeeded();
    impl_->started = true;
    impl_->sent_start = false;
    impl_->finished = false;
}

asio::awaitable<std::optional<stream_event>> ws_client::next()
{
    return impl_->next();
}

asio::awaitable<void> ws_client::cancel()
{
    if (impl_->ws) co_await impl_->send(R"({"type":"cancel"})");
}

const std::string& ws_client::last_event_id() const noexcept
{
    return impl_->last_id;
}

unsigned ws_client::reconnects() const noexcept
{
    return impl_->reconnects;
}

void ws_client::close() noexcept
{
    impl_->drop();
    impl_->finished = true;
}

}  // namespace liveai::client
