// Test support: a real liveai server on 127.0.0.1 with an ephemeral port,
// running on its own threads, and small blocking clients with timeouts.
#pragma once

#include <liveai/config.hpp>
#include <liveai/server/http_server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace liveai::test {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

class test_server {
public:
    // `toml` is a whole config; [server] port/host are forced to 127.0.0.1:0.
    explicit test_server(const std::string& toml, unsigned threads = 2);
    ~test_server();

    std::uint16_t port() const noexcept { return port_; }
    liveai::server::http_server& server() noexcept { return *server_; }

    // A counter or gauge from /metrics, summed over its labels when `label` is empty.
    double metric(const std::string& name, const std::string& label = "") const;
    // Polls until metric(name) satisfies pred or the timeout passes.
    bool wait_for_metric(const std::string& name, const std::function<bool(double)>& pred,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000)) const;

    void shutdown_and_wait();

private:
    std::unique_ptr<liveai::server::http_server> server_;
    std::thread thread_;
    std::uint16_t port_ = 0;
    bool stopped_ = false;
};

// A blocking connection whose reads fail after `timeout` instead of hanging.
class client_connection {
public:
    explicit client_connection(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000),
                               int receive_buffer = 0);

    void send(std::string_view bytes);
    // Reads until `marker` is in what was received (returns all so far).
    std::string read_until(std::string_view marker);
    // Reads until the server closes; returns everything received.
    std::string read_to_close();
    // Whether the server closed the connection within the timeout.
    bool closed_by_server();
    http::response<http::string_body> read_response();
    http::response<http::string_body> request(http::verb method, const std::string& target, const std::string& body = "",
                                              const std::string& content_type = "application/json");
    void close();
    tcp::socket& socket() noexcept { return socket_; }
    std::string& received() noexcept { return received_; }

private:
    boost::asio::io_context ioc_;
    tcp::socket socket_;
    std::string received_;
};

struct sse_event {
    std::string id;
    std::string event;
    std::string data;
};

// The events of a (de-chunked) text/event-stream body; comments and the
// `retry` field are kept in `retry` / `comments`.
struct sse_body {
    std::vector<sse_event> events;
    std::vector<std::string> comments;
    std::string retry;
    std::string last_event_id;  // as an EventSource would remember it
};
sse_body parse_sse(std::string_view body);

// One-shot requests on a fresh connection.
http::response<http::string_body> get(std::uint16_t port, const std::string& target);
http::response<http::string_body> post(std::uint16_t port, const std::string& target, const std::string& body);

}  // namespace liveai::test
