#include <liveai/client/stream_event.hpp>
#include <liveai/error.hpp>

#include <boost/json.hpp>

namespace liveai::client {

namespace {

[[noreturn]] void malformed(std::string_view type, std::string_view what)
{
    throw stream_error(error::invalid_message, "malformed \"" + std::string(type) + "\" event: " + std::string(what));
}

std::uint64_t uint_of(const boost::json::object& o, std::string_view key, std::string_view type)
{
    const auto* v = o.if_contains(key);
    if (!v || !v->is_number()) malformed(type, std::string(key) + " is missing or not a number");
    boost::system::error_code ec;
    const auto n = v->to_number<std::uint64_t>(ec);
    if (ec) malformed(type, std::string(key) + " is not a count");
    return n;
}

std::string string_of(const boost::json::object& o, std::string_view key, std::string_view type)
{
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string()) malformed(type, std::string(key) + " is missing or not a string");
    return std::string(v->get_string());
}

}  // namespace

stream_event parse_stream_event(std::string_view type, std::string_view json, std::string_view id)
{
    boost::system::error_code ec;
    const auto value = boost::json::parse(json, ec);
    if (ec || !value.is_object()) malformed(type, "data is not a JSON object");
    const auto& o = value.get_object();
    stream_event e;
    e.id = id;
    if (type == "chunk") {
        e.type = event_type::chunk;
        e.index = uint_of(o, "index", type);
        e.text = string_of(o, "text", type);
    } else if (type == "reasoning") {
        e.type = event_type::reasoning;
        e.index = uint_of(o, "index", type);
        e.text = string_of(o, "text", type);
    } else if (type == "tool_call") {
        e.type = event_type::tool_call;
        e.index = uint_of(o, "index", type);
        e.text = string_of(o, "arguments", type);
        // SSE data names the call's id "id"; a WebSocket message "call_id".
        if (o.contains("call_id")) e.tool_call_id = string_of(o, "call_id", type);
        else if (o.contains("id")) e.tool_call_id = string_of(o, "id", type);
        if (o.contains("name")) e.tool_name = string_of(o, "name", type);
    } else if (type == "complete") {
        e.type = event_type::complete;
        const auto reason = finish_reason_from_string(string_of(o, "finish_reason", type));
        if (!reason) malformed(type, "unknown finish_reason");
        e.finish = *reason;
        e.chunks = uint_of(o, "chunks", type);
        const auto* u = o.if_contains("usage");
        if (!u) malformed(type, "has no usage (null when unknown)");
        if (u->is_object()) {
            e.usage = liveai::usage{uint_of(u->get_object(), "input_tokens", type),
                                    uint_of(u->get_object(), "output_tokens", type)};
        } else if (!u->is_null()) {
            malformed(type, "usage is neither an object nor null");
        }
    } else if (type == "error") {
        e.type = event_type::error;
        e.code = string_of(o, "code", type);
        e.message = string_of(o, "message", type);
        const auto* r = o.if_contains("retryable");
        e.retryable = r && r->is_bool() && r->get_bool();
    } else {
        malformed(type, "not an event of the contract");
    }
    return e;
}

}  // namespace liveai::client
