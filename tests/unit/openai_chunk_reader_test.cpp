// The event parser that reads OpenAI chunks without a DOM: the same answers
// the DOM gave, on real chunk shapes and on the odd ones.
#include <liveai/providers/openai_chunk_reader.hpp>

#include <boost/test/unit_test.hpp>

using liveai::finish_reason;
using liveai::providers::openai_chunk;
using liveai::providers::openai_chunk_reader;

namespace {

openai_chunk read(std::string_view text, boost::system::error_code& ec)
{
    static openai_chunk_reader reader;  // reused, as a provider does
    openai_chunk c;
    reader.read(text, c, ec);
    return c;
}

openai_chunk read_ok(std::string_view text)
{
    boost::system::error_code ec;
    auto c = read(text, ec);
    BOOST_TEST(!ec, text);
    return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openai_chunk_reader_suite)

BOOST_AUTO_TEST_CASE(content_finish_and_usage)
{
    auto c = read_ok(R"({"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"caf\u00e9 \"q\"\n"},"logprobs":null,"finish_reason":null}]})");
    BOOST_TEST(c.has_choice);
    BOOST_TEST(c.has_content);
    BOOST_TEST(c.content == "caf\xC3\xA9 \"q\"\n");
    BOOST_TEST(!c.finish);
    BOOST_TEST(!c.usage);
    BOOST_TEST(!c.is_error);

    c = read_ok(R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})");
    BOOST_TEST(!c.has_content);
    BOOST_TEST((c.finish == finish_reason::length));
    BOOST_TEST((read_ok(R"({"choices":[{"finish_reason":"content_filter"}]})").finish == finish_reason::content_filter));
    BOOST_TEST((read_ok(R"({"choices":[{"finish_reason":"tool_calls"}]})").finish == finish_reason::tool_calls));

    c = read_ok(R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":256,"total_tokens":265}})");
    BOOST_TEST(!c.has_choice);
    BOOST_REQUIRE(c.usage);
    BOOST_TEST(c.usage->input_tokens == 9u);
    BOOST_TEST(c.usage->output_tokens == 256u);
}

BOOST_AUTO_TEST_CASE(only_the_first_choice_and_only_its_own_members)
{
    // A second choice's content, and look-alike keys elsewhere, are not read.
    auto c = read_ok(R"({"x":{"content":"no","choices":[{"delta":{"content":"no"}}]},"choices":[{"delta":{"role":"assistant","content":"yes","extra":{"content":"no"}}},{"delta":{"content":"no"}}]})");
    BOOST_TEST(c.content == "yes");
    // A usage that is not an object, or counts that are not integers.
    c = read_ok(R"({"usage":null,"choices":[{"delta":{"content":"a"}}]})");
    BOOST_TEST(!c.usage);
    c = read_ok(R"({"usage":{"prompt_tokens":"9","completion_tokens":1.5}})");
    BOOST_REQUIRE(c.usage);
    BOOST_TEST(c.usage->input_tokens == 0u);
    // Nesting deeper than the reader tracks (16) is skipped, not misread;
    // Boost.JSON's own limit (32) still applies.
    std::string deep = R"({"a":)";
    for (int i = 0; i < 30; ++i) deep += "[";
    for (int i = 0; i < 30; ++i) deep += "]";
    deep += R"(,"choices":[{"delta":{"content":"ok"}}]})";
    BOOST_TEST(read_ok(deep).content == "ok");
    // A long key that starts like one of ours is not ours.
    BOOST_TEST(!read_ok(R"({"choices_and_a_very_long_key_name_here":[{"delta":{"content":"no"}}]})").has_choice);
}

BOOST_AUTO_TEST_CASE(errors_and_bad_shapes)
{
    BOOST_TEST(read_ok(R"({"error":{"message":"overloaded","type":"server_error"}})").is_error);
    BOOST_TEST(read_ok(R"({"object":"error","code":500,"message":"x"})").is_error);
    BOOST_TEST(!read_ok(R"({"object":"chat.completion.chunk"})").is_error);
    auto c = read_ok(R"({"choices":["text"]})");
    BOOST_TEST(c.has_choice);
    BOOST_TEST(c.bad_choice);
    BOOST_TEST(read_ok(R"({"choices":[[1]]})").bad_choice);
    BOOST_TEST(!read_ok(R"({"choices":{"0":{}}})").has_choice);

    for (const std::string_view bad : {R"([1,2])", R"("text")", R"({"choices":)", "{} extra", ""}) {
        boost::system::error_code ec;
        read(bad, ec);
        BOOST_TEST(!!ec, bad);
    }
    // The reader stays usable after a failure.
    BOOST_TEST(read_ok(R"({"choices":[{"delta":{"content":"again"}}]})").content == "again");
}

BOOST_AUTO_TEST_SUITE_END()
