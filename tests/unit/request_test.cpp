// Requests as conversations: reading the JSON, and the block's limits.
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/error.hpp>
#include <liveai/request_json.hpp>

#include "../support/printers.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using liveai::error;
using liveai::message_role;
using liveai::request;

namespace {

request read(std::string_view text) { return liveai::request_from_json(json::parse(text).as_object()); }

// The error a request body gives, as "code: message".
std::string refusal(std::string_view text)
{
    try {
        read(text);
    } catch (const liveai::stream_error& e) {
        return std::string(liveai::to_code(e.code())) + ": " + e.message();
    }
    return "accepted";
}

std::string refusal(const liveai::block_config& b, request req)
{
    try {
        liveai::engine::validate(b, req);
    } catch (const liveai::stream_error& e) {
        return std::string(liveai::to_code(e.code())) + ": " + e.message();
    }
    return "accepted";
}

constexpr std::string_view round_trip = R"({
  "messages": [
    {"role": "system", "content": "Answer in French."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 18}"},
    {"role": "user", "content": [{"type": "text", "text": "And "}, {"type": "text", "text": "tomorrow?"}]}
  ],
  "options": {"temperature": 0.2, "max_tokens": 100, "stop": "END", "seed": 7, "top_p": 0.9},
  "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
  "tool_choice": {"type": "function", "function": {"name": "get_weather"}}
})";

}  // namespace

BOOST_AUTO_TEST_SUITE(request_json)

BOOST_AUTO_TEST_CASE(a_conversation_with_a_tool_round_trip_is_read_whole)
{
    const auto r = read(round_trip);
    BOOST_REQUIRE(r.messages.size() == 5u);
    BOOST_TEST((r.messages[0].role == message_role::system));
    BOOST_TEST((r.messages[2].role == message_role::assistant));
    BOOST_TEST(r.messages[2].content.empty());
    BOOST_REQUIRE(r.messages[2].tool_calls.size() == 1u);
    BOOST_TEST(r.messages[2].tool_calls[0].id == "call_1");
    BOOST_TEST(r.messages[2].tool_calls[0].name == "get_weather");
    BOOST_TEST(r.messages[2].tool_calls[0].arguments == R"({"city":"Paris"})");
    BOOST_TEST(r.messages[3].tool_call_id == "call_1");
    BOOST_TEST(r.messages[4].content == "And tomorrow?");
    BOOST_TEST(*r.options.temperature == 0.2);
    BOOST_TEST(*r.options.max_tokens == 100u);
    BOOST_TEST(r.options.stop == (std::vector<std::string>{"END"}), boost::test_tools::per_element());
    BOOST_TEST(*r.options.seed == 7);
    BOOST_REQUIRE(r.tools.size() == 1u);
    BOOST_TEST(json::parse(r.tools[0].parameters).at("required").at(0).as_string() == "city");
    BOOST_TEST(r.tool_choice == "get_weather");
    BOOST_TEST(liveai::last_user_text(r) == "And tomorrow?");
    // prompt stays: one user message.
    BOOST_TEST(read(R"({"prompt":"hi"})").prompt == "hi");
}

BOOST_AUTO_TEST_CASE(bad_fields_are_named)
{
    BOOST_TEST(refusal(R"({"messages": [{"role": "robot", "content": "x"}]})") ==
               R"(invalid_request: messages[0].role: must be system, user, assistant or tool; got "robot")");
    BOOST_TEST(refusal(R"({"messages": [{"role": "tool", "content": "x"}]})") ==
               "invalid_request: messages[0].tool_call_id: a tool message names the call it answers");
    BOOST_TEST(refusal(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})") ==
               "invalid_request: messages[0].content[0]: only text parts are supported");
    BOOST_TEST(refusal(R"({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}]}]})") ==
               "invalid_request: messages[0].tool_calls[0].function.arguments: must be a JSON object (or a string holding one)");
    BOOST_TEST(refusal(R"({"messages": [], "prompt": "x"})") == "invalid_request: messages: must not be empty");
    BOOST_TEST(refusal(R"({"prompt": "x", "messages": [{"role": "user", "content": "y"}]})") ==
               "invalid_request: messages: send either prompt or messages, not both");
    BOOST_TEST(refusal(R"({"prompt": "x", "options": {"temperature": 3}})") == "invalid_request: options.temperature: must be from 0 to 2");
    BOOST_TEST(refusal(R"({"prompt": "x", "options": {"top_k": 3}})") ==
               "invalid_request: options.top_k: is not an option (available: max_tokens, temperature, top_p, stop, seed)");
    BOOST_TEST(refusal(R"({"prompt": "x", "options": {"stop": ["a","b","c","d","e"]}})") == "invalid_request: options.stop: at most 4 stop sequences");
    BOOST_TEST(refusal(R"({"prompt": "x", "tools": [{"name": "bad name"}]})") ==
               "invalid_request: tools[0].name: must be 1 to 64 letters, digits, _ or -");
    BOOST_TEST(refusal(R"({"prompt": "x", "tools": [{"name": "f"}, {"name": "f"}]})") == R"(invalid_request: tools[1].name: "f" is defined twice)");
    BOOST_TEST(refusal(R"({"prompt": "x", "tools": [{"name": "f"}], "tool_choice": "g"})") ==
               R"(invalid_request: tool_choice: names "g", which is not in tools)");
    BOOST_TEST(refusal(R"({"prompt": 3})") == R"(invalid_prompt: "prompt" must be a string)");
    BOOST_TEST(refusal(R"({"other": 1})") == R"(invalid_prompt: the body must be a JSON object with a string "prompt" or a "messages" array)");
}

