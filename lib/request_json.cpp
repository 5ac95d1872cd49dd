#include <liveai/request_json.hpp>

#include <liveai/error.hpp>

#include <boost/json.hpp>

#include <array>
#include <cmath>
#include <sstream>

namespace liveai {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 5> option_names{"max_tokens", "temperature", "top_p", "stop", "seed"};

[[noreturn]] void bad(const std::string& where, const std::string& what)
{
    throw stream_error(error::invalid_request, where + ": " + what);
}

const json::string& string_at(const json::value& v, const std::string& where)
{
    if (!v.is_string()) bad(where, "must be a string");
    return v.get_string();
}

double number_at(const json::value& v, const std::string& where, double min, double max)
{
    if (!v.is_number()) bad(where, "must be a number");
    const double d = v.to_number<double>();
    if (!(d >= min && d <= max)) {
        std::ostringstream range;
        range << "must be from " << min << " to " << max;
        bad(where, range.str());
    }
    return d;
}

std::int64_t integer_at(const json::value& v, const std::string& where, std::int64_t min, std::int64_t max)
{
    boost::system::error_code ec;
    const auto n = v.is_number() ? v.to_number<std::int64_t>(ec) : 0;
    if (!v.is_number() || ec) bad(where, "must be an integer");
    if (n < min || n > max) bad(where, "must be from " + std::to_string(min) + " to " + std::to_string(max));
    return n;
}

// A JSON value kept as its text: tool-call arguments and tool parameters.
// Arguments may come as an object or as the string OpenAI sends.
std::string json_object_text(const json::value& v, const std::string& where, bool allow_string)
{
    if (v.is_object()) return json::serialize(v);
    if (allow_string && v.is_string()) {
        boost::system::error_code ec;
        const auto parsed = json::parse(v.get_string(), ec);
        if (ec || !parsed.is_object()) bad(where, "must be a JSON object (or a string holding one)");
        return std::string(v.get_string());
    }
    bad(where, allow_string ? "must be a JSON object (or a string holding one)" : "must be a JSON object");
}

// OpenAI's content: a string, or an array of {"type": "text", "text": ...} parts.
std::string content_at(const json::value& v, const std::string& where)
{
    if (v.is_string()) return std::string(v.get_string());
    if (!v.is_array()) bad(where, "must be a string or an array of text parts");
    std::string text;
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        const auto here = where + "[" + std::to_string(i) + "]";
        const auto* part = v.get_array()[i].if_object();
        if (!part) bad(here, "must be an object");
        const auto* type = part->if_contains("type");
        if (!type || !type->is_string() || type->get_string() != "text") bad(here, "only text parts are supported");
        const auto* t = part->if_contains("text");
        if (!t) bad(here + ".text", "is missing");
        text += string_at(*t, here + ".text");
    }
    return text;
}

tool_call read_tool_call(const json::value& v, const std::string& where)
{
    const auto* o = v.if_object();
    if (!o) bad(where, "must be an object");
    tool_call call;
    if (const auto* id = o->if_contains("id")) call.id = string_at(*id, where + ".id");
    if (call.id.empty()) bad(where + ".id", "must be a non-empty string");
    // {"id", "type": "function", "function": {"name", "arguments"}}, or flat {"id", "name", "arguments"}.
    const json::object* fn = o;
    std::string fn_where = where;
    if (const auto* f = o->if_contains("function")) {
        fn = f->if_object();
        fn_where = where + ".function";
        if (!fn) bad(fn_where, "must be an object");
    }
    const auto* name = fn->if_contains("name");
    if (!name) bad(fn_where + ".name", "is missing");
    call.name = string_at(*name, fn_where + ".name");
    const auto* args = fn->if_contains("arguments");
    call.arguments = args ? json_object_text(*args, fn_where + ".arguments", true) : "{}";
    return call;
}

