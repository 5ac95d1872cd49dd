// 500 SSE streams at once, each read by its own client coroutine.
#include "../support/test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace liveai::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct tally {
    int complete = 0;
    int concurrent = 0;
    int peak = 0;
    std::vector<std::string> failures;
};

asio::awaitable<void> one_stream(std::uint16_t port, int n, tally& t)
{
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
    const std::string request = "GET /api/stream/ai-block/steady?prompt=client" + std::to_string(n) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    co_await http::async_read_header(socket, buffer, parser, asio::use_awaitable);
    ++t.concurrent;
    t.peak = std::max(t.peak, t.concurrent);
    co_await http::async_read(socket, buffer, parser, asio::use_awaitable);
    --t.concurrent;
    const auto body = parse_sse(parser.get().body());
    if (body.events.size() != 6 || body.events.back().event != "complete") {
        t.failures.push_back("stream " + std::to_string(n) + ": " + std::to_string(body.events.size()) + " events");
        co_return;
    }
    const auto first = boost::json::parse(body.events[0].data).as_object();
    if (first.at("text").as_string() != "client" + std::to_string(n)) {
        t.failures.push_back("stream " + std::to_string(n) + ": wrong echo");
        co_return;
    }
    ++t.complete;
}

}  // namespace

BOOST_AUTO_TEST_CASE(five_hundred_simultaneous_streams)
{
    test_server s(R"(
[blocks.steady]
provider = "mock"
streaming = true
[blocks.steady.mock]
tokens = 5
delay_ms = 250
)");
    asio::io_context ioc;
    tally t;
    constexpr int streams = 500;
    for (int i = 0; i < streams; ++i)
        asio::co_spawn(ioc, one_stream(s.port(), i, t), [&](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                t.failures.push_back(ex.what());
            }
        });
    ioc.run_for(60s);
    BOOST_TEST(t.failures.empty(), (t.failures.empty() ? "" : t.failures.front()));
    BOOST_TEST(t.complete == streams);
    BOOST_TEST(t.peak == streams);
    BOOST_TEST(s.metric("liveai_streams_total", "outcome=\"complete\"") == streams);
    BOOST_TEST(s.wait_for_metric("liveai_streams_active", [](double v) { return v == 0; }));
}
