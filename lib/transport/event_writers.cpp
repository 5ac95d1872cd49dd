#include <liveai/transport/sse_event_writer.hpp>
#include <liveai/transport/ws_message_writer.hpp>

#include <charconv>

namespace liveai::transport {
namespace {

void append_id(std::string& out, std::string_view stream_id, std::uint64_t seq)
{
    out.append(stream_id);
    out.push_back('.');
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
    out.append(digits, end);
}

}  // namespace

void sse_event_writer::event(std::string& out, std::string_view stream_id, std::uint64_t seq, event_kind kind,
                             std::string_view payload)
{
    out.append("id: ");
    append_id(out, stream_id, seq);
    out.append("\nevent: ");
    out.append(event_name(kind));
    out.append("\ndata: ");
    out.append(payload);
    out.append("\n\n");
}

void sse_event_writer::id_only(std::string& out, std::string_view stream_id, std::uint64_t seq)
{
    out.append("id: ");
    append_id(out, stream_id, seq);
    out.append("\n\n");
}

void sse_event_writer::retry(std::string& out, std::chrono::milliseconds interval)
{
    out.append("retry: ");
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, static_cast<std::uint64_t>(interval.count()));
    out.append(digits, end);
    out.append("\n\n");
}

void sse_event_writer::ping(std::string& out) { out.append(": ping\n\n"); }

void ws_message_writer::message(std::string& out, event_kind kind, std::string_view payload, std::string_view stream_id,
                                std::uint64_t seq)
{
    out.append(R"({"type":")");
    out.append(event_name(kind));
    out.push_back('"');
    if (!stream_id.empty()) {
        out.append(R"(,"id":")");
        append_id(out, stream_id, seq);
        out.push_back('"');
    }
    // The payload is a JSON object: merge its members after ours.
    auto members = payload.size() >= 2 ? payload.substr(1) : std::string_view("}");
    if (members != "}") out.push_back(',');
    if (kind == event_kind::tool_call) {
        // `id` is the event's on the WebSocket: the call's id is `call_id`
        // there. The payload is {"index":<digits>,"id":...}, so the first
        // ,"id": is the call's.
        constexpr std::string_view call_id = R"(,"id":)";
        if (const auto at = members.find(call_id); at != std::string_view::npos) {
            out.append(members.substr(0, at));
            out.append(R"(,"call_id":)");
            members.remove_prefix(at + call_id.size());
        }
    }
    out.append(members);
}

}  // namespace liveai::transport
