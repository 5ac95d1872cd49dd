// upstream::exchange_fsm without sockets: every phase x {cancel, first-token
// deadline}, retries, Retry-After and the pooled-connection rules.
#include <liveai/providers/upstream/exchange_fsm.hpp>

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace std::chrono_literals;
using liveai::error;
using liveai::stream_error;
using liveai::upstream::action;
using fsm_clock = liveai::upstream::clock;
using liveai::upstream::exchange_fsm;
using liveai::upstream::exchange_limits;
using liveai::upstream::failure_kind;
using liveai::upstream::phase;
using type = action::type;

namespace {

exchange_limits limits(bool tls = true, std::chrono::milliseconds deadline = 0ms)
{
    exchange_limits l;
    l.tls = tls;
    l.connect_timeout = 5000ms;
    l.first_byte_timeout = 10000ms;
    l.read_timeout = 20000ms;
    l.max_retries = 2;
    l.retry_base = 250ms;
    l.retry_max = 8000ms;
    l.first_token_deadline = deadline;
    l.seed = 7;
    return l;
}

const auto t0 = fsm_clock::time_point(100s);
const auto wall = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

stream_error unavailable() { return stream_error(error::upstream_unavailable, "openai answered HTTP 503: busy"); }

// Drives a fresh machine into `target` (a fresh connection unless `pooled`),
// returning the action it asked for there.
action drive_to(exchange_fsm& fsm, phase target, fsm_clock::time_point now = t0, bool pooled = false)
{
    auto a = fsm.start(now);
    BOOST_REQUIRE(a.what == type::take_pooled);
    if (target == phase::take_pooled) return a;
    a = fsm.pooled(pooled, now);
    auto at = [&] { return fsm.current() == target; };
    while (!at()) {
        switch (a.what) {
        case type::resolve:
        case type::connect:
        case type::tls_handshake:
        case type::write_request: a = fsm.success(now); break;
        case type::read_header:
            // 503 leads to the error body and then the backoff wait.
            a = (target == phase::read_error_body || target == phase::backoff) ? fsm.header(503, "", wall, now)
                                                                                 : fsm.header(200, "", wall, now);
            break;
        case type::read_error_body: a = fsm.error_response(unavailable(), now); break;
        default: BOOST_FAIL("cannot reach " << to_string(target) << " (at " << to_string(fsm.current()) << ")");
        }
    }
    return a;
}

// What the driver reports in each phase when the step fails by its timeout.
action timeout_in(exchange_fsm& fsm, fsm_clock::time_point now)
{
    if (fsm.current() == phase::backoff) return fsm.success(now);  // the wait ran out
    return fsm.failure(stream_error(error::upstream_timeout, "timed out"), failure_kind::timeout, now);
}

const std::vector<phase> every_phase{phase::take_pooled,   phase::resolve,     phase::connect,
                                     phase::tls_handshake, phase::write_request, phase::read_header,
                                     phase::read_error_body, phase::read_body,   phase::backoff};

}  // namespace

BOOST_AUTO_TEST_SUITE(exchange_fsm_tests)

BOOST_AUTO_TEST_CASE(a_fresh_tls_exchange_walks_every_phase_with_its_timeout)
{
    exchange_fsm fsm(limits(true));
    std::vector<std::pair<type, std::chrono::milliseconds>> steps;
    auto a = fsm.start(t0);
    steps.emplace_back(a.what, a.timeout);
    a = fsm.pooled(false, t0);
    while (a.what != type::read_body && a.what != type::close) {
        steps.emplace_back(a.what, a.timeout);
        a = a.what == type::read_header ? fsm.header(200, "", wall, t0) : fsm.success(t0);
    }
    steps.emplace_back(a.what, a.timeout);
    const std::vector<std::pair<type, std::chrono::milliseconds>> expected{
        {type::take_pooled, 0ms},    {type::resolve, 5000ms},      {type::connect, 5000ms},
        {type::tls_handshake, 5000ms}, {type::write_request, 10000ms}, {type::read_header, 10000ms},
        {type::read_body, 20000ms}};
    BOOST_TEST((steps == expected));
    fsm.token_delivered();
    BOOST_TEST((fsm.body_finished().what == type::close));
    BOOST_TEST((fsm.result().what == liveai::upstream::outcome::type::finished));
    BOOST_TEST(fsm.attempts() == 1u);
}

