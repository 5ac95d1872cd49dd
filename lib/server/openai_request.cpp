#include "openai_request.hpp"

#include <liveai/error.hpp>
#include <liveai/request_json.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>

namespace liveai::server::detail {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 6> option_fields{"max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed"};

route_error bad_field(std::string_view field, std::string message, liveai::error code = liveai::error::invalid_request)
{
    route_error e{code, std::move(message)};
    e.param = std::string(field.substr(0, 64));
    return e;
}

}  // namespace

const block_config* find_model(const liveai::engine& engine, std::string_view model) noexcept
{
    if (const auto* b = valid_block_name(model) ? engine.find(model) : nullptr) return b;
    for (const auto& b : engine.blocks())
        if (!b.model_alias.empty() && b.model_alias == model) return &b;
    return nullptr;
}

std::string_view error_param(std::string_view message) noexcept
{
    const auto colon = message.find(": ");
    if (colon == std::string_view::npos || colon == 0 || colon > 96) return {};
    auto param = message.substr(0, colon);
    if (param.find(' ') != std::string_view::npos) return {};
    if (param.starts_with("options.")) param.remove_prefix(8);
    return param;
}

std::variant<openai_request, route_error> read_openai_request(std::string_view body, const liveai::engine& engine)
{
    unsigned char scratch[4096];
    json::monotonic_resource memory(scratch, sizeof scratch);
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec, &memory);
    if (ec) return route_error{error::invalid_json, "the body is not valid JSON: " + ec.message()};
    auto* obj = parsed.if_object();
    if (!obj) return route_error{error::invalid_request, "the body must be a JSON object"};

    openai_request out;
    json::object conversation(obj->storage());
    json::object options(obj->storage());
    for (auto& [key, value] : *obj) {
        if (key == "model") {
            if (!value.is_string()) return bad_field("model", "model: must be a string");
            out.model = value.get_string();
        } else if (key == "messages" || key == "tools" || key == "tool_choice") {
            conversation.emplace(key, std::move(value));
        } else if (key == "stream") {
            if (!value.is_bool() && !value.is_null()) return bad_field("stream", "stream: must be a boolean");
            out.stream = value.is_bool() && value.get_bool();
        } else if (key == "stream_options") {
            if (value.is_null()) continue;
            const auto* so = value.if_object();
            if (!so) return bad_field("stream_options", "stream_options: must be an object");
            for (const auto& [k, v] : *so) {
                if (k != "include_usage")
                    return bad_field("stream_options." + std::string(k.substr(0, 32)),
                                     "stream_options." + std::string(k.substr(0, 32)) + ": is not supported (include_usage is)");
                if (!v.is_bool()) return bad_field("stream_options.include_usage", "stream_options.include_usage: must be a boolean");
                out.include_usage = v.get_bool();
            }
        } else if (std::find(option_fields.begin(), option_fields.end(), std::string_view(key)) != option_fields.end()) {
            if (value.is_null()) continue;
            const std::string_view name = key == "max_completion_tokens" ? std::string_view("max_tokens") : std::string_view(key);
            if (key == "max_tokens" && obj->contains("max_completion_tokens"))
                return bad_field("max_tokens", "max_tokens: send max_tokens or max_completion_tokens, not both");
            options.emplace(name, std::move(value));
        } else if (key == "user") {
            // An end-user id for the provider's abuse checks: a string, not forwarded.
            if (!value.is_string()) return bad_field("user", "user: must be a string");
        } else if (key == "n") {
            if (!(value.is_int64() && value.get_int64() == 1) && !(value.is_uint64() && value.get_uint64() == 1))
                return bad_field("n", "n: only 1 choice per request is supported");
        } else {
            return bad_field(key, "Unrecognized request argument supplied: " + std::string(key.substr(0, 64)));
        }
    }
    if (out.model.empty()) return bad_field("model", "model: is required (a block's name, as GET /v1/models lists them)");
    if (!conversation.contains("messages")) return bad_field("messages", "messages: is required");
    out.block = find_model(engine, out.model);
    if (!out.block) {
        route_error e{error::unknown_block, "The model `" + out.model.substr(0, 64) + "` does not exist (GET /v1/models lists them)"};
        e.param = "model";
        return e;
    }
    if (!options.empty()) conversation.emplace("options", std::move(options));
    try {
        out.request = request_from_json(conversation);
    } catch (const stream_error& e) {
        const auto param = error_param(e.message());
        auto message = e.message();
        if (message.starts_with("options.")) message.erase(0, 8);
        route_error r{static_cast<liveai::error>(e.code().value()), std::move(message)};
        r.param = std::string(param);
        return r;
    }
    return out;
}

}  // namespace liveai::server::detail
