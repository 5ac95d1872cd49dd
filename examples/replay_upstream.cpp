// Tutorial 3: a stand-in for an OpenAI-compatible server (vLLM, llama.cpp,
// Ollama...) that replays a recorded response, event by event, to every
// POST it gets. Point a block's base_url at it to try liveai with no model
// and no network:
//
//   example_replay_upstream examples/openai_compatible/recorded_stream.http 8000 &
//   liveai-server --config examples/openai_compatible/liveai.toml
//   curl -N 'http://127.0.0.1:8080/api/stream/ai-block/local?prompt=hello'
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// The recording: status line and headers, a blank line, the SSE body.
struct recording {
    std::string head;  // CRLF-terminated, ready to send
    std::string body;
};

asio::awaitable<void> serve(tcp::socket socket, const recording& rec, std::chrono::milliseconds pace)
{
    boost::beast::flat_buffer buffer;
    asio::steady_timer timer(socket.get_executor());
    for (;;) {
        http::request<http::string_body> req;
        co_await http::async_read(socket, buffer, req, asio::use_awaitable);
        std::cout << req.method_string() << ' ' << req.target() << " (" << req.body().size() << " bytes)" << std::endl;
        co_await asio::async_write(socket, asio::buffer(rec.head), asio::use_awaitable);
        // One HTTP chunk per SSE event, paced like a model generating tokens.
        for (std::size_t pos = 0; pos < rec.body.size();) {
            auto end = rec.body.find("\n\n", pos);
            end = end == std::string::npos ? rec.body.size() : end + 2;
            char size[16];
            std::snprintf(size, sizeof size, "%zx\r\n", end - pos);
            const std::string chunk = size + rec.body.substr(pos, end - pos) + "\r\n";
            co_await asio::async_write(socket, asio::buffer(chunk), asio::use_awaitable);
            pos = end;
            timer.expires_after(pace);
            co_await timer.async_wait(asio::use_awaitable);
        }
        co_await asio::async_write(socket, asio::buffer(std::string("0\r\n\r\n")), asio::use_awaitable);
    }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, const recording& rec, std::chrono::milliseconds pace)
{
    for (;;) {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), rec, pace), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " RECORDING PORT [MS_BETWEEN_EVENTS]\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::cerr << "cannot read " << argv[1] << "\n";
        return 1;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const std::string raw = text.str();
    const auto split = raw.find("\n\n");
    recording rec;
    for (char c : raw.substr(0, split)) rec.head += c == '\n' ? std::string("\r\n") : std::string(1, c);
    rec.head += "\r\n\r\n";
    rec.body = raw.substr(split + 2);
    const auto pace = std::chrono::milliseconds(argc > 3 ? std::atoi(argv[3]) : 40);

    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[2]))));
    std::cout << "replaying " << argv[1] << " on http://127.0.0.1:" << acceptor.local_endpoint().port() << "/v1" << std::endl;
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { ioc.stop(); });
    asio::co_spawn(ioc, listen(acceptor, rec, pace), asio::detached);
    ioc.run();
}
