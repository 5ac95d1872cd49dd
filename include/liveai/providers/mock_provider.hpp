// A deterministic provider with simulated timing, for tests, demos and benchmarks.
#pragma once

#include <liveai/providers/mock_settings.hpp>
#include <liveai/request.hpp>
#include <liveai/token_stream.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace liveai {

// Streams the first `echo_words` words of the prompt, then its own text: words
// drawn from a small vocabulary (ASCII and multi-byte UTF-8) by a generator
// seeded from the prompt and `seed`, or the configured fixed text. The same
// prompt and seed always give the same tokens, whatever the timing.
//
// Tokens view into the prompt, the fixed text or a static vocabulary: nothing
// is allocated or copied per token. With zero delay it still yields to the
// executor every `yield_every` tokens, so a fast mock never starves others.
class mock_provider final : public token_stream {
public:
    mock_provider(mock_settings settings, request req);

    boost::asio::awaitable<std::optional<token>> next() override;
    std::optional<token> try_next() override;
    void cancel() noexcept override;
    bool stops_promptly() const noexcept override { return true; }

    // Number of tokens this stream yields when it runs to the end.
    std::uint32_t planned_tokens() const noexcept { return total_; }

private:
    using clock = std::chrono::steady_clock;

    std::string_view produce() noexcept;
    void schedule_next() noexcept;
    token emit() noexcept;
    std::uint64_t random() noexcept;
    void end_cancelled() noexcept;

    mock_settings settings_;
    std::string prompt_;
    std::size_t echo_pos_ = 0;
    std::size_t text_pos_ = 0;
    std::uint32_t echo_total_ = 0;
    std::uint32_t reasoning_total_ = 0;  // the first tokens
    std::uint32_t tool_first_ = 0;       // tool-call fragments are tokens [tool_first_, total_)
    std::size_t reasoning_pos_ = 0;
    std::size_t tool_pos_ = 0;
    std::uint32_t total_ = 0;
    std::uint32_t emitted_ = 0;
    std::uint64_t text_rng_;
    std::uint64_t jitter_rng_;
    std::optional<boost::asio::steady_timer> timer_;
    clock::time_point start_{};
    clock::time_point due_{};
    std::uint32_t due_in_a_row_ = 0;
    bool timed_ = false;
    bool cancel_requested_ = false;

public:
    // With zero delay, the mock yields to the executor once per this many tokens.
    static constexpr std::uint32_t yield_every = 64;
};

}  // namespace liveai
