// What [auth] adds to each request, measured apart from the noise of a load
// test: the key's digest and constant-time lookup among N keys, the block
// check, the requests-per-minute bucket and the stream slot.
//
//   build/release/benchmarks/auth_check_cost [keys=16] [iterations=1000000]
#include "key_table.hpp"

#include <liveai/server/api_key_digest.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv)
{
    using namespace liveai::server;
    const int keys = argc > 1 ? std::atoi(argv[1]) : 16;
    const long iterations = argc > 2 ? std::atol(argv[2]) : 1'000'000;
    auth_config auth;
    for (int i = 0; i < keys; ++i) {
        api_key k;
        k.name = "key" + std::to_string(i);
        k.sha256 = digest_of_key("lk-benchmark-key-" + std::to_string(i));
        k.blocks = {"chat", "bench-burst"};
        k.max_streams = 1'000'000;
        k.requests_per_minute = 10'000'000;  // the bucket is taken, never empty
        auth.keys.push_back(std::move(k));
    }
    const detail::key_table table(auth);
    const std::string presented = "lk-benchmark-key-" + std::to_string(keys - 1);  // the last one compared
    long found = 0;
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) {
        auto* k = table.find(presented);
        if (!k || !k->may_use("bench-burst") || k->take_request(std::chrono::steady_clock::now()) != 0 || !k->take_stream()) return 1;
        k->give_back_stream();
        ++found;
    }
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(found);
    std::printf("auth check: %.0f ns per request with %d keys (digest, lookup, block, rate bucket, stream slot); "
                "%.4f us per chunk of a 256-chunk stream\n",
                ns, keys, ns / 256.0 / 1000.0);
    return 0;
}
