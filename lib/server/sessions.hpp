// Private: the coroutines that serve one connection.
#pragma once

#include "stream_accounting.hpp"
#include "key_table.hpp"
#include "worker.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace liveai::server::detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;

// Reads requests on one connection and answers them, keep-alive included.
boost::asio::awaitable<void> run_http_session(worker& w, boost::asio::ip::tcp::socket socket);

// Answers 503 overloaded and closes: the connection limit is reached.
boost::asio::awaitable<void> reject_connection(worker& w, boost::asio::ip::tcp::socket socket);

// After a one-byte read took `first` (a connection waits so, holding no read
// buffer, and Asio queues such a read without the epoll_ctl call a wait
// costs): appends it and what else the socket holds now, read without
// waiting, to `buffer`, `room` bytes in all. False when the socket reported
// its end or an error meanwhile.
bool keep_early_bytes(boost::asio::ip::tcp::socket& socket, beast::flat_buffer& buffer, char first, std::size_t room);

// Completes when the client closes the connection (or it fails). Bytes the
// client sends meanwhile (a pipelined request) are kept in `buffer`, up to
// `limit` bytes; past that it stops reading (but still completes on cancel).
boost::asio::awaitable<void> watch_for_close(boost::asio::ip::tcp::socket& socket, beast::flat_buffer& buffer,
                                             std::size_t limit);

// Serves a WebSocket connection after its upgrade request (`early`: bytes
// read behind it); `forward` is pointed at the session so server shutdown
// reaches it. `key`: the API key the upgrade was authorized with, if any
// (each stream holds one of its max_streams).
boost::asio::awaitable<void> run_ws_session(worker& w, boost::asio::ip::tcp::socket socket,
                                            http::request<http::string_body> upgrade, beast::flat_buffer& early,
                                            const block_config& block, connection*& forward, key_state* key = nullptr);

}  // namespace liveai::server::detail
