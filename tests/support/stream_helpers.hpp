// Test support: drain token streams into plain strings.
#pragma once

#include <liveai/token_stream.hpp>

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace liveai::test {

inline boost::asio::awaitable<std::vector<std::string>> drain(token_stream& stream)
{
    std::vector<std::string> tokens;
    while (auto t = co_await stream.next()) tokens.emplace_back(t->text);
    co_return tokens;
}

inline std::string join(const std::vector<std::string>& tokens)
{
    std::string all;
    for (const auto& t : tokens) all += t;
    return all;
}

}  // namespace liveai::test
