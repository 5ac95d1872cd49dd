#include "stalling_listener.hpp"

#include "client_close_log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <vector>

namespace liveai::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

struct stalling_listener::impl {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::vector<tcp::socket> fillers;
    mutable std::mutex mutex;
    int accepted = 0;
    client_close_log closes;

    asio::awaitable<void> silent(tcp::socket s)
    {
        std::array<char, 4096> sink;
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(sink), asio::as_tuple(use_awaitable));
            if (ec) {
                closes.record();
                co_return;
            }
        }
    }

    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(use_awaitable));
            if (ec) co_return;
            {
                std::lock_guard lock(mutex);
                ++accepted;
            }
            asio::co_spawn(ioc, silent(std::move(s)), asio::detached);
        }
    }
};

stalling_listener::stalling_listener(mode m) : impl_(std::make_unique<impl>())
{
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.bind(ep);
    if (m == mode::connect_never_completes) {
        // Linux queues one connection beyond a backlog of 0; with that one
        // taken (and never accepted) further SYNs are dropped.
        impl_->acceptor.listen(0);
        port_ = impl_->acceptor.local_endpoint().port();
        impl_->fillers.emplace_back(impl_->ioc).connect(tcp::endpoint(ep.address(), port_));
    } else {
        impl_->acceptor.listen();
        port_ = impl_->acceptor.local_endpoint().port();
        asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    }
    thread_ = std::thread([this] {
        auto guard = asio::make_work_guard(impl_->ioc);
        impl_->ioc.run();
    });
}

stalling_listener::~stalling_listener()
{
    impl_->ioc.stop();
    thread_.join();
}

int stalling_listener::accepted() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->accepted;
}

std::optional<std::chrono::steady_clock::time_point> stalling_listener::last_client_close() const
{
    return impl_->closes.last();
}

bool stalling_listener::wait_for_client_close(std::chrono::milliseconds timeout) const
{
    return impl_->closes.wait(timeout);
}

}  // namespace liveai::test
