// Private: the buffers an I/O thread lends to its writers.
//
// A stream frames its events into a buffer only for the time one write of
// them is in flight; between two events (a paced stream spends nearly all
// its life there) it holds none. So the thread needs about as many buffers
// as it has writes in flight, not one per stream (at 10 000 paced streams,
// 600 bytes each), and a taken buffer keeps the capacity it grew to, so
// framing a batch reallocates nothing in the steady state.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace liveai::server::detail {

class write_buffer_pool {
public:
    // Keeps at most max_kept buffers, of at most max_capacity bytes each and
    // max_kept_bytes in all: a thread's idle buffers never hold more. Many
    // paced streams due at once have hundreds of writes in flight, so the
    // count is high and the total low (most buffers hold one small event).
    explicit write_buffer_pool(std::size_t max_kept = 512, std::size_t max_capacity = 16 * 1024,
                               std::size_t max_kept_bytes = 1024 * 1024)
        : max_kept_(max_kept), max_capacity_(max_capacity), max_kept_bytes_(max_kept_bytes)
    {
        free_.reserve(max_kept_);
    }

    write_buffer_pool(const write_buffer_pool&) = delete;
    write_buffer_pool& operator=(const write_buffer_pool&) = delete;

    // An empty buffer with room for a small batch.
    std::string take()
    {
        if (free_.empty()) {
            std::string fresh;
            fresh.reserve(initial_capacity);
            return fresh;
        }
        std::string kept = std::move(free_.back());
        free_.pop_back();
        kept_bytes_ -= kept.capacity();
        return kept;
    }

    // Makes `buffer` a lent one, keeping what it holds, unless it is one.
    void lend(std::string& buffer)
    {
        if (is_lent(buffer)) return;
        auto lent = take();
        lent.append(buffer);
        buffer = std::move(lent);
    }

    // Takes `buffer` back (cleared); one that grew past max_capacity, or one
    // too many, is freed instead.
    void give_back(std::string&& buffer) noexcept
    {
        if (!is_lent(buffer)) return;
        const auto capacity = buffer.capacity();
        if (free_.size() < max_kept_ && capacity <= max_capacity_ && kept_bytes_ + capacity <= max_kept_bytes_) {
            buffer.clear();
            free_.push_back(std::move(buffer));  // reserved: does not allocate
            kept_bytes_ += capacity;
        }
        std::string().swap(buffer);
    }

    std::size_t kept() const noexcept { return free_.size(); }
    std::size_t kept_bytes() const noexcept { return kept_bytes_; }

    static constexpr std::size_t initial_capacity = 512;

private:
    // Every buffer take() gives has at least initial_capacity; a string below
    // it (short-string storage, a ping) never came from the pool.
    static bool is_lent(const std::string& buffer) noexcept { return buffer.capacity() >= initial_capacity; }

    std::size_t max_kept_;
    std::size_t max_capacity_;
    std::size_t max_kept_bytes_;
    std::size_t kept_bytes_ = 0;
    std::vector<std::string> free_;
};

}  // namespace liveai::server::detail
