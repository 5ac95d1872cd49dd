// Test support: when a fake upstream saw its latest client close a
// connection, for the fakes' threads and the test's to share.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace liveai::test {

class client_close_log {
public:
    using time_point = std::chrono::steady_clock::time_point;

    void record()
    {
        std::lock_guard lock(mutex_);
        last_ = std::chrono::steady_clock::now();
        cv_.notify_all();
    }
    std::optional<time_point> last() const
    {
        std::lock_guard lock(mutex_);
        return last_;
    }
    // Waits until a client closed a connection (or the timeout passes).
    bool wait(std::chrono::milliseconds timeout) const
    {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return last_.has_value(); });
    }

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
    std::optional<time_point> last_;
};

}  // namespace liveai::test