message read_message(const json::value& v, const std::string& where)
{
    const auto* o = v.if_object();
    if (!o) bad(where, "must be an object");
    message m;
    const auto* role = o->if_contains("role");
    if (!role) bad(where + ".role", "is missing");
    const auto& r = string_at(*role, where + ".role");
    if (r == "system" || r == "developer") m.role = message_role::system;
    else if (r == "user") m.role = message_role::user;
    else if (r == "assistant") m.role = message_role::assistant;
    else if (r == "tool") m.role = message_role::tool;
    else bad(where + ".role", "must be system, user, assistant or tool; got \"" + std::string(r).substr(0, 32) + "\"");
    const auto* content = o->if_contains("content");
    if (content && !content->is_null()) m.content = content_at(*content, where + ".content");
    if (const auto* calls = o->if_contains("tool_calls"); calls && !calls->is_null()) {
        if (m.role != message_role::assistant) bad(where + ".tool_calls", "only an assistant message carries tool calls");
        if (!calls->is_array()) bad(where + ".tool_calls", "must be an array");
        for (std::size_t i = 0; i < calls->get_array().size(); ++i)
            m.tool_calls.push_back(read_tool_call(calls->get_array()[i], where + ".tool_calls[" + std::to_string(i) + "]"));
    }
    if (m.role == message_role::tool) {
        const auto* id = o->if_contains("tool_call_id");
        if (!id) bad(where + ".tool_call_id", "a tool message names the call it answers");
        m.tool_call_id = string_at(*id, where + ".tool_call_id");
        if (m.tool_call_id.empty()) bad(where + ".tool_call_id", "must not be empty");
    } else if (o->contains("tool_call_id")) {
        bad(where + ".tool_call_id", "only a tool message carries a tool_call_id");
    }
    if (m.content.empty() && m.tool_calls.empty() && m.role != message_role::tool)
        bad(where + ".content", "must not be empty");
    return m;
}

bool valid_tool_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    return true;
}

tool_definition read_tool(const json::value& v, const std::string& where)
{
    const auto* o = v.if_object();
    if (!o) bad(where, "must be an object");
    // {"type": "function", "function": {...}} or flat {"name", "description", "parameters"}.
    const json::object* fn = o;
    std::string fn_where = where;
    if (const auto* type = o->if_contains("type"); type && (!type->is_string() || type->get_string() != "function"))
        bad(where + ".type", "must be \"function\"");
    if (const auto* f = o->if_contains("function")) {
        fn = f->if_object();
        fn_where = where + ".function";
        if (!fn) bad(fn_where, "must be an object");
    }
    tool_definition t;
    const auto* name = fn->if_contains("name");
    if (!name) bad(fn_where + ".name", "is missing");
    t.name = string_at(*name, fn_where + ".name");
    if (!valid_tool_name(t.name)) bad(fn_where + ".name", "must be 1 to 64 letters, digits, _ or -");
    if (const auto* d = fn->if_contains("description")) t.description = string_at(*d, fn_where + ".description");
    if (t.description.size() > 4096) bad(fn_where + ".description", "must be at most 4096 bytes");
    if (const auto* p = fn->if_contains("parameters"); p && !p->is_null())
        t.parameters = json_object_text(*p, fn_where + ".parameters", false);
    return t;
}

void read_options(const json::value& v, request_options& o)
{
    const auto* obj = v.if_object();
    if (!obj) bad("options", "must be an object");
    for (const auto& [key, value] : *obj) {
        const std::string where = "options." + std::string(key.substr(0, 64));
        if (key == "max_tokens") o.max_tokens = static_cast<std::uint32_t>(integer_at(value, where, 1, 10'000'000));
        else if (key == "temperature") o.temperature = number_at(value, where, 0, 2);
        else if (key == "top_p") o.top_p = number_at(value, where, 0, 1);
        else if (key == "seed") o.seed = integer_at(value, where, INT64_MIN, INT64_MAX);
        else if (key == "stop") {
            o.stop.clear();
            if (value.is_string()) {
                o.stop.emplace_back(value.get_string());
            } else if (value.is_array()) {
                if (value.get_array().size() > 4) bad(where, "at most 4 stop sequences");
                for (std::size_t i = 0; i < value.get_array().size(); ++i)
                    o.stop.emplace_back(string_at(value.get_array()[i], where + "[" + std::to_string(i) + "]"));
            } else {
                bad(where, "must be a string or an array of strings");
            }
            for (const auto& s : o.stop)
                if (s.empty() || s.size() > 256) bad(where, "each stop sequence must be 1 to 256 bytes");
        } else {
            bad(where, "is not an option (available: max_tokens, temperature, top_p, stop, seed)");
        }
    }
}

}  // namespace

