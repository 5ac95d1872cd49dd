#include "log.hpp"

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <sys/time.h>
#include <unistd.h>

namespace liveai::server::detail {

void log_sink::write(log_level level, const char* format, ...) const
{
    if (!enabled(level)) return;
    static constexpr const char* names[] = {"debug", "info", "warn", "error", "off"};
    char line[1024];
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tm utc{};
    gmtime_r(&tv.tv_sec, &utc);
    int n = static_cast<int>(std::strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &utc));
    n += std::snprintf(line + n, sizeof line - n, ".%03dZ %s ", static_cast<int>(tv.tv_usec / 1000),
                       names[static_cast<int>(level)]);
    va_list args;
    va_start(args, format);
    const int body = std::vsnprintf(line + n, sizeof line - n - 1, format, args);
    va_end(args);
    n = std::min<int>(n + std::max(body, 0), sizeof line - 2);
    line[n++] = '\n';
    // One write() per line keeps lines whole when threads log at once.
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, line, static_cast<std::size_t>(n));
}

}  // namespace liveai::server::detail
