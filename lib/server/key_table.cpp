#include "key_table.hpp"

#include <liveai/server/api_key_digest.hpp>

#include <algorithm>
#include <cmath>

namespace liveai::server::detail {

key_state::key_state(const api_key& k) noexcept
    : key_(&k), tokens_(static_cast<double>(k.requests_per_minute)), refilled_(std::chrono::steady_clock::now())
{
}

bool key_state::may_use(std::string_view block) const noexcept
{
    return std::any_of(key_->blocks.begin(), key_->blocks.end(), [&](const std::string& b) { return b == "*" || b == block; });
}

std::uint32_t key_state::take_request(std::chrono::steady_clock::time_point now) noexcept
{
    const auto per_minute = key_->requests_per_minute;
    if (per_minute == 0) return 0;
    const double rate = per_minute / 60.0;  // requests a second
    std::lock_guard lock(bucket_mutex_);
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    if (elapsed > 0) {
        tokens_ = std::min<double>(per_minute, tokens_ + elapsed * rate);
        refilled_ = now;
    }
    if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        return 0;
    }
    return static_cast<std::uint32_t>(std::max(1.0, std::ceil((1.0 - tokens_) / rate)));
}

bool key_state::take_stream() noexcept
{
    const auto before = streams_.fetch_add(1, std::memory_order_relaxed);
    if (before < static_cast<std::int64_t>(key_->max_streams)) return true;
    streams_.fetch_sub(1, std::memory_order_relaxed);
    return false;
}

key_table::key_table(const auth_config& auth) : auth_(auth)
{
    for (const auto& k : auth.keys) keys_.push_back(std::make_unique<key_state>(k));
}

key_state* key_table::find(std::string_view presented) const noexcept
{
    if (!plausible_api_key(presented)) return nullptr;
    const auto digest = digest_of_key(presented);
    key_state* found = nullptr;
    // Every digest is compared, whichever matches.
    for (const auto& k : keys_)
        if (digests_equal(k->key().sha256, digest)) found = k.get();
    return found;
}

bool key_table::opens_metrics(std::string_view presented) const noexcept
{
    if (!auth_.has_metrics_key) return find(presented) != nullptr;
    return plausible_api_key(presented) && digests_equal(auth_.metrics_sha256, digest_of_key(presented));
}

std::size_t key_table::index_of(const key_state* k) const noexcept
{
    for (std::size_t i = 0; i < keys_.size(); ++i)
        if (keys_[i].get() == k) return i;
    return static_cast<std::size_t>(-1);
}

std::string_view bearer_token(std::string_view authorization) noexcept
{
    constexpr std::string_view scheme = "bearer";
    if (authorization.size() <= scheme.size() + 1 || authorization[scheme.size()] != ' ') return {};
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        const char c = authorization[i];
        if ((c | 0x20) != scheme[i]) return {};
    }
    auto token = authorization.substr(scheme.size() + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    return token;
}

ws_protocols read_ws_protocols(std::string_view header) noexcept
{
    constexpr std::string_view prefix = "liveai.bearer.";
    ws_protocols out;
    while (!header.empty()) {
        const auto comma = header.find(',');
        auto item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item == "liveai") out.liveai = true;
        else if (item.starts_with(prefix) && out.key.empty()) out.key = item.substr(prefix.size());
    }
    return out;
}

}  // namespace liveai::server::detail
