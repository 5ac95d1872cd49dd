#include <liveai/providers/mock_provider.hpp>

#include <liveai/detail/utf8.hpp>
#include <liveai/request.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>

namespace liveai {
namespace asio = boost::asio;

namespace {

// Each entry carries its own leading space and is 4 to 8 bytes long, so that
// generated chunks meet the bench-burst contract (4 to 8 bytes each).
constexpr std::array<std::string_view, 48> vocabulary{
    " the", " stream", " token", " flows", " fast", " and", " clear", " over",
    " wire", " each", " word", " comes", " when", " ready", " never", " late",
    " small", " data", " model", " says", " hello", " into", " you", " from",
    " async", " await", " event", " chunk", " ping", " done", " river", " light",
    " café", " naïve", " über", " señor", " 日本", " 語", " 😀", " ✨",
    " piñata", " façade", " okay", " yes", " more", " text", " bits", " now",
};

// A mock tool call's arguments arrive in fragments this long, at most.
constexpr std::size_t tool_fragment_bytes = 8;

// Long words are cut into pieces of at most this many bytes (on character
// boundaries) so a prompt without spaces still streams as several chunks.
constexpr std::size_t max_segment_bytes = 32;

std::uint64_t splitmix64(std::uint64_t& state) noexcept
{
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::uint64_t fnv1a(std::string_view s) noexcept
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

bool is_blank(std::string_view s) noexcept
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });
}

}  // namespace

namespace {

// What the mock echoes: the prompt, the last user message, or (answering a
// tool call) the tool's result.
std::string echoed(request& req)
{
    if (req.messages.empty()) return std::move(req.prompt);
    if (req.messages.back().role == message_role::tool) return req.messages.back().content;
    return std::string(last_user_text(req));
}

}  // namespace

mock_provider::mock_provider(mock_settings settings, request req)
    : settings_(std::move(settings)),
      prompt_(echoed(req)),
      text_rng_(settings_.seed ^ fnv1a(prompt_)),
      jitter_rng_(~settings_.seed ^ (fnv1a(prompt_) * 31))
{
    // After a tool's result the mock answers in text: no call again.
    if (!req.messages.empty() && req.messages.back().role == message_role::tool) settings_.tool_name.reset();
    std::uint32_t prompt_words = 0;
    for (std::size_t pos = 0;;) {
        const auto seg = detail::next_segment(prompt_, pos, max_segment_bytes);
        if (seg.empty()) break;
        if (!is_blank(seg)) ++prompt_words;
    }
    echo_total_ = std::min(prompt_words, settings_.echo_words);
    if (settings_.text) {
        // Keep the echo and the text apart, as the generated words are.
        if (echo_total_ > 0 && !settings_.text->empty() && !is_blank(settings_.text->substr(0, 1)))
            settings_.text->insert(0, 1, ' ');
        std::uint32_t text_segments = 0;
        for (std::size_t pos = 0; !detail::next_segment(*settings_.text, pos, max_segment_bytes).empty();)
            ++text_segments;
        total_ = echo_total_ + text_segments;
    } else {
        echo_total_ = std::min(echo_total_, settings_.tokens);
        total_ = settings_.tokens;
    }
    if (settings_.reasoning) {
        for (std::size_t pos = 0; !detail::next_segment(*settings_.reasoning, pos, max_segment_bytes).empty();)
            ++reasoning_total_;
        total_ += reasoning_total_;
    }
    tool_first_ = total_;
    if (settings_.tool_name) {
        std::uint32_t fragments = 0;
        for (std::string_view rest = settings_.tool_arguments; !rest.empty(); ++fragments)
            rest.remove_prefix(detail::utf8_cut(rest, tool_fragment_bytes));
        total_ += std::max<std::uint32_t>(fragments, 1);
        settings_.finish = finish_reason::tool_calls;
    }
    if (settings_.slow_ratio > 0) {
        static std::atomic<std::uint64_t> streams{0};
        std::uint64_t draw = settings_.seed + streams.fetch_add(1, std::memory_order_relaxed);
        if (static_cast<double>(splitmix64(draw) % 1'000'000) < settings_.slow_ratio * 1'000'000)
            settings_.first_token_delay = settings_.slow_first_token_delay;
    }
    set_usage(liveai::usage{prompt_words, 0});
    timed_ = settings_.delay.count() > 0 || settings_.jitter.count() > 0 || settings_.first_token_delay.count() > 0;
}

std::uint64_t mock_provider::random() noexcept { return splitmix64(text_rng_); }

