#include <liveai/providers/anthropic_provider.hpp>

#include <boost/json.hpp>

namespace liveai {

namespace json = boost::json;

std::optional<liveai::finish_reason> anthropic_finish_reason(std::string_view stop_reason) noexcept
{
    if (stop_reason == "max_tokens") return finish_reason::length;
    if (stop_reason == "refusal") return finish_reason::content_filter;
    if (stop_reason == "tool_use") return std::nullopt;
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
    json::object body{{"model", model},
                      {"max_tokens", this->settings().max_tokens.value_or(default_max_tokens)},
                      {"messages", json::array{json::object{{"role", "user"}, {"content", req.prompt}}}},
                      {"stream", true}};
    if (!system_prompt.empty()) body["system"] = system_prompt;
    if (this->settings().temperature) body["temperature"] = *this->settings().temperature;

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

http_stream_provider::event_action anthropic_provider::on_event(std::string_view data, std::string& text)
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
        const auto* kind = d->if_contains("type");
        // thinking_delta, signature_delta, input_json_delta, citations_delta:
        // not text. (A request asks for neither thinking nor tools yet.)
        if (!kind || !kind->is_string() || kind->get_string() != "text_delta") return event_action::skip;
        const auto* t = d->if_contains("text");
        if (!t || !t->is_string()) throw stream_error(error::upstream_protocol, "anthropic sent a text_delta without text");
        if (t->get_string().empty()) return event_action::skip;
        text.assign(t->get_string().data(), t->get_string().size());
        return event_action::token;
    }
    if (*type == "message_start") {
        if (const auto* m = event->if_contains("message"); m && m->is_object())
            if (const auto* u = m->get_object().if_contains("usage"); u && u->is_object())
                input_tokens_ = count(u->get_object(), "input_tokens");
        return event_action::skip;
    }
    if (*type == "content_block_start") {
        // A text block may start with text of its own (it is "" in practice).
        const auto* b = event->if_contains("content_block");
        if (!b || !b->is_object()) return event_action::skip;
        const auto* kind = b->get_object().if_contains("type");
        const auto* t = b->get_object().if_contains("text");
        if (!kind || !kind->is_string() || kind->get_string() != "text" || !t || !t->is_string() || t->get_string().empty())
            return event_action::skip;
        text.assign(t->get_string().data(), t->get_string().size());
        return event_action::token;
    }
    if (*type == "message_delta") {
        if (const auto* d = event->if_contains("delta"); d && d->is_object())
            if (const auto* r = d->get_object().if_contains("stop_reason"); r && r->is_string()) {
                const auto reason = anthropic_finish_reason(r->get_string());
                if (!reason)
                    throw stream_error(error::provider_error,
                                       "anthropic ended the message with stop_reason " + std::string(r->get_string()) +
                                           ": this block cannot stream tool calls",
                                       false);
                set_finish(*reason);
            }
        // Cumulative counts; input_tokens is here too in newer API versions.
        if (const auto* u = event->if_contains("usage"); u && u->is_object()) {
            const auto output = count(u->get_object(), "output_tokens");
            const auto input = count(u->get_object(), "input_tokens");
            if (input) input_tokens_ = input;
            if (output && input_tokens_) set_upstream_usage(liveai::usage{*input_tokens_, *output});
        }
        return event_action::skip;
    }
    if (*type == "message_stop") return event_action::end;
    if (*type == "error") {
        std::string_view kind;
        if (const auto* e = event->if_contains("error"); e && e->is_object())
            if (const auto* t = e->get_object().if_contains("type"); t && t->is_string()) kind = t->get_string();
        throw stream_error(anthropic_error(kind), "anthropic error in the stream: " + upstream_message(data));
    }
    // ping, content_block_stop, and event types added later (the API says
    // to expect new ones).
    return event_action::skip;
}

}  // namespace liveai
