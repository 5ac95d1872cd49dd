#include <liveai/providers/anthropic_provider.hpp>

#include <boost/json.hpp>

namespace liveai {

namespace json = boost::json;

liveai::finish_reason anthropic_finish_reason(std::string_view stop_reason) noexcept
{
    if (stop_reason == "max_tokens") return finish_reason::length;
    if (stop_reason == "refusal") return finish_reason::content_filter;
    if (stop_reason == "tool_use") return finish_reason::tool_calls;
    // end_turn, stop_sequence, pause_turn, and any reason added later.
    return finish_reason::stop;
}

liveai::error anthropic_error(std::string_view type) noexcept
{
    if (type == "overloaded_error" || type == "api_error") return error::upstream_unavailable;
    if (type == "rate_limit_error") return error::upstream_rate_limited;
    if (type == "authentication_error" || type == "permission_error") return error::upstream_auth;
    if (type == "not_found_error") return error::upstream_not_found;
    if (type == "timeout_error") return error::upstream_timeout;
    return error::provider_error;
}

anthropic_provider::anthropic_provider(upstream_settings settings, std::string model, std::string system_prompt, request req)
    : http_stream_provider("anthropic", std::move(settings))
{
    prompt_to_message(req);
    // Anthropic: the system text apart; a call as a tool_use block of the
    // assistant turn, its result as a tool_result block of a user turn (the
    // results of parallel calls in one turn).
    std::string system = system_prompt;
    json::array messages;
    bool after_tool_result = false;  // the last turn holds tool results: the next joins it
    for (const auto& m : req.messages) {
        if (m.role == message_role::system) {
            system += (system.empty() ? "" : "\n\n") + m.content;
            continue;
        }
        const bool tool_result = m.role == message_role::tool;
        if (tool_result) {
            json::object result{{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}, {"content", m.content}};
            if (after_tool_result) messages.back().as_object()["content"].as_array().push_back(std::move(result));
            else messages.push_back(json::object{{"role", "user"}, {"content", json::array{std::move(result)}}});
            after_tool_result = true;
            continue;
        }
        after_tool_result = false;
        if (m.role == message_role::assistant && !m.tool_calls.empty()) {
            json::array content;
            if (!m.content.empty()) content.push_back(json::object{{"type", "text"}, {"text", m.content}});
            for (const auto& c : m.tool_calls)
                content.push_back(json::object{{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", json::parse(c.arguments)}});
            messages.push_back(json::object{{"role", "assistant"}, {"content", std::move(content)}});
            continue;
        }
        messages.push_back(json::object{{"role", to_string(m.role)}, {"content", m.content}});
    }
    const auto& o = req.options;
    json::object body{{"model", model},
                      {"max_tokens", o.max_tokens.value_or(this->settings().max_tokens.value_or(default_max_tokens))},
                      {"messages", std::move(messages)},
                      {"stream", true}};
    if (!system.empty()) body["system"] = system;
    if (const auto t = o.temperature ? o.temperature : this->settings().temperature) body["temperature"] = std::min(*t, 1.0);
    if (o.top_p) body["top_p"] = *o.top_p;
    // No seed in the Messages API: a block that lets clients set one sends it nowhere.
    if (!o.stop.empty()) {
        json::array stop;
        for (const auto& s : o.stop) stop.push_back(json::string(s));
        body["stop_sequences"] = std::move(stop);
    }
    if (!req.tools.empty()) {
        json::array tools;
        for (const auto& t : req.tools) {
            json::object tool{{"name", t.name}};
            if (!t.description.empty()) tool["description"] = t.description;
            tool["input_schema"] = t.parameters.empty() ? json::value(json::object{{"type", "object"}}) : json::parse(t.parameters);
            tools.push_back(std::move(tool));
        }
        body["tools"] = std::move(tools);
    }
    if (req.tool_choice == "auto" || req.tool_choice == "none") body["tool_choice"] = json::object{{"type", req.tool_choice}};
    else if (req.tool_choice == "required") body["tool_choice"] = json::object{{"type", "any"}};
    else if (!req.tool_choice.empty()) body["tool_choice"] = json::object{{"type", "tool"}, {"name", req.tool_choice}};

    request_spec spec;
    spec.path_and_query = "/messages";
    spec.body = json::serialize(body);
    if (const auto key = api_key(); !key.empty()) spec.headers.emplace_back("x-api-key", key);
    spec.headers.emplace_back("anthropic-version", std::string(api_version));
    set_request(std::move(spec));
}

namespace {

std::optional<std::uint64_t> count(const json::object& usage, std::string_view field)
{
    const auto* v = usage.if_contains(field);
    if (v && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    if (v && v->is_uint64()) return v->get_uint64();
    return std::nullopt;
}

}  // namespace

std::optional<std::uint32_t> anthropic_provider::call_of(const boost::json::value* block_index) const noexcept
{
    if (!block_index || !block_index->is_int64()) return std::nullopt;
    for (std::size_t i = 0; i < calls_.size(); ++i)
        if (calls_[i].block == block_index->get_int64()) return static_cast<std::uint32_t>(i);
    return std::nullopt;
}

http_stream_provider::event_action anthropic_provider::on_event(std::string_view data, delta_sink& out)
{
    unsigned char scratch[4096];
    json::monotonic_resource memory(scratch, sizeof scratch);
    boost::system::error_code ec;
    const auto value = json::parse(data, ec, &memory);
    const auto* event = ec ? nullptr : value.if_object();
    const json::string* type = nullptr;
    if (event)
        if (const auto* t = event->if_contains("type")) type = t->if_string();
    if (!type)
        throw stream_error(error::upstream_protocol, "anthropic sent an event that is not a JSON object with a type: " +
                                                         upstream_message(data));

    if (*type == "content_block_delta") {
        const auto* delta = event->if_contains("delta");
        const auto* d = delta ? delta->if_object() : nullptr;
        if (!d) throw stream_error(error::upstream_protocol, "anthropic sent a content_block_delta without a delta object");
        const auto* kind_value = d->if_contains("type");
        const std::string_view kind = kind_value && kind_value->is_string() ? std::string_view(kind_value->get_string()) : "";
        const auto string_of = [&](std::string_view field) -> std::string_view {
            const auto* v = d->if_contains(field);
            if (!v || !v->is_string())
                throw stream_error(error::upstream_protocol, "anthropic sent a " + std::string(kind) + " without " + std::string(field));
            return v->get_string();
        };
        if (kind == "text_delta") {
            if (const auto t = string_of("text"); !t.empty()) out.text(t);
        } else if (kind == "thinking_delta") {
            if (const auto t = string_of("thinking"); !t.empty()) out.reasoning(t);
        } else if (kind == "input_json_delta") {
            const auto json_part = string_of("partial_json");
            const auto call = call_of(event->if_contains("index"));
            if (!call) throw stream_error(error::upstream_protocol, "anthropic sent input_json_delta outside a tool_use block");
            if (!json_part.empty()) {
                out.tool_call(*call, "", "", json_part);
                calls_[*call].has_input = true;
            }
        }
        // signature_delta, citations_delta, and kinds added later: not output.
        return event_action::more;
    }
    if (*type == "message_start") {
        if (const auto* m = event->if_contains("message"); m && m->is_object())
            if (const auto* u = m->get_object().if_contains("usage"); u && u->is_object())
                input_tokens_ = count(u->get_object(), "input_tokens");
        return event_action::more;
    }
    if (*type == "content_block_start") {
        const auto* b = event->if_contains("content_block");
        if (!b || !b->is_object()) return event_action::more;
        const auto& block = b->get_object();
        const auto* kind = block.if_contains("type");
        const auto string_field = [&](std::string_view f) -> std::string_view {
            const auto* v = block.if_contains(f);
            return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
        };
        if (kind && kind->is_string() && kind->get_string() == "tool_use") {
            const auto* index = event->if_contains("index");
            if (!index || !index->is_int64() || string_field("id").empty() || string_field("name").empty())
                throw stream_error(error::upstream_protocol, "anthropic sent a tool_use block without index, id or name");
            calls_.push_back({index->get_int64(), false});
            out.tool_call(static_cast<std::uint32_t>(calls_.size() - 1), string_field("id"), string_field("name"), "");
        } else if (kind && kind->is_string() && kind->get_string() == "text" && !string_field("text").empty()) {
            out.text(string_field("text"));  // "" in practice: the text comes in deltas
        }
        return event_action::more;
    }
    if (*type == "content_block_stop") {
        // A tool without parameters gets no input_json_delta: its input is {}.
        if (const auto call = call_of(event->if_contains("index")); call && !calls_[*call].has_input) {
            out.tool_call(*call, "", "", "{}");
            calls_[*call].has_input = true;
        }
        return event_action::more;
    }
    if (*type == "message_delta") {
        if (const auto* d = event->if_contains("delta"); d && d->is_object())
            if (const auto* r = d->get_object().if_contains("stop_reason"); r && r->is_string()) {
                set_finish(anthropic_finish_reason(r->get_string()));
            }
        // Cumulative counts; input_tokens is here too in newer API versions.
        if (const auto* u = event->if_contains("usage"); u && u->is_object()) {
            const auto output = count(u->get_object(), "output_tokens");
            const auto input = count(u->get_object(), "input_tokens");
            if (input) input_tokens_ = input;
            if (output && input_tokens_) set_upstream_usage(liveai::usage{*input_tokens_, *output});
        }
        return event_action::more;
    }
    if (*type == "message_stop") return event_action::end;
    if (*type == "error") {
        std::string_view kind;
        if (const auto* e = event->if_contains("error"); e && e->is_object())
            if (const auto* t = e->get_object().if_contains("type"); t && t->is_string()) kind = t->get_string();
        throw stream_error(anthropic_error(kind), "anthropic error in the stream: " + upstream_message(data));
    }
    // ping, and event types added later (the API says
    // to expect new ones).
    return event_action::more;
}

}  // namespace liveai
