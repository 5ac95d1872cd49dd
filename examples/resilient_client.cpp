// Tutorial 4: a client of liveai-server that survives the network and the server.
//
//   example_resilient_client 127.0.0.1 8080 story "a prompt" [--ws]
//
// The text goes to stdout as it streams; what happens to the connection goes
// to stderr. A dropped connection is reconnected with backoff and resumed
// after the last event (Last-Event-ID, or a WebSocket `resume`), so no chunk
// is lost or repeated. A restarted server has forgotten the stream: it says so
// (a retryable server_shutdown event, or unknown_stream on resume), and the
// client starts the answer again. Ctrl-C stops.
#include <liveai/client/sse_client.hpp>
#include <liveai/client/ws_client.hpp>
#include <liveai/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstring>
#include <iostream>

namespace asio = boost::asio;
using liveai::client::event_type;

template <class Client>
asio::awaitable<int> stream_to_stdout(Client& client, std::string block, std::string prompt)
{
    unsigned restarts = 0;
    client.start(block, prompt);
    for (;;) {
        try {
            while (auto ev = co_await client.next()) {
                if (ev->type == event_type::chunk) {
                    std::cout << ev->text << std::flush;
                    continue;
                }
                if (ev->type == event_type::error && ev->retryable && restarts < 5) {
                    std::cerr << "\n[server says " << ev->code << ": " << ev->message << "; starting again]\n";
                    break;
                }
                if (ev->type == event_type::error) {
                    std::cerr << "\n[error " << ev->code << ": " << ev->message << "]\n";
                    co_return 1;
                }
                std::cout << "\n[finish: " << liveai::to_string(ev->finish) << ", " << ev->chunks << " chunks, "
                          << client.reconnects() << " resumes, " << restarts << " restarts]\n";
                co_return 0;
            }
        } catch (const liveai::stream_error& e) {
            if (e.code() != liveai::make_error_code(liveai::error::unknown_stream) || restarts >= 5) {
                std::cerr << "\n[" << liveai::to_code(e.code()) << ": " << e.message() << "]\n";
                co_return 1;
            }
            std::cerr << "\n[the server no longer knows the stream (restarted); starting again]\n";
        }
        ++restarts;
        std::cout << "\n--- restart " << restarts << " ---\n";
        client.start(block, prompt);
    }
}

int main(int argc, char** argv)
{
    if (argc != 5 && !(argc == 6 && std::strcmp(argv[5], "--ws") == 0)) {
        std::cerr << "usage: " << argv[0] << " HOST PORT BLOCK PROMPT [--ws]\n";
        return 2;
    }
    asio::io_context ioc;
    const auto port = static_cast<std::uint16_t>(std::stoi(argv[2]));
    liveai::client::reconnect_policy policy{.initial_delay = std::chrono::milliseconds(200),
                                            .max_delay = std::chrono::milliseconds(2000),
                                            .max_attempts = 20};
    liveai::client::sse_client sse(ioc.get_executor(), argv[1], port, policy);
    liveai::client::ws_client ws(ioc.get_executor(), argv[1], port, policy);
    const bool use_ws = argc == 6;
    int status = 1;

    asio::cancellation_signal cancel;
    asio::signal_set signals(ioc, SIGINT);
    signals.async_wait([&](auto ec, int) {
        if (!ec) cancel.emit(asio::cancellation_type::terminal);
    });
    auto done = [&](std::exception_ptr e, int result) {
        signals.cancel();
        status = e ? 130 : result;
    };
    if (use_ws)
        asio::co_spawn(ioc, stream_to_stdout(ws, argv[3], argv[4]), asio::bind_cancellation_slot(cancel.slot(), done));
    else
        asio::co_spawn(ioc, stream_to_stdout(sse, argv[3], argv[4]), asio::bind_cancellation_slot(cancel.slot(), done));
    ioc.run();
    return status;
}
