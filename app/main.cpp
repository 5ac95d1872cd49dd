// liveai-server: flags, config, signals; everything else lives in the library.
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/provider_registry.hpp>
#include <liveai/server/api_key_digest.hpp>
#include <liveai/server/http_server.hpp>
#include <liveai/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr std::string_view usage_text = R"(usage: liveai-server [options]

Streams AI output over SSE and WebSocket (see README.md).

options:
  --config FILE        TOML config (default: config/liveai.toml)
  --host ADDRESS       listen address, overrides [server] host
  --port N             listen port, overrides [server] port (0: any free port)
  --check-config FILE  validate FILE, print every problem, exit 1 if any
  --new-key NAME       make an API key: the key on stderr (shown once), the
                       [[auth.keys]] entry with its SHA-256 on stdout
  --hash-key           read a key on stdin, print its SHA-256 (for sha256 =)
  --help               this text
  --version            print the version
)";

struct options {
    std::string config = "config/liveai.toml";
    std::optional<std::string> host;
    std::optional<std::uint16_t> port;
    std::optional<std::string> check;
    std::optional<std::string> new_key;
    bool hash_key = false;
};

// Returns nullopt (after printing why) when the command line is wrong.
std::optional<options> parse_flags(int argc, char** argv, int& exit_now)
{
    options o;
    exit_now = -1;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= argc) {
                std::cerr << "liveai-server: " << arg << " needs a value\n";
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        if (arg == "--help" || arg == "-h") {
            std::cout << usage_text;
            exit_now = 0;
            return o;
        }
        if (arg == "--version") {
            std::cout << "liveai-server " << liveai::version_string << "\n";
            exit_now = 0;
            return o;
        }
        if (arg == "--hash-key") {
            o.hash_key = true;
            continue;
        }
        if (arg == "--config" || arg == "--host" || arg == "--check-config" || arg == "--port" || arg == "--new-key") {
            auto v = value();
            if (!v) return std::nullopt;
            if (arg == "--config") o.config = *v;
            else if (arg == "--host") o.host = *v;
            else if (arg == "--check-config") o.check = *v;
            else if (arg == "--new-key") o.new_key = *v;
            else {
                unsigned port = 0;
                auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), port);
                if (ec != std::errc() || p != v->data() + v->size() || port > 65535) {
                    std::cerr << "liveai-server: --port takes a number from 0 to 65535, got \"" << *v << "\"\n";
                    return std::nullopt;
                }
                o.port = static_cast<std::uint16_t>(port);
            }
            continue;
        }
        std::cerr << "liveai-server: unknown option \"" << arg << "\" (see --help)\n";
        return std::nullopt;
    }
    return o;
}

}  // namespace

int main(int argc, char** argv)
{
    int exit_now = -1;
    const auto opts = parse_flags(argc, argv, exit_now);
    if (!opts) return 2;
    if (exit_now >= 0) return exit_now;

    if (opts->new_key) {
        if (!liveai::valid_block_name(*opts->new_key)) {
            std::cerr << "liveai-server: a key's name must match [a-z0-9][a-z0-9_-]{0,63}\n";
            return 2;
        }
        const auto key = liveai::server::generate_api_key();
        std::cerr << "API key for \"" << *opts->new_key << "\" (store it now; only its digest is kept): " << key << "\n";
        std::cout << "[[auth.keys]]\nname = \"" << *opts->new_key << "\"\nsha256 = \""
                  << liveai::server::to_hex(liveai::server::digest_of_key(key)) << "\"\nblocks = [\"*\"]\n";
        return 0;
    }
    if (opts->hash_key) {
        // From stdin, so the key is in neither the shell's history nor ps.
        std::string key;
        std::getline(std::cin, key);
        while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
        if (!liveai::server::plausible_api_key(key)) {
            std::cerr << "liveai-server: a key is 1 to 256 token characters (letters, digits, !#$%&'*+-.^_`|~)\n";
            return 2;
        }
        std::cout << liveai::server::to_hex(liveai::server::digest_of_key(key)) << "\n";
        return 0;
    }

    if (opts->check) {
        try {
            const auto config = liveai::load_config_file(*opts->check);
            for (const auto& w : liveai::config_warnings(config)) std::cerr << *opts->check << ": warning: " << w << "\n";
            const auto missing = liveai::missing_api_keys(config);
            for (const auto& p : missing) std::cerr << *opts->check << ": " << p << "\n";
            if (!missing.empty()) return 1;
            std::cout << *opts->check << ": ok (" << config.blocks.size()
                      << " blocks; providers: " << liveai::provider_registry::builtin().list() << ")\n";
            return 0;
        } catch (const liveai::config_error& e) {
            for (const auto& p : e.problems()) std::cerr << p << "\n";
            return 1;
        }
    }

    liveai::app_config config;
    try {
        config = liveai::load_config_file(opts->config);
    } catch (const liveai::config_error& e) {
        for (const auto& p : e.problems()) std::cerr << p << "\n";
        return 1;
    }
    for (const auto& w : liveai::config_warnings(config)) std::cerr << opts->config << ": warning: " << w << "\n";
    if (const auto missing = liveai::missing_api_keys(config); !missing.empty()) {
        for (const auto& p : missing) std::cerr << opts->config << ": " << p << "\n";
        return 1;
    }
    if (opts->host) config.server.host = *opts->host;
    if (opts->port) config.server.port = *opts->port;
    if (!config.server.auth.enabled() && config.server.host != "127.0.0.1" && config.server.host != "::1" &&
        config.server.host != "localhost")
        std::cerr << "liveai-server: warning: listening on " << config.server.host
                  << " without [auth]: anyone who can reach the port can spend the provider keys (add [[auth.keys]])\n";

    try {
        liveai::server::http_server server(config.server, std::make_shared<const liveai::engine>(config.blocks));
        server.listen();
        // On stdout, so scripts (and tests started with --port 0) learn the port.
        std::cout << "liveai-server listening on http://" << config.server.host << ':' << server.port() << std::endl;

        // Signals on a thread of their own: the I/O threads never block on them.
        boost::asio::io_context signal_context(1);
        boost::asio::signal_set signals(signal_context, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int) {
            if (!ec) server.shutdown();
        });
        std::thread signal_thread([&] { signal_context.run(); });
        server.run();
        signal_context.stop();
        signal_thread.join();
    } catch (const std::exception& e) {
        std::cerr << "liveai-server: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
