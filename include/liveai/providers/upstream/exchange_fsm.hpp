// The connect -> request -> response -> retry sequence of one streaming
// request to an HTTP upstream, as a sans-I/O state machine (in the manner of
// Boost.Redis's connect_fsm): the coroutine that drives it performs the step
// it is given and reports back; every decision (timeouts, retries, backoff,
// Retry-After, the first-token deadline, cancellation) is made here, so each
// is testable without a socket.
#pragma once

#include <liveai/error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace liveai::upstream {

using clock = std::chrono::steady_clock;

enum class phase : std::uint8_t {
    idle,             // not started
    take_pooled,      // asking the pool for an idle keep-alive connection
    resolve,
    connect,
    tls_handshake,
    write_request,
    read_header,
    read_error_body,  // a non-200 answer: reading its (bounded) body for the message
    read_body,        // 200: streaming the body
    backoff,          // waiting before the next attempt
    done,             // ended: see outcome()
};

std::string_view to_string(phase p) noexcept;

// What the driver must do next. `timeout` bounds the step (for `backoff`, it is
// the wait itself); it is never later than the first-token deadline while no
// token has been delivered.
struct action {
    enum class type : std::uint8_t {
        take_pooled,      // try the pool; report with pooled(found)
        resolve,
        connect,
        tls_handshake,
        write_request,
        read_header,      // report with header(status, retry_after)
        read_error_body,  // report with error_response(error)
        read_body,        // one read; report with success() or failure()
        wait,             // sleep `timeout`, then report success()
        close,            // close the connection (if any): the exchange ended
    };
    type what = type::close;
    std::chrono::milliseconds timeout{0};
};

struct exchange_limits {
    bool tls = false;
    std::chrono::milliseconds connect_timeout{5'000};  // resolve + connect + TLS handshake, each
    std::chrono::milliseconds first_byte_timeout{20'000};
    std::chrono::milliseconds read_timeout{20'000};
    std::uint32_t max_retries = 2;
    std::chrono::milliseconds retry_base{250};
    std::chrono::milliseconds retry_max{8'000};
    // Start to first token, all attempts and waits included (zero: none).
    std::chrono::milliseconds first_token_deadline{0};
    std::uint64_t seed = 0;  // backoff jitter; 0 picks a random seed
};

// How a failed step failed, as far as retrying is concerned.
enum class failure_kind : std::uint8_t {
    other,
    timeout,             // the step's own timeout fired
    closed_before_data,  // the peer closed (or reset) a connection before sending any byte
};

// The exchange's end, once the phase is `done`.
struct outcome {
    enum class type : std::uint8_t { none, finished, failed, cancelled };
    type what = type::none;
    std::optional<stream_error> failure;  // when failed
};

class exchange_fsm {
public:
    explicit exchange_fsm(exchange_limits limits);

    // Starts the first attempt at `now` (the first-token deadline counts from here).
    action start(clock::time_point now);

    // Reports of the step last asked for.
    action pooled(bool found, clock::time_point now);
    action success(clock::time_point now);
    action failure(const stream_error& e, failure_kind kind, clock::time_point now);
    // read_header: the status line and the Retry-After value ("" when absent).
    action header(unsigned status, std::string_view retry_after, std::chrono::system_clock::time_point wall_now,
                  clock::time_point now);
    // read_error_body: the upstream's error, mapped from status and body.
    action error_response(const stream_error& e, clock::time_point now);

    // The body: a token was delivered (no retries from now on), the stream
    // ended (finished), or it failed in the stream (parsed error, protocol).
    void token_delivered() noexcept { tokens_ = true; }
    action body_finished();
    action stream_failed(const stream_error& e, clock::time_point now);

    // From cancel() or the awaiting coroutine's cancellation slot: whatever
    // the phase, the next action is close and nothing more is sent.
    action cancel();

    phase current() const noexcept { return phase_; }
    const outcome& result() const noexcept { return outcome_; }
    bool cancelled() const noexcept { return outcome_.what == outcome::type::cancelled; }
    // Counted attempts (1 + retries); an immediate retry on a stale pooled connection is not one.
    unsigned attempts() const noexcept { return attempts_; }
    bool reused_connection() const noexcept { return reused_; }
    bool delivered_tokens() const noexcept { return tokens_; }

private:
    action begin_attempt(clock::time_point now);
    action step(phase p, std::chrono::milliseconds limit, clock::time_point now);
    action fail(stream_error e);
    action retry_or_fail(const stream_error& e, clock::time_point now);
    std::chrono::milliseconds backoff_delay();

    exchange_limits limits_;
    phase phase_ = phase::idle;
    outcome outcome_;
    std::optional<clock::time_point> deadline_;
    std::optional<std::chrono::milliseconds> retry_after_;
    unsigned attempts_ = 0;
    bool reused_ = false;
    bool stale_retry_used_ = false;
    bool tokens_ = false;
    std::minstd_rand rng_;
};

// Retry-After as RFC 9110 gives it: delay-seconds or an HTTP-date (IMF-fixdate,
// RFC 850 or asctime form), relative to `now`; nullopt when absent or invalid.
// A date in the past is a zero wait.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace liveai::upstream
