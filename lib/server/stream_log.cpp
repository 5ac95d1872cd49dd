#include "stream_log.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace liveai::server::detail {
namespace {

// Pages start small (most streams are short) and grow by half to this
// size; an event larger than it gets a page of its own size.
constexpr std::size_t first_page_bytes = 512;
constexpr std::size_t max_page_bytes = 4096;

constexpr std::size_t round_up8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

}  // namespace

memory_stream_log::slot memory_stream_log::page::slot_of(std::uint64_t seq) const noexcept
{
    slot s;
    std::memcpy(&s, bytes.get() + capacity - (seq - first_seq + 1) * sizeof(slot), sizeof s);
    return s;
}

memory_stream_log::memory_stream_log(std::size_t bound, std::uint64_t first_seq)
    : bound_(bound), first_seq_(first_seq), next_seq_(first_seq), delivered_(first_seq)
{
}

const memory_stream_log::page& memory_stream_log::page_of(std::uint64_t seq) const noexcept
{
    const auto holds = [seq](const page& p) { return seq >= p.first_seq && seq - p.first_seq < p.count; };
    if (hint_ < pages_.size()) {
        if (holds(pages_[hint_])) return pages_[hint_];
        if (hint_ + 1 < pages_.size() && holds(pages_[hint_ + 1])) return pages_[++hint_];
    }
    const auto after = std::upper_bound(pages_.begin(), pages_.end(), seq,
                                        [](std::uint64_t s, const page& p) { return s < p.first_seq; });
    hint_ = static_cast<std::size_t>(after - pages_.begin()) - 1;
    return pages_[hint_];
}

void memory_stream_log::page::put(event_kind kind, std::string_view payload) noexcept
{
    if (!payload.empty()) std::memcpy(bytes.get() + used, payload.data(), payload.size());
    const slot s{used, static_cast<std::uint32_t>(payload.size()) << slot::kind_bits | static_cast<std::uint32_t>(kind)};
    ++count;
    std::memcpy(bytes.get() + capacity - count * sizeof(slot), &s, sizeof s);
    used += static_cast<std::uint32_t>(payload.size());
}

memory_stream_log::page& memory_stream_log::page_for(std::size_t payload_size)
{
    const std::size_t need = payload_size + sizeof(slot);
    if (!pages_.empty() && pages_.back().room() >= need) return pages_.back();
    const std::size_t grown = pages_.empty() ? first_page_bytes : pages_.back().capacity + pages_.back().capacity / 2;
    const std::size_t size = std::max(round_up8(need), std::min(round_up8(grown), max_page_bytes));
    // Every event was dropped: no page holds one.
    if (first_seq_ == next_seq_) pages_.clear();
    page p;
    p.bytes = std::make_unique_for_overwrite<char[]>(size);
    p.capacity = static_cast<std::uint32_t>(size);
    p.first_seq = next_seq_;
    p.appended_before = static_cast<std::uint32_t>(appended_);
    pages_.push_back(std::move(p));
    return pages_.back();
}

void memory_stream_log::append(event_kind kind, std::string_view payload)
{
    // Payloads are bounded far below this (max_event_bytes, the text of one
    // chunk); a bigger one would not fit the slot.
    if (payload.size() >= (std::size_t{1} << (32 - slot::kind_bits)) - max_page_bytes)
        throw std::length_error("a stream event over 256 MiB");
    page_for(payload.size()).put(kind, payload);
    ++next_seq_;
    appended_ += payload.size();
    bytes_ += payload.size();
    if (transport::is_terminal(kind)) ended_ = true;
    delivered(delivered_);
}

logged_event memory_stream_log::at(std::uint64_t seq) const noexcept
{
    const auto& p = page_of(seq);
    const auto s = p.slot_of(seq);
    return {s.kind(), seq, std::string_view(p.bytes.get() + s.offset, s.size())};
}

void memory_stream_log::drop_front() noexcept
{
    // Events fill pages in order: the oldest is in the first page.
    auto& front = pages_.front();
    bytes_ -= front.slot_of(first_seq_).size();
    ++first_seq_;
    if (first_seq_ - front.first_seq == front.count && pages_.size() > 1) {
        pages_.erase(pages_.begin());
        hint_ = 0;
    }
}

void memory_stream_log::delivered(std::uint64_t next_seq) noexcept
{
    delivered_ = std::max(delivered_, next_seq);
    while (first_seq_ < next_seq_ && first_seq_ < delivered_ && bytes_ > bound_) drop_front();
}

std::size_t memory_stream_log::bytes_from(std::uint64_t seq) const noexcept
{
    if (seq < first_seq_) seq = first_seq_;
    if (seq >= next_seq_) return 0;
    const auto& p = page_of(seq);
    const std::uint32_t before = p.appended_before + p.slot_of(seq).offset;
    return static_cast<std::uint32_t>(static_cast<std::uint32_t>(appended_) - before);
}

void memory_stream_log::shrink_to_fit()
{
    const std::uint64_t count = next_seq_ - first_seq_;
    const std::size_t size = round_up8(bytes_) + count * sizeof(slot);
    // Copying costs an allocation (fresh memory while the retained set
    // grows: page faults) and a pass over the payload, at the end of every
    // stream: worth it only when it frees more than a quarter of what the
    // pages hold. Pages grow by half, so a log that dropped nothing has less
    // slack than that (a 256-event one about 13 %); retained bytes count the
    // slack, so the retention bound holds.
    if (const auto held = page_bytes(); count > 0 && (held - size) * 4 <= held) return;
    page p;
    if (count > 0) {
        p.bytes = std::make_unique_for_overwrite<char[]>(size);
        p.capacity = static_cast<std::uint32_t>(size);
        p.first_seq = first_seq_;
        // The retained payload is the last bytes_ appended.
        p.appended_before = static_cast<std::uint32_t>(appended_ - bytes_);
        for (auto seq = first_seq_; seq < next_seq_; ++seq) {
            const auto e = at(seq);
            p.put(e.kind, e.payload);
        }
    }
    pages_.clear();
    pages_.shrink_to_fit();
    if (count > 0) pages_.push_back(std::move(p));
    hint_ = 0;
}

std::size_t memory_stream_log::page_bytes() const noexcept
{
    std::size_t n = 0;
    for (const auto& p : pages_) n += p.capacity;
    return n;
}

std::size_t memory_stream_log::footprint() const noexcept
{
    return sizeof(*this) + pages_.capacity() * sizeof(page) + page_bytes();
}

}  // namespace liveai::server::detail
