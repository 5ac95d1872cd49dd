// Private: a minimal levelled logger writing one line per call to stderr.
#pragma once

#include <liveai/server/server_config.hpp>

#include <string_view>

namespace liveai::server::detail {

class log_sink {
public:
    explicit log_sink(log_level threshold) : threshold_(threshold) {}
    bool enabled(log_level level) const noexcept { return level >= threshold_ && threshold_ != log_level::off; }
    // Formats like printf; the line gets a UTC timestamp and the level.
    void write(log_level level, const char* format, ...) const __attribute__((format(printf, 3, 4)));

private:
    log_level threshold_;
};

}  // namespace liveai::server::detail