BOOST_AUTO_TEST_CASE(the_block_bounds_the_whole_conversation)
{
    liveai::block_config b;
    b.name = "chat";
    b.max_messages = 4;
    b.max_prompt_bytes = 200;
    auto r = read(round_trip);
    BOOST_TEST(refusal(b, r) == R"(invalid_request: messages: 5 messages; block "chat" accepts at most 4)");
    b.max_messages = 8;
    BOOST_TEST(refusal(b, r) ==
               R"(invalid_request: options.max_tokens: block "chat" does not let clients set it (its client_options: none))");
    b.client_options = {"max_tokens", "temperature", "top_p", "stop", "seed"};
    BOOST_TEST(refusal(b, r).starts_with("prompt_too_large: the conversation is "), refusal(b, r));  // the tool's schema counts too
    b.max_prompt_bytes = 4096;
    BOOST_TEST(refusal(b, r) == "accepted");
    b.client_options = {"temperature"};
    r.options.max_tokens.reset();
    r.options.stop.clear();
    r.options.seed.reset();
    r.options.top_p.reset();
    BOOST_TEST(refusal(b, r) == "accepted");

    auto orphan = read(R"({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "1"}]})");
    BOOST_TEST(refusal(b, orphan) ==
               R"(invalid_request: messages[1].tool_call_id: "nope" answers no tool call of an earlier assistant message)");
    auto no_user = read(R"({"messages": [{"role": "system", "content": "x"}]})");
    BOOST_TEST(refusal(b, no_user) == "invalid_prompt: the conversation has no user message to answer");
    request bad_utf8;
    bad_utf8.messages.push_back({message_role::user, "ok \xC3", {}, {}});
    BOOST_TEST(refusal(b, bad_utf8) == "invalid_prompt: messages[0].content is not valid UTF-8 (at byte 3)");

    // A prompt becomes the one user message, and the block's prompt limit is the prompt's.
    request p{"hello"};
    liveai::engine::validate(b, p);
    BOOST_REQUIRE(p.messages.size() == 1u);
    BOOST_TEST(p.messages[0].content == "hello");
    BOOST_TEST(p.prompt.empty());
}

BOOST_AUTO_TEST_CASE(client_options_and_max_messages_come_from_the_config)
{
    const auto c = liveai::parse_config("[blocks.a]\nprovider = \"mock\"\nmax_messages = 9\nclient_options = [\"temperature\", \"max_tokens\"]\n", "t.toml");
    BOOST_TEST(c.blocks[0].max_messages == 9u);
    BOOST_TEST(c.blocks[0].client_options == (std::vector<std::string>{"temperature", "max_tokens"}), boost::test_tools::per_element());
    try {
        liveai::parse_config("[blocks.a]\nprovider = \"mock\"\nclient_options = [\"temperature\", \"top_k\"]\n", "t.toml");
        BOOST_FAIL("an unknown option was accepted");
    } catch (const liveai::config_error& e) {
        BOOST_TEST(e.problems().at(0) == "t.toml:3:34: blocks.a.client_options: each must be one of max_tokens, temperature, top_p, stop, seed");
    }
}

BOOST_AUTO_TEST_SUITE_END()
