#include <liveai/provider_registry.hpp>
#include <liveai/providers/mock_settings.hpp>
#include <liveai/providers/upstream_settings.hpp>
#include <liveai/config.hpp>

#include "../support/printers.hpp"

#include <boost/test/unit_test.hpp>

using liveai::config_error;
using liveai::parse_config;

namespace {

// The single problem a config produces (fails the test if it parses).
std::string problem_of(std::string_view text)
{
    try {
        parse_config(text, "test.toml");
    } catch (const config_error& e) {
        BOOST_TEST(e.problems().size() == 1u);
        return e.problems().front();
    }
    BOOST_FAIL("config was accepted");
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(reads_server_and_blocks)
{
    const auto c = parse_config(R"(
[server]
port = 9000
max_streams = 10
heartbeat_interval_ms = 500
log_level = "debug"

[blocks.chat]
provider = "mock"
streaming = true
first_token_timeout_ms = 1500

[blocks.chat.mock]
tokens = 12
delay_ms = 7
fail_after = 4
fail_code = "upstream_rate_limited"
finish_reason = "length"
)", "test.toml");
    BOOST_TEST(c.server.port == 9000);
    BOOST_TEST(c.server.max_streams == 10u);
    BOOST_TEST(c.server.heartbeat_interval.count() == 500);
    BOOST_TEST((c.server.log == liveai::server::log_level::debug));
    BOOST_REQUIRE(c.blocks.size() == 1u);
    const auto& b = c.blocks[0];
    BOOST_TEST(b.name == "chat");
    BOOST_TEST(b.streaming);
    BOOST_TEST(b.deadlines.first_token.count() == 1500);
    BOOST_TEST(liveai::find_block_settings<liveai::mock_settings>(b)->tokens == 12u);
    BOOST_TEST(liveai::find_block_settings<liveai::mock_settings>(b)->delay.count() == 7);
    BOOST_TEST(*liveai::find_block_settings<liveai::mock_settings>(b)->fail_after == 4u);
    BOOST_TEST((liveai::find_block_settings<liveai::mock_settings>(b)->fail_code == liveai::error::upstream_rate_limited));
    BOOST_TEST((liveai::find_block_settings<liveai::mock_settings>(b)->finish == liveai::finish_reason::length));
}

BOOST_AUTO_TEST_CASE(streaming_defaults_to_off)
{
    const auto c = parse_config("[blocks.a]\nprovider = \"mock\"\n", "t.toml");
    BOOST_TEST(!c.blocks[0].streaming);
}

BOOST_AUTO_TEST_CASE(resume_settings)
{
    const auto c = parse_config(
        "[server]\nreplay_buffer_bytes = 4096\nreplay_retention_ms = 500\nmax_retained_streams = 7\nmax_retained_bytes = 1000\n"
        "[blocks.a]\nprovider = \"mock\"\non_disconnect = \"detach\"\nresume_grace_ms = 1500\n"
        "[blocks.b]\nprovider = \"mock\"\n",
        "t.toml");
    BOOST_TEST(c.server.replay_buffer_bytes == 4096u);
    BOOST_TEST(c.server.replay_retention.count() == 500);
    BOOST_TEST(c.server.max_retained_streams == 7u);
    BOOST_TEST(c.server.max_retained_bytes == 1000u);
    BOOST_TEST((c.blocks[0].on_disconnect == liveai::disconnect_policy::detach));
    BOOST_TEST(c.blocks[0].resume_grace.count() == 1500);
    BOOST_TEST((c.blocks[1].on_disconnect == liveai::disconnect_policy::cancel));  // the default
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"mock\"\non_disconnect = \"linger\"\n") ==
               "test.toml:3:17: blocks.a.on_disconnect: \"linger\" is not a policy (available: cancel, detach)");
    BOOST_TEST(problem_of("[server]\nreplay_buffer_bytes = 10\n[blocks.a]\nprovider = \"mock\"\n") ==
               "test.toml:2:23: server.replay_buffer_bytes: must be from 1024 to 1073741824, got 10");
}

BOOST_AUTO_TEST_CASE(unknown_key_names_file_line_column_and_key)
{
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"mock\"\nstreeming = true\n") == "test.toml:3:1: blocks.a.streeming: unknown key");
    BOOST_TEST(problem_of("[server]\nprot = 1\n[blocks.a]\nprovider = \"mock\"\n") == "test.toml:2:1: server.prot: unknown key");
    BOOST_TEST(problem_of("nonsense = 1\n[blocks.a]\nprovider = \"mock\"\n") == "test.toml:1:1: nonsense: unknown key");
}

BOOST_AUTO_TEST_CASE(wrong_type)
{
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"mock\"\nstreaming = \"yes\"\n") ==
               "test.toml:3:13: blocks.a.streaming: expected a boolean, got a string");
    BOOST_TEST(problem_of("[server]\nport = 80.5\n[blocks.a]\nprovider = \"mock\"\n") ==
               "test.toml:2:8: server.port: expected an integer, got a float");
}

