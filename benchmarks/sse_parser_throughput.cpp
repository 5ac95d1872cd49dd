// Throughput of the upstream SSE parser on a large OpenAI-style stream fed in
// 16 KiB reads (as the provider does), with and without parsing each event's JSON.
//
//   build/release/benchmarks/sse_parser_throughput [megabytes]
#include <liveai/transport/sse_parser.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv)
{
    const double megabytes = argc > 1 ? std::atof(argv[1]) : 64;
    const std::string event =
        R"(data: {"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":" caf\u00e9"},"logprobs":null,"finish_reason":null}],"usage":null})"
        "\n\n";
    std::string stream;
    while (stream.size() < megabytes * 1024 * 1024) stream += event;

    for (const bool with_json : {false, true}) {
        liveai::transport::sse_parser parser;
        std::size_t events = 0, bytes = 0;
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t pos = 0; pos < stream.size(); pos += 16384) {
            std::string_view piece = std::string_view(stream).substr(pos, 16384);
            boost::system::error_code ec;
            while (auto ev = parser.next(piece, ec)) {
                ++events;
                bytes += ev->data.size();
                if (with_json) {
                    unsigned char scratch[4096];
                    boost::json::monotonic_resource memory(scratch, sizeof scratch);
                    auto v = boost::json::parse(ev->data, ec, &memory);
                    bytes += v.is_object();
                }
            }
            if (ec) return 1;
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%s: %.0f MB/s, %.2f M events/s (%zu events, %.1f MiB)\n",
                    with_json ? "SSE parser + JSON parse of each event" : "SSE parser alone",
                    stream.size() / seconds / 1e6, events / seconds / 1e6, events, stream.size() / 1048576.0);
    }
}
