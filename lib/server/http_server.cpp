#include <liveai/server/http_server.hpp>

#include "log.hpp"
#include "sessions.hpp"
#include "worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <atomic>
#include <ctime>
#include <stdexcept>
#include <thread>

namespace liveai::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct http_server::impl {
    impl(server_config c, std::shared_ptr<const liveai::engine> e, std::vector<asio::io_context*> contexts)
        : config(std::move(c)),
          engine(std::move(e)),
          threads(!contexts.empty() ? static_cast<unsigned>(contexts.size())
                  : config.threads  ? config.threads
                                    : std::max(1u, std::thread::hardware_concurrency())),
          embedded(!contexts.empty()),
          metrics(threads),
          log(config.log),
          keys(config.auth)
    {
        metrics.label_blocks(engine->blocks(), config.auth.keys);
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        for (unsigned i = 0; i < threads; ++i)
            workers.push_back(std::make_unique<detail::worker>(i, embedded ? contexts[i] : nullptr, config, *engine,
                                                               metrics, log, extra_routes, extra_prefixes));
        for (auto& w : workers) {
            w->keys = &keys;
            w->started_at = now;
            for (auto& peer : workers) w->peers.push_back(peer.get());
            // Rounded up, so a small max_retained_streams still keeps some.
            w->max_retained = (config.max_retained_streams + threads - 1) / threads;
            w->max_retained_bytes = (config.max_retained_bytes + threads - 1) / threads;
        }
    }

    server_config config;
    std::shared_ptr<const liveai::engine> engine;
    unsigned threads;
    bool embedded;
    server::metrics metrics;
    detail::log_sink log;
    detail::key_table keys;
    // Fixed once start() runs: the workers see them by reference.
    std::vector<detail::extra_route> extra_routes;
    std::vector<std::string> extra_prefixes;
    std::vector<std::unique_ptr<detail::worker>> workers;
    bool started = false;
    std::uint16_t bound_port = 0;
    bool listening = false;
    std::atomic<bool> shutdown_requested{false};

    void open_acceptor(detail::worker& w, const tcp::endpoint& endpoint)
    {
        auto& acceptor = w.acceptor.emplace(w.ioc);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        // SO_REUSEPORT: one acceptor per thread on the same port; the kernel
        // spreads new connections across them.
        const int one = 1;
        if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
            throw boost::system::system_error(errno, boost::system::system_category(), "SO_REUSEPORT");
        acceptor.bind(endpoint);
        // The largest backlog the kernel allows (somaxconn): bursts of
        // thousands of connects must not overflow the accept queue.
        acceptor.listen(asio::socket_base::max_listen_connections);
    }

    asio::awaitable<void> accept_loop(detail::worker& w)
    {
        for (;;) {
            auto [ec, socket] = co_await w.acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
            if (w.shutting_down || ec == asio::error::operation_aborted || !w.acceptor->is_open()) co_return;
            if (ec) {
                // Out of file descriptors and the like: back off, then retry.
                log.write(log_level::warn, "accept failed: %s", ec.message().c_str());
                asio::steady_timer pause(w.ioc, std::chrono::milliseconds(50));
                co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
                continue;
            }
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            const auto active = metrics.connections_active.fetch_add(1, std::memory_order_relaxed);
            if (active >= static_cast<std::int64_t>(config.max_connections)) {
                metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
                metrics_shard::add(w.shard.overloaded_total);
                asio::co_spawn(w.ioc, detail::reject_connection(w, std::move(socket)), asio::detached);
                continue;
            }
            asio::co_spawn(w.ioc, detail::run_http_session(w, std::move(socket)), [this](std::exception_ptr e) {
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    log.write(log_level::error, "session ended by an exception: %s", ex.what());
                }
            });
        }
    }
};

http_server::http_server(server_config config, std::shared_ptr<const liveai::engine> engine)
    : impl_(std::make_unique<impl>(std::move(config), std::move(engine), std::vector<asio::io_context*>{}))
{
}

http_server::http_server(server_config config, std::shared_ptr<const liveai::engine> engine,
                         std::vector<asio::io_context*> contexts)
    : impl_(std::make_unique<impl>(std::move(config), std::move(engine), std::move(contexts)))
{
}

void http_server::add_route(std::string path_prefix, route_handler handler)
{
    if (impl_->started) throw std::logic_error("http_server::add_route after start()");
    if (path_prefix.empty() || path_prefix.front() != '/')
        throw std::invalid_argument("http_server::add_route: the prefix must start with '/'");
    impl_->extra_prefixes.push_back(path_prefix);
    impl_->extra_routes.push_back({std::move(path_prefix), std::move(handler)});
    for (auto& w : impl_->workers) w->routes.extra_prefixes = impl_->extra_prefixes;
}

http_server::~http_server() = default;

void http_server::listen()
{
    if (impl_->listening) return;
    const auto address = asio::ip::make_address(impl_->config.host);
    tcp::endpoint endpoint(address, impl_->config.port);
    impl_->open_acceptor(*impl_->workers[0], endpoint);
    impl_->bound_port = impl_->workers[0]->acceptor->local_endpoint().port();
    endpoint.port(impl_->bound_port);
    for (std::size_t i = 1; i < impl_->workers.size(); ++i) impl_->open_acceptor(*impl_->workers[i], endpoint);
    impl_->listening = true;
    impl_->log.write(log_level::info, "listening on %s:%u with %u threads", impl_->config.host.c_str(),
                     static_cast<unsigned>(impl_->bound_port), impl_->threads);
}

std::uint16_t http_server::port() const noexcept { return impl_->bound_port; }

void http_server::start()
{
    if (impl_->started) return;
    listen();
    impl_->started = true;
    for (auto& w : impl_->workers) asio::co_spawn(w->ioc, impl_->accept_loop(*w), asio::detached);
    if (impl_->shutdown_requested) shutdown();
}

void http_server::run()
{
    if (impl_->embedded) throw std::logic_error("http_server::run: the application runs its own io_contexts");
    start();
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < impl_->workers.size(); ++i)
        threads.emplace_back([w = impl_->workers[i].get()] { w->ioc.run(); });
    impl_->workers[0]->ioc.run();
    for (auto& t : threads) t.join();
    impl_->log.write(log_level::info, "stopped");
}

void http_server::shutdown()
{
    impl_->shutdown_requested = true;
    for (auto& w : impl_->workers) asio::post(w->ioc, [w = w.get()] { w->begin_shutdown(); });
}

server::metrics& http_server::metrics() noexcept { return impl_->metrics; }
const server_config& http_server::config() const noexcept { return impl_->config; }

}  // namespace liveai::server
