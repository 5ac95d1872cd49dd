// Private: what one I/O thread of the server owns.
#pragma once

#include <liveai/engine.hpp>
#include <liveai/server/metrics.hpp>
#include <liveai/server/server_config.hpp>

#include "log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <optional>
#include <string>
#include <unordered_set>

namespace liveai::server::detail {

// A live connection, as shutdown sees it.
class connection {
public:
    virtual void shutdown() noexcept = 0;

protected:
    ~connection() = default;
};

struct worker {
    worker(unsigned index, const server_config& config, const liveai::engine& engine, server::metrics& metrics,
           const log_sink& log);

    unsigned index;
    boost::asio::io_context ioc{1};
    std::optional<boost::asio::ip::tcp::acceptor> acceptor;
    const server_config& config;
    const liveai::engine& engine;
    server::metrics& metrics;
    metrics_shard& shard;
    const log_sink& log;
    bool shutting_down = false;
    std::unordered_set<connection*> connections;
    std::optional<boost::asio::steady_timer> shutdown_deadline;

    // A process-unique stream id: 16 hex digits.
    std::string next_stream_id();

    void add(connection* c) { connections.insert(c); }
    void remove(connection* c);
    void begin_shutdown();

private:
    std::uint64_t id_state_;
};

}  // namespace liveai::server::detail