BOOST_AUTO_TEST_CASE(plain_http_skips_the_handshake_and_a_pooled_connection_skips_connecting)
{
    exchange_fsm plain(limits(false));
    plain.start(t0);
    BOOST_TEST((plain.pooled(false, t0).what == type::resolve));
    BOOST_TEST((plain.success(t0).what == type::connect));
    BOOST_TEST((plain.success(t0).what == type::write_request));

    exchange_fsm pooled(limits(true));
    pooled.start(t0);
    BOOST_TEST((pooled.pooled(true, t0).what == type::write_request));
    BOOST_TEST(pooled.reused_connection());
}

BOOST_AUTO_TEST_CASE(cancel_in_every_phase_closes_and_nothing_is_sent_after_it)
{
    for (const auto p : every_phase) {
        BOOST_TEST_CONTEXT("phase " << to_string(p))
        {
            exchange_fsm fsm(limits(true));
            drive_to(fsm, p);
            BOOST_REQUIRE(fsm.current() == p);
            BOOST_TEST((fsm.cancel().what == type::close));
            BOOST_TEST(fsm.cancelled());
            BOOST_TEST((fsm.current() == phase::done));
            // Whatever the pending step reports afterwards, the answer is close:
            // in particular no write_request (no byte upstream after a cancel).
            BOOST_TEST((fsm.success(t0).what == type::close));
            BOOST_TEST((fsm.pooled(false, t0).what == type::close));
            BOOST_TEST((fsm.header(200, "", wall, t0).what == type::close));
            BOOST_TEST((fsm.failure(unavailable(), failure_kind::other, t0).what == type::close));
            BOOST_TEST((fsm.error_response(unavailable(), t0).what == type::close));
            BOOST_TEST((fsm.stream_failed(unavailable(), t0).what == type::close));
            BOOST_TEST(fsm.cancelled());  // still cancelled, not failed
            BOOST_TEST(!fsm.result().failure.has_value());
        }
    }
    // Before it starts, too.
    exchange_fsm idle(limits(true));
    idle.cancel();
    BOOST_TEST((idle.start(t0).what == type::close));
    BOOST_TEST(idle.attempts() == 0u);
}

BOOST_AUTO_TEST_CASE(the_first_token_deadline_bounds_every_phase_and_ends_it_with_first_token_timeout)
{
    for (const auto p : every_phase) {
        if (p == phase::take_pooled || p == phase::backoff) continue;  // not a wait; below
        BOOST_TEST_CONTEXT("phase " << to_string(p))
        {
            // 300 ms to the first token; the phase is entered 100 ms in.
            exchange_fsm fsm(limits(true, 300ms));
            fsm.start(t0);
            const auto entered = t0 + 100ms;
            auto a = fsm.pooled(false, entered);
            while (fsm.current() != p) {
                if (a.what == type::read_header) a = fsm.header(p == phase::read_error_body ? 503 : 200, "", wall, entered);
                else a = fsm.success(entered);
            }
            BOOST_TEST(a.timeout == 200ms);  // what is left of the deadline, not the phase's own limit
            // The step's timeout fires at the deadline.
            a = timeout_in(fsm, t0 + 300ms);
            BOOST_TEST((a.what == type::close));
            BOOST_REQUIRE(fsm.result().failure.has_value());
            BOOST_TEST(fsm.result().failure->code() == make_error_code(error::first_token_timeout));
            BOOST_TEST(fsm.result().failure->message().find(std::string(to_string(p))) != std::string::npos);
            BOOST_TEST(fsm.attempts() == 1u);  // no retry past the deadline
        }
    }
    // A backoff wait always ends before the deadline (one that would not is
    // not started: next case), and the attempt after it is bounded by what is left.
    exchange_fsm fsm(limits(true, 1000ms));
    auto a = drive_to(fsm, phase::backoff, t0);
    BOOST_TEST((a.what == type::wait));
    BOOST_TEST((a.timeout < 1000ms));
    a = fsm.success(t0 + 600ms);
    a = fsm.pooled(false, t0 + 600ms);
    BOOST_TEST((a.what == type::resolve));
    BOOST_TEST(a.timeout == 400ms);
    a = timeout_in(fsm, t0 + 1000ms);
    BOOST_TEST(fsm.result().failure->code() == make_error_code(error::first_token_timeout));

    // A step that would start after the deadline is not started at all.
    exchange_fsm late(limits(true, 300ms));
    late.start(t0);
    BOOST_TEST((late.pooled(false, t0 + 301ms).what == type::close));
    BOOST_TEST(late.result().failure->code() == make_error_code(error::first_token_timeout));
}

