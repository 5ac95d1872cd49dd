#include <liveai/providers/openai_provider.hpp>

#include <boost/json.hpp>

namespace liveai {

namespace json = boost::json;

stream_error openai_stream_error(const boost::json::value& error_value, std::string message)
{
    // By the type or string code first, then by a numeric code as an HTTP status.
    std::string kind;
    std::int64_t status = 0;
    if (const auto* e = error_value.if_object()) {
        for (const char* field : {"type", "code", "status"}) {
            const auto* v = e->if_contains(field);
            if (!v) continue;
            if (v->is_string()) kind += std::string(v->get_string()) + " ";
            else if (v->is_int64()) status = v->get_int64();
            else if (v->is_uint64()) status = static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), 999));
        }
    } else if (error_value.is_string()) {
        kind = error_value.get_string();
    }
    for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto has = [&](std::string_view word) { return kind.find(word) != std::string::npos; };
    if (has("rate_limit") || has("insufficient_quota") || has("too_many") || status == 429)
        return stream_error(error::upstream_rate_limited, std::move(message));
    if (has("authentication") || has("invalid_api_key") || has("permission") || status == 401 || status == 403)
        return stream_error(error::upstream_auth, std::move(message));
    if (has("not_found") || status == 404) return stream_error(error::upstream_not_found, std::move(message));
    if (has("timeout") || status == 408 || status == 504) return stream_error(error::upstream_timeout, std::move(message));
    if (has("server_error") || has("overloaded") || has("internal") || has("unavailable") || status >= 500)
        return stream_error(error::upstream_unavailable, std::move(message));
    return stream_error(error::provider_error, std::move(message), false);
}

openai_provider::openai_provider(upstream_settings settings, std::string model, std::string system_prompt, request req)
    : http_stream_provider("openai", std::move(settings))
{
    json::array messages;
    if (!system_prompt.empty()) messages.push_back(json::object{{"role", "system"}, {"content", system_prompt}});
    prompt_to_message(req);
    for (const auto& m : req.messages) {
        json::object out{{"role", to_string(m.role)}};
        if (m.role == message_role::assistant && !m.tool_calls.empty()) {
            json::array calls;
            for (const auto& c : m.tool_calls)
                calls.push_back(json::object{{"id", c.id},
                                             {"type", "function"},
                                             {"function", json::object{{"name", c.name}, {"arguments", c.arguments}}}});
            out["tool_calls"] = std::move(calls);
            out["content"] = m.content.empty() ? json::value(nullptr) : json::value(m.content);
        } else {
            out["content"] = m.content;
        }
        if (m.role == message_role::tool) out["tool_call_id"] = m.tool_call_id;
        messages.push_back(std::move(out));
    }
    json::object body{{"model", model},
                      {"messages", std::move(messages)},
                      {"stream", true},
                      {"stream_options", json::object{{"include_usage", true}}}};
    // A client's options (where the block allows them) over the block's.
    const auto& o = req.options;
    if (const auto t = o.temperature ? o.temperature : this->settings().temperature) body["temperature"] = *t;
    if (const auto n = o.max_tokens ? o.max_tokens : this->settings().max_tokens) body[this->settings().max_tokens_field] = *n;
    if (o.top_p) body["top_p"] = *o.top_p;
    if (o.seed) body["seed"] = *o.seed;
    if (!o.stop.empty()) {
        json::array stop;
        for (const auto& s : o.stop) stop.push_back(json::string(s));
        body["stop"] = std::move(stop);
    }
    if (!req.tools.empty()) {
        json::array tools;
        for (const auto& t : req.tools) {
            json::object fn{{"name", t.name}};
            if (!t.description.empty()) fn["description"] = t.description;
            fn["parameters"] = t.parameters.empty() ? json::value(json::object{{"type", "object"}, {"properties", json::object{}}})
                                                    : json::parse(t.parameters);
            tools.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
        }
        body["tools"] = std::move(tools);
    }
    if (req.tool_choice == "auto" || req.tool_choice == "none" || req.tool_choice == "required")
        body["tool_choice"] = req.tool_choice;
    else if (!req.tool_choice.empty())
        body["tool_choice"] = json::object{{"type", "function"}, {"function", json::object{{"name", req.tool_choice}}}};

    request_spec spec;
    spec.path_and_query = "/chat/completions";
    spec.body = json::serialize(body);
    if (const auto key = api_key(); !key.empty()) spec.headers.emplace_back("Authorization", "Bearer " + key);
    set_request(std::move(spec));
}

http_stream_provider::event_action openai_provider::on_event(std::string_view data, delta_sink& out)
{
    if (data == "[DONE]") return event_action::end;
    boost::system::error_code ec;
    reader_.read(data, chunk_, ec);
    if (ec)
        throw stream_error(error::upstream_protocol, "openai sent an event that is not a JSON object: " + upstream_message(data));
    if (chunk_.is_error) {
        // Rare: read the error object whole, for its type and code.
        const auto value = json::parse(data, ec);
        const auto& obj = value.get_object();
        const json::value* err = obj.if_contains("error");
        throw openai_stream_error(err ? *err : value, "openai error in the stream: " + upstream_message(data));
    }
    if (chunk_.usage) set_upstream_usage(*chunk_.usage);
    if (!chunk_.has_choice) return event_action::more;  // e.g. the usage chunk
    if (chunk_.bad_choice) throw stream_error(error::upstream_protocol, "openai sent a choice that is not an object");
    if (chunk_.finish) set_finish(*chunk_.finish);
    if (!chunk_.reasoning.empty()) out.reasoning(chunk_.reasoning);
    if (chunk_.has_content && !chunk_.content.empty()) out.text_swap(chunk_.content);
    for (std::size_t i = 0; i < chunk_.tool_call_count; ++i) {
        const auto& call = chunk_.tool_calls[i];
        if (call.index < 0) throw stream_error(error::upstream_protocol, "openai sent a tool call without an index");
        if (call.id.empty() && call.name.empty() && call.arguments.empty()) continue;
        out.tool_call(static_cast<std::uint32_t>(call.index), call.id, call.name, call.arguments);
    }
    return event_action::more;
}

}  // namespace liveai
