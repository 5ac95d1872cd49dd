#include <liveai/providers/openai_chunk_reader.hpp>

#include <boost/json/error.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <utility>

// simdjson's On-Demand API reads only what we ask for: on real-sized chunks
// about half the CPU of Boost.JSON's event parser with a handler and a
// third of the DOM's (benchmarks/chunk_json_throughput.cpp). Values we skip
// are checked for structure, not in full: a chunk whose needed members are
// well formed is read even if an unrelated member is malformed. Keys are
// compared as sent (no upstream escapes its member names).
namespace liveai::providers {

namespace {

namespace od = simdjson::ondemand;
namespace json = boost::json;

// Counts that fit a signed 64-bit integer (as Boost.JSON's is_int64() did);
// anything else is not a token count.
std::optional<std::uint64_t> token_count(od::value v) noexcept
{
    od::json_type type;
    if (v.type().get(type) || type != od::json_type::number) return std::nullopt;
    od::number_type kind;
    if (v.get_number_type().get(kind) || kind != od::number_type::signed_integer) return std::nullopt;
    std::int64_t n = 0;
    if (v.get_int64().get(n) || n < 0) return std::nullopt;
    return static_cast<std::uint64_t>(n);
}

bool is_type(od::value& v, od::json_type want) noexcept
{
    od::json_type type;
    return !v.type().get(type) && type == want;
}

std::string_view string_or_empty(od::value v) noexcept
{
    std::string_view s;
    if (!is_type(v, od::json_type::string) || v.get_string().get(s)) return {};
    return s;
}

// delta.tool_calls: [{index, id, type, function: {name, arguments}}, ...].
simdjson::error_code read_tool_calls(od::value value, openai_chunk& out)
{
    if (!is_type(value, od::json_type::array)) return simdjson::SUCCESS;
    od::array calls;
    if (auto e = value.get_array().get(calls)) return e;
    for (auto element : calls) {
        od::value v;
        if (auto e = std::move(element).get(v)) return e;
        if (!is_type(v, od::json_type::object)) continue;
        if (out.tool_call_count == out.tool_calls.size()) out.tool_calls.emplace_back();
        auto& call = out.tool_calls[out.tool_call_count++];
        call.index = -1;
        call.id.clear();
        call.name.clear();
        call.arguments.clear();
        od::object o;
        if (auto e = v.get_object().get(o)) return e;
        for (auto m : o) {
            od::field f;
            if (auto e = std::move(m).get(f)) return e;
            const od::raw_json_string key = f.key();
            od::value fv = f.value();
            if (key == "index") {
                if (const auto n = token_count(fv)) call.index = static_cast<std::int64_t>(std::min<std::uint64_t>(*n, 1u << 30));
            } else if (key == "id") {
                call.id.assign(string_or_empty(fv));
            } else if (key == "function" && is_type(fv, od::json_type::object)) {
                od::object fn;
                if (auto e = fv.get_object().get(fn)) return e;
                for (auto fm : fn) {
                    od::field ff;
                    if (auto e = std::move(fm).get(ff)) return e;
                    const od::raw_json_string fkey = ff.key();
                    if (fkey == "name") call.name.assign(string_or_empty(ff.value()));
                    else if (fkey == "arguments") call.arguments.assign(string_or_empty(ff.value()));
                }
            }
        }
    }
    return simdjson::SUCCESS;
}

// The first choice: delta (content, reasoning, tool calls) and finish_reason.
simdjson::error_code read_choice(od::object choice, openai_chunk& out)
{
    for (auto member : choice) {
        od::field field;
        if (auto e = std::move(member).get(field)) return e;
        const od::raw_json_string key = field.key();
        od::value value = field.value();
        if (key == "delta") {
            if (!is_type(value, od::json_type::object)) continue;
            od::object delta;
            if (auto e = value.get_object().get(delta)) return e;
            for (auto dm : delta) {
                od::field df;
                if (auto e = std::move(dm).get(df)) return e;
                const od::raw_json_string dkey = df.key();
                if (dkey == "tool_calls") {
                    if (auto e = read_tool_calls(df.value(), out)) return e;
                    continue;
                }
                const bool content_key = dkey == "content";
                if (!content_key && !(dkey == "reasoning_content") && !(dkey == "reasoning")) continue;
                od::value content = df.value();
                if (!is_type(content, od::json_type::string)) continue;
                std::string_view text;
                if (auto e = content.get_string().get(text)) return e;
                if (content_key) {
                    out.has_content = true;
                    out.content.assign(text);
                } else {
                    out.reasoning.assign(text);
                }
            }
        } else if (key == "finish_reason") {
            if (!is_type(value, od::json_type::string)) continue;
            std::string_view r;
            if (auto e = value.get_string().get(r)) return e;
            out.finish = r == "length"                                ? finish_reason::length
                         : r == "content_filter"                      ? finish_reason::content_filter
                         : r == "tool_calls" || r == "function_call" ? finish_reason::tool_calls
                                                                      : finish_reason::stop;
        }
    }
    return simdjson::SUCCESS;
}

simdjson::error_code read_root(od::object root, openai_chunk& out)
{
    for (auto member : root) {
        od::field field;
        if (auto e = std::move(member).get(field)) return e;
        const od::raw_json_string key = field.key();
        od::value value = field.value();
        if (key == "choices") {
            out.has_choice = out.bad_choice = false;  // decided by its first element
            if (!is_type(value, od::json_type::array)) continue;
            od::array choices;
            if (auto e = value.get_array().get(choices)) return e;
            for (auto element : choices) {
                od::value first;
                if (auto e = std::move(element).get(first)) return e;
                out.has_choice = true;
                if (!is_type(first, od::json_type::object)) {
                    out.bad_choice = true;
                    break;
                }
                od::object choice;
                if (auto e = first.get_object().get(choice)) return e;
                if (auto e = read_choice(choice, out)) return e;
                break;  // only the first choice is ours
            }
        } else if (key == "usage") {
            if (!is_type(value, od::json_type::object)) continue;
            od::object usage;
            if (auto e = value.get_object().get(usage)) return e;
            out.usage.emplace();
            for (auto um : usage) {
                od::field uf;
                if (auto e = std::move(um).get(uf)) return e;
                const od::raw_json_string ukey = uf.key();
                const bool prompt = ukey == "prompt_tokens";
                if (!prompt && !(ukey == "completion_tokens")) continue;
                if (const auto n = token_count(uf.value())) {
                    if (prompt) out.usage->input_tokens = *n;
                    else out.usage->output_tokens = *n;
                }
            }
        } else if (key == "error") {
            out.is_error = true;
        } else if (key == "object") {
            std::string_view s;
            if (is_type(value, od::json_type::string) && !value.get_string().get(s) && s == "error") out.is_error = true;
        }
    }
    return simdjson::SUCCESS;
}

}  // namespace

struct openai_chunk_reader::impl {
    od::parser parser;
    std::string padded;  // the chunk with the padding simdjson reads past its end
};

openai_chunk_reader::openai_chunk_reader() : impl_(std::make_unique<impl>()) {}
openai_chunk_reader::~openai_chunk_reader() = default;
openai_chunk_reader::openai_chunk_reader(openai_chunk_reader&&) noexcept = default;
openai_chunk_reader& openai_chunk_reader::operator=(openai_chunk_reader&&) noexcept = default;

void openai_chunk_reader::read(std::string_view text, openai_chunk& out, boost::system::error_code& ec)
{
    out.has_choice = out.bad_choice = out.has_content = out.is_error = false;
    out.content.clear();
    out.reasoning.clear();
    out.tool_call_count = 0;
    out.finish.reset();
    out.usage.reset();
    ec = {};
    auto& padded = impl_->padded;
    padded.assign(text);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    od::document doc;
    if (impl_->parser.iterate(padded.data(), text.size(), padded.size()).get(doc)) {
        ec = json::error::syntax;
        return;
    }
    od::json_type type;
    if (doc.type().get(type)) {
        ec = json::error::syntax;
        return;
    }
    if (type != od::json_type::object) {
        ec = json::error::not_object;
        return;
    }
    od::object root;
    if (doc.get_object().get(root) || read_root(root, out)) {
        ec = json::error::syntax;
        return;
    }
    // Past the root object only the end of the input may follow.
    const char* rest = nullptr;
    if (!doc.current_location().get(rest)) ec = json::error::extra_data;
}

}  // namespace liveai::providers
