#include "cutting_proxy.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <future>
#include <list>

namespace liveai::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

struct cutting_proxy::state {
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    std::uint16_t target = 0;
    std::list<std::pair<std::shared_ptr<tcp::socket>, std::shared_ptr<tcp::socket>>> open;
};

namespace {

asio::awaitable<void> pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to)
{
    std::array<char, 16 * 1024> buf;
    for (;;) {
        boost::system::error_code ec;
        const auto n = co_await from->async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        co_await asio::async_write(*to, asio::buffer(buf.data(), n), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
}

void reset(tcp::socket& s)
{
    boost::system::error_code ignored;
    if (!s.is_open()) return;
    s.set_option(asio::socket_base::linger(true, 0), ignored);  // RST, not FIN
    s.close(ignored);
}

// A raw pointer: a shared_ptr in the frame would keep the io_context that
// owns the frame alive (a cycle, a leak).
asio::awaitable<void> accept_loop(cutting_proxy::state* st, std::atomic<unsigned>& count)
{
    for (;;) {
        auto client = std::make_shared<tcp::socket>(st->ioc);
        boost::system::error_code ec;
        co_await st->acceptor.async_accept(*client, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
        auto server = std::make_shared<tcp::socket>(st->ioc);
        co_await server->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), st->target),
                                       asio::redirect_error(use_awaitable, ec));
        if (ec) {
            reset(*client);
            continue;
        }
        ++count;
        st->open.emplace_back(client, server);
        asio::co_spawn(st->ioc, pipe(client, server), asio::detached);
        asio::co_spawn(st->ioc, pipe(server, client), asio::detached);
    }
}

}  // namespace

cutting_proxy::cutting_proxy(std::uint16_t target_port) : state_(std::make_shared<state>())
{
    state_->target = target_port;
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(ep.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(ep);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    asio::co_spawn(state_->ioc, accept_loop(state_.get(), connections_), asio::detached);
    thread_ = std::thread([st = state_] { st->ioc.run(); });
}

cutting_proxy::~cutting_proxy()
{
    asio::post(state_->ioc, [st = state_] {
        boost::system::error_code ignored;
        st->acceptor.close(ignored);
        for (auto& [a, b] : st->open) reset(*a), reset(*b);
        st->open.clear();
        st->ioc.stop();
    });
    thread_.join();
}

void cutting_proxy::cut_all()
{
    std::promise<void> done;
    asio::post(state_->ioc, [st = state_, &done] {
        for (auto& [a, b] : st->open) reset(*a), reset(*b);
        st->open.clear();
        done.set_value();
    });
    done.get_future().wait();
}

}  // namespace liveai::test
