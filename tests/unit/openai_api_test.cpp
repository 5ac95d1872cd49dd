// The OpenAI-compatible surface without a socket: a chat.completions body
// read into a liveai request, and the chunks, answers and errors written
// back, byte for byte as OpenAI's clients parse them.
#include "answers.hpp"
#include "openai_format.hpp"
#include "openai_request.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace liveai::server::detail;
using liveai::error;

namespace {

liveai::engine make_engine()
{
    std::vector<liveai::block_config> blocks(2);
    blocks[0].name = "chat";
    blocks[0].streaming = true;
    blocks[0].model_alias = "gpt-4o-mini";
    blocks[1].name = "batch";
    return liveai::engine(std::move(blocks));
}

const liveai::engine engine_ = make_engine();

openai_request read_ok(std::string_view body)
{
    auto r = read_openai_request(body, engine_);
    if (auto* e = std::get_if<route_error>(&r)) BOOST_FAIL("refused: " << e->message);
    return std::get<openai_request>(std::move(r));
}

route_error read_refused(std::string_view body)
{
    auto r = read_openai_request(body, engine_);
    BOOST_REQUIRE(std::holds_alternative<route_error>(r));
    return std::get<route_error>(r);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openai_request_reading)

BOOST_AUTO_TEST_CASE(every_supported_field_maps)
{
    const auto r = read_ok(R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},
        "messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}],
        "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],
        "tool_choice":"auto","max_completion_tokens":64,"temperature":0.5,"top_p":0.9,"stop":["\n\n"],"seed":7,
        "user":"u-1","n":1})");
    BOOST_TEST(r.block == engine_.find("chat"));
    BOOST_TEST(r.model == "gpt-4o-mini");
    BOOST_TEST(r.stream);
    BOOST_TEST(r.include_usage);
    BOOST_REQUIRE(r.request.messages.size() == 2u);
    BOOST_TEST(r.request.messages[1].content == "hi");
    BOOST_REQUIRE(r.request.tools.size() == 1u);
    BOOST_TEST(r.request.tools[0].name == "get_weather");
    BOOST_TEST(r.request.tool_choice == "auto");
    BOOST_TEST(*r.request.options.max_tokens == 64u);
    BOOST_TEST(*r.request.options.temperature == 0.5);
    BOOST_TEST(*r.request.options.top_p == 0.9);
    BOOST_TEST(r.request.options.stop == std::vector<std::string>{"\n\n"});
    BOOST_TEST(*r.request.options.seed == 7);
}

BOOST_AUTO_TEST_CASE(a_block_name_is_a_model_too)
{
    const auto r = read_ok(R"({"model":"batch","messages":[{"role":"user","content":"x"}]})");
    BOOST_TEST(r.block == engine_.find("batch"));
    BOOST_TEST(!r.stream);
    BOOST_TEST(!r.request.options.max_tokens.has_value());
    BOOST_TEST(find_model(engine_, "gpt-4o-mini") == engine_.find("chat"));
    BOOST_TEST(!find_model(engine_, "gpt-5"));
}

