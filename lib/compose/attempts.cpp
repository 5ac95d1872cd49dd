#include <liveai/compose/attempts.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

namespace liveai::compose {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

bool moves_to_next_attempt(const stream_error& e) noexcept
{
    return e.retryable() || to_code(e.code()).starts_with("upstream_");
}

namespace {

// Wakes the composition's wait. Runners hold it, so it outlives the
// composition; `wake` is null once the composition is gone.
struct hub {
    asio::steady_timer* wake = nullptr;
    void notify() const
    {
        if (wake) wake->cancel();
    }
};

// One attempt, awaited to its first delta (or its end) in a coroutine of its
// own, so that several can wait at once.
struct runner {
    std::size_t report = 0;  // its entry in reports_
    std::unique_ptr<token_stream> stream;
    std::optional<token> first;  // views into `stream`, which is not awaited again until it is handed over
    std::optional<stream_error> failure;
    bool running = false;
    bool ended = false;     // its first next() returned or threw
    bool consumed = false;  // the composition has looked at the end
};

asio::awaitable<void> await_first(std::shared_ptr<runner> r, std::shared_ptr<hub> h)
{
    try {
        auto t = r->stream->try_next();
        if (!t) t = co_await r->stream->next();
        r->first = t;
    } catch (const stream_error& e) {
        r->failure = e;
    } catch (const std::exception& e) {
        r->failure = stream_error(error::internal_error, e.what());
    }
    r->running = false;
    r->ended = true;
    h->notify();
}

class attempts_stream final : public token_stream {
public:
    attempts_stream(std::vector<attempt> attempts, std::optional<std::chrono::milliseconds> hedge_delay)
        : defs_(std::move(attempts)), hedge_delay_(hedge_delay), hub_(std::make_shared<hub>())
    {
        if (defs_.empty()) throw stream_error(error::internal_error, "a composition needs at least one attempt");
        reports_.reserve(defs_.size());
    }

    ~attempts_stream() override
    {
        hub_->wake = nullptr;
        for (auto& r : runners_)
            if (r->running) r->stream->cancel();
    }

    asio::awaitable<std::optional<token>> next() override
    {
        if (done()) co_return std::nullopt;
        if (winner_) co_return co_await forward();
        if (!wake_) {
            wake_.emplace(co_await asio::this_coro::executor);
            hub_->wake = &*wake_;
        }
        const auto executor = co_await asio::this_coro::executor;
        if (next_ == 0) start(executor);
        for (;;) {
            if (cancel_requested_) co_return end_cancelled();
            if (auto decided = decide(executor)) {
                if (decided->first) co_return decided->first;
                co_return std::nullopt;  // ended (empty answer) or failed (thrown by decide)
            }
            // Nothing decided: wait for a runner, or for the time to hedge.
            auto deadline = clock::time_point::max();
            if (hedge_delay_ && next_ < defs_.size()) deadline = last_start_ + *hedge_delay_;
            if (clock::now() >= deadline) {
                start(executor);
                continue;
            }
            wake_->expires_at(deadline);
            co_await wake_->async_wait(asio::as_tuple(asio::use_awaitable));
            if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
                co_return end_cancelled();
        }
    }

    std::optional<token> try_next() override
    {
        if (!winner_ || done() || cancel_requested_) return std::nullopt;
        return winner_->stream->try_next();
    }

    void cancel() noexcept override
    {
        if (done()) return;
        cancel_requested_ = true;
        if (winner_) winner_->stream->cancel();
        hub_->notify();
    }

    bool stops_promptly() const noexcept override { return true; }
    std::span<const attempt_report> attempt_reports() const noexcept override { return reports_; }

private:
    struct decision {
        std::optional<token> first;
    };

    void start(const asio::any_io_executor& executor)
    {
        const auto& def = defs_[next_++];
        auto r = std::make_shared<runner>();
        r->report = reports_.size();
        reports_.push_back({def.block, def.provider, def.model, attempt_outcome::failed});
        last_start_ = clock::now();
        runners_.push_back(r);
        try {
            r->stream = def.open();
        } catch (const stream_error& e) {
            r->failure = e;
            r->ended = true;
            return;
        }
        r->running = true;
        asio::co_spawn(executor, await_first(r, hub_), asio::detached);
    }

    // Looks at the attempts that ended, in the order they started: a first
    // delta wins; a failure moves on or ends the composition.
    std::optional<decision> decide(const asio::any_io_executor& executor)
    {
        bool running = false;
        for (std::size_t i = 0; i < runners_.size(); ++i) {
            auto r = runners_[i];  // a copy: start() may grow runners_
            running = running || r->running;
            if (!r->ended || r->consumed) continue;
            r->consumed = true;
            if (r->failure) {
                last_failure_ = r->failure;
                // Another attempt only for errors another provider may not have.
                if (!moves_to_next_attempt(*r->failure)) next_ = defs_.size();
                continue;
            }
            win(r);
            if (r->first) return decision{r->first};
            // Ended without a delta: an empty answer, which is the answer.
            finish_from(*r->stream);
            return decision{};
        }
        if (running) return std::nullopt;
        if (next_ < defs_.size()) {
            start(executor);
            return decide(executor);
        }
        const auto failure = last_failure_.value_or(stream_error(error::internal_error, "no attempt was made"));
        mark_failed(failure.code());
        throw failure;
    }

    void win(const std::shared_ptr<runner>& r)
    {
        winner_ = r;
        reports_[r->report].outcome = attempt_outcome::served;
        for (auto& other : runners_) {
            if (other == r || !other->running) continue;
            other->stream->cancel();  // at once: its upstream connection closes now
            reports_[other->report].outcome = attempt_outcome::cancelled;
        }
    }

    asio::awaitable<std::optional<token>> forward()
    {
        try {
            auto t = co_await winner_->stream->next();
            if (!t) finish_from(*winner_->stream);
            co_return t;
        } catch (const stream_error& e) {
            set_usage(winner_->stream->usage());
            mark_failed(e.code());
            throw;
        }
    }

    void finish_from(const token_stream& s) noexcept
    {
        set_usage(s.usage());
        mark_finished(s.finish_reason());
    }

    std::optional<token> end_cancelled() noexcept
    {
        for (auto& r : runners_)
            if (r->running) {
                r->stream->cancel();
                reports_[r->report].outcome = attempt_outcome::cancelled;
            }
        mark_finished(finish_reason::cancelled);
        return std::nullopt;
    }

    std::vector<attempt> defs_;
    std::optional<std::chrono::milliseconds> hedge_delay_;
    std::shared_ptr<hub> hub_;
    std::optional<asio::steady_timer> wake_;
    std::vector<std::shared_ptr<runner>> runners_;
    std::vector<attempt_report> reports_;
    std::shared_ptr<runner> winner_;
    std::optional<stream_error> last_failure_;
    std::size_t next_ = 0;
    clock::time_point last_start_{};
    bool cancel_requested_ = false;
};

}  // namespace

std::unique_ptr<token_stream> fallback(std::vector<attempt> attempts)
{
    return std::make_unique<attempts_stream>(std::move(attempts), std::nullopt);
}

std::unique_ptr<token_stream> hedge(std::chrono::milliseconds delay, std::vector<attempt> attempts)
{
    return std::make_unique<attempts_stream>(std::move(attempts), delay);
}

}  // namespace liveai::compose
