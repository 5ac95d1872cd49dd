// Private: the coroutines that serve one connection.
#pragma once

#include "stream_accounting.hpp"
#include "worker.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace liveai::server::detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;

class stream_record;

// Reads requests on one connection and answers them, keep-alive included.
// `first`: a request another worker already read on this connection (a resume
// handed over to the worker that owns the stream), with the bytes read after it.
boost::asio::awaitable<void> run_http_session(worker& w, boost::asio::ip::tcp::socket socket,
                                              std::optional<http::request<http::string_body>> first = std::nullopt,
                                              std::string leftover = {});

// Answers 503 overloaded and closes: the connection limit is reached.
boost::asio::awaitable<void> reject_connection(worker& w, boost::asio::ip::tcp::socket socket);

// Completes when the client closes the connection (or it fails). Bytes the
// client sends meanwhile (a pipelined request) are kept in `buffer`, up to
// `limit` bytes; past that it stops reading (but still completes on cancel).
boost::asio::awaitable<void> watch_for_close(boost::asio::ip::tcp::socket& socket, beast::flat_buffer& buffer,
                                             std::size_t limit);

// Streams `record`'s events from `next_seq` on as text/event-stream;
// `announce_id`: open with "id: <stream_id>.0". Returns whether the
// connection may serve another request.
boost::asio::awaitable<bool> serve_sse(worker& w, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                       std::shared_ptr<stream_record> record, std::uint64_t next_seq, bool keep_alive,
                                       bool announce_id = false);

// A Last-Event-ID value, "<stream_id>.<seq>".
struct event_id {
    std::string_view stream_id;
    std::uint64_t seq = 0;
};
std::optional<event_id> parse_event_id(std::string_view text) noexcept;

// Serves a WebSocket connection after its upgrade request; `forward` is
// pointed at the session so server shutdown reaches it.
boost::asio::awaitable<void> run_ws_session(worker& w, beast::tcp_stream stream,
                                            http::request<http::string_body> upgrade, std::string block,
                                            connection*& forward);

// The HTTP status for an error code at the request stage.
http::status status_for(liveai::error e) noexcept;

// {"error":{"code":"…","message":"…"}}
std::string error_body(std::string_view code, std::string_view message);

}  // namespace liveai::server::detail
