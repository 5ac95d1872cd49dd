#include "upstream.hpp"

#include <liveai/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cerrno>
#include <map>
#include <mutex>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

namespace liveai::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

boost::asio::execution_context::id connection_pool::id;

std::optional<upstream_target> parse_base_url(std::string_view url, std::string& why)
{
    upstream_target t;
    if (url.starts_with("https://")) {
        t.tls = true;
        url.remove_prefix(8);
    } else if (url.starts_with("http://")) {
        url.remove_prefix(7);
    } else {
        why = "must start with http:// or https://";
        return std::nullopt;
    }
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
    while (path.ends_with('/')) path.remove_suffix(1);
    if (path.find_first_of("?# ") != std::string_view::npos) {
        why = "must not have a query, fragment or space in its path";
        return std::nullopt;
    }
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
        why = "needs a host (and no user info)";
        return std::nullopt;
    }
    std::string_view host = authority, port;
    if (authority.front() == '[') {  // IPv6 literal
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            why = "has an unterminated IPv6 address";
            return std::nullopt;
        }
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') {
                why = "has junk after the IPv6 address";
                return std::nullopt;
            }
            port = authority.substr(close + 2);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) {
        why = "needs a host";
        return std::nullopt;
    }
    if (!port.empty()) {
        unsigned value = 0;
        for (char c : port) {
            if (c < '0' || c > '9' || (value = value * 10 + static_cast<unsigned>(c - '0')) > 65535) {
                why = "has an invalid port";
                return std::nullopt;
            }
        }
        if (value == 0) {
            why = "has an invalid port";
            return std::nullopt;
        }
    }
    t.host = std::string(host);
    t.port = port.empty() ? (t.tls ? "443" : "80") : std::string(port);
    t.path_prefix = std::string(path);
    t.host_header = std::string(authority);
    return t;
}

connection_pool::connection_pool(asio::execution_context& context) : asio::execution_context::service(context) {}

void connection_pool::shutdown()
{
    idle_.clear();
}

std::unique_ptr<upstream_connection> connection_pool::take(const std::string& key)
{
    auto it = idle_.find(key);
    while (it != idle_.end() && !it->second.empty()) {
        auto c = std::move(it->second.back());
        it->second.pop_back();
        // A connection the server closed while idle has its end of file
        // (or, over TLS, a close_notify) waiting: a peek sees it without
        // consuming anything, where FIONREAD would count no bytes for a FIN.
        char byte;
        const auto peeked = ::recv(c->lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && c->buffer.size() == 0) return c;
    }
    return nullptr;
}

void connection_pool::give_back(const std::string& key, std::unique_ptr<upstream_connection> c, std::size_t limit)
{
    auto& list = idle_[key];
    if (list.size() >= limit) return;  // closes c
    c->lowest().expires_never();
    list.push_back(std::move(c));
}

std::shared_ptr<ssl::context> shared_tls_context(const std::string& ca_file)
{
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<ssl::context>> contexts;
    std::lock_guard lock(mutex);
    auto& slot = contexts[ca_file];
    if (slot) return slot;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (!ca_file.empty()) {
        ctx->load_verify_file(ca_file, ec);
        if (ec) {
            contexts.erase(ca_file);
            throw stream_error(error::upstream_unavailable, "cannot load ca_file \"" + ca_file + "\": " + ec.message(), false);
        }
    }
    slot = std::move(ctx);
    return slot;
}

ssl::context& connection_pool::tls_context(const std::string& ca_file)
{
    // Kept per pool too: no lock on the way to a handshake.
    auto& slot = tls_[ca_file];
    if (!slot) slot = shared_tls_context(ca_file);
    return *slot;
}

connection_pool& pool_of(const asio::any_io_executor& ex)
{
    return asio::use_service<connection_pool>(asio::query(ex, asio::execution::context));
}

void start_tls(upstream_connection& c, ssl::context& tls, const upstream_target& target)
{
    c.secure.emplace(std::move(*c.plain), tls);
    c.plain.reset();
    SSL* ssl = c.secure->native_handle();
    boost::system::error_code ec;
    asio::ip::make_address(target.host, ec);
    if (!ec) {
        // An IP literal: no SNI (RFC 6066), and the certificate must name the address.
        if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str()))
            throw stream_error(error::upstream_unavailable, "cannot set TLS verification for " + target.host, false);
    } else {
        if (!SSL_set_tlsext_host_name(ssl, target.host.c_str()) || !SSL_set1_host(ssl, target.host.c_str()))
            throw stream_error(error::upstream_unavailable, "cannot set TLS SNI for " + target.host, false);
    }
}

std::string tls_verification_failure(upstream_connection& c)
{
    if (!c.secure) return {};
    const long result = SSL_get_verify_result(c.secure->native_handle());
    if (result == X509_V_OK) return {};
    return X509_verify_cert_error_string(result);
}

}  // namespace liveai::detail
