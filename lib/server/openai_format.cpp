#include "openai_format.hpp"

#include <liveai/transport/event_format.hpp>

namespace liveai::server::detail {

using transport::append_json_string;

namespace {

std::string_view error_type(unsigned status) noexcept
{
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

void append_error_object(std::string& out, unsigned status, std::string_view code, std::string_view message, std::string_view param)
{
    out += R"({"error":{"message":)";
    append_json_string(out, message);
    out += R"(,"type":")";
    out += error_type(status);
    out += R"(","param":)";
    if (param.empty()) out += "null";
    else append_json_string(out, param);
    out += R"(,"code":)";
    append_json_string(out, code);
    out += "}}";
}

void append_usage(std::string& out, const usage& u)
{
    out += R"({"prompt_tokens":)";
    out += std::to_string(u.input_tokens);
    out += R"(,"completion_tokens":)";
    out += std::to_string(u.output_tokens);
    out += R"(,"total_tokens":)";
    out += std::to_string(u.input_tokens + u.output_tokens);
    out += '}';
}

}  // namespace

std::string_view openai_finish_reason(finish_reason reason) noexcept
{
    switch (reason) {
    case finish_reason::length: return "length";
    case finish_reason::content_filter: return "content_filter";
    case finish_reason::tool_calls: return "tool_calls";
    default: return "stop";
    }
}

openai_chunk_writer::openai_chunk_writer(std::string_view stream_id, std::string_view model, std::int64_t created,
                                         bool include_usage)
    : include_usage_(include_usage)
{
    std::string head = R"({"id":"chatcmpl-)";
    head += stream_id;
    head += R"(","object":"chat.completion.chunk","created":)";
    head += std::to_string(created);
    head += R"(,"model":)";
    append_json_string(head, model);
    prefix_ = "data: " + head + R"(,"choices":[{"index":0,"delta":{)";
    usage_prefix_ = "data: " + head + R"(,"choices":[],"usage":)";
}

void openai_chunk_writer::open_delta(std::string& out)
{
    out += prefix_;
    if (!role_sent_) {
        out += R"("role":"assistant",)";
        role_sent_ = true;
    }
}

void openai_chunk_writer::close_delta(std::string& out, std::string_view finish)
{
    if (finish.empty()) {
        out += R"(},"finish_reason":null}]})";
    } else {
        out += R"(},"finish_reason":")";
        out += finish;
        out += R"("}]})";
    }
    out += "\n\n";
}

void openai_chunk_writer::text(std::string& out, std::string_view text)
{
    open_delta(out);
    out += R"("content":)";
    append_json_string(out, text);
    close_delta(out);
}

void openai_chunk_writer::reasoning(std::string& out, std::string_view text)
{
    open_delta(out);
    out += R"("reasoning_content":)";
    append_json_string(out, text);
    close_delta(out);
}

void openai_chunk_writer::tool_call(std::string& out, std::uint64_t index, std::string_view id, std::string_view name,
                                    std::string_view arguments)
{
    open_delta(out);
    out += R"("tool_calls":[{"index":)";
    out += std::to_string(index);
    if (!id.empty()) {
        out += R"(,"id":)";
        append_json_string(out, id);
        out += R"(,"type":"function")";
    }
    out += R"(,"function":{)";
    if (!id.empty() || !name.empty()) {
        out += R"("name":)";
        append_json_string(out, name);
        out += ',';
    }
    out += R"("arguments":)";
    append_json_string(out, arguments);
    out += "}}]";
    close_delta(out);
}

void openai_chunk_writer::finish(std::string& out, finish_reason reason, const std::optional<usage>& u)
{
    if (reason == finish_reason::cancelled) {
        append_openai_stream_error(out, 499, "cancelled", "the stream was cancelled before its end");
        return;
    }
    // A stream with no delta still says who spoke.
    if (!role_sent_) {
        open_delta(out);
        out.pop_back();  // the comma after the role
    } else {
        out += prefix_;
    }
    close_delta(out, openai_finish_reason(reason));
    if (include_usage_) {
        out += usage_prefix_;
        if (u) append_usage(out, *u);
        else out += "null";  // the provider reported none: not made up
        out += "}\n\n";
    }
    out += "data: [DONE]\n\n";
}

std::string openai_error_body(unsigned status, std::string_view code, std::string_view message, std::string_view param)
{
    std::string out;
    append_error_object(out, status, code, message, param);
    return out;
}

void append_openai_stream_error(std::string& out, unsigned status, std::string_view code, std::string_view message)
{
    out += "data: ";
    append_error_object(out, status, code, message, {});
    out += "\n\n";
}

std::string openai_completion_body(const openai_completion& c)
{
    std::string out = R"({"id":"chatcmpl-)";
    out += c.stream_id;
    out += R"(","object":"chat.completion","created":)";
    out += std::to_string(c.created);
    out += R"(,"model":)";
    append_json_string(out, c.model);
    out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
    if (c.text.empty() && !c.tool_calls.empty()) out += "null";
    else append_json_string(out, c.text);
    if (!c.reasoning.empty()) {
        out += R"(,"reasoning_content":)";
        append_json_string(out, c.reasoning);
    }
    if (!c.tool_calls.empty()) {
        out += R"(,"tool_calls":[)";
        for (std::size_t i = 0; i < c.tool_calls.size(); ++i) {
            const auto& call = c.tool_calls[i];
            out += i ? R"(,{"id":)" : R"({"id":)";
            append_json_string(out, call.id);
            out += R"(,"type":"function","function":{"name":)";
            append_json_string(out, call.name);
            out += R"(,"arguments":)";
            append_json_string(out, call.arguments);
            out += "}}";
        }
        out += ']';
    }
    out += R"(},"logprobs":null,"finish_reason":")";
    out += openai_finish_reason(c.reason);
    out += R"("}])";
    if (c.usage) {
        out += R"(,"usage":)";
        append_usage(out, *c.usage);
    }
    out += '}';
    return out;
}

}  // namespace liveai::server::detail
