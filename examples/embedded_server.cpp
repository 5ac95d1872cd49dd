// Tutorial 4: liveai's server inside your own Asio application.
//
// The application owns the io_contexts (one thread each) and serves an
// endpoint of its own (/app/status) beside liveai's on the same port. Then,
// on the same contexts, it reads its own endpoint and one stream back over a
// real socket, and shuts the server down; the contexts run out of work and
// the threads return.
//
//   example_embedded_server config/liveai.toml
#include <liveai/client/sse_client.hpp>
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/error.hpp>
#include <liveai/server/http_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <iostream>
#include <thread>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using liveai::server::http_server;

// The application's own endpoint: any coroutine that makes a response.
asio::awaitable<http_server::response> status(const http_server::request& req, std::atomic<int>& hits)
{
    http_server::response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = R"({"app":"embedded example","hits":)" + std::to_string(++hits) + "}";
    co_return res;
}

// Reads /app/status with a plain Beast client.
asio::awaitable<std::string> get_status(std::uint16_t port)
{
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    http::request<http::empty_body> req{http::verb::get, "/app/status", 11};
    req.set(http::field::host, "127.0.0.1");
    co_await http::async_write(socket, req, asio::use_awaitable);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(socket, buffer, res, asio::use_awaitable);
    co_return std::to_string(res.result_int()) + " " + res.body();
}

// Streams one answer of `block` with liveai's own client.
asio::awaitable<std::string> stream_once(std::uint16_t port, std::string block)
{
    liveai::client::sse_client client(co_await asio::this_coro::executor, "127.0.0.1", port);
    client.start(std::move(block), "embedded");
    std::string text;
    std::string end;
    while (auto ev = co_await client.next()) {
        if (ev->type == liveai::client::event_type::chunk) text += ev->text;
        else end = ev->type == liveai::client::event_type::complete ? "complete" : "error";
    }
    co_return text + "\n[" + end + "]";
}

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " CONFIG\n";
        return 2;
    }
    try {
        auto config = liveai::load_config_file(argv[1]);
        config.server.port = 0;  // any free port
        auto engine = std::make_shared<const liveai::engine>(config.blocks);

        // The application's I/O threads, one io_context each.
        asio::io_context first(1), second(1);
        http_server server(config.server, engine, {&first, &second});
        std::atomic<int> hits{0};
        server.add_route("/app/", [&hits](const http_server::request& req) { return status(req, hits); });
        server.start();
        const auto port = server.port();
        std::cout << "serving on 127.0.0.1:" << port << "\n";

        int failures = 0;
        auto session = [&]() -> asio::awaitable<void> {
            try {
                std::cout << "GET /app/status -> " << co_await get_status(port) << "\n";
                std::cout << "stream: " << co_await stream_once(port, config.blocks.front().name) << "\n";
                std::cout << "GET /app/status -> " << co_await get_status(port) << "\n";
            } catch (const std::exception& e) {
                std::cerr << "failed: " << e.what() << "\n";
                ++failures;
            }
            server.shutdown();
        };
        asio::co_spawn(first, session(), asio::detached);
        std::thread other([&second] { second.run(); });
        first.run();
        other.join();
        std::cout << "stopped\n";
        return failures ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
