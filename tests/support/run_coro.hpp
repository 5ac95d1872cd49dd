// Test support: run a coroutine to completion or fail the test, never hang.
#pragma once

#include "printers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>

namespace liveai::test {

using namespace std::chrono_literals;

// Runs `task` on `ioc` and returns its result, rethrowing its exception. Fails
// the current test when it has not finished within `timeout`.
template <class T>
T run_coro(boost::asio::io_context& ioc, boost::asio::awaitable<T> task,
           std::chrono::steady_clock::duration timeout = 30s)
{
    std::exception_ptr error;
    bool finished = false;
    if constexpr (std::is_void_v<T>) {
        boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) {
            error = e;
            finished = true;
        });
    } else {
        std::optional<T> result;
        boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
            error = e;
            if (!e) result.emplace(std::move(value));
            finished = true;
        });
        ioc.restart();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!finished && std::chrono::steady_clock::now() < deadline && ioc.run_one_until(deadline)) {}
        if (!finished) BOOST_FAIL("coroutine did not finish in time");
        if (error) std::rethrow_exception(error);
        return std::move(*result);
    }
    ioc.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!finished && std::chrono::steady_clock::now() < deadline && ioc.run_one_until(deadline)) {}
    if (!finished) BOOST_FAIL("coroutine did not finish in time");
    if (error) std::rethrow_exception(error);
}

}  // namespace liveai::test
