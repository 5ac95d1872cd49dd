#include <liveai/detail/utf8.hpp>

namespace liveai::detail {

std::size_t find_invalid_utf8(std::string_view text) noexcept
{
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) { len = 3; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) { len = 3; hi = 0x9F; }  // no surrogates
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) { len = 4; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) { len = 4; hi = 0x8F; }  // not above U+10FFFF
        else return i;
        if (i + len > n) return i;
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += len;
    }
    return std::string_view::npos;
}

namespace {
bool is_continuation(char c) noexcept { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
bool is_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
}  // namespace

std::size_t utf8_cut(std::string_view text, std::size_t max_bytes) noexcept
{
    if (text.size() <= max_bytes) return text.size();
    std::size_t n = max_bytes;
    while (n > 0 && is_continuation(text[n])) --n;
    if (n == 0) {
        n = 1;
        while (n < text.size() && is_continuation(text[n])) ++n;
    }
    return n;
}

std::string_view next_segment(std::string_view text, std::size_t& pos, std::size_t max_bytes) noexcept
{
    if (pos >= text.size()) return {};
    std::size_t end = pos;
    while (end < text.size() && is_space(text[end])) ++end;
    while (end < text.size() && !is_space(text[end])) ++end;
    const std::string_view rest = text.substr(pos, end - pos);
    const std::size_t n = utf8_cut(rest, max_bytes);
    pos += n;
    return rest.substr(0, n);
}

}  // namespace liveai::detail
