// One settings table of the config, e.g. a provider's [blocks.<name>.<provider>],
// read key by key with its type and range checked.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liveai {
namespace detail {
class table_reader;
}

// Each read takes a key and, when the key is present and valid, stores its
// value and returns true. A key that is absent leaves the value alone (its
// default) and returns false. A key that is present but wrong (type, range,
// size) is recorded as a problem with its file:line:column and full key path
// ("liveai.toml:12:1: blocks.chat.mock.delay_ms: must be from 0 to ..."); the
// value stays alone and reading goes on, so one run reports every problem.
// When the table is done, every key nobody read is reported as unknown, so a
// typo never goes unnoticed.
class settings_reader {
public:
    explicit settings_reader(detail::table_reader& table) noexcept : table_(table) {}

    // The full path of a key of this table: "blocks.chat.mock.delay_ms".
    std::string key_path(std::string_view key) const;
    bool contains(std::string_view key) const;

    bool integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max);
    template <class T>
    bool integer(std::string_view key, T& out, std::int64_t min, std::int64_t max)
    {
        std::int64_t value = 0;
        if (!integer(key, value, min, max)) return false;
        out = static_cast<T>(value);
        return true;
    }
    template <class T>
    bool integer(std::string_view key, std::optional<T>& out, std::int64_t min, std::int64_t max)
    {
        T value{};
        if (!integer(key, value, min, max)) return false;
        out = value;
        return true;
    }
    // Milliseconds, written as an integer (the key's name says `_ms`).
    bool millis(std::string_view key, std::chrono::milliseconds& out, std::int64_t min, std::int64_t max = 24LL * 3600 * 1000);
    // An integer or a float.
    bool number(std::string_view key, std::optional<double>& out, double min, double max);
    bool boolean(std::string_view key, bool& out);
    bool boolean(std::string_view key, std::optional<bool>& out);
    bool string(std::string_view key, std::string& out, std::size_t max_bytes = 1 << 20, bool allow_empty = true);
    bool string(std::string_view key, std::optional<std::string>& out, std::size_t max_bytes = 1 << 20);

    // Records a problem with a key that was read (at the key's position, or
    // at the table's when the key is absent, e.g. one that is required).
    void problem(std::string_view key, std::string_view what);

private:
    detail::table_reader& table_;
};

}  // namespace liveai