BOOST_AUTO_TEST_CASE(refusals_name_the_field)
{
    auto e = read_refused(R"({"model":"chat","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":2}})");
    BOOST_TEST((e.code == error::invalid_request));
    BOOST_TEST(e.param == "logit_bias");
    BOOST_TEST(e.message == "Unrecognized request argument supplied: logit_bias");
    e = read_refused(R"({"model":"nope","messages":[{"role":"user","content":"x"}]})");
    BOOST_TEST((e.code == error::unknown_block));
    BOOST_TEST(e.param == "model");
    e = read_refused(R"({"messages":[{"role":"user","content":"x"}]})");
    BOOST_TEST(e.param == "model");
    e = read_refused(R"({"model":"chat"})");
    BOOST_TEST(e.param == "messages");
    e = read_refused(R"({"model":"chat","messages":[{"role":"user","content":"x"}],"n":2})");
    BOOST_TEST(e.param == "n");
    e = read_refused(R"({"model":"chat","messages":[{"role":"user","content":"x"}],"temperature":3})");
    BOOST_TEST(e.param == "temperature");
    BOOST_TEST(e.message.starts_with("temperature: must be from 0 to 2"), e.message);
    e = read_refused(R"({"model":"chat","messages":[{"role":"robot","content":"x"}]})");
    BOOST_TEST(e.param == "messages[0].role");
    e = read_refused(R"({"model":"chat","messages":[{"role":"user","content":"x"}],"max_tokens":5,"max_completion_tokens":5})");
    BOOST_TEST(e.param == "max_tokens");
    e = read_refused(R"({"model":"chat","messages":[{"role":"user","content":"x"}],"stream_options":{"chunk_size":4}})");
    BOOST_TEST(e.param == "stream_options.chunk_size");
    e = read_refused("[1]");
    BOOST_TEST((e.code == error::invalid_request));
    e = read_refused("{");
    BOOST_TEST((e.code == error::invalid_json));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(openai_wire_format)

BOOST_AUTO_TEST_CASE(chunks_are_openai_chunk_objects)
{
    openai_chunk_writer w("00ab", "gpt-4o-mini", 1700000000, false);
    std::string out;
    w.text(out, "Hel\"lo");
    const std::string head = R"(data: {"id":"chatcmpl-00ab","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{)";
    BOOST_TEST(out == head + R"("role":"assistant","content":"Hel\"lo"},"finish_reason":null}]})" + "\n\n");
    out.clear();
    w.reasoning(out, "think");
    BOOST_TEST(out == head + R"("reasoning_content":"think"},"finish_reason":null}]})" + "\n\n");
    out.clear();
    w.tool_call(out, 0, "call_1", "get_weather", "");
    BOOST_TEST(out == head + R"("tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]})" + "\n\n");
    out.clear();
    w.tool_call(out, 0, "", "", R"({"city")");
    BOOST_TEST(out == head + R"("tool_calls":[{"index":0,"function":{"arguments":"{\"city\""}}]},"finish_reason":null}]})" + "\n\n");
    out.clear();
    w.finish(out, liveai::finish_reason::tool_calls, liveai::usage{3, 4});
    // No usage chunk unless asked for.
    BOOST_TEST(out == head + R"(},"finish_reason":"tool_calls"}]})" + "\n\ndata: [DONE]\n\n");
}

