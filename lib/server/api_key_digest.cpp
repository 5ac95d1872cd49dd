#include <liveai/server/api_key_digest.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace liveai::server {

key_digest digest_of_key(std::string_view key) noexcept
{
    key_digest d{};
    unsigned int n = 0;
    EVP_Digest(key.data(), key.size(), d.data(), &n, EVP_sha256(), nullptr);
    return d;
}

std::optional<key_digest> parse_key_digest(std::string_view hex) noexcept
{
    if (hex.size() != 64) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    key_digest d{};
    for (std::size_t i = 0; i < d.size(); ++i) {
        const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        d[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return d;
}

std::string to_hex(const key_digest& d)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (const auto b : d) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

bool digests_equal(const key_digest& a, const key_digest& b) noexcept
{
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string generate_api_key()
{
    unsigned char random[32];
    if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("no random bytes from OpenSSL");
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string key = "lk-";
    std::uint32_t bits = 0;
    int have = 0;
    for (const auto b : random) {
        bits = bits << 8 | b;
        have += 8;
        while (have >= 6) {
            have -= 6;
            key.push_back(alphabet[(bits >> have) & 63]);
        }
    }
    if (have > 0) key.push_back(alphabet[(bits << (6 - have)) & 63]);
    return key;
}

bool plausible_api_key(std::string_view key) noexcept
{
    if (key.empty() || key.size() > 256) return false;
    for (const char c : key) {
        const bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!tchar) return false;
    }
    return true;
}

}  // namespace liveai::server
