// Private: the SSE half of a connection, the subscriber of one stream.
//
// The writer sends every event the stream has that this client has not had,
// framed by sse_event_writer, in one write per batch (status line and
// preamble included in the first); a watcher (a plain handler on a one-byte
// read, not a second coroutine: a running stream holds one coroutine here)
// notices a client that leaves at once, even while the provider waits
// before its first token or between two. What happens to the stream then is
// the block's on_disconnect policy (stream_record::detach).
#pragma once

#include "subscription.hpp"
#include "worker.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace liveai::server::detail {

class sse_response final : public stream_subscriber {
public:
    struct options {
        bool keep_alive = true;
        // HTTP/1.0 has no chunked coding: the body ends with the connection.
        bool chunked = true;
        // Open with "id: <stream_id>.0" (the client asked: resumable=1).
        bool announce_id = false;
        // The record's payloads are whole OpenAI "data:" events: sent as
        // they are, with no retry, id or event fields.
        bool openai = false;
        // Header lines added to the head (CORS), "Name: value\r\n" each.
        std::string_view extra_head;
    };

    sse_response(worker& w, boost::asio::ip::tcp::socket& socket, boost::beast::flat_buffer& buffer, options opt);
    ~sse_response();

    // Writes `events` from next_seq on until the terminal event is written
    // or the client leaves; returns whether the connection may serve
    // another request.
    boost::asio::awaitable<bool> run(std::unique_ptr<subscription> events, std::uint64_t next_seq);

    void on_events() noexcept override;
    void abort() noexcept override;

private:
    void watch();
    void on_readable(const boost::system::error_code& ec);

    worker& w_;
    boost::asio::ip::tcp::socket& socket_;
    boost::beast::flat_buffer& buffer_;
    options opt_;
    std::unique_ptr<subscription> events_;
    std::uint64_t next_ = 1;
    boost::asio::steady_timer wake_;
    std::string_view head_;  // the status line and fields, until the first write
    std::string own_head_;   // the head, when it has extra lines
    std::string pending_;  // lent by w_.write_buffers while a batch is framed or written
    std::chrono::steady_clock::time_point last_write_{};
    char probe_ = 0;  // the watcher's one-byte read
    bool idle_ = false;
    bool watching_ = false;   // the watcher's wait is pending
    bool finishing_ = false;  // run() waits for the watcher to let go
    bool client_gone_ = false;
    bool aborted_ = false;
    bool terminator_sent_ = false;
};

}  // namespace liveai::server::detail