bool is_request_option(std::string_view name) noexcept
{
    for (auto n : option_names)
        if (n == name) return true;
    return false;
}

std::string_view to_string(message_role role) noexcept
{
    switch (role) {
    case message_role::system: return "system";
    case message_role::user: return "user";
    case message_role::assistant: return "assistant";
    case message_role::tool: return "tool";
    }
    return "user";
}

void prompt_to_message(request& req)
{
    if (!req.messages.empty() || req.prompt.empty()) return;
    req.messages.push_back(message{message_role::user, std::move(req.prompt), {}, {}});
    req.prompt.clear();
}

std::string_view last_user_text(const request& req) noexcept
{
    for (auto it = req.messages.rbegin(); it != req.messages.rend(); ++it)
        if (it->role == message_role::user) return it->content;
    return req.messages.empty() ? std::string_view(req.prompt) : std::string_view{};
}

request request_from_json(const json::object& body)
{
    request req;
    if (const auto* prompt = body.if_contains("prompt")) {
        if (!prompt->is_string()) throw stream_error(error::invalid_prompt, R"("prompt" must be a string)");
        req.prompt = prompt->get_string();
    }
    if (const auto* messages = body.if_contains("messages")) {
        if (!messages->is_array()) bad("messages", "must be an array");
        if (messages->get_array().empty()) bad("messages", "must not be empty");
        if (body.contains("prompt")) bad("messages", "send either prompt or messages, not both");
        req.messages.reserve(messages->get_array().size());
        for (std::size_t i = 0; i < messages->get_array().size(); ++i)
            req.messages.push_back(read_message(messages->get_array()[i], "messages[" + std::to_string(i) + "]"));
    } else if (!body.contains("prompt")) {
        throw stream_error(error::invalid_prompt, R"(the body must be a JSON object with a string "prompt" or a "messages" array)");
    }
    if (const auto* options = body.if_contains("options"); options && !options->is_null()) read_options(*options, req.options);
    if (const auto* tools = body.if_contains("tools"); tools && !tools->is_null()) {
        if (!tools->is_array()) bad("tools", "must be an array");
        if (tools->get_array().size() > 128) bad("tools", "at most 128 tools");
        for (std::size_t i = 0; i < tools->get_array().size(); ++i) {
            auto t = read_tool(tools->get_array()[i], "tools[" + std::to_string(i) + "]");
            for (const auto& other : req.tools)
                if (other.name == t.name) bad("tools[" + std::to_string(i) + "].name", "\"" + t.name + "\" is defined twice");
            req.tools.push_back(std::move(t));
        }
    }
    if (const auto* choice = body.if_contains("tool_choice"); choice && !choice->is_null()) {
        if (choice->is_string()) {
            req.tool_choice = choice->get_string();  // a mode, or a tool's name
        } else if (const auto* o = choice->if_object()) {
            const auto* fn = o->if_contains("function");
            const auto* name = fn && fn->is_object() ? fn->get_object().if_contains("name") : nullptr;
            if (!name || !name->is_string() || name->get_string().empty())
                bad("tool_choice", "an object names a function: {\"type\": \"function\", \"function\": {\"name\": ...}}");
            req.tool_choice = name->get_string();
        } else {
            bad("tool_choice", "must be a string or an object");
        }
        if (req.tool_choice != "auto" && req.tool_choice != "none" && req.tool_choice != "required") {
            bool known = false;
            for (const auto& t : req.tools) known = known || t.name == req.tool_choice;
            if (!known) bad("tool_choice", "names \"" + req.tool_choice.substr(0, 64) + "\", which is not in tools");
        } else if (req.tool_choice != "none" && req.tools.empty() && req.tool_choice == "required") {
            bad("tool_choice", "\"required\" needs tools");
        }
    }
    return req;
}

}  // namespace liveai