BOOST_AUTO_TEST_CASE(a_retry_that_cannot_start_before_the_deadline_fails_at_once_with_the_upstreams_code)
{
    // 503 with Retry-After: 3 and 300 ms to the first token.
    exchange_fsm fsm(limits(true, 300ms));
    drive_to(fsm, phase::read_header);
    BOOST_TEST((fsm.header(503, "3", wall, t0 + 20ms).what == type::read_error_body));
    const auto a = fsm.error_response(unavailable(), t0 + 25ms);
    BOOST_TEST((a.what == type::close));
    BOOST_REQUIRE(fsm.result().failure.has_value());
    const auto& e = *fsm.result().failure;
    BOOST_TEST(e.code() == make_error_code(error::upstream_unavailable));
    BOOST_TEST(e.retryable());
    BOOST_TEST(e.message().find("retry after 3000 ms") != std::string::npos, e.message());
    BOOST_TEST(e.message().find("first-token deadline") != std::string::npos, e.message());
    BOOST_TEST(fsm.attempts() == 1u);
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_when_it_fits)
{
    exchange_fsm fsm(limits(true, 30'000ms));
    drive_to(fsm, phase::read_header);
    fsm.header(503, "3", wall, t0);
    auto a = fsm.error_response(unavailable(), t0);
    BOOST_TEST((a.what == type::wait));
    BOOST_TEST(a.timeout == 3000ms);
    BOOST_TEST((fsm.current() == phase::backoff));
    // After the wait: a new, counted attempt.
    a = fsm.success(t0 + 3s);
    BOOST_TEST((a.what == type::take_pooled));
    BOOST_TEST(fsm.attempts() == 2u);

    // An HTTP date 2 s ahead.
    exchange_fsm dated(limits(true, 30'000ms));
    drive_to(dated, phase::read_header);
    dated.header(429, "Tue, 14 Nov 2023 22:13:22 GMT", wall, t0);
    a = dated.error_response(stream_error(error::upstream_rate_limited, "slow down"), t0);
    BOOST_TEST((a.what == type::wait));
    BOOST_TEST(a.timeout == 2000ms);

    // Without a deadline, a Retry-After beyond retry_max is refused, and says so.
    exchange_fsm unbounded(limits(true, 0ms));
    drive_to(unbounded, phase::read_header);
    unbounded.header(503, "60", wall, t0);
    a = unbounded.error_response(unavailable(), t0);
    BOOST_TEST((a.what == type::close));
    BOOST_TEST(unbounded.result().failure->message().find("retry_max_ms") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(backoff_grows_and_retries_stop_after_max_retries)
{
    exchange_fsm fsm(limits(false, 0ms));
    std::vector<std::chrono::milliseconds> waits;
    auto a = drive_to(fsm, phase::read_header);
    for (;;) {
        a = fsm.failure(stream_error(error::upstream_timeout, "no header"), failure_kind::timeout, t0);
        if (a.what == type::close) break;
        BOOST_REQUIRE(a.what == type::wait);
        waits.push_back(a.timeout);
        a = fsm.success(t0);
        a = fsm.pooled(false, t0);
        while (a.what != type::read_header) a = fsm.success(t0);
    }
    BOOST_TEST(fsm.attempts() == 3u);  // 1 + max_retries
    BOOST_REQUIRE(waits.size() == 2u);
    BOOST_TEST((waits[0] >= 125ms && waits[0] <= 250ms));
    BOOST_TEST((waits[1] >= 250ms && waits[1] <= 500ms));
    BOOST_TEST(fsm.result().failure->code() == make_error_code(error::upstream_timeout));
}

BOOST_AUTO_TEST_CASE(not_retried_after_a_token_nor_when_not_retryable)
{
    exchange_fsm fsm(limits(false));
    drive_to(fsm, phase::read_body);
    fsm.token_delivered();
    BOOST_TEST((fsm.stream_failed(unavailable(), t0).what == type::close));
    BOOST_TEST(fsm.attempts() == 1u);

    exchange_fsm auth(limits(false));
    drive_to(auth, phase::read_error_body);
    BOOST_TEST((auth.error_response(stream_error(error::upstream_auth, "bad key"), t0).what == type::close));
    BOOST_TEST(auth.result().failure->code() == make_error_code(error::upstream_auth));
}

BOOST_AUTO_TEST_CASE(a_stale_pooled_connection_is_retried_at_once_once_and_a_pooled_timeout_is_a_counted_attempt)
{
    exchange_fsm fsm(limits(false));
    drive_to(fsm, phase::read_header, t0, true);
    BOOST_TEST(fsm.reused_connection());
    // The upstream had closed it: one immediate retry on a fresh connection.
    auto a = fsm.failure(unavailable(), failure_kind::closed_before_data, t0);
    BOOST_TEST((a.what == type::resolve));
    BOOST_TEST(fsm.attempts() == 1u);
    BOOST_TEST(!fsm.reused_connection());
    // A fresh connection closing the same way is an ordinary failure: counted, with backoff.
    a = fsm.success(t0);  // resolved
    a = fsm.success(t0);  // connected
    a = fsm.success(t0);  // request written
    BOOST_TEST((a.what == type::read_header));
    a = fsm.failure(unavailable(), failure_kind::closed_before_data, t0);
    BOOST_TEST((a.what == type::wait));

    // A timeout on a pooled connection: a counted attempt after a backoff, not at once.
    exchange_fsm slow(limits(false));
    drive_to(slow, phase::read_header, t0, true);
    a = slow.failure(stream_error(error::upstream_timeout, "no header"), failure_kind::timeout, t0);
    BOOST_TEST((a.what == type::wait));
    BOOST_TEST(a.timeout >= 125ms);
    slow.success(t0);
    BOOST_TEST(slow.attempts() == 2u);
}

BOOST_AUTO_TEST_CASE(retry_after_values)
{
    using liveai::upstream::parse_retry_after;
    BOOST_TEST(parse_retry_after("3", wall).value() == 3000ms);
    BOOST_TEST(parse_retry_after(" 0 ", wall).value() == 0ms);
    BOOST_TEST(!parse_retry_after("", wall).has_value());
    BOOST_TEST(!parse_retry_after("-1", wall).has_value());
    BOOST_TEST(!parse_retry_after("soon", wall).has_value());
    // wall is Tue, 14 Nov 2023 22:13:20 GMT.
    BOOST_TEST(parse_retry_after("Tue, 14 Nov 2023 22:13:25 GMT", wall).value() == 5000ms);
    BOOST_TEST(parse_retry_after("Tuesday, 14-Nov-23 22:13:30 GMT", wall).value() == 10000ms);
    BOOST_TEST(parse_retry_after("Tue Nov 14 22:13:21 2023", wall).value() == 1000ms);
    BOOST_TEST(parse_retry_after("Mon, 13 Nov 2023 00:00:00 GMT", wall).value() == 0ms);  // past
    BOOST_TEST(parse_retry_after("99999999999999999999", wall).value() == std::chrono::milliseconds::max());
}

BOOST_AUTO_TEST_SUITE_END()
