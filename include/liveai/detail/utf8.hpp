// UTF-8 checks and boundaries, so no code path ever splits a character.
#pragma once

#include <cstddef>
#include <string_view>

namespace liveai::detail {

// Offset of the first byte that makes `text` invalid UTF-8, or npos when valid
// (rejects overlongs, surrogates and code points above U+10FFFF).
std::size_t find_invalid_utf8(std::string_view text) noexcept;

inline bool is_valid_utf8(std::string_view text) noexcept
{
    return find_invalid_utf8(text) == std::string_view::npos;
}

// The largest n <= max_bytes at which `text` (valid UTF-8) may be cut without
// splitting a character. Returns the first character's length when even that
// does not fit in max_bytes, so callers always make progress.
std::size_t utf8_cut(std::string_view text, std::size_t max_bytes) noexcept;

// Splits text into word-like segments: leading whitespace, then non-space
// bytes, at most max_bytes each and never inside a character. Concatenating
// every segment gives back the text exactly. Returns an empty view at the end.
std::string_view next_segment(std::string_view text, std::size_t& pos, std::size_t max_bytes) noexcept;

}  // namespace liveai::detail
