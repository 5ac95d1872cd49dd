// The OpenAI chunk reader liveai used before simdjson: Boost.JSON's
// basic_parser with a handler that keeps only content, finish_reason and
// usage. Kept as a peer for benchmarks/chunk_json_throughput.cpp.
#pragma once

#include <liveai/providers/openai_chunk_reader.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>

#include <array>
#include <cstdint>

namespace liveai::bench {

using providers::openai_chunk;



namespace json = boost::json;
using boost::system::error_code;

// Where a value sits, as far as a chunk's reader cares.
enum class role : std::uint8_t {
    other, root, choices, choice0, delta, content, finish, usage, prompt_tokens, completion_tokens, object_field, error,
};

// The keys we look for, by the role of the object they are in.
role child_of_object(role parent, std::string_view key) noexcept
{
    switch (parent) {
    case role::root:
        if (key == "choices") return role::choices;
        if (key == "usage") return role::usage;
        if (key == "error") return role::error;
        if (key == "object") return role::object_field;
        return role::other;
    case role::choice0:
        if (key == "delta") return role::delta;
        if (key == "finish_reason") return role::finish;
        return role::other;
    case role::delta: return key == "content" ? role::content : role::other;
    case role::usage:
        if (key == "prompt_tokens") return role::prompt_tokens;
        if (key == "completion_tokens") return role::completion_tokens;
        return role::other;
    default: return role::other;
    }
}

struct chunk_handler {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    struct level {
        role r;
        bool array;
        std::uint32_t elements;
    };

    openai_chunk* out = nullptr;
    // Deeper levels than this are never ours: tracked by count only.
    std::array<level, 16> stack{};
    std::size_t depth = 0;
    std::size_t untracked = 0;  // levels below stack's capacity
    role key = role::other;     // the role of the next value in an object
    std::array<char, 24> key_buf{};
    std::size_t key_len = 0;
    bool key_long = false;
    std::string finish_text;
    bool finish_string = false;

    void reset(openai_chunk& o)
    {
        out = &o;
        depth = untracked = 0;
        key = role::other;
        key_len = 0;
        key_long = false;
        finish_text.clear();
        finish_string = false;
    }

    // The role of a value that starts now.
    role next_role() noexcept
    {
        if (untracked) return role::other;
        if (depth == 0) return role::root;
        auto& parent = stack[depth - 1];
        if (!parent.array) return key;
        const auto index = parent.elements++;
        return parent.r == role::choices && index == 0 ? role::choice0 : role::other;
    }

    bool open(bool array, error_code&)
    {
        const role r = next_role();
        if (r == role::error) out->is_error = true;
        if (r == role::choices) out->has_choice = false;  // decided by its first element
        if (r == role::choice0) out->has_choice = true;
        if (r == role::usage) out->usage.emplace();
        if (untracked || depth == stack.size()) {
            ++untracked;
            return true;
        }
        stack[depth++] = {r, array, 0};
        if (r == role::choice0 && array) out->bad_choice = true;
        return true;
    }
    bool close(error_code&)
    {
        if (untracked) --untracked;
        else if (depth) --depth;
        return true;
    }
    // A scalar value.
    role scalar()
    {
        const role r = next_role();
        if (r == role::error) out->is_error = true;
        if (r == role::choice0) {
            out->has_choice = true;
            out->bad_choice = true;
        }
        return r;
    }

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code& ec) { return open(false, ec); }
    bool on_object_end(std::size_t, error_code& ec) { return close(ec); }
    bool on_array_begin(error_code& ec) { return open(true, ec); }
    bool on_array_end(std::size_t, error_code& ec) { return close(ec); }

    bool on_key_part(json::string_view s, std::size_t, error_code&)
    {
        append_key(s);
        return true;
    }
    bool on_key(json::string_view s, std::size_t, error_code&)
    {
        append_key(s);
        const bool tracked = !untracked && depth > 0 && !stack[depth - 1].array;
        key = tracked && !key_long ? child_of_object(stack[depth - 1].r, std::string_view(key_buf.data(), key_len)) : role::other;
        key_len = 0;
        key_long = false;
        return true;
    }
    void append_key(json::string_view s) noexcept
    {
        if (key_len + s.size() > key_buf.size()) {
            key_long = true;
            return;
        }
        std::copy(s.begin(), s.end(), key_buf.begin() + static_cast<std::ptrdiff_t>(key_len));
        key_len += s.size();
    }

    // A string arrives in parts; its role is decided at its first part.
    role string_role = role::other;
    bool in_string = false;
    void string_piece(json::string_view s)
    {
        if (!in_string) {
            in_string = true;
            string_role = scalar();
            if (string_role == role::content) {
                out->has_content = true;
                out->content.clear();
            }
            if (string_role == role::finish) finish_string = true;
        }
        switch (string_role) {
        case role::content: out->content.append(s.data(), s.size()); break;
        case role::finish:
        case role::object_field: finish_text.append(s.data(), s.size()); break;
        default: break;
        }
    }
    bool on_string_part(json::string_view s, std::size_t, error_code&)
    {
        string_piece(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, error_code&)
    {
        string_piece(s);
        in_string = false;
        if (string_role == role::object_field) {
            if (finish_text == "error") out->is_error = true;
            finish_text.clear();
        } else if (string_role == role::finish) {
            const std::string_view r = finish_text;
            out->finish = r == "length" ? finish_reason::length
                          : r == "content_filter" ? finish_reason::content_filter
                                                  : finish_reason::stop;
        }
        return true;
    }
    bool on_number_part(json::string_view, error_code&) { return true; }
    bool on_int64(std::int64_t v, json::string_view, error_code&)
    {
        count(scalar(), v >= 0 ? static_cast<std::uint64_t>(v) : 0, v >= 0);
        return true;
    }
    bool on_uint64(std::uint64_t v, json::string_view, error_code&)
    {
        // Like the DOM's is_int64(): numbers past int64 are not token counts.
        count(scalar(), v, v <= static_cast<std::uint64_t>(INT64_MAX));
        return true;
    }
    void count(role r, std::uint64_t v, bool valid)
    {
        if (!valid || !out->usage) return;
        if (r == role::prompt_tokens) out->usage->input_tokens = v;
        if (r == role::completion_tokens) out->usage->output_tokens = v;
    }
    bool on_double(double, json::string_view, error_code&)
    {
        scalar();
        return true;
    }
    bool on_bool(bool, error_code&)
    {
        scalar();
        return true;
    }
    bool on_null(error_code&)
    {
        scalar();
        return true;
    }
    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }
};


class boost_json_chunk_reader {
public:
    void read(std::string_view text, openai_chunk& out, boost::system::error_code& ec)
    {
        out.has_choice = out.bad_choice = out.has_content = out.is_error = false;
        out.content.clear();
        out.finish.reset();
        out.usage.reset();
        auto& p = parser_;
        p.reset();
        p.handler().reset(out);
        p.handler().in_string = false;
        ec = {};
        const auto first = text.find_first_not_of(" \t\r\n");
        const auto used = p.write_some(false, text.data(), text.size(), ec);
        if (ec) return;
        if (text.find_first_not_of(" \t\r\n", used) != std::string_view::npos) ec = json::error::extra_data;
        else if (first == std::string_view::npos || text[first] != '{') ec = json::error::not_object;
    }

private:
    json::basic_parser<chunk_handler> parser_{json::parse_options{}};
};

}  // namespace liveai::bench
