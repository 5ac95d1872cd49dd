#include "subscription.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

namespace liveai::server::detail {

namespace asio = boost::asio;

namespace {

class local_subscription final : public subscription {
public:
    local_subscription(std::shared_ptr<stream_record> record, stream_subscriber& s, std::uint64_t next_seq)
        : record_(std::move(record)), subscriber_(s)
    {
        record_->attach(s, next_seq);
    }
    ~local_subscription() override { record_->detach(subscriber_); }

    const stream_log& log() const noexcept override { return record_->log(); }
    const std::string& stream_id() const noexcept override { return record_->id(); }
    void written(std::uint64_t next_seq) override { record_->written(subscriber_, next_seq); }
    void stop() override { record_->stop(stop_reason::cancel_request); }

private:
    std::shared_ptr<stream_record> record_;
    stream_subscriber& subscriber_;
};

// Copies of events shipped between threads.
struct event_batch {
    std::vector<event_kind> kinds;
    std::vector<std::uint32_t> ends;  // payload end offsets in `bytes`
    std::string bytes;
};

// The session's side of a mirrored stream; posts from the owner reach it
// only while the session holds it.
struct mirror_inbox {
    memory_stream_log log;
    stream_subscriber* subscriber;
    explicit mirror_inbox(std::size_t bound, std::uint64_t first, stream_subscriber& s) : log(bound, first), subscriber(&s)
    {
    }

    void deliver(const event_batch& batch)
    {
        if (!subscriber) return;
        std::uint32_t begin = 0;
        for (std::size_t i = 0; i < batch.kinds.size(); ++i) {
            log.append(batch.kinds[i], std::string_view(batch.bytes).substr(begin, batch.ends[i] - begin));
            begin = batch.ends[i];
        }
        subscriber->on_events();
    }
};

// On the owner's thread: the record's subscriber, shipping every batch of
// new events to the session's thread.
class mirror_feed final : public stream_subscriber, public std::enable_shared_from_this<mirror_feed> {
public:
    mirror_feed(std::shared_ptr<stream_record> record, std::uint64_t next_seq, asio::any_io_executor owner,
                asio::any_io_executor home, std::weak_ptr<mirror_inbox> inbox)
        : record_(std::move(record)),
          next_(next_seq),
          owner_(std::move(owner)),
          home_(std::move(home)),
          inbox_(std::move(inbox))
    {
    }

    void start()
    {
        record_->attach(*this, next_);
        ship();
    }
    // One batch per round of this thread, not one post per event: the
    // events appended until the posted ship runs go together.
    void on_events() noexcept override
    {
        if (ship_posted_) return;
        ship_posted_ = true;
        asio::post(owner_, [self = shared_from_this()] {
            self->ship_posted_ = false;
            self->ship();
        });
    }
    void abort() noexcept override
    {
        asio::post(home_, [inbox = inbox_] {
            if (auto in = inbox.lock(); in && in->subscriber) in->subscriber->abort();
        });
    }
    void acked(std::uint64_t next_seq) { record_->written(*this, next_seq); }
    void leave() { record_->detach(*this); }
    void stop() { record_->stop(stop_reason::cancel_request); }
    const std::string& stream_id() const noexcept { return record_->id(); }

private:
    void ship() noexcept
    {
        const auto& log = record_->log();
        const auto last = log.last_seq();
        if (next_ > last) return;
        event_batch batch;
        batch.kinds.reserve(static_cast<std::size_t>(last - next_ + 1));
        batch.ends.reserve(batch.kinds.capacity());
        for (; next_ <= last; ++next_) {
            const auto e = log.at(next_);
            batch.kinds.push_back(e.kind);
            batch.bytes.append(e.payload);
            batch.ends.push_back(static_cast<std::uint32_t>(batch.bytes.size()));
        }
        asio::post(home_, [inbox = inbox_, batch = std::move(batch)] {
            if (auto in = inbox.lock()) in->deliver(batch);
        });
    }

    std::shared_ptr<stream_record> record_;
    std::uint64_t next_;
    asio::any_io_executor owner_;
    asio::any_io_executor home_;
    std::weak_ptr<mirror_inbox> inbox_;
    bool ship_posted_ = false;
};

class mirrored_subscription final : public subscription {
public:
    mirrored_subscription(std::shared_ptr<mirror_inbox> inbox, std::shared_ptr<mirror_feed> feed,
                          asio::any_io_executor owner)
        : inbox_(std::move(inbox)), feed_(std::move(feed)), owner_(std::move(owner)), id_(feed_->stream_id())
    {
    }
    ~mirrored_subscription() override
    {
        inbox_->subscriber = nullptr;
        asio::post(owner_, [feed = std::move(feed_)] { feed->leave(); });
    }

