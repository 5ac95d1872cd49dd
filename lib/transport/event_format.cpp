#include <liveai/transport/event_format.hpp>

#include <charconv>

namespace liveai::transport {
namespace {

void append_number(std::string& out, std::uint64_t value)
{
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, end);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;  // start of the pending unescaped run
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(text.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
            out.append("\\u00");
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        }
    }
    out.append(text.data() + run, text.size() - run);
    out.push_back('"');
}

namespace {

// {["type":...,]"index":n,"text":...}: a chunk's and a reasoning delta's shape.
void append_indexed_text(std::string& out, std::string_view typed_prefix, std::uint64_t index, std::string_view text,
                         bool with_type)
{
    out.append(with_type ? typed_prefix : R"({"index":)");
    append_number(out, index);
    out.append(R"(,"text":)");
    append_json_string(out, text);
    out.push_back('}');
}

}  // namespace

void append_chunk_json(std::string& out, std::uint64_t index, std::string_view text, bool with_type)
{
    append_indexed_text(out, R"({"type":"chunk","index":)", index, text, with_type);
}

void append_reasoning_json(std::string& out, std::uint64_t index, std::string_view text, bool with_type)
{
    append_indexed_text(out, R"({"type":"reasoning","index":)", index, text, with_type);
}

void append_tool_call_json(std::string& out, std::uint64_t index, std::string_view id, std::string_view name,
                           std::string_view arguments, bool with_type)
{
    out.append(with_type ? R"({"type":"tool_call","index":)" : R"({"index":)");
    append_number(out, index);
    if (!id.empty()) {
        out.append(R"(,"id":)");
        append_json_string(out, id);
    }
    if (!name.empty()) {
        out.append(R"(,"name":)");
        append_json_string(out, name);
    }
    out.append(R"(,"arguments":)");
    append_json_string(out, arguments);
    out.push_back('}');
}

void append_usage_json(std::string& out, const std::optional<usage>& u)
{
    if (!u) {
        out.append("null");
        return;
    }
    out.append(R"({"input_tokens":)");
    append_number(out, u->input_tokens);
    out.append(R"(,"output_tokens":)");
    append_number(out, u->output_tokens);
    out.push_back('}');
}

void append_complete_json(std::string& out, finish_reason reason, const std::optional<usage>& u, std::uint64_t chunks,
                          bool with_type, std::string_view provider, std::string_view model)
{
    out.append(with_type ? R"({"type":"complete","finish_reason":")" : R"({"finish_reason":")");
    out.append(to_string(reason));
    out.append(R"(","usage":)");
    append_usage_json(out, u);
    out.append(R"(,"chunks":)");
    append_number(out, chunks);
    append_served_by(out, provider, model);
    out.push_back('}');
}

void append_served_by(std::string& out, std::string_view provider, std::string_view model)
{
    if (provider.empty()) return;
    out.append(R"(,"provider":)");
    append_json_string(out, provider);
    out.append(R"(,"model":)");
    append_json_string(out, model);
}

void append_error_json(std::string& out, std::string_view code, std::string_view message, bool retryable, bool with_type)
{
    out.append(with_type ? R"({"type":"error","code":)" : R"({"code":)");
    append_json_string(out, code);
    out.append(R"(,"message":)");
    append_json_string(out, message);
    out.append(retryable ? R"(,"retryable":true})" : R"(,"retryable":false})");
}

}  // namespace liveai::transport
