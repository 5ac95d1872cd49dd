// Test support: a local stand-in for the OpenAI / Gemini services. It serves
// recorded responses (tests/fixtures/*.http: status line and headers, a blank
// line, then the body bytes exactly as the service sends them) over plain
// HTTP or TLS, cutting the body at random points with random delays, and
// records the requests it got and when clients closed their connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace liveai::test {

struct replay_response {
    std::string raw;                 // a fixture's content
    std::size_t max_piece = 64;      // body written in pieces of 1..max_piece bytes
    std::chrono::milliseconds max_delay{0};
    std::uint32_t seed = 1;
    bool hang_before_head = false;   // send nothing; wait for the client to leave
    std::optional<std::size_t> hang_after_body_bytes;  // stop mid-body and wait
    // Close the connection after this keep-alive response, as a server
    // whose idle timeout passes does.
    bool close_after = false;
};

struct recorded_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::chrono::steady_clock::time_point at;  // when its head was read
};

std::string read_fixture(const std::string& relative_path);

class replay_upstream {
public:
    // trusted: signed by the test CA for localhost; untrusted: self-signed;
    // expired: signed by the CA, expired; other_host: signed by the CA for another name.
    enum class tls_mode { none, trusted, untrusted, expired, other_host };
    explicit replay_upstream(tls_mode mode = tls_mode::none);
    ~replay_upstream();

    std::uint16_t port() const noexcept { return port_; }
    std::string base_url(const std::string& host = "localhost", const std::string& path = "/v1") const;

    // Responses for the next requests, in order; the last one repeats.
    void script(std::vector<replay_response> responses);
    std::vector<recorded_request> requests() const;
    int connections() const;
    // When the upstream saw its latest client close a hanging connection.
    std::optional<std::chrono::steady_clock::time_point> last_client_close() const;
    // Waits until a client closed a hanging connection (or the timeout passes).
    bool wait_for_client_close(std::chrono::milliseconds timeout) const;

    static std::string certs_dir();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
    std::thread thread_;
    std::uint16_t port_ = 0;
};

}  // namespace liveai::test
