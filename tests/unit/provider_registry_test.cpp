// The provider registry: an application's provider is configured, validated
// and opened exactly as a built-in one is.
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/error.hpp>
#include <liveai/provider_registry.hpp>
#include <liveai/providers/mock_settings.hpp>

#include "../support/printers.hpp"
#include "../support/run_coro.hpp"
#include "../support/stream_helpers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <deque>
#include <stdexcept>

namespace asio = boost::asio;
using liveai::block_config;
using liveai::request;
using liveai::token;
using liveai::token_stream;

namespace {

// Streams the prompt `repeat` times, each copy a token, with a separator.
struct echo_settings {
    std::uint32_t repeat = 1;
    std::string separator = " ";
};

class echo_stream final : public token_stream {
public:
    echo_stream(const echo_settings& s, std::string prompt)
    {
        for (std::uint32_t i = 0; i < s.repeat; ++i) left_.push_back(i == 0 ? prompt : s.separator + prompt);
    }
    boost::asio::awaitable<std::optional<token>> next() override
    {
        if (left_.empty()) {
            if (!done()) mark_finished(liveai::finish_reason::stop);
            co_return std::nullopt;
        }
        // A token views its text until the next call: keep it here.
        current_ = std::move(left_.front());
        left_.pop_front();
        co_return token{current_};
    }
    void cancel() noexcept override
    {
        left_.clear();
        mark_finished(liveai::finish_reason::cancelled);
    }

private:
    std::deque<std::string> left_;
    std::string current_;
};

liveai::provider_registry with_echo()
{
    auto registry = liveai::provider_registry::builtin();
    registry.add<echo_settings>(
        "echo",
        [](liveai::settings_reader& r, echo_settings& s) {
            r.integer("repeat", s.repeat, 1, 100);
            if (r.string("separator", s.separator, 16) && s.separator.find('\n') != std::string::npos)
                r.problem("separator", "must not contain a line break");
        },
        [](const block_config&, const echo_settings& s, request req) -> std::unique_ptr<token_stream> {
            return std::make_unique<echo_stream>(s, std::string(liveai::last_user_text(req)));
        });
    return registry;
}

std::vector<std::string> problems_of(std::string_view text, const liveai::provider_registry& registry)
{
    try {
        liveai::parse_config(text, "app.toml", registry);
    } catch (const liveai::config_error& e) {
        return e.problems();
    }
    BOOST_FAIL("config was accepted");
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(provider_registry_suite)

BOOST_AUTO_TEST_CASE(builtins_are_registered_by_name)
{
    const auto& r = liveai::provider_registry::builtin();
    BOOST_TEST(r.names() == (std::vector<std::string>{"mock", "openai", "gemini", "anthropic"}), boost::test_tools::per_element());
    BOOST_TEST(r.list() == "mock, openai, gemini, anthropic");
    BOOST_TEST(r.find("openai") != nullptr);
    BOOST_TEST(r.find("nope") == nullptr);
    BOOST_TEST(r.find("mock")->default_model() == "mock-1");
    BOOST_TEST(r.find("anthropic")->default_model().empty());  // a block must name its model
}

BOOST_AUTO_TEST_CASE(names_are_checked)
{
    auto r = liveai::provider_registry::builtin();
    auto open = [](const block_config&, request) -> std::unique_ptr<token_stream> { return nullptr; };
    BOOST_CHECK_THROW(r.add("mock", open), std::invalid_argument);       // taken
    BOOST_CHECK_THROW(r.add("Upper", open), std::invalid_argument);      // not [a-z0-9][a-z0-9_-]*
    BOOST_CHECK_THROW(r.add("", open), std::invalid_argument);
    BOOST_CHECK_THROW(r.add("streaming", open), std::invalid_argument);  // a block's own key
    BOOST_CHECK_THROW(r.add("x", std::shared_ptr<const liveai::provider_factory>{}), std::invalid_argument);
    r.add("my-provider_2", open);
    BOOST_TEST(r.find("my-provider_2") != nullptr);
    BOOST_TEST(liveai::provider_registry::builtin().find("my-provider_2") == nullptr);  // a copy
}

BOOST_AUTO_TEST_CASE(a_registered_provider_reads_its_own_section)
{
    const auto registry = with_echo();
    const auto c = liveai::parse_config("[blocks.e]\nprovider = \"echo\"\n[blocks.e.echo]\nrepeat = 3\nseparator = \" / \"\n",
                                        "app.toml", registry);
    BOOST_REQUIRE(c.blocks.size() == 1u);
    const auto* s = liveai::find_block_settings<echo_settings>(c.blocks[0]);
    BOOST_REQUIRE(s != nullptr);
    BOOST_TEST(s->repeat == 3u);
    BOOST_TEST(s->separator == " / ");
    BOOST_TEST(c.blocks[0].model == "echo");  // a provider made from functions names its own model
    BOOST_TEST(liveai::find_block_settings<liveai::mock_settings>(c.blocks[0]) == nullptr);

    // Without the section: the provider's defaults.
    const auto d = liveai::parse_config("[blocks.e]\nprovider = \"echo\"\n", "app.toml", registry);
    BOOST_TEST(liveai::find_block_settings<echo_settings>(d.blocks[0])->repeat == 1u);
}

BOOST_AUTO_TEST_CASE(its_problems_have_file_line_column_and_key)
{
    const auto registry = with_echo();
    const auto p = problems_of("[blocks.e]\nprovider = \"echo\"\n[blocks.e.echo]\nrepeat = 0\nseparator = \"\\n\"\nrepeet = 2\n",
                               registry);
    BOOST_REQUIRE(p.size() == 3u);
    BOOST_TEST(p[0] == "app.toml:4:10: blocks.e.echo.repeat: must be from 1 to 100, got 0");
    BOOST_TEST(p[1] == "app.toml:5:13: blocks.e.echo.separator: must not contain a line break");
    BOOST_TEST(p[2] == "app.toml:6:1: blocks.e.echo.repeet: unknown key");

    // Another provider's section in the block; a provider nobody registered.
    const auto other = problems_of("[blocks.e]\nprovider = \"echo\"\n[blocks.e.mock]\ntokens = 3\n", registry);
    BOOST_REQUIRE(other.size() == 1u);
    BOOST_TEST(other[0].find("blocks.e.mock: settings for provider \"mock\" in a block whose provider is \"echo\"") !=
               std::string::npos, other[0]);
    const auto unknown = problems_of("[blocks.e]\nprovider = \"echo\"\n", liveai::provider_registry::builtin());
    BOOST_REQUIRE(unknown.size() == 1u);
    BOOST_TEST(unknown[0] == "app.toml:2:12: blocks.e.provider: \"echo\" is not a provider (available: mock, openai, gemini, anthropic)");
    BOOST_TEST(problems_of("[blocks.c]\nprovider = \"anthropic\"\n", registry)[0].find("blocks.c.model: is required") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_engine_opens_it_with_the_block_limits_and_deadlines)
{
    const auto registry = with_echo();
    auto c = liveai::parse_config("[blocks.e]\nprovider = \"echo\"\nstreaming = true\nmax_prompt_bytes = 8\n"
                                  "[blocks.e.echo]\nrepeat = 2\n[blocks.m]\nprovider = \"mock\"\n",
                                  "app.toml", registry);
    const liveai::engine engine(c.blocks, registry);
    asio::io_context ioc;
    auto stream = engine.stream("e", request{"hi"});
    const auto tokens = liveai::test::run_coro(ioc, liveai::test::drain(*stream));
    BOOST_TEST(tokens == (std::vector<std::string>{"hi", " hi"}), boost::test_tools::per_element());
    BOOST_TEST(stream->finish_reason() == liveai::finish_reason::stop);
    const auto collected = liveai::test::run_coro(ioc, engine.collect("e", request{"yo"}));
    BOOST_TEST(collected.text == "yo yo");
    // The engine validates before the provider sees the request.
    try {
        engine.stream("e", request{"longer than 8"});
        BOOST_FAIL("a prompt over max_prompt_bytes was accepted");
    } catch (const liveai::stream_error& e) {
        BOOST_TEST((e.code() == make_error_code(liveai::error::prompt_too_large)));
    }
    // The built-ins still work beside it.
    BOOST_TEST(!liveai::test::run_coro(ioc, engine.collect("m", request{"x"})).text.empty());

    // An engine refuses a block whose provider it does not know.
    BOOST_CHECK_THROW(liveai::engine(c.blocks), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_hand_built_block_gets_its_provider_defaults)
{
    block_config b;
    b.name = "plain";
    const liveai::engine engine({b});
    BOOST_TEST(liveai::find_block_settings<liveai::mock_settings>(engine.blocks()[0])->tokens == liveai::mock_settings{}.tokens);
    block_config odd;
    odd.name = "odd";
    odd.provider = "missing";
    BOOST_CHECK_THROW(liveai::engine({odd}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
