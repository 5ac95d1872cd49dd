// What reading one OpenAI chunk's JSON costs, four ways, on the chunks the
// gateway benchmarks send and on a short one (a minimal OpenAI-compatible
// server's):
//   - Boost.JSON's DOM (boost::json::parse into a monotonic buffer), then
//     lookups: what the provider did at first;
//   - Boost.JSON's basic_parser with a handler that keeps only content,
//     finish_reason and usage (peers/boost_json_chunk_reader.hpp): the
//     provider's reader before simdjson;
//   - openai_chunk_reader: simdjson's On-Demand API, with the copy into a
//     padded buffer it makes (the SSE parser hands out views into the read
//     buffer): what the provider does;
//   - simdjson On-Demand on input that is already padded (no copy).
//
//   build/release/benchmarks/chunk_json_throughput [million-chunks]
#include "peers/boost_json_chunk_reader.hpp"

#include <liveai/providers/openai_chunk_reader.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <simdjson.h>

namespace {

using clock_type = std::chrono::steady_clock;

template <class F>
void measure(const char* name, const std::vector<std::string>& chunks, std::size_t total, F&& read_one)
{
    std::size_t checksum = 0;
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < total; ++i) checksum += read_one(chunks[i % chunks.size()]);
    const double ns = std::chrono::duration<double, std::nano>(clock_type::now() - start).count() / total;
    std::printf("  %-46s %7.1f ns per chunk   (checksum %zu)\n", name, ns, checksum);
}

}  // namespace

int main(int argc, char** argv)
{
    const auto total = static_cast<std::size_t>((argc > 1 ? std::atof(argv[1]) : 2.0) * 1e6);
    // The fake upstream's deltas (benchmarks/peers/raw_server.c --openai,
    // shaped as api.openai.com sends them) and short ones.
    const std::string head =
        R"({"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":{"content":")";
    const std::string tail = R"("},"logprobs":null,"finish_reason":null}]})";
    const std::vector<std::vector<std::string>> sets = {
        {head + "lorem" + tail, head + " ipsum" + tail, head + " caf\\u00e9" + tail},
        {R"({"choices":[{"index":0,"delta":{"content":"lorem"},"finish_reason":null}]})",
         R"({"choices":[{"index":0,"delta":{"content":" ipsum"},"finish_reason":null}]})",
         R"({"choices":[{"index":0,"delta":{"content":" do"},"finish_reason":null}]})"},
    };
    const char* names[] = {"the gateway benchmark's chunks (~220 bytes)", "short chunks (~75 bytes)"};

    for (std::size_t s = 0; s < sets.size(); ++s) {
        const auto& chunks = sets[s];
        std::printf("%s, %zu chunks read:\n", names[s], total);

        measure("Boost.JSON DOM + lookups", chunks, total, [](const std::string& c) -> std::size_t {
            unsigned char scratch[4096];
            boost::json::monotonic_resource memory(scratch, sizeof scratch);
            boost::system::error_code ec;
            auto v = boost::json::parse(c, ec, &memory);
            if (ec) return 0;
            const auto* choices = v.as_object().if_contains("choices");
            if (!choices || !choices->is_array() || choices->as_array().empty()) return 0;
            const auto& choice = choices->as_array()[0].as_object();
            const auto* delta = choice.if_contains("delta");
            const auto* content = delta && delta->is_object() ? delta->as_object().if_contains("content") : nullptr;
            return content && content->is_string() ? content->as_string().size() : 0;
        });

        liveai::providers::openai_chunk chunk;
        liveai::bench::boost_json_chunk_reader boost_reader;
        measure("Boost.JSON basic_parser + handler", chunks, total, [&](const std::string& c) -> std::size_t {
            boost::system::error_code ec;
            boost_reader.read(c, chunk, ec);
            return ec ? 0 : chunk.content.size();
        });
        liveai::providers::openai_chunk_reader reader;
        measure("openai_chunk_reader (simdjson, padded copy)", chunks, total, [&](const std::string& c) -> std::size_t {
            boost::system::error_code ec;
            reader.read(c, chunk, ec);
            return ec ? 0 : chunk.content.size();
        });

        simdjson::ondemand::parser parser;
        auto simd_read = [&](simdjson::padded_string_view view) -> std::size_t {
            simdjson::ondemand::document doc;
            if (parser.iterate(view).get(doc)) return 0;
            simdjson::ondemand::array choices;
            if (doc["choices"].get_array().get(choices)) return 0;
            for (auto choice : choices) {
                std::string_view content;
                if (choice["delta"]["content"].get_string().get(content)) return 0;
                return content.size();
            }
            return 0;
        };
        std::vector<std::string> prepadded;
        for (const auto& c : chunks) prepadded.push_back(c + std::string(simdjson::SIMDJSON_PADDING, ' '));
        std::size_t k = 0;
        measure("simdjson On-Demand, already padded (no copy)", chunks, total, [&](const std::string& c) {
            const auto& p = prepadded[k++ % prepadded.size()];
            return simd_read(simdjson::padded_string_view(p.data(), c.size(), p.size()));
        });
    }
}
