#include <liveai/providers/upstream/exchange_fsm.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <random>

namespace liveai::upstream {

namespace {

// A backoff jitter seed per exchange without a random_device each time (it
// opens /dev/urandom: three syscalls per stream on an I/O thread).
std::minstd_rand::result_type jitter_seed()
{
    thread_local std::minstd_rand seeds{std::random_device{}()};
    return seeds();
}

using std::chrono::milliseconds;

action::type action_for(phase p) noexcept
{
    switch (p) {
    case phase::take_pooled: return action::type::take_pooled;
    case phase::resolve: return action::type::resolve;
    case phase::connect: return action::type::connect;
    case phase::tls_handshake: return action::type::tls_handshake;
    case phase::write_request: return action::type::write_request;
    case phase::read_header: return action::type::read_header;
    case phase::read_error_body: return action::type::read_error_body;
    case phase::read_body: return action::type::read_body;
    case phase::backoff: return action::type::wait;
    case phase::idle:
    case phase::done: break;
    }
    return action::type::close;
}

std::string ms(milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

std::string_view to_string(phase p) noexcept
{
    switch (p) {
    case phase::idle: return "idle";
    case phase::take_pooled: return "take_pooled";
    case phase::resolve: return "resolve";
    case phase::connect: return "connect";
    case phase::tls_handshake: return "tls_handshake";
    case phase::write_request: return "write_request";
    case phase::read_header: return "read_header";
    case phase::read_error_body: return "read_error_body";
    case phase::read_body: return "read_body";
    case phase::backoff: return "backoff";
    case phase::done: return "done";
    }
    return "unknown";
}

exchange_fsm::exchange_fsm(exchange_limits limits)
    : limits_(limits), rng_(static_cast<std::minstd_rand::result_type>(limits.seed ? limits.seed : jitter_seed()))
{
}

action exchange_fsm::start(clock::time_point now)
{
    if (phase_ != phase::idle) return {};
    if (limits_.first_token_deadline.count() > 0) deadline_ = now + limits_.first_token_deadline;
    return begin_attempt(now);
}

action exchange_fsm::begin_attempt(clock::time_point now)
{
    ++attempts_;
    retry_after_.reset();
    reused_ = false;
    return step(phase::take_pooled, milliseconds(0), now);
}

action exchange_fsm::step(phase p, milliseconds limit, clock::time_point now)
{
    if (phase_ == phase::done) return {};
    phase_ = p;
    auto timeout = limit;
    // Before the first token no step may outlast the first-token deadline:
    // the stream then ends at the deadline, whatever phase it is in.
    if (!tokens_ && deadline_ && p != phase::take_pooled) {
        const auto left = std::chrono::ceil<milliseconds>(*deadline_ - now);
        if (left.count() <= 0)
            return fail(stream_error(error::first_token_timeout,
                                     "no first token within " + ms(limits_.first_token_deadline) + " (in " +
                                         std::string(to_string(p)) + ")"));
        timeout = std::min(timeout, left);
    }
    return {action_for(p), timeout};
}

action exchange_fsm::fail(stream_error e)
{
    phase_ = phase::done;
    outcome_.what = outcome::type::failed;
    outcome_.failure.emplace(std::move(e));
    return {};
}

action exchange_fsm::pooled(bool found, clock::time_point now)
{
    if (phase_ != phase::take_pooled) return {};
    reused_ = found;
    return found ? step(phase::write_request, limits_.first_byte_timeout, now)
                 : step(phase::resolve, limits_.connect_timeout, now);
}

action exchange_fsm::success(clock::time_point now)
{
    switch (phase_) {
    case phase::resolve: return step(phase::connect, limits_.connect_timeout, now);
    case phase::connect:
        return limits_.tls ? step(phase::tls_handshake, limits_.connect_timeout, now)
                           : step(phase::write_request, limits_.first_byte_timeout, now);
    case phase::tls_handshake: return step(phase::write_request, limits_.first_byte_timeout, now);
    case phase::write_request: return step(phase::read_header, limits_.first_byte_timeout, now);
    case phase::read_body: return step(phase::read_body, limits_.read_timeout, now);
    case phase::backoff: return begin_attempt(now);
    case phase::done: return {};
    default: break;
    }
    return fail(stream_error(error::internal_error, "upstream exchange: unexpected success in " + std::string(to_string(phase_))));
}

action exchange_fsm::header(unsigned status, std::string_view retry_after, std::chrono::system_clock::time_point wall_now,
                            clock::time_point now)
{
    if (phase_ != phase::read_header) return {};
    if (status == 200) return step(phase::read_body, limits_.read_timeout, now);
    if (status == 429 || status == 503) retry_after_ = parse_retry_after(retry_after, wall_now);
    return step(phase::read_error_body, limits_.read_timeout, now);
}

action exchange_fsm::error_response(const stream_error& e, clock::time_point now)
{
    if (phase_ != phase::read_error_body) return {};
    return retry_or_fail(e, now);
}

action exchange_fsm::failure(const stream_error& e, failure_kind kind, clock::time_point now)
{
    if (phase_ == phase::done) return {};
    if (kind == failure_kind::timeout && !tokens_ && deadline_ && now >= *deadline_)
        return fail(stream_error(error::first_token_timeout, "no first token within " + ms(limits_.first_token_deadline) +
                                                                 " (in " + std::string(to_string(phase_)) + ")"));
    // A keep-alive connection the upstream closed while it sat in the pool
    // fails before any byte comes back: that is not the upstream's answer, so
    // it gets one immediate, uncounted retry on a fresh connection. A timeout
    // on a pooled connection is a real attempt.
    if (reused_ && kind == failure_kind::closed_before_data && !stale_retry_used_ &&
        (phase_ == phase::write_request || phase_ == phase::read_header)) {
        stale_retry_used_ = true;
        reused_ = false;
        return step(phase::resolve, limits_.connect_timeout, now);
    }
    return retry_or_fail(e, now);
}

action exchange_fsm::body_finished()
{
    if (phase_ == phase::done) return {};
    phase_ = phase::done;
    outcome_.what = outcome::type::finished;
    return {};
}

action exchange_fsm::stream_failed(const stream_error& e, clock::time_point now)
{
    if (phase_ == phase::done) return {};
    return retry_or_fail(e, now);
}

action exchange_fsm::cancel()
{
    if (phase_ != phase::done) {
        phase_ = phase::done;
        outcome_.what = outcome::type::cancelled;
    }
    return {};
}

milliseconds exchange_fsm::backoff_delay()
{
    const auto shift = std::min(attempts_ ? attempts_ - 1 : 0u, 16u);
    const auto cap = std::min(limits_.retry_max, limits_.retry_base * (std::int64_t{1} << shift));
    // Jitter over the upper half: spreads a herd of retries, keeps the growth.
    const auto half = cap.count() / 2;
    return milliseconds(half + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(cap.count() - half + 1)));
}

action exchange_fsm::retry_or_fail(const stream_error& e, clock::time_point now)
{
    if (tokens_ || !e.retryable() || attempts_ > limits_.max_retries) return fail(e);
    auto delay = backoff_delay();
    const bool asked = retry_after_ && *retry_after_ > delay;
    if (asked) delay = *retry_after_;
    if (deadline_) {
        const auto left = std::chrono::floor<milliseconds>(*deadline_ - now);
        if (delay >= left)
            return fail(stream_error(static_cast<error>(e.code().value()),
                                     e.message() + " (not retried: " +
                                         (asked ? "the upstream asked to retry after " + ms(delay)
                                                : "the next attempt would start after " + ms(delay)) +
                                         ", past the first-token deadline " + ms(std::max(left, milliseconds(0))) + " away)",
                                     e.retryable()));
    } else if (asked && delay > limits_.retry_max) {
        return fail(stream_error(static_cast<error>(e.code().value()),
                                 e.message() + " (not retried: the upstream asked to retry after " + ms(delay) +
                                     ", more than retry_max_ms = " + ms(limits_.retry_max) + ")",
                                 e.retryable()));
    }
    phase_ = phase::backoff;
    return {action::type::wait, delay};
}

std::optional<milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now)
{
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        std::uint64_t seconds = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec != std::errc() || end != value.data() + value.size()) return milliseconds::max();  // absurdly large
        if (seconds > 100'000'000) return milliseconds::max();
        return milliseconds(static_cast<std::int64_t>(seconds) * 1000);
    }
    if (value.size() > 64) return std::nullopt;
    const std::string text(value);
    // The three forms RFC 9110 section 5.6.7 requires recipients to accept.
    for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
        std::tm tm{};
        const char* end = ::strptime(text.c_str(), format, &tm);
        if (!end || *end != '\0') continue;
        const auto when = std::chrono::system_clock::from_time_t(::timegm(&tm));
        if (when <= now) return milliseconds(0);
        return std::chrono::ceil<milliseconds>(when - now);
    }
    return std::nullopt;
}

}  // namespace liveai::upstream
