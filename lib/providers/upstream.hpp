// Private: connections to HTTP(S) upstreams, reused through a per-io_context pool.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace liveai::detail {

namespace beast = boost::beast;

struct upstream_target {
    bool tls = false;
    std::string host;
    std::string port;
    std::string path_prefix;  // without a trailing slash
    std::string host_header;  // host[:port] as the Host header wants it

    std::string pool_key(const std::string& ca_file) const
    {
        return (tls ? "https://" : "http://") + host + ":" + port + "|" + ca_file;
    }
};

// Parses "http(s)://host[:port][/path]"; nullopt with `why` set otherwise.
std::optional<upstream_target> parse_base_url(std::string_view url, std::string& why);

class upstream_connection {
public:
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    // Bytes read and not yet parsed. Beast reads at most the buffer's free
    // capacity (512 bytes when empty): start it large enough for a burst of
    // events in one read.
    beast::flat_buffer buffer;

    upstream_connection() { buffer.reserve(read_capacity); }
    static constexpr std::size_t read_capacity = 16 * 1024;

    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
    void close() noexcept
    {
        boost::system::error_code ignored;
        lowest().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        lowest().socket().close(ignored);
    }
};

// Idle keep-alive connections and TLS contexts of one io_context (an Asio
// service, so everything is destroyed with its context and never crosses
// threads).
class connection_pool final : public boost::asio::execution_context::service {
public:
    static boost::asio::execution_context::id id;

    explicit connection_pool(boost::asio::execution_context& context);

    std::unique_ptr<upstream_connection> take(const std::string& key);
    void give_back(const std::string& key, std::unique_ptr<upstream_connection> c, std::size_t limit);
    // TLS client context verifying peers against the system store and
    // `ca_file` (throws stream_error when the file cannot be loaded); see
    // shared_tls_context.
    boost::asio::ssl::context& tls_context(const std::string& ca_file);

private:
    void shutdown() override;

    std::map<std::string, std::deque<std::unique_ptr<upstream_connection>>> idle_;
    std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> tls_;
};

connection_pool& pool_of(const boost::asio::any_io_executor& ex);

// The process-wide TLS client context for a ca_file. Loading the system CA
// store blocks for tens of milliseconds (hundreds under sanitizers), so the
// engine loads every block's context at construction, off the I/O threads;
// afterwards this is a lookup. An OpenSSL SSL_CTX is safe to share between
// threads once set up. Throws stream_error when ca_file cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> shared_tls_context(const std::string& ca_file);

// Turns a connected plain connection into a TLS one, set up for the
// handshake: SNI, and OpenSSL's own host name (or IP address) check, so that a
// failure carries OpenSSL's reason (e.g. "hostname mismatch").
void start_tls(upstream_connection& c, boost::asio::ssl::context& tls, const upstream_target& target);

// After a failed handshake: OpenSSL's reason when the peer's certificate
// failed verification ("certificate has expired"), or "" when it did not.
std::string tls_verification_failure(upstream_connection& c);

}  // namespace liveai::detail