    const stream_log& log() const noexcept override { return inbox_->log; }
    const std::string& stream_id() const noexcept override { return id_; }
    void written(std::uint64_t next_seq) override
    {
        inbox_->log.delivered(next_seq);
        asio::post(owner_, [feed = feed_, next_seq] { feed->acked(next_seq); });
    }
    void stop() override
    {
        asio::post(owner_, [feed = feed_] { feed->stop(); });
    }

private:
    std::shared_ptr<mirror_inbox> inbox_;
    std::shared_ptr<mirror_feed> feed_;
    asio::any_io_executor owner_;
    std::string id_;
};

struct owner_answer {
    resume_decision decision;
    std::shared_ptr<stream_record> record;  // the owner is this thread
    std::shared_ptr<mirror_feed> feed;      // or another one
};

// Runs on the owner's thread.
// With [auth], another key's stream is as unknown as one that never was.
asio::awaitable<owner_answer> decide_on_owner(worker& owner, const block_config& block, std::string stream_id,
                                              std::uint64_t after_seq, asio::any_io_executor home,
                                              std::weak_ptr<mirror_inbox> inbox, const key_state* key)
{
    owner_answer a;
    auto record = owner.find_stream(stream_id);
    if (record && owner.keys && owner.keys->enabled() && record->key() != key) record.reset();
    const auto view = record ? std::optional(record->resume_view()) : std::nullopt;
    a.decision = check_resume(view ? &*view : nullptr, stream_id, block.name, after_seq,
                              {owner.config.replay_retention, owner.config.replay_buffer_bytes});
    if (a.decision.outcome != resume_outcome::replay) co_return a;
    metrics_shard::add(owner.shard.resumes_total);
    if (!home) {
        a.record = std::move(record);
    } else {
        a.feed = std::make_shared<mirror_feed>(std::move(record), a.decision.next_seq, owner.ioc.get_executor(),
                                               std::move(home), std::move(inbox));
        a.feed->start();
    }
    co_return a;
}

}  // namespace

std::unique_ptr<subscription> subscribe_local(std::shared_ptr<stream_record> record, stream_subscriber& s,
                                              std::uint64_t next_seq)
{
    return std::make_unique<local_subscription>(std::move(record), s, next_seq);
}

asio::awaitable<resume_result> subscribe_resume(worker& home, const block_config& block, event_id from,
                                                stream_subscriber& s, const key_state* key)
{
    resume_result result;
    const std::string stream_id(from.stream_id.substr(0, 64));
    const auto owner = home.owner_of(stream_id);
    if (!owner) {
        result.decision = check_resume(nullptr, stream_id, block.name, from.seq,
                                       {home.config.replay_retention, home.config.replay_buffer_bytes});
        co_return result;
    }
    auto& owner_worker = *home.peers[*owner];
    if (&owner_worker == &home) {
        auto a = co_await decide_on_owner(home, block, stream_id, from.seq, {}, {}, key);
        result.decision = std::move(a.decision);
        if (a.record) result.stream = subscribe_local(std::move(a.record), s, result.decision.next_seq);
        co_return result;
    }
    // The inbox exists before the owner attaches: batches it ships before its
    // answer arrives are kept, not lost.
    // Bound 0: the mirror drops each event once written (the owner's log is
    // the one that keeps them for the next resume).
    auto inbox = std::make_shared<mirror_inbox>(0, from.seq + 1, s);
    auto deciding =
        decide_on_owner(owner_worker, block, stream_id, from.seq, home.ioc.get_executor(), std::weak_ptr(inbox), key);
    auto a = co_await asio::co_spawn(owner_worker.ioc, std::move(deciding), asio::use_awaitable);
    result.decision = std::move(a.decision);
    if (a.feed)
        result.stream =
            std::make_unique<mirrored_subscription>(std::move(inbox), std::move(a.feed), owner_worker.ioc.get_executor());
    else
        inbox->subscriber = nullptr;
    co_return result;
}

}  // namespace liveai::server::detail
