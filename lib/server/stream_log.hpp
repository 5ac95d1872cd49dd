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

// In memory, on the owning thread. Each page holds its events' payloads
// from the front and an 8-byte slot per event (offset, size and kind) from
// the back, so a stream of short chunks costs its payload plus 8 bytes an
// event, and pages grow by half up to 4 KiB (an event never spans two; a
// larger one gets a page of its own). A page is freed once every event in it
// is dropped, so the retained payload bytes never exceed `bound` plus one
// event unless events not yet delivered do (the producer pauses before
// that), and the memory is that, the slots and at most two partly used pages.
class memory_stream_log final : public stream_log {
public:
    explicit memory_stream_log(std::size_t bound, std::uint64_t first_seq = 1);

    std::uint64_t first_seq() const noexcept override { return first_seq_; }
    std::uint64_t last_seq() const noexcept override { return next_seq_ - 1; }
    bool ended() const noexcept override { return ended_; }
    void append(event_kind kind, std::string_view payload) override;
    logged_event at(std::uint64_t seq) const noexcept override;
    void delivered(std::uint64_t next_seq) noexcept override;
    std::size_t bytes_from(std::uint64_t seq) const noexcept override;
    std::size_t footprint() const noexcept override;

    std::size_t retained_bytes() const noexcept { return bytes_; }
    // Moves the retained events into one page of their exact size when
    // that frees more than a quarter of its pages (an ended stream kept
    // for resume holds little slack). Invalidates the views at() returned.
    void shrink_to_fit();

private:
    std::size_t page_bytes() const noexcept;  // what the pages hold, used or not
    struct slot {
        std::uint32_t offset;         // of the payload in its page
        std::uint32_t size_and_kind;  // size << kind_bits | kind

        static constexpr unsigned kind_bits = 4;
        std::uint32_t size() const noexcept { return size_and_kind >> kind_bits; }
        event_kind kind() const noexcept { return static_cast<event_kind>(size_and_kind & ((1u << kind_bits) - 1)); }
    };
    struct page {
        std::unique_ptr<char[]> bytes;
        std::uint64_t first_seq = 0;       // of its first event
        std::uint32_t capacity = 0;
        std::uint32_t used = 0;            // payload bytes, from the front
        std::uint32_t count = 0;           // events (slots, from the back)
        std::uint32_t appended_before = 0; // payload bytes appended before it, modulo 2^32

        slot slot_of(std::uint64_t seq) const noexcept;
        std::size_t room() const noexcept { return capacity - used - count * sizeof(slot); }
        // Stores one event (room() has space for it and its slot).
        void put(event_kind kind, std::string_view payload) noexcept;
    };

    // The page that holds `seq` (retained); sequential reads hit the hint.
    const page& page_of(std::uint64_t seq) const noexcept;
    page& page_for(std::size_t payload_size);
    void drop_front() noexcept;

    std::size_t bound_;
    std::uint64_t first_seq_;  // the oldest retained event
    std::uint64_t next_seq_;   // the next event appended
    std::uint64_t delivered_;  // events before it were delivered
    std::size_t bytes_ = 0;       // retained payload bytes
    std::uint64_t appended_ = 0;  // payload bytes ever appended
    std::vector<page> pages_;     // oldest first
    mutable std::size_t hint_ = 0;
    bool ended_ = false;
};

}  // namespace liveai::server::detail
