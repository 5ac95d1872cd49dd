// Tokens per second through engine::stream with the zero-delay mock, and heap
// allocations per token, counted by wrapping malloc and its relatives.
//
//   build/release/benchmarks/engine_throughput [streams] [tokens per stream] [no-deadlines]
#include <liveai/provider_registry.hpp>
#include <liveai/providers/mock_settings.hpp>
#include <liveai/providers/upstream_settings.hpp>
#include <liveai/engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// Count every heap allocation, whatever asks for it (operator new, Asio's
// aligned recycling allocator...), by wrapping glibc's allocator entry points.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {
std::atomic<std::size_t> allocations{0};
void count() noexcept { allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

extern "C" {
void* malloc(std::size_t n) { count(); return __libc_malloc(n); }
void* calloc(std::size_t n, std::size_t m) { count(); return __libc_calloc(n, m); }
void* realloc(void* p, std::size_t n) { count(); return __libc_realloc(p, n); }
void* aligned_alloc(std::size_t a, std::size_t n) { count(); return __libc_memalign(a, n); }
void* memalign(std::size_t a, std::size_t n) { count(); return __libc_memalign(a, n); }
int posix_memalign(void** out, std::size_t a, std::size_t n)
{
    count();
    *out = __libc_memalign(a, n);
    return *out ? 0 : 12;  // ENOMEM
}
}

namespace asio = boost::asio;

namespace {

struct run_result {
    std::size_t tokens = 0;
    std::size_t allocations = 0;
    double seconds = 0;
};

// Runs `streams` streams one after another on one thread.
run_result run(const liveai::engine& engine, std::size_t streams)
{
    asio::io_context ioc(1);
    run_result r;
    auto task = [&]() -> asio::awaitable<void> {
        for (std::size_t i = 0; i < streams; ++i) {
            auto s = engine.stream("burst", liveai::request{"benchmark prompt"});
            while (auto t = co_await s->next()) r.tokens += t->text.size() > 0;
        }
    };
    const auto before = allocations.load();
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(ioc, task(), asio::detached);
    ioc.run();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.allocations = allocations.load() - before;
    return r;
}

}  // namespace

int main(int argc, char** argv)
{
    const std::size_t streams = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
    const std::size_t tokens = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 256;

    const bool deadlines = !(argc > 3 && std::string_view(argv[3]) == "no-deadlines");
    auto make_engine = [&](std::uint32_t n) {
        liveai::block_config block;
        if (!deadlines) block.deadlines = {{}, {}, {}};
        block.name = "burst";
        block.streaming = true;
        liveai::block_settings<liveai::mock_settings>(block).tokens = n;
        liveai::block_settings<liveai::mock_settings>(block).echo_words = 0;
        return liveai::engine({block});
    };
    const auto engine = make_engine(static_cast<std::uint32_t>(tokens));
    const auto long_engine = make_engine(static_cast<std::uint32_t>(tokens * 2));

    run(engine, 10);  // warm up the thread's recycling allocator
    const auto r = run(engine, streams);
    // Per-token allocations: the difference between streams of n and 2n tokens.
    const auto shorter = run(engine, 100);
    const auto longer = run(long_engine, 100);
    const double per_token = double(longer.allocations) - double(shorter.allocations);

    std::printf("streams: %zu x %zu tokens, deadlines %s\n", streams, tokens, deadlines ? "on (defaults)" : "off");
    std::printf("tokens/s: %.0f (%.1f ns per token)\n", r.tokens / r.seconds, 1e9 * r.seconds / r.tokens);
    std::printf("heap allocations: %.2f per stream, %.4f per token (steady state: %.0f extra allocations for %zu extra tokens)\n",
                double(r.allocations) / streams, double(r.allocations) / r.tokens, per_token, longer.tokens - shorter.tokens);
    return 0;
}
