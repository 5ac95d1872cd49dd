// Private: what one I/O thread of the server owns.
#pragma once

#include <liveai/engine.hpp>
#include <liveai/server/http_server.hpp>
#include <liveai/server/metrics.hpp>
#include <liveai/server/server_config.hpp>

#include "key_table.hpp"
#include "log.hpp"
#include "router.hpp"
#include "write_buffer_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace liveai::server::detail {

class stream_record;

// A live connection, as shutdown sees it.
class connection {
public:
    virtual void shutdown() noexcept = 0;
    // Past shutdown_timeout: close the socket, whatever it is doing.
    virtual void close_now() noexcept = 0;

protected:
    ~connection() = default;
};

// An application's own endpoint: every request whose path starts with prefix.
struct extra_route {
    std::string prefix;
    http_server::route_handler handler;
};

struct worker {
    // `ioc`: an io_context of the application's, or null for one of our own.
    worker(unsigned index, boost::asio::io_context* ioc, const server_config& config, const liveai::engine& engine,
           server::metrics& metrics, const log_sink& log, const std::vector<extra_route>& extra_routes,
           std::span<const std::string> extra_prefixes);

    unsigned index;
    std::unique_ptr<boost::asio::io_context> own_ioc;
    boost::asio::io_context& ioc;
    bool embedded;  // ioc is the application's: shutdown never stops it
    std::optional<boost::asio::ip::tcp::acceptor> acceptor;
    const server_config& config;
    const liveai::engine& engine;
    server::metrics& metrics;
    metrics_shard& shard;
    const log_sink& log;
    const std::vector<extra_route>& extra_routes;
    route_table routes;
    // [auth]'s keys, shared by every worker; null or empty: no auth.
    const key_table* keys = nullptr;
    std::int64_t started_at = 0;  // Unix time: /v1/models' "created"
    bool shutting_down = false;
    std::unordered_set<connection*> connections;
    std::optional<boost::asio::steady_timer> shutdown_deadline;
    // Every worker of the server, this one included (resume hands a request
    // to the worker that owns the stream).
    std::vector<worker*> peers;
    // The streams this worker runs or retains for resume, by id (a view of
    // the record's own id: the entry holds the record).
    std::unordered_map<std::string_view, std::shared_ptr<stream_record>> streams;
    // Ended streams in the order they ended, for max_retained_streams.
    std::deque<std::weak_ptr<stream_record>> retained;
    std::size_t max_retained = 0;        // this worker's share of max_retained_streams
    std::size_t max_retained_bytes = 0;  // and of max_retained_bytes
    std::size_t retained_bytes = 0;
    // Lent to the SSE writers for one write at a time.
    write_buffer_pool write_buffers;
    // A stream's event payload while it is formatted, before it is appended
    // to the stream's log (no wait in between): one per thread, not per stream.
    std::string event_scratch;

    // A process-unique stream id: 16 hex digits, the last two the worker's index.
    std::string next_stream_id();
    // The index of the worker that made `stream_id`; nullopt if it is not one of ours.
    std::optional<unsigned> owner_of(std::string_view stream_id) const noexcept;
    std::shared_ptr<stream_record> find_stream(std::string_view stream_id) const;
    // Keeps an ended stream for resume, expiring the oldest beyond max_retained.
    void retain(std::shared_ptr<stream_record> ended);

    void add(connection* c) { connections.insert(c); }
    void remove(connection* c);
    void begin_shutdown();

private:
    std::uint64_t id_state_;
};

}  // namespace liveai::server::detail
