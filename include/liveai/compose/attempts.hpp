// Providers composed: several attempts at one answer.
//
// fallback(attempts): one attempt after another. An error before the first
// delta that may pass with another provider (a retryable one, or any
// upstream_* code) moves to the next attempt; after the first delta nothing
// switches: the error reaches the client, and a partial answer is never
// silently restarted on another model.
//
// hedge(delay, attempts): the same, and when the running attempts have
// produced no delta `delay` after the last one started, the next attempt
// starts beside them. The first to produce a delta wins; the others are
// cancelled at once (their upstream connections closed).
//
// Both are token_streams over any token_streams, and report in attempts()
// which attempt served and how the others ended.
#pragma once

#include <liveai/error.hpp>
#include <liveai/token_stream.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace liveai::compose {

struct attempt {
    std::string block;     // names, for attempt_reports() and the metrics
    std::string provider;
    std::string model;
    // Opens the attempt's stream, on the executor that awaits the
    // composition; may throw stream_error (a refused attempt fails).
    std::function<std::unique_ptr<token_stream>()> open;
};

// Whether an error before the first delta moves on to the next attempt.
bool moves_to_next_attempt(const stream_error& e) noexcept;

std::unique_ptr<token_stream> fallback(std::vector<attempt> attempts);
std::unique_ptr<token_stream> hedge(std::chrono::milliseconds delay, std::vector<attempt> attempts);

}  // namespace liveai::compose
