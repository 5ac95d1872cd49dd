// Tutorial 5: a provider of your own, served by liveai's server.
//
// A provider is a token_stream (co_await next() for each token) plus a
// registered factory that reads its settings section of the config. This one
// streams the lines of a text file, one line per token, a delay apart. It is
// registered beside the built-in providers, configured in TOML like them
// (with the same file:line:column errors), served by the embedded server,
// and read back over a real socket.
//
//   example_custom_provider FILE
#include <liveai/client/sse_client.hpp>
#include <liveai/config.hpp>
#include <liveai/detail/utf8.hpp>
#include <liveai/engine.hpp>
#include <liveai/provider_registry.hpp>
#include <liveai/server/http_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fstream>
#include <iostream>

namespace asio = boost::asio;

// ---- The provider: under 80 lines from here to the end of register_lines.

// [blocks.<name>.lines]: which file, and how fast.
struct lines_settings {
    std::string file;
    std::chrono::milliseconds delay{20};
    // Read when the config is loaded, never on an I/O thread.
    std::shared_ptr<const std::vector<std::string>> lines;
};

class lines_stream final : public liveai::token_stream {
public:
    explicit lines_stream(const lines_settings& s) : delay_(s.delay), lines_(s.lines) {}

    asio::awaitable<std::optional<liveai::token>> next() override
    {
        if (done()) co_return std::nullopt;
        if (next_ == lines_->size()) {
            mark_finished(liveai::finish_reason::stop);
            co_return std::nullopt;
        }
        // The timer belongs to the executor that awaits the stream. The
        // awaiting coroutine's cancellation slot reaches this wait, so a
        // client that goes away stops the stream here at once.
        if (!timer_) timer_.emplace(co_await asio::this_coro::executor);
        timer_->expires_after(delay_);
        const auto [ec] = co_await timer_->async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || done()) {
            mark_finished(liveai::finish_reason::cancelled);
            co_return std::nullopt;
        }
        const auto& line = (*lines_)[next_++];
        co_return liveai::token{line};  // views the settings' copy: valid as long as the stream
    }
    void cancel() noexcept override
    {
        mark_finished(liveai::finish_reason::cancelled);
        if (timer_) timer_->cancel();
    }
    bool stops_promptly() const noexcept override { return true; }

private:
    std::optional<asio::steady_timer> timer_;
    std::chrono::milliseconds delay_;
    std::shared_ptr<const std::vector<std::string>> lines_;
    std::size_t next_ = 0;
};

void register_lines(liveai::provider_registry& registry)
{
    auto read = [](liveai::settings_reader& r, lines_settings& s) {
        r.millis("delay_ms", s.delay, 0, 10'000);
        if (!r.string("file", s.file, 4096, false)) return r.problem("file", "is required");
        std::ifstream in(s.file);
        if (!in) return r.problem("file", "cannot open " + s.file);
        auto lines = std::make_shared<std::vector<std::string>>();
        for (std::string line; std::getline(in, line);) {
            if (liveai::detail::find_invalid_utf8(line) != std::string_view::npos)
                return r.problem("file", "line " + std::to_string(lines->size() + 1) + " is not UTF-8");
            lines->push_back(line + "\n");
        }
        s.lines = std::move(lines);
    };
    auto open = [](const liveai::block_config&, const lines_settings& s, liveai::request) {
        return std::make_unique<lines_stream>(s);
    };
    registry.add<lines_settings>("lines", read, open);
}

// ---- The application: config, server, and a client reading one stream back.

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " FILE\n";
        return 2;
    }
    asio::io_context ioc(1);
    auto registry = liveai::provider_registry::builtin();
    register_lines(registry);
    try {
        const auto config = liveai::parse_config(
            "[server]\nport = 0\n[blocks.poem]\nprovider = \"lines\"\nstreaming = true\n"
            "[blocks.poem.lines]\ndelay_ms = 10\nfile = \"" + std::string(argv[1]) + "\"\n",
            "tutorial.toml", registry);
        auto engine = std::make_shared<const liveai::engine>(config.blocks, registry);
        liveai::server::http_server server(config.server, engine, {&ioc});
        server.start();
        std::cout << "providers: " << registry.list() << "\n";
        int status = 1;
        auto read_back = [&]() -> asio::awaitable<void> {
            liveai::client::sse_client client(co_await asio::this_coro::executor, "127.0.0.1", server.port());
            client.start("poem", "read it");
            try {
                while (auto ev = co_await client.next()) {
                    using liveai::client::event_type;
                    if (ev->type == event_type::chunk) {
                        std::cout << "chunk " << ev->index << ": " << ev->text;
                    } else if (ev->type == event_type::complete) {
                        std::cout << "[complete " << liveai::to_string(ev->finish) << ", " << ev->chunks << " chunks]\n";
                        status = 0;
                    } else {
                        std::cout << "[error " << ev->code << ": " << ev->message << "]\n";
                    }
                }
            } catch (const std::exception& e) {
                std::cerr << "failed: " << e.what() << "\n";
            }
            server.shutdown();
        };
        asio::co_spawn(ioc, read_back(), asio::detached);
        ioc.run();
        return status;
    } catch (const liveai::config_error& e) {
        for (const auto& p : e.problems()) std::cerr << p << "\n";
        return 1;
    }
}