BOOST_AUTO_TEST_CASE(out_of_range)
{
    BOOST_TEST(problem_of("[server]\nport = 70000\n[blocks.a]\nprovider = \"mock\"\n") ==
               "test.toml:2:8: server.port: must be from 0 to 65535, got 70000");
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"mock\"\n[blocks.a.mock]\ndelay_ms = -1\n") ==
               "test.toml:4:12: blocks.a.mock.delay_ms: must be from 0 to 3600000, got -1");
}

BOOST_AUTO_TEST_CASE(bad_values)
{
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"gpt\"\n").find("blocks.a.provider: \"gpt\" is not a provider") != std::string::npos);
    BOOST_TEST(problem_of("[blocks.Bad]\nprovider = \"mock\"\n").find("test.toml:1:9: blocks.Bad: block names must match") == 0u);
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"mock\"\n[blocks.a.mock]\nfail_code = \"oops\"\n").find("is not an error code") != std::string::npos);
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"mock\"\n[blocks.a.mock]\ntokens = 3\ntext = \"x\"\n").find("either tokens or text") != std::string::npos);
    BOOST_TEST(problem_of("[blocks.a]\nstreaming = true\n").find("blocks.a.provider: missing") != std::string::npos);
    BOOST_TEST(problem_of("[server]\nport = 1\n") == "test.toml: no blocks are configured (add a [blocks.<name>] table)");
    BOOST_TEST(problem_of("[server]\nlog_level = \"loud\"\n[blocks.a]\nprovider = \"mock\"\n").find("server.log_level: must be one of") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(upstream_providers)
{
    const auto c = parse_config(R"(
[blocks.gpt]
provider = "openai"
model = "gpt-4o-mini"
[blocks.gpt.openai]
max_retries = 1
temperature = 0.5

[blocks.gem]
provider = "gemini"
model = "gemini-1.5-flash"
)", "t.toml");
    BOOST_REQUIRE(c.blocks.size() == 2u);
    const auto& gem = c.blocks[0].name == "gem" ? c.blocks[0] : c.blocks[1];
    const auto& gpt = c.blocks[0].name == "gpt" ? c.blocks[0] : c.blocks[1];
    BOOST_TEST(liveai::find_block_settings<liveai::upstream_settings>(gpt)->base_url == "https://api.openai.com/v1");
    BOOST_TEST(liveai::find_block_settings<liveai::upstream_settings>(gpt)->api_key_env == "OPENAI_API_KEY");
    BOOST_TEST(liveai::find_block_settings<liveai::upstream_settings>(gpt)->max_retries == 1u);
    BOOST_TEST(*liveai::find_block_settings<liveai::upstream_settings>(gpt)->temperature == 0.5);
    BOOST_TEST(liveai::find_block_settings<liveai::upstream_settings>(gem)->base_url == "https://generativelanguage.googleapis.com/v1beta");
    BOOST_TEST(liveai::find_block_settings<liveai::upstream_settings>(gem)->api_key_env == "GEMINI_API_KEY");

    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"openai\"\n").find("blocks.a.model: is required") != std::string::npos);
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"openai\"\nmodel = \"m\"\n[blocks.a.openai]\nbase_url = \"ftp://x\"\n")
                   .find("blocks.a.openai.base_url: must start with http:// or https://") != std::string::npos);
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"openai\"\nmodel = \"m\"\n[blocks.a.openai]\napi_key_env = \"sk-abc123\"\n")
                   .find("must be the name of an environment variable") != std::string::npos);
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"openai\"\nmodel = \"m\"\n[blocks.a.gemini]\nmax_retries = 1\n")
                   .find("settings for provider \"gemini\" in a block whose provider is \"openai\"") != std::string::npos);
    BOOST_TEST(problem_of("[blocks.a]\nprovider = \"gemini\"\nmodel = \"m\"\n[blocks.a.gemini]\ntemperature = 3.5\n")
                   .find("blocks.a.gemini.temperature: must be from 0 to 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(syntax_error_has_a_position)
{
    BOOST_TEST(problem_of("[blocks.a\nprovider = 1\n").rfind("test.toml:1:", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(reports_every_problem_at_once)
{
    try {
        parse_config("[server]\nport = -1\nfoo = 2\n[blocks.a]\nprovider = \"mock\"\nbar = 1\n", "t.toml");
        BOOST_FAIL("accepted");
    } catch (const config_error& e) {
        BOOST_TEST(e.problems().size() == 3u);
    }
}

BOOST_AUTO_TEST_CASE(missing_file)
{
    BOOST_CHECK_THROW(liveai::load_config_file("/nonexistent/liveai.toml"), config_error);
}

BOOST_AUTO_TEST_CASE(shipped_configs_are_valid)
{
    const auto d = liveai::load_config_file(LIVEAI_SOURCE_DIR "/config/liveai.toml");
    BOOST_TEST(d.server.port == 8080);
    BOOST_TEST(d.server.host == "127.0.0.1");
    BOOST_TEST(d.blocks.size() >= 2u);
    const auto b = liveai::load_config_file(LIVEAI_SOURCE_DIR "/config/bench.toml");
    std::vector<std::string> names;
    for (const auto& block : b.blocks) names.push_back(block.name);
    for (const char* n : {"bench-burst", "bench-paced", "bench-fail", "bench-slow"})
        BOOST_TEST((std::find(names.begin(), names.end(), n) != names.end()), n);
}

BOOST_AUTO_TEST_SUITE_END()
