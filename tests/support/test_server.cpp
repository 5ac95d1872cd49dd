#include "test_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <sstream>

namespace liveai::test {

namespace asio = boost::asio;

test_server::test_server(const std::string& toml, unsigned threads)
{
    auto config = liveai::parse_config(toml, "test.toml");
    config.server.host = "127.0.0.1";
    config.server.port = 0;
    config.server.threads = threads;
    if (toml.find("log_level") == std::string::npos) config.server.log = liveai::server::log_level::warn;
    server_ = std::make_unique<liveai::server::http_server>(config.server, std::make_shared<const liveai::engine>(config.blocks));
    server_->listen();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
}

test_server::~test_server()
{
    shutdown_and_wait();
}

void test_server::shutdown_and_wait()
{
    if (stopped_) return;
    stopped_ = true;
    server_->shutdown();
    thread_.join();
}

double test_server::metric(const std::string& name, const std::string& label) const
{
    std::istringstream text(server_->metrics().render());
    std::string line;
    double total = 0;
    while (std::getline(text, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        const std::string key = line.substr(0, space);
        const bool match = label.empty() ? (key == name || key.rfind(name + "{", 0) == 0) : key == name + "{" + label + "}";
        if (match) total += std::stod(line.substr(space + 1));
    }
    return total;
}

bool test_server::wait_for_metric(const std::string& name, const std::function<bool(double)>& pred,
                                  std::chrono::milliseconds timeout) const
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred(metric(name))) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred(metric(name));
}

client_connection::client_connection(std::uint16_t port, std::chrono::milliseconds timeout, int receive_buffer)
    : socket_(ioc_)
{
    socket_.open(tcp::v4());
    if (receive_buffer > 0) socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    timeval tv{};
    tv.tv_sec = timeout.count() / 1000;
    tv.tv_usec = (timeout.count() % 1000) * 1000;
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    socket_.set_option(tcp::no_delay(true));
}

void client_connection::send(std::string_view bytes)
{
    asio::write(socket_, asio::buffer(bytes));
}

std::string client_connection::read_until(std::string_view marker)
{
    char buf[4096];
    while (received_.find(marker) == std::string::npos) {
        boost::system::error_code ec;
        const auto n = socket_.read_some(asio::buffer(buf), ec);
        if (ec) throw boost::system::system_error(ec, "read_until(" + std::string(marker) + ")");
        received_.append(buf, n);
    }
    return received_;
}

std::string client_connection::read_to_close()
{
    char buf[4096];
    for (;;) {
        boost::system::error_code ec;
        const auto n = socket_.read_some(asio::buffer(buf), ec);
        if (ec == asio::error::eof || ec == asio::error::connection_reset) return received_;
        if (ec) throw boost::system::system_error(ec, "read_to_close");
        received_.append(buf, n);
    }
}

bool client_connection::closed_by_server()
{
    try {
        read_to_close();
        return true;
    } catch (const boost::system::system_error&) {
        return false;
    }
}

http::response<http::string_body> client_connection::read_response()
{
    // Feed what earlier reads left over, then read more as needed.
    boost::beast::flat_buffer buffer;
    const auto copied = asio::buffer_copy(buffer.prepare(received_.size()), asio::buffer(received_));
    buffer.commit(copied);
    received_.clear();
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(socket_, buffer, parser);
    received_.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
    return parser.release();
}

http::response<http::string_body> client_connection::request(http::verb method, const std::string& target,
                                                             const std::string& body, const std::string& content_type)
{
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (method == http::verb::post) {
        req.set(http::field::content_type, content_type);
        req.body() = body;
        req.prepare_payload();
    }
    http::write(socket_, req);
    return read_response();
}

void client_connection::close()
{
    boost::system::error_code ignored;
    socket_.close(ignored);
}

sse_body parse_sse(std::string_view body)
{
    sse_body out;
    while (!body.empty()) {
        const auto end = body.find("\n\n");
        if (end == std::string_view::npos) break;  // an unterminated event is dropped
        std::string_view block = body.substr(0, end);
        body.remove_prefix(end + 2);
        sse_event ev;
        bool has_field = false;
        while (!block.empty()) {
            const auto eol = block.find('\n');
            std::string_view line = block.substr(0, eol);
            block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 1);
            if (line.starts_with(":")) {
                out.comments.emplace_back(line.substr(1));
                continue;
            }
            const auto colon = line.find(':');
            const auto field = line.substr(0, colon);
            auto value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
            if (value.starts_with(" ")) value.remove_prefix(1);
            if (field == "retry") out.retry = value;
            else if (field == "id") ev.id = value, out.last_event_id = value;
            else if (field == "event") ev.event = value;
            else if (field == "data") ev.data += std::string(value), has_field = true;
        }
        // As WHATWG: a block without data dispatches nothing (but its id counts).
        if (has_field) out.events.push_back(std::move(ev));
    }
    return out;
}

http::response<http::string_body> get(std::uint16_t port, const std::string& target)
{
    client_connection c(port);
    return c.request(http::verb::get, target);
}

http::response<http::string_body> post(std::uint16_t port, const std::string& target, const std::string& body)
{
    client_connection c(port);
    return c.request(http::verb::post, target, body);
}

}  // namespace liveai::test
