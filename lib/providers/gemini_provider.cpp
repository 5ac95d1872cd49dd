#include <liveai/providers/gemini_provider.hpp>

#include <boost/json.hpp>

namespace liveai {

namespace json = boost::json;

liveai::finish_reason gemini_finish_reason(std::string_view reason) noexcept
{
    if (reason == "MAX_TOKENS") return finish_reason::length;
    if (reason == "SAFETY" || reason == "RECITATION" || reason == "PROHIBITED_CONTENT" || reason == "BLOCKLIST" ||
        reason == "SPII" || reason == "IMAGE_SAFETY")
        return finish_reason::content_filter;
    // STOP, and the ones the contract has no name for: LANGUAGE, OTHER,
    // MALFORMED_FUNCTION_CALL, FINISH_REASON_UNSPECIFIED, anything new.
    return finish_reason::stop;
}

gemini_provider::gemini_provider(upstream_settings settings, std::string model, std::string system_prompt, request req)
    : http_stream_provider("gemini", std::move(settings))
{
    prompt_to_message(req);
    // Gemini: the system text apart, roles user and model, a call's result
    // as a functionResponse part (by the call's name) in a user turn; the
    // results of parallel calls in one turn.
    std::string system = system_prompt;
    json::array contents;
    bool after_tool_result = false;  // the last turn holds tool results: the next joins it
    const auto name_of_call = [&](const std::string& id) -> std::string {
        for (const auto& m : req.messages)
            for (const auto& c : m.tool_calls)
                if (c.id == id) return c.name;
        return id;
    };
    for (const auto& m : req.messages) {
        if (m.role == message_role::system) {
            system += (system.empty() ? "" : "\n\n") + m.content;
            continue;
        }
        json::array parts;
        if (m.role == message_role::tool) {
            boost::system::error_code ec;
            auto result = json::parse(m.content, ec);
            json::object response = !ec && result.is_object() ? std::move(result.as_object()) : json::object{{"content", m.content}};
            parts.push_back(json::object{{"functionResponse", json::object{{"name", name_of_call(m.tool_call_id)}, {"response", std::move(response)}}}});
        } else {
            if (!m.content.empty()) parts.push_back(json::object{{"text", m.content}});
            for (const auto& c : m.tool_calls)
                parts.push_back(json::object{{"functionCall", json::object{{"name", c.name}, {"args", json::parse(c.arguments)}}}});
        }
        const bool tool_result = m.role == message_role::tool;
        if (tool_result && after_tool_result) {
            for (auto& p : parts) contents.back().as_object()["parts"].as_array().push_back(std::move(p));
            continue;
        }
        after_tool_result = tool_result;
        contents.push_back(json::object{{"role", m.role == message_role::assistant ? "model" : "user"}, {"parts", std::move(parts)}});
    }
    json::object body{{"contents", std::move(contents)}};
    if (!system.empty()) body["systemInstruction"] = json::object{{"parts", json::array{json::object{{"text", system}}}}};
    json::object generation;
    const auto& o = req.options;
    if (const auto t = o.temperature ? o.temperature : this->settings().temperature) generation["temperature"] = *t;
    if (const auto n = o.max_tokens ? o.max_tokens : this->settings().max_tokens) generation["maxOutputTokens"] = *n;
    if (o.top_p) generation["topP"] = *o.top_p;
    if (o.seed) generation["seed"] = *o.seed;
    if (!o.stop.empty()) {
        json::array stop;
        for (const auto& s : o.stop) stop.push_back(json::string(s));
        generation["stopSequences"] = std::move(stop);
    }
    if (!generation.empty()) body["generationConfig"] = std::move(generation);
    if (!req.tools.empty()) {
        json::array declarations;
        for (const auto& t : req.tools) {
            json::object fn{{"name", t.name}};
            if (!t.description.empty()) fn["description"] = t.description;
            if (!t.parameters.empty()) fn["parameters"] = json::parse(t.parameters);
            declarations.push_back(std::move(fn));
        }
        body["tools"] = json::array{json::object{{"functionDeclarations", std::move(declarations)}}};
    }
    if (!req.tool_choice.empty()) {
        json::object config;
        if (req.tool_choice == "auto") config["mode"] = "AUTO";
        else if (req.tool_choice == "none") config["mode"] = "NONE";
        else if (req.tool_choice == "required") config["mode"] = "ANY";
        else config = json::object{{"mode", "ANY"}, {"allowedFunctionNames", json::array{json::string(req.tool_choice)}}};
        body["toolConfig"] = json::object{{"functionCallingConfig", std::move(config)}};
    }

    request_spec spec;
    spec.path_and_query = "/models/" + model + ":streamGenerateContent?alt=sse";
    spec.body = json::serialize(body);
    if (const auto key = api_key(); !key.empty()) spec.headers.emplace_back("x-goog-api-key", key);
    set_request(std::move(spec));
}

stream_error gemini_provider::error_from_response(unsigned status, std::string_view body) const
{
    // Gemini answers an invalid key with 400 INVALID_ARGUMENT; its ErrorInfo
    // reason says what it is.
    if (status == 400 && (body.find("\"API_KEY_INVALID\"") != std::string_view::npos ||
                          body.find("\"API_KEY_EXPIRED\"") != std::string_view::npos))
        return stream_error(error::upstream_auth, "gemini answered HTTP 400: " + upstream_message(body));
    return http_stream_provider::error_from_response(status, body);
}

http_stream_provider::event_action gemini_provider::on_event(std::string_view data, delta_sink& out)
{
    unsigned char scratch[4096];
    json::monotonic_resource memory(scratch, sizeof scratch);
    boost::system::error_code ec;
    auto value = json::parse(data, ec, &memory);
    // An error may come wrapped in an array (as the non-streaming API answers).
    if (!ec && value.is_array() && value.as_array().size() == 1) value = json::value(value.as_array().front(), &memory);
    if (ec || !value.is_object())
        throw stream_error(error::upstream_protocol, "gemini sent an event that is not a JSON object: " + upstream_message(data));
    const auto& chunk = value.get_object();

    if (const auto* err = chunk.if_contains("error"); err && err->is_object()) {
        unsigned status = 500;
        if (const auto* c = err->get_object().if_contains("code"); c && c->is_int64()) status = static_cast<unsigned>(c->get_int64());
        auto e = error_from_response(status, data);
        throw stream_error(static_cast<liveai::error>(e.code().value()), "gemini error in the stream: " + upstream_message(data),
                           e.retryable());
    }
    if (const auto* u = chunk.if_contains("usageMetadata"); u && u->is_object()) {
        // Cumulative: the last one counts.
        liveai::usage usage;
        if (const auto* p = u->get_object().if_contains("promptTokenCount"); p && p->is_int64()) usage.input_tokens = static_cast<std::uint64_t>(p->get_int64());
        if (const auto* c = u->get_object().if_contains("candidatesTokenCount"); c && c->is_int64()) usage.output_tokens = static_cast<std::uint64_t>(c->get_int64());
        set_upstream_usage(usage);
    }
    if (const auto* feedback = chunk.if_contains("promptFeedback"); feedback && feedback->is_object()) {
        if (const auto* r = feedback->get_object().if_contains("blockReason"); r && r->is_string()) set_finish(finish_reason::content_filter);
    }
    const auto* candidates = chunk.if_contains("candidates");
    if (!candidates || !candidates->is_array() || candidates->get_array().empty()) return event_action::more;
    const auto* candidate = candidates->get_array().front().if_object();
    if (!candidate) throw stream_error(error::upstream_protocol, "gemini sent a candidate that is not an object");
    if (const auto* content = candidate->if_contains("content"); content && content->is_object()) {
        if (const auto* parts = content->get_object().if_contains("parts"); parts && parts->is_array()) {
            // Neighbouring parts of one kind are one delta, as one event's text is.
            std::string run;
            bool run_is_thought = false;
            const auto flush = [&] {
                if (run.empty()) return;
                if (run_is_thought) out.reasoning(run);
                else out.text(run);
                run.clear();
            };
            for (const auto& part : parts->get_array()) {
                const auto* p = part.if_object();
                if (!p) continue;
                if (const auto* call = p->if_contains("functionCall"); call && call->is_object()) {
                    flush();
                    // One part holds a whole call: its args arrive as one object.
                    const auto& c = call->get_object();
                    const auto* name = c.if_contains("name");
                    if (!name || !name->is_string() || name->get_string().empty())
                        throw stream_error(error::upstream_protocol, "gemini sent a functionCall without a name");
                    // Gemini's calls have no id (the tool's answer goes back by name): one is made, unique in the answer.
                    std::string id = "call_" + std::to_string(calls_);
                    if (const auto* given = c.if_contains("id"); given && given->is_string() && !given->get_string().empty())
                        id = given->get_string();
                    const auto* args = c.if_contains("args");
                    const std::string arguments = args && args->is_object() ? json::serialize(*args) : "{}";
                    out.tool_call(calls_++, id, name->get_string(), arguments);
                    continue;
                }
                const auto* t = p->if_contains("text");
                if (!t || !t->is_string() || t->get_string().empty()) continue;
                const auto* thought = p->if_contains("thought");
                const bool is_thought = thought && thought->is_bool() && thought->get_bool();
                if (is_thought != run_is_thought) flush();
                run_is_thought = is_thought;
                run.append(t->get_string());
            }
            flush();
        }
    }
    if (const auto* r = candidate->if_contains("finishReason"); r && r->is_string()) {
        auto reason = gemini_finish_reason(r->get_string());
        // Gemini says STOP after function calls; the contract says tool_calls.
        if (reason == finish_reason::stop && calls_ > 0) reason = finish_reason::tool_calls;
        set_finish(reason);
    }
    return event_action::more;
}

}  // namespace liveai
