#include "answers.hpp"

#include "openai_format.hpp"
#include "openai_request.hpp"
#include "web_assets.hpp"

#include <liveai/transport/event_format.hpp>

#include <boost/beast/http/status.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace liveai::server::detail {

std::string error_body(std::string_view code, std::string_view message)
{
    std::string body = R"({"error":{"code":)";
    transport::append_json_string(body, code);
    body += R"(,"message":)";
    transport::append_json_string(body, message);
    body += "}}";
    return body;
}

http_answer error_answer(liveai::error code, std::string_view message, error_shape shape, std::string_view param)
{
    http_answer a;
    a.status = http_status(code);
    a.content_type = "application/json";
    if (shape == error_shape::openai) {
        // OpenAI's code for a model it does not serve.
        const std::string_view c = code == error::unknown_block ? std::string_view("model_not_found") : to_code(code);
        a.body = openai_error_body(a.status, c, message, param.empty() ? error_param(message) : param);
    } else {
        a.body = error_body(to_code(code), message);
    }
    a.retry_after = a.status == 503 || a.status == 429;
    if (a.status == 401) a.extra_headers = "WWW-Authenticate: Bearer realm=\"liveai\"\r\n";
    return a;
}

http_answer error_answer(const route_error& e, error_shape shape)
{
    auto a = error_answer(e.code, e.message, shape, e.param);
    if (e.upgrade_required) a.status = 426;
    a.allow = e.allow;
    return a;
}

http_answer models_answer(const liveai::engine& engine, std::int64_t created, const key_state* key)
{
    http_answer a;
    a.content_type = "application/json";
    a.body = R"({"object":"list","data":[)";
    bool first = true;
    for (const auto& b : engine.blocks()) {
        if (key && !key->may_use(b.name)) continue;
        a.body += first ? R"({"id":)" : R"(,{"id":)";
        first = false;
        transport::append_json_string(a.body, b.model_alias.empty() ? b.name : b.model_alias);
        a.body += R"(,"object":"model","created":)";
        a.body += std::to_string(created);
        a.body += R"(,"owned_by":"liveai"})";
    }
    a.body += "]}";
    return a;
}

void append_response_head(std::string& out, const http_answer& a, bool keep_alive, bool http10,
                          std::uint64_t retry_after_seconds)
{
    const auto status = static_cast<boost::beast::http::status>(a.status);
    out.append("HTTP/1.1 ");
    out.append(std::to_string(a.status));
    out.push_back(' ');
    const auto reason = boost::beast::http::obsolete_reason(status);
    out.append(reason.data(), reason.size());
    out.append("\r\n");
    if (!a.content_type.empty()) {
        out.append("Content-Type: ");
        out.append(a.content_type);
        out.append("\r\n");
    }
    out.append("Cache-Control: no-store\r\n");
    if (a.retry_after) {
        out.append("Retry-After: ");
        out.append(std::to_string(a.retry_after_seconds ? a.retry_after_seconds : retry_after_seconds));
        out.append("\r\n");
    }
    out.append(a.extra_headers);
    if (!a.allow.empty()) {
        out.append("Allow: ");
        out.append(a.allow);
        out.append("\r\n");
    }
    if (a.status != 204 && a.status >= 200) {
        out.append("Content-Length: ");
        out.append(std::to_string(a.body.size()));
        out.append("\r\n");
    }
    if (!keep_alive) out.append("Connection: close\r\n");
    else if (http10) out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

bool is_web_asset(std::string_view path) noexcept
{
    for (const auto& asset : web_assets())
        if (asset.path == path) return true;
    return false;
}

http_answer answer_simple(const route& r, const liveai::engine& engine, const server::metrics& metrics)
{
    http_answer a;
    a.content_type = "application/json";
    switch (r.kind) {
    case endpoint::health: a.body = R"({"status":"ok"})"; break;
    case endpoint::metrics:
        a.content_type = "text/plain; version=0.0.4; charset=utf-8";
        a.body = metrics.render();
        break;
    case endpoint::blocks: {
        boost::json::array list;
        for (const auto& b : engine.blocks()) {
            list.push_back(boost::json::object{{"name", b.name},
                                               {"provider", b.provider},
                                               {"model", b.model},
                                               {"streaming", b.streaming},
                                               {"on_disconnect", to_string(b.on_disconnect)}});
        }
        a.body = boost::json::serialize(boost::json::object{{"blocks", std::move(list)}});
        break;
    }
    case endpoint::asset:
        for (const auto& asset : web_assets()) {
            if (asset.path != r.asset_path) continue;
            a.content_type = asset.content_type;
            a.body = std::string(asset.body);
            return a;
        }
        return error_answer(error::not_found, "no endpoint at " + std::string(r.asset_path.substr(0, 128)));
    default: return error_answer(error::internal_error, "not a simple endpoint");
    }
    return a;
}

}  // namespace liveai::server::detail
