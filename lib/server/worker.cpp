#include "worker.hpp"

#include "answers.hpp"
#include "stream_record.hpp"

#include <random>
#include <utility>

namespace liveai::server::detail {

worker::worker(unsigned idx, boost::asio::io_context* context, const server_config& cfg, const liveai::engine& eng,
               server::metrics& m, const log_sink& l, const std::vector<extra_route>& extra,
               std::span<const std::string> extra_prefixes)
    : index(idx),
      own_ioc(context ? nullptr : std::make_unique<boost::asio::io_context>(1)),
      ioc(context ? *context : *own_ioc),
      embedded(context != nullptr),
      config(cfg),
      engine(eng),
      metrics(m),
      shard(m.shard(idx)),
      log(l),
      extra_routes(extra),
      routes{&eng, &is_web_asset, extra_prefixes}
{
    std::random_device rd;
    id_state_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ (static_cast<std::uint64_t>(idx) << 56);
}

std::string worker::next_stream_id()
{
    // splitmix64 over a random start: unique per worker, unguessable enough
    // to not collide across restarts (resume ids must not alias).
    std::uint64_t z = (id_state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    z = (z & ~std::uint64_t{0xFF}) | (index & 0xFF);
    static constexpr char hex[] = "0123456789abcdef";
    std::string id(16, '0');
    for (int i = 15; i >= 0; --i, z >>= 4) id[static_cast<std::size_t>(i)] = hex[z & 0xF];
    return id;
}

std::optional<unsigned> worker::owner_of(std::string_view stream_id) const noexcept
{
    if (stream_id.size() != 16) return std::nullopt;
    unsigned value = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        const char c = stream_id[i];
        const bool digit = c >= '0' && c <= '9', lower = c >= 'a' && c <= 'f';
        if (!digit && !lower) return std::nullopt;
        if (i >= 14) value = value * 16 + static_cast<unsigned>(digit ? c - '0' : c - 'a' + 10);
    }
    if (value >= peers.size()) return std::nullopt;
    return value;
}

std::shared_ptr<stream_record> worker::find_stream(std::string_view stream_id) const
{
    const auto it = streams.find(stream_id);
    return it == streams.end() ? nullptr : it->second;
}

void worker::retain(std::shared_ptr<stream_record> ended)
{
    ended->retained_bytes = ended->footprint();
    retained_bytes += ended->retained_bytes;
    retained.push_back(ended);
    while (!retained.empty() && (retained.size() > max_retained || retained_bytes > max_retained_bytes)) {
        if (auto oldest = retained.front().lock()) {
            retained_bytes -= std::exchange(oldest->retained_bytes, 0);
            oldest->expire();
        }
        retained.pop_front();
    }
}

void worker::remove(connection* c)
{
    connections.erase(c);
    if (shutting_down && connections.empty() && shutdown_deadline) shutdown_deadline->cancel();
}

void worker::begin_shutdown()
{
    if (shutting_down) return;
    shutting_down = true;
    if (acceptor) {
        boost::system::error_code ignored;
        acceptor->close(ignored);
    }
    // Streams end with a retryable server_shutdown error; none is kept.
    std::vector<std::shared_ptr<stream_record>> records;
    for (auto& [id, record] : streams) records.push_back(record);
    for (auto& record : records) {
        record->stop(stop_reason::shutdown);
        record->expire();
    }
    if (connections.empty()) return;
    // A hard stop for connections that do not finish in time.
    shutdown_deadline.emplace(ioc, config.shutdown_timeout);
    shutdown_deadline->async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        if (!embedded) return ioc.stop();
        // Not ours to stop: close what is left instead.
        const std::vector<connection*> left(connections.begin(), connections.end());
        for (auto* c : left) c->close_now();
    });
    // Copy: shutdown() may remove connections from the set.
    const std::vector<connection*> live(connections.begin(), connections.end());
    for (auto* c : live) c->shutdown();
}

}  // namespace liveai::server::detail
