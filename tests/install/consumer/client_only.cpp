// Links liveai::client alone (no engine, providers, TOML or server): asks a
// port where nothing listens and reports the client's error.
#include <liveai/client/sse_client.hpp>
#include <liveai/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

int main()
{
    boost::asio::io_context ioc;
    liveai::client::sse_client client(ioc.get_executor(), "127.0.0.1", 1, {.max_attempts = 1});
    client.start("chat", "hi");
    std::string code;
    boost::asio::co_spawn(ioc, client.next(), [&](std::exception_ptr e, std::optional<liveai::client::stream_event>) {
        try {
            if (e) std::rethrow_exception(e);
        } catch (const liveai::stream_error& err) {
            code = std::string(liveai::to_code(err.code()));
        }
    });
    ioc.run();
    std::cout << "client: " << code << "\n";
}
