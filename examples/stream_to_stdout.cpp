// Tutorial 2: stream one answer to stdout, token by token, as it is produced.
// Ctrl-C cancels the stream through the coroutine's cancellation slot.
//
//   example_stream_to_stdout config/liveai.toml chat "a prompt"
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <iostream>

namespace asio = boost::asio;

asio::awaitable<void> print_stream(liveai::token_stream& stream)
{
    while (auto token = co_await stream.next()) std::cout << token->text << std::flush;
    std::cout << "\n[finish: " << liveai::to_string(stream.finish_reason()) << ", ";
    if (const auto usage = stream.usage())
        std::cout << usage->output_tokens << " tokens]\n";
    else
        std::cout << "usage not reported]\n";
}

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " CONFIG BLOCK PROMPT\n";
        return 2;
    }
    int status = 0;
    try {
        liveai::engine engine(liveai::load_config_file(argv[1]).blocks);
        // The stream's timers belong to ioc: create it first, so the stream is destroyed first.
        asio::io_context ioc;
        auto stream = engine.stream(argv[2], liveai::request{argv[3]});

        asio::cancellation_signal cancel;
        asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](auto ec, int) {
            if (!ec) cancel.emit(asio::cancellation_type::terminal);
        });
        asio::co_spawn(ioc, print_stream(*stream),
                       asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                           signals.cancel();
                           if (!e) return;
                           try {
                               std::rethrow_exception(e);
                           } catch (const liveai::stream_error& err) {
                               std::cerr << "\nerror " << liveai::to_code(err.code()) << ": " << err.message() << "\n";
                               status = 1;
                           }
                       }));
        ioc.run();
    } catch (const liveai::stream_error& e) {
        std::cerr << "error " << liveai::to_code(e.code()) << ": " << e.message() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return status;
}