std::string_view mock_provider::produce() noexcept
{
    if (emitted_ < reasoning_total_) return detail::next_segment(*settings_.reasoning, reasoning_pos_, max_segment_bytes);
    if (emitted_ >= tool_first_) {
        const std::string_view rest = std::string_view(settings_.tool_arguments).substr(tool_pos_);
        const auto n = detail::utf8_cut(rest, tool_fragment_bytes);
        tool_pos_ += n;
        return rest.substr(0, n);
    }
    if (emitted_ - reasoning_total_ < echo_total_) {
        for (;;) {
            auto seg = detail::next_segment(prompt_, echo_pos_, max_segment_bytes);
            if (!is_blank(seg)) return seg;
        }
    }
    if (settings_.text) return detail::next_segment(*settings_.text, text_pos_, max_segment_bytes);
    return vocabulary[random() % vocabulary.size()];
}

// The next token, counted, with the one after it scheduled: what next()
// and try_next() hand over.
token mock_provider::emit() noexcept
{
    const std::uint32_t i = emitted_;
    const std::string_view text = produce();
    ++emitted_;
    token t{text};
    if (i < reasoning_total_) {
        t.kind = token_kind::reasoning;
    } else if (i >= tool_first_) {
        t.kind = token_kind::tool_call;
        if (i == tool_first_) {
            t.id = "call_mock_0";
            t.name = *settings_.tool_name;
        }
    }
    set_usage(liveai::usage{usage()->input_tokens, emitted_});
    schedule_next();
    return t;
}

void mock_provider::schedule_next() noexcept
{
    // Absolute schedule: token i is due at start + first + i * delay (+ jitter),
    // never earlier than the token before it.
    auto due = start_ + settings_.first_token_delay + settings_.delay * emitted_;
    if (settings_.jitter.count() > 0)
        due += std::chrono::milliseconds(splitmix64(jitter_rng_) % (settings_.jitter.count() + 1));
    due_ = std::max(due, due_);
}

void mock_provider::end_cancelled() noexcept
{
    mark_finished(finish_reason::cancelled);
}

void mock_provider::cancel() noexcept
{
    if (done()) return;
    cancel_requested_ = true;
    if (timer_) timer_->cancel();
}

std::optional<token> mock_provider::try_next()
{
    // Everything but a token that is due now is next()'s: the first call
    // (which starts the clock), failures, the end, waits, and the yield
    // every yield_every tokens.
    if (done() || cancel_requested_ || !timer_ || emitted_ == total_) return std::nullopt;
    if (settings_.fail_after && emitted_ == *settings_.fail_after) return std::nullopt;
    if (timed_ && due_ > clock::now()) return std::nullopt;
    if (due_in_a_row_ + 1 >= yield_every) return std::nullopt;
    ++due_in_a_row_;
    return emit();
}

asio::awaitable<std::optional<token>> mock_provider::next()
{
    if (done()) co_return std::nullopt;
    if (cancel_requested_) {
        end_cancelled();
        co_return std::nullopt;
    }
    if (settings_.fail_after && emitted_ == *settings_.fail_after) {
        const bool retryable = settings_.fail_retryable.value_or(default_retryable(settings_.fail_code));
        mark_failed(make_error_code(settings_.fail_code));
        throw stream_error(settings_.fail_code,
                           "mock provider failed after " + std::to_string(emitted_) + " tokens, as configured",
                           retryable);
    }
    if (emitted_ == total_) {
        mark_finished(settings_.finish);
        co_return std::nullopt;
    }

    try {
        if (!timer_) {
            timer_.emplace(co_await asio::this_coro::executor);
            start_ = timed_ ? clock::now() : clock::time_point{};
            schedule_next();
        }
        boost::system::error_code ec;
        // Without delays every token is due at once: skip the clock read.
        if (timed_ && due_ > clock::now()) {
            due_in_a_row_ = 0;
            timer_->expires_at(due_);
            co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        } else if (++due_in_a_row_ >= yield_every) {
            // Tokens keep being due at once: yield now and then so other
            // coroutines on this thread run, but not per token, so a consumer
            // can batch what it receives in between (one write for many).
            due_in_a_row_ = 0;
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
            if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
                ec = asio::error::operation_aborted;
        }
        if (ec || cancel_requested_) {
            end_cancelled();
            co_return std::nullopt;
        }
    } catch (const boost::system::system_error& e) {
        // A cancellation that was already requested when we reached a co_await.
        if (e.code() != asio::error::operation_aborted) throw;
        end_cancelled();
        co_return std::nullopt;
    }

    co_return emit();
}

}  // namespace liveai