BOOST_AUTO_TEST_CASE(usage_comes_in_its_own_chunk_and_is_never_made_up)
{
    openai_chunk_writer w("01", "m", 1, true);
    std::string out;
    w.finish(out, liveai::finish_reason::stop, liveai::usage{3, 4});
    const std::string head = R"(data: {"id":"chatcmpl-01","object":"chat.completion.chunk","created":1,"model":"m")";
    BOOST_TEST(out == head + R"(,"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":"stop"}]})" + "\n\n" + head +
                          R"(,"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})" + "\n\ndata: [DONE]\n\n");
    openai_chunk_writer unknown("02", "m", 1, true);
    out.clear();
    unknown.finish(out, liveai::finish_reason::length, std::nullopt);
    BOOST_TEST(out.find(R"("finish_reason":"length")") != std::string::npos);
    BOOST_TEST(out.find(R"("usage":null)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failed_or_cancelled_stream_ends_without_done)
{
    std::string out;
    append_openai_stream_error(out, 504, "idle_timeout", "silent for 30000 ms");
    BOOST_TEST(out == "data: {\"error\":{\"message\":\"silent for 30000 ms\",\"type\":\"server_error\",\"param\":null,\"code\":\"idle_timeout\"}}\n\n");
    openai_chunk_writer w("03", "m", 1, true);
    out.clear();
    w.finish(out, liveai::finish_reason::cancelled, std::nullopt);
    BOOST_TEST(out.find("[DONE]") == std::string::npos);
    BOOST_TEST(out.find(R"("code":"cancelled")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(errors_take_openai_types_by_status)
{
    auto a = error_answer(error::unauthorized, "an API key is required", error_shape::openai);
    BOOST_TEST(a.status == 401u);
    BOOST_TEST(a.body == R"({"error":{"message":"an API key is required","type":"authentication_error","param":null,"code":"unauthorized"}})");
    BOOST_TEST(a.extra_headers.find("WWW-Authenticate: Bearer") == 0u);
    a = error_answer(error::unknown_block, "The model `x` does not exist", error_shape::openai, "model");
    BOOST_TEST(a.status == 404u);
    BOOST_TEST(a.body == R"({"error":{"message":"The model `x` does not exist","type":"not_found_error","param":"model","code":"model_not_found"}})");
    BOOST_TEST(error_answer(error::forbidden, "no", error_shape::openai).body.find(R"("type":"permission_error")") != std::string::npos);
    a = error_answer(error::rate_limited, "slow down", error_shape::openai);
    BOOST_TEST(a.status == 429u);
    BOOST_TEST(a.retry_after);
    BOOST_TEST(a.body.find(R"("type":"rate_limit_error")") != std::string::npos);
    BOOST_TEST(error_answer(error::overloaded, "full", error_shape::openai).body.find(R"("type":"server_error")") != std::string::npos);
    // The param a validation message names.
    BOOST_TEST(error_param("options.top_p: block \"chat\" does not let clients set it") == "top_p");
    BOOST_TEST(error_param("messages[2].content: must not be empty") == "messages[2].content");
    BOOST_TEST(error_param("the server is full: retry").empty());
}

BOOST_AUTO_TEST_CASE(a_whole_answer_is_a_chat_completion)
{
    const std::vector<liveai::tool_call> calls{{"call_0", "get_weather", R"({"city":"Paris"})"}};
    openai_completion c;
    c.stream_id = "0f";
    c.model = "chat";
    c.created = 5;
    c.tool_calls = calls;
    c.reason = liveai::finish_reason::tool_calls;
    c.usage = liveai::usage{10, 2};
    const auto body = boost::json::parse(openai_completion_body(c)).as_object();
    BOOST_TEST(body.at("object").as_string() == "chat.completion");
    BOOST_TEST(body.at("id").as_string() == "chatcmpl-0f");
    const auto& choice = body.at("choices").as_array().at(0).as_object();
    BOOST_TEST(choice.at("finish_reason").as_string() == "tool_calls");
    const auto& message = choice.at("message").as_object();
    BOOST_TEST(message.at("role").as_string() == "assistant");
    BOOST_TEST(message.at("content").is_null());
    const auto& call = message.at("tool_calls").as_array().at(0).as_object();
    BOOST_TEST(call.at("type").as_string() == "function");
    BOOST_TEST(call.at("function").as_object().at("arguments").as_string() == R"({"city":"Paris"})");
    BOOST_TEST(body.at("usage").as_object().at("total_tokens").as_int64() == 12);
    c.usage.reset();
    c.text = "hi";
    c.tool_calls = {};
    c.reason = liveai::finish_reason::stop;
    const auto plain = boost::json::parse(openai_completion_body(c)).as_object();
    BOOST_TEST(!plain.contains("usage"));
    BOOST_TEST(plain.at("choices").as_array().at(0).as_object().at("message").as_object().at("content").as_string() == "hi");
}

BOOST_AUTO_TEST_CASE(models_lists_the_blocks_a_key_may_use)
{
    const auto all = boost::json::parse(models_answer(engine_, 9, nullptr).body).as_object();
    BOOST_TEST(all.at("object").as_string() == "list");
    const auto& data = all.at("data").as_array();
    BOOST_REQUIRE(data.size() == 2u);
    BOOST_TEST(data[0].as_object().at("id").as_string() == "gpt-4o-mini");  // the alias
    BOOST_TEST(data[1].as_object().at("id").as_string() == "batch");
    BOOST_TEST(data[1].as_object().at("created").as_int64() == 9);
    liveai::server::api_key k;
    k.name = "web";
    k.blocks = {"batch"};
    const key_state only_batch(k);
    const auto some = boost::json::parse(models_answer(engine_, 9, &only_batch).body).as_object();
    BOOST_REQUIRE(some.at("data").as_array().size() == 1u);
    BOOST_TEST(some.at("data").as_array()[0].as_object().at("id").as_string() == "batch");
}

BOOST_AUTO_TEST_SUITE_END()
