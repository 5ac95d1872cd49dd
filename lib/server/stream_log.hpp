// Private: a stream's events, stored once and transport-neutral.
//
// Each event is (kind, seq, JSON payload); sse_event_writer and
// ws_message_writer frame it for their transport when they write it. The
// log is an interface so that a store shared across instances can stand
// beside the in-memory one.
#pragma once

#include <liveai/transport/event_kind.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace liveai::server::detail {

using transport::event_kind;

struct logged_event {
    event_kind kind;
    std::uint64_t seq;
    std::string_view payload;  // valid until the log drops the event
};

class stream_log {
public:
    virtual ~stream_log() = default;

    // The retained events are [first_seq(), last_seq()]; none when first > last.
    virtual std::uint64_t first_seq() const noexcept = 0;
    virtual std::uint64_t last_seq() const noexcept = 0;
    // The terminal event is in: it is last_seq(), and nothing follows.
    virtual bool ended() const noexcept = 0;

    // Appends event last_seq() + 1.
    virtual void append(event_kind kind, std::string_view payload) = 0;
    // An event in [first_seq(), last_seq()].
    virtual logged_event at(std::uint64_t seq) const noexcept = 0;
    // Every event before `next_seq` was delivered: those may be dropped,
    // oldest first, while the log holds more than its bound.
    virtual void delivered(std::uint64_t next_seq) noexcept = 0;
    // Payload bytes of the retained events from `seq` on.
    virtual std::size_t bytes_from(std::uint64_t seq) const noexcept = 0;
    // The memory the log holds.
    virtual std::size_t footprint() const noexcept = 0;
};

// In memory, on the owning thread. Payloads live in pages (an event never
// spans two) that are freed once every event in them is dropped, so the
// retained payload bytes never exceed `bound` plus one event unless events
// not yet delivered do (the producer pauses before that), and the memory is
// that plus at most two partly used pages and the index.
class memory_stream_log final : public stream_log {
public:
    explicit memory_stream_log(std::size_t bound, std::uint64_t first_seq = 1);

    std::uint64_t first_seq() const noexcept override { return first_seq_; }
    std::uint64_t last_seq() const noexcept override { return first_seq_ + count_ - 1; }
    bool ended() const noexcept override { return ended_; }
    void append(event_kind kind, std::string_view payload) override;
    logged_event at(std::uint64_t seq) const noexcept override;
    void delivered(std::uint64_t next_seq) noexcept override;
    std::size_t bytes_from(std::uint64_t seq) const noexcept override;
    std::size_t footprint() const noexcept override;

    std::size_t retained_bytes() const noexcept { return bytes_; }

private:
    // 16 bytes: for a chunk the index costs about half its payload.
    struct entry {
        const char* data;
        // Payload bytes appended before this one, modulo 2^32: differences
        // are exact while the retained bytes stay under 4 GiB (the bound
        // is far below).
        std::uint32_t appended_before;
        std::uint32_t size_and_kind;  // size << kind_bits | kind

        static constexpr unsigned kind_bits = 4;
        std::uint32_t size() const noexcept { return size_and_kind >> kind_bits; }
        event_kind kind() const noexcept { return static_cast<event_kind>(size_and_kind & ((1u << kind_bits) - 1)); }
    };
    struct page {
        std::unique_ptr<char[]> bytes;
        std::uint32_t capacity = 0;
        std::uint32_t used = 0;
        std::uint32_t live = 0;  // retained events in it
    };

    const entry& slot(std::uint64_t seq) const noexcept { return entries_[(head_ + (seq - first_seq_)) & mask_]; }
    void drop_front() noexcept;
    void grow_entries();
    char* reserve(std::size_t n);

    std::size_t bound_;
    std::uint64_t first_seq_;
    std::uint64_t delivered_;  // events before it were delivered
    std::size_t bytes_ = 0;    // retained payload bytes
    std::uint64_t appended_ = 0;  // payload bytes ever appended
    // A ring of entries (power-of-two size) and the pages, oldest first.
    std::vector<entry> entries_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::size_t mask_ = 0;
    std::vector<page> pages_;
    bool ended_ = false;
};

}  // namespace liveai::server::detail
