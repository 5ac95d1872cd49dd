#include "replay_upstream.hpp"

#include "client_close_log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <fstream>
#include <random>
#include <sstream>

namespace liveai::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

std::string read_fixture(const std::string& relative_path)
{
    std::ifstream in(std::string(LIVEAI_SOURCE_DIR) + "/tests/fixtures/" + relative_path, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + relative_path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string replay_upstream::certs_dir() { return LIVEAI_TEST_CERTS_DIR; }

struct replay_upstream::impl {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::optional<ssl::context> tls;
    mutable std::mutex mutex;
    std::vector<replay_response> script;
    std::size_t served = 0;
    std::vector<recorded_request> requests;
    int connections = 0;
    client_close_log closes;

    replay_response next_response()
    {
        std::lock_guard lock(mutex);
        if (script.empty()) return {};
        const auto i = std::min(served, script.size() - 1);
        ++served;
        return script[i];
    }

    template <class Stream>
    asio::awaitable<void> wait_for_close(Stream& s)
    {
        char byte;
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(&byte, 1), asio::as_tuple(use_awaitable));
            if (ec) break;
        }
        closes.record();
    }

    template <class Stream>
    asio::awaitable<void> serve(Stream& s)
    {
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [rec, rn] = co_await http::async_read(s, buffer, req, asio::as_tuple(use_awaitable));
            if (rec) co_return;
            recorded_request r{std::string(req.method_string()), std::string(req.target()), {}, req.body(),
                               std::chrono::steady_clock::now()};
            for (const auto& f : req) {
                std::string name(f.name_string());
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                r.headers[name] = std::string(f.value());
            }
            {
                std::lock_guard lock(mutex);
                requests.push_back(std::move(r));
            }
            auto response = next_response();
            if (response.hang_before_head) {
                co_await wait_for_close(s);
                co_return;
            }
            // Fixture: head lines (LF), blank line, body bytes as recorded.
            const auto split = response.raw.find("\n\n");
            std::string head = response.raw.substr(0, split);
            const std::string body = response.raw.substr(split + 2);
            const bool chunked = head.find("Transfer-Encoding: chunked") != std::string::npos;
            const bool sized = head.find("Content-Length:") != std::string::npos;
            std::string wire;
            for (char c : head) {
                if (c == '\n') wire += "\r\n";
                else wire += c;
            }
            if (!chunked && !sized) wire += "\r\nConnection: close";
            wire += "\r\n\r\n";
            co_await asio::async_write(s, asio::buffer(wire), use_awaitable);

            std::mt19937 rng(response.seed);
            asio::steady_timer timer(co_await asio::this_coro::executor);
            std::size_t pos = 0;
            while (pos < body.size()) {
                if (response.hang_after_body_bytes && pos >= *response.hang_after_body_bytes) {
                    co_await wait_for_close(s);
                    co_return;
                }
                std::size_t n = 1 + rng() % std::max<std::size_t>(1, response.max_piece);
                if (response.hang_after_body_bytes) n = std::min(n, *response.hang_after_body_bytes - pos);
                n = std::min(n, body.size() - pos);
                std::string piece = body.substr(pos, n);
                if (chunked) {
                    char size[16];
                    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
                    piece = size + piece + "\r\n";
                }
                auto [wec, wn] = co_await asio::async_write(s, asio::buffer(piece), asio::as_tuple(use_awaitable));
                if (wec) {
                    closes.record();
                    co_return;
                }
                pos += n;
                if (response.max_delay.count() > 0) {
                    timer.expires_after(std::chrono::microseconds(rng() % (response.max_delay.count() * 1000 + 1)));
                    co_await timer.async_wait(asio::as_tuple(use_awaitable));
                }
            }
            if (chunked) co_await asio::async_write(s, asio::buffer(std::string("0\r\n\r\n")), asio::as_tuple(use_awaitable));
            if (!chunked && !sized) co_return;  // the body ends with the connection
            if (response.close_after) co_return;
        }
    }

    asio::awaitable<void> session(tcp::socket socket)
    {
        if (tls) {
            beast::ssl_stream<tcp::socket> s(std::move(socket), *tls);
            auto [ec] = co_await s.async_handshake(ssl::stream_base::server, asio::as_tuple(use_awaitable));
            if (ec) co_return;
            co_await serve(s);
            co_await s.async_shutdown(asio::as_tuple(use_awaitable));
        } else {
            co_await serve(socket);
            boost::system::error_code ignored;
            socket.shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(use_awaitable));
            if (ec) co_return;
            {
                std::lock_guard lock(mutex);
                ++connections;
            }
            asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
        }
    }
};

replay_upstream::replay_upstream(tls_mode mode) : impl_(std::make_unique<impl>())
{
    if (mode != tls_mode::none) {
        impl_->tls.emplace(ssl::context::tls_server);
        const std::string name = mode == tls_mode::trusted     ? "server"
                                 : mode == tls_mode::untrusted ? "untrusted"
                                 : mode == tls_mode::expired   ? "expired"
                                                               : "other_host";
        impl_->tls->use_certificate_chain_file(certs_dir() + "/" + name + ".pem");
        impl_->tls->use_private_key_file(certs_dir() + "/" + name + ".key", ssl::context::pem);
    }
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    thread_ = std::thread([this] { impl_->ioc.run(); });
}

replay_upstream::~replay_upstream()
{
    impl_->ioc.stop();
    thread_.join();
}

std::string replay_upstream::base_url(const std::string& host, const std::string& path) const
{
    return std::string(impl_->tls ? "https://" : "http://") + host + ":" + std::to_string(port_) + path;
}

void replay_upstream::script(std::vector<replay_response> responses)
{
    std::lock_guard lock(impl_->mutex);
    impl_->script = std::move(responses);
    impl_->served = 0;
}

std::vector<recorded_request> replay_upstream::requests() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->requests;
}

int replay_upstream::connections() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->connections;
}

std::optional<std::chrono::steady_clock::time_point> replay_upstream::last_client_close() const
{
    return impl_->closes.last();
}

bool replay_upstream::wait_for_client_close(std::chrono::milliseconds timeout) const
{
    return impl_->closes.wait(timeout);
}

}  // namespace liveai::test
