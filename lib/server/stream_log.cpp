#include "stream_log.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace liveai::server::detail {
namespace {

// Pages start small (most streams are short) and grow to this size; an
// event larger than it gets a page of its own size.
constexpr std::size_t first_page_bytes = 256;
constexpr std::size_t max_page_bytes = 4096;

}  // namespace

memory_stream_log::memory_stream_log(std::size_t bound, std::uint64_t first_seq)
    : bound_(bound), first_seq_(first_seq), delivered_(first_seq)
{
}

char* memory_stream_log::reserve(std::size_t n)
{
    if (!pages_.empty()) {
        auto& last = pages_.back();
        if (last.capacity - last.used >= n) return last.bytes.get() + last.used;
    }
    const std::size_t previous = pages_.empty() ? first_page_bytes / 2 : pages_.back().capacity;
    const std::size_t size = std::max(n, std::min(previous * 2, max_page_bytes));
    page p;
    p.bytes = std::make_unique_for_overwrite<char[]>(size);
    p.capacity = static_cast<std::uint32_t>(size);
    pages_.push_back(std::move(p));
    return pages_.back().bytes.get();
}


void memory_stream_log::grow_entries()
{
    std::vector<entry> bigger(std::max<std::size_t>(16, entries_.size() * 2));
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = entries_[(head_ + i) & mask_];
    entries_ = std::move(bigger);
    head_ = 0;
    mask_ = entries_.size() - 1;
}

void memory_stream_log::append(event_kind kind, std::string_view payload)
{
    // Payloads are bounded far below this (max_event_bytes, the text of one
    // chunk); a bigger one would not fit the entry.
    if (payload.size() >= (std::size_t{1} << (32 - entry::kind_bits)))
        throw std::length_error("a stream event over 256 MiB");
    if (count_ == entries_.size()) grow_entries();
    char* at = reserve(payload.size());
    if (!payload.empty()) std::memcpy(at, payload.data(), payload.size());
    auto& p = pages_.back();
    p.used += static_cast<std::uint32_t>(payload.size());
    ++p.live;
    entries_[(head_ + count_) & mask_] = {
        at, static_cast<std::uint32_t>(appended_),
        static_cast<std::uint32_t>(payload.size()) << entry::kind_bits | static_cast<std::uint32_t>(kind)};
    ++count_;
    appended_ += payload.size();
    bytes_ += payload.size();
    if (transport::is_terminal(kind)) ended_ = true;
    delivered(delivered_);
}

logged_event memory_stream_log::at(std::uint64_t seq) const noexcept
{
    const auto& e = slot(seq);
    return {e.kind(), seq, std::string_view(e.data, e.size())};
}

void memory_stream_log::drop_front() noexcept
{
    const auto& e = entries_[head_];
    bytes_ -= e.size();
    // Events fill pages in order: the oldest event is in the first page
    // that still has one.
    auto it = std::find_if(pages_.begin(), pages_.end(), [](const page& p) { return p.live > 0; });
    if (--it->live == 0 && std::next(it) != pages_.end()) pages_.erase(pages_.begin(), std::next(it));
    head_ = (head_ + 1) & mask_;
    --count_;
    ++first_seq_;
}

void memory_stream_log::delivered(std::uint64_t next_seq) noexcept
{
    delivered_ = std::max(delivered_, next_seq);
    while (count_ > 0 && first_seq_ < delivered_ && bytes_ > bound_) drop_front();
}

std::size_t memory_stream_log::bytes_from(std::uint64_t seq) const noexcept
{
    if (count_ == 0 || seq > last_seq()) return 0;
    if (seq < first_seq_) seq = first_seq_;
    return static_cast<std::uint32_t>(static_cast<std::uint32_t>(appended_) - slot(seq).appended_before);
}

std::size_t memory_stream_log::footprint() const noexcept
{
    std::size_t n = sizeof(*this) + entries_.capacity() * sizeof(entry) + pages_.capacity() * sizeof(page);
    for (const auto& p : pages_) n += p.capacity;
    return n;
}

}  // namespace liveai::server::detail
