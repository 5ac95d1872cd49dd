// The gateway's decisions without a socket: API key digests and lookups,
// where a request carries its key, rate and stream limits, CORS and
// WebSocket origin checks, and the [auth] config.
#include "key_table.hpp"
#include "router.hpp"

#include <liveai/config.hpp>
#include <liveai/server/api_key_digest.hpp>
#include <liveai/server/origin_policy.hpp>

#include <boost/test/unit_test.hpp>

using namespace liveai::server;
using namespace liveai::server::detail;
using namespace std::chrono_literals;

namespace {

api_key make_key(std::string name, std::string_view secret, std::vector<std::string> blocks, std::size_t streams = 2,
                 std::uint32_t per_minute = 0)
{
    api_key k;
    k.name = std::move(name);
    k.sha256 = digest_of_key(secret);
    k.blocks = std::move(blocks);
    k.max_streams = streams;
    k.requests_per_minute = per_minute;
    return k;
}

std::string problems_of(std::string_view text)
{
    try {
        liveai::parse_config(text, "test.toml");
    } catch (const liveai::config_error& e) {
        return e.what();
    }
    BOOST_FAIL("config was accepted");
    return {};
}

constexpr std::string_view abc_digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view mock_block = "\n[blocks.chat]\nprovider = \"mock\"\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(api_keys)

BOOST_AUTO_TEST_CASE(digest_is_sha256_in_hex_and_parses_back)
{
    BOOST_TEST(to_hex(digest_of_key("abc")) == abc_digest);
    const auto parsed = parse_key_digest(abc_digest);
    BOOST_REQUIRE(parsed.has_value());
    BOOST_TEST(digests_equal(*parsed, digest_of_key("abc")));
    BOOST_TEST(!digests_equal(*parsed, digest_of_key("abd")));
    std::string upper(abc_digest);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    BOOST_TEST(parse_key_digest(upper).has_value());
    BOOST_TEST(!parse_key_digest(abc_digest.substr(1)).has_value());
    BOOST_TEST(!parse_key_digest(std::string(abc_digest.substr(1)) + "g").has_value());
}

BOOST_AUTO_TEST_CASE(new_keys_are_random_token_characters)
{
    const auto a = generate_api_key(), b = generate_api_key();
    BOOST_TEST(a.size() == 46u);  // "lk-" and 256 bits in base64url
    BOOST_TEST(a.starts_with("lk-"));
    BOOST_TEST(a != b);
    BOOST_TEST(plausible_api_key(a));
    BOOST_TEST(!plausible_api_key(""));
    BOOST_TEST(!plausible_api_key("has space"));
    BOOST_TEST(!plausible_api_key("comma,separated"));
    BOOST_TEST(!plausible_api_key(std::string(257, 'a')));
}

BOOST_AUTO_TEST_CASE(a_key_is_found_by_its_digest_only)
{
    auth_config auth;
    auth.keys.push_back(make_key("web", "secret-web", {"chat"}));
    auth.keys.push_back(make_key("ops", "secret-ops", {"*"}));
    const key_table keys(auth);
    BOOST_TEST(keys.enabled());
    const auto* web = keys.find("secret-web");
    BOOST_REQUIRE(web);
    BOOST_TEST(web->name() == "web");
    BOOST_TEST(keys.index_of(web) == 0u);
    BOOST_TEST(keys.find("secret-ops")->name() == "ops");
    BOOST_TEST(!keys.find("secret-we"));
    BOOST_TEST(!keys.find(""));
    BOOST_TEST(web->may_use("chat"));
    BOOST_TEST(!web->may_use("other"));
    BOOST_TEST(keys.find("secret-ops")->may_use("anything"));
    // Without a metrics key every key opens /metrics; with one, only it does.
    BOOST_TEST(keys.opens_metrics("secret-web"));
    BOOST_TEST(!keys.opens_metrics("nope"));
    auth.has_metrics_key = true;
    auth.metrics_sha256 = digest_of_key("scraper");
    BOOST_TEST(keys.opens_metrics("scraper"));
    BOOST_TEST(!keys.opens_metrics("secret-web"));
}

BOOST_AUTO_TEST_CASE(requests_per_minute_is_a_bucket_that_refills)
{
    auth_config auth;
    auth.keys.push_back(make_key("web", "k", {"*"}, 2, 2));
    const key_table keys(auth);
    auto& k = *keys.find("k");
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(k.take_request(t0) == 0u);
    BOOST_TEST(k.take_request(t0) == 0u);
    // Empty: one request comes back every 30 s at 2 a minute.
    BOOST_TEST(k.take_request(t0) == 30u);
    BOOST_TEST(k.take_request(t0 + 15s) == 15u);
    BOOST_TEST(k.take_request(t0 + 30s) == 0u);
    BOOST_TEST(k.take_request(t0 + 30s) == 30u);
    // A long pause refills to the full minute's worth, no more.
    BOOST_TEST(k.take_request(t0 + 1h) == 0u);
    BOOST_TEST(k.take_request(t0 + 1h) == 0u);
    BOOST_TEST(k.take_request(t0 + 1h) > 0u);
}

BOOST_AUTO_TEST_CASE(streams_are_counted_per_key)
{
    auth_config auth;
    auth.keys.push_back(make_key("web", "k", {"*"}, 2));
    const key_table keys(auth);
    auto& k = *keys.find("k");
    BOOST_TEST(k.take_stream());
    BOOST_TEST(k.take_stream());
    BOOST_TEST(!k.take_stream());
    k.give_back_stream();
    BOOST_TEST(k.take_stream());
    // Unlimited requests per minute: never refused by rate.
    for (int i = 0; i < 1000; ++i) BOOST_TEST_REQUIRE(k.take_request(std::chrono::steady_clock::now()) == 0u);
}

BOOST_AUTO_TEST_CASE(where_a_request_carries_its_key)
{
    BOOST_TEST(bearer_token("Bearer abc") == "abc");
    BOOST_TEST(bearer_token("bearer  abc ") == "abc");
    BOOST_TEST(bearer_token("BEARER abc") == "abc");
    BOOST_TEST(bearer_token("Basic YWJj").empty());
    BOOST_TEST(bearer_token("Bearer").empty());
    BOOST_TEST(bearer_token("Bearerabc").empty());
    BOOST_TEST(bearer_token("").empty());

    auto p = read_ws_protocols("liveai, liveai.bearer.lk-abc_1");
    BOOST_TEST(p.liveai);
    BOOST_TEST(p.key == "lk-abc_1");
    p = read_ws_protocols("liveai.bearer.k2");
    BOOST_TEST(!p.liveai);
    BOOST_TEST(p.key == "k2");
    p = read_ws_protocols("chat,liveai");
    BOOST_TEST(p.liveai);
    BOOST_TEST(p.key.empty());
    BOOST_TEST(read_ws_protocols("").key.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(origins)

BOOST_AUTO_TEST_CASE(valid_origins_are_scheme_host_and_port)
{
    BOOST_TEST(valid_origin("https://app.example.com"));
    BOOST_TEST(valid_origin("http://127.0.0.1:8080"));
    BOOST_TEST(valid_origin("http://[::1]:3000"));
    BOOST_TEST(!valid_origin("https://app.example.com/"));
    BOOST_TEST(!valid_origin("app.example.com"));
    BOOST_TEST(!valid_origin("ftp://x"));
    BOOST_TEST(!valid_origin("https://x:"));
    BOOST_TEST(!valid_origin("https://x:99999x"));
    BOOST_TEST(!valid_origin("null"));
}

BOOST_AUTO_TEST_CASE(listed_origins_compare_as_origins)
{
    const std::vector<std::string> allowed{"https://App.Example.com", "http://localhost:5173"};
    BOOST_TEST(origin_listed("https://app.example.com", allowed));
    BOOST_TEST(origin_listed("https://app.example.com:443", allowed));  // the default port
    BOOST_TEST(!origin_listed("http://app.example.com", allowed));      // another scheme
    BOOST_TEST(!origin_listed("https://app.example.com.evil.io", allowed));
    BOOST_TEST(origin_listed("http://localhost:5173", allowed));
    BOOST_TEST(!origin_listed("http://localhost:5174", allowed));
    BOOST_TEST(!origin_listed("null", allowed));
    const std::vector<std::string> any{"*"};
    BOOST_TEST(origin_listed("https://whatever.example", any));
    BOOST_TEST(cors_allowed("", allowed));  // not a browser
    BOOST_TEST(!cors_allowed("https://evil.example", allowed));
}

BOOST_AUTO_TEST_CASE(websocket_origin_is_same_origin_without_a_list)
{
    const std::vector<std::string> none;
    BOOST_TEST(ws_origin_allowed("", "127.0.0.1:8080", none));  // a non-browser client
    BOOST_TEST(ws_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", none));
    BOOST_TEST(ws_origin_allowed("http://Example.com", "example.com:80", none));
    BOOST_TEST(ws_origin_allowed("https://example.com", "example.com", none));
    BOOST_TEST(!ws_origin_allowed("http://127.0.0.1:9090", "127.0.0.1:8080", none));
    BOOST_TEST(!ws_origin_allowed("https://evil.example", "127.0.0.1:8080", none));
    BOOST_TEST(!ws_origin_allowed("null", "127.0.0.1:8080", none));
    BOOST_TEST(!ws_origin_allowed("http://127.0.0.1:8080", "", none));
    const std::vector<std::string> listed{"https://app.example.com"};
    BOOST_TEST(ws_origin_allowed("https://app.example.com", "127.0.0.1:8080", listed));
    // With a list, the list decides: the same origin is not implied.
    BOOST_TEST(!ws_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", listed));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(auth_config_file)

BOOST_AUTO_TEST_CASE(reads_keys_limits_and_origins)
{
    const auto c = liveai::parse_config(std::string(R"(
[server]
cors_allowed_origins = ["https://app.example.com"]
ws_allowed_origins = ["https://app.example.com", "http://localhost:5173"]
[auth]
metrics_key_sha256 = ")") + std::string(abc_digest) + R"("
[[auth.keys]]
name = "web"
sha256 = ")" + std::string(abc_digest) + R"("
blocks = ["chat"]
max_streams = 3
requests_per_minute = 60
[blocks.chat]
provider = "mock"
model_alias = "gpt-4o-mini"
allow_query_token = true
)", "test.toml");
    BOOST_TEST(c.server.auth.enabled());
    BOOST_REQUIRE(c.server.auth.keys.size() == 1u);
    const auto& k = c.server.auth.keys[0];
    BOOST_TEST(k.name == "web");
    BOOST_TEST(to_hex(k.sha256) == abc_digest);
    BOOST_TEST(k.blocks == std::vector<std::string>{"chat"});
    BOOST_TEST(k.max_streams == 3u);
    BOOST_TEST(k.requests_per_minute == 60u);
    BOOST_TEST(c.server.auth.has_metrics_key);
    BOOST_TEST(c.server.cors_allowed_origins.size() == 1u);
    BOOST_TEST(c.server.ws_allowed_origins.size() == 2u);
    BOOST_TEST(c.blocks[0].model_alias == "gpt-4o-mini");
    BOOST_TEST(c.blocks[0].allow_query_token);
}

BOOST_AUTO_TEST_CASE(no_auth_by_default)
{
    const auto c = liveai::parse_config(std::string(mock_block), "test.toml");
    BOOST_TEST(!c.server.auth.enabled());
    BOOST_TEST(c.server.cors_allowed_origins.empty());
    BOOST_TEST(!c.blocks[0].allow_query_token);
}

BOOST_AUTO_TEST_CASE(bad_keys_are_named)
{
    auto problems = problems_of(std::string("[auth]\n[[auth.keys]]\nname = \"web\"\nsha256 = \"abc\"\nblocks = [\"chat\"]\n") +
                                std::string(mock_block));
    BOOST_TEST(problems.find("test.toml:4:10: auth.keys[0].sha256: must be 64 hex digits") != std::string::npos, problems);
    problems = problems_of(std::string("[auth]\n[[auth.keys]]\nname = \"web\"\nsha256 = \"") + std::string(abc_digest) +
                           "\"\nblocks = [\"nope\"]\n" + std::string(mock_block));
    BOOST_TEST(problems.find("auth key \"web\": blocks names \"nope\", which is not a block") != std::string::npos, problems);
    problems = problems_of(std::string("[auth]\n[[auth.keys]]\nname = \"Web Key\"\nsha256 = \"") + std::string(abc_digest) +
                           "\"\n" + std::string(mock_block));
    BOOST_TEST(problems.find("auth.keys[0].name: must match") != std::string::npos, problems);
    BOOST_TEST(problems.find("auth.keys[0].blocks: missing") != std::string::npos, problems);
    problems = problems_of(std::string("[auth]\n") + std::string(mock_block));
    BOOST_TEST(problems.find("has no keys") != std::string::npos, problems);
    problems = problems_of(std::string("[auth]\n[[auth.keys]]\nname = \"a\"\nsha256 = \"") + std::string(abc_digest) +
                           "\"\nblocks = [\"*\"]\n[[auth.keys]]\nname = \"b\"\nsha256 = \"" + std::string(abc_digest) +
                           "\"\nblocks = [\"*\"]\n" + std::string(mock_block));
    BOOST_TEST(problems.find("the same key as \"a\"") != std::string::npos, problems);
    problems = problems_of(std::string("[server]\ncors_allowed_origins = [\"https://x.example/app\"]\n") + std::string(mock_block));
    BOOST_TEST(problems.find("server.cors_allowed_origins: \"https://x.example/app\" is not an origin") != std::string::npos, problems);
    problems = problems_of(std::string("[auth]\nkeys_file = \"/nonexistent/keys.toml\"\n") + std::string(mock_block));
    BOOST_TEST(problems.find("auth.keys_file: cannot read \"/nonexistent/keys.toml\"") != std::string::npos, problems);
}

BOOST_AUTO_TEST_CASE(keys_file_holds_keys_apart_from_the_config)
{
    const std::string dir = LIVEAI_SOURCE_DIR "/tests/fixtures/auth";
    const auto c = liveai::load_config_file(dir + "/with_keys_file.toml");
    BOOST_REQUIRE(c.server.auth.keys.size() == 2u);
    BOOST_TEST(c.server.auth.keys[0].name == "inline");
    BOOST_TEST(c.server.auth.keys[1].name == "from-file");
    BOOST_TEST(to_hex(c.server.auth.keys[1].sha256) == to_hex(digest_of_key("file-key")));
}

BOOST_AUTO_TEST_SUITE_END()
