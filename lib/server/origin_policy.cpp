#include <liveai/server/origin_policy.hpp>

#include <string>

namespace liveai::server {

namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

struct origin_parts {
    std::string_view scheme;
    std::string_view host;
    std::string_view port;  // "" for the scheme's default
};

// scheme://host[:port]; a bracketed IPv6 host keeps its brackets.
bool split_origin(std::string_view origin, origin_parts& out) noexcept
{
    const auto sep = origin.find("://");
    if (sep == std::string_view::npos) return false;
    out.scheme = origin.substr(0, sep);
    std::string_view rest = origin.substr(sep + 3);
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) return false;
    std::size_t colon = std::string_view::npos;
    if (rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return false;
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') return false;
            colon = close + 1;
        }
    } else {
        colon = rest.find(':');
    }
    out.host = rest.substr(0, colon);
    out.port = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (out.host.empty() || (colon != std::string_view::npos && out.port.empty())) return false;
    for (const char c : out.port)
        if (c < '0' || c > '9') return false;
    if (out.port.size() > 5) return false;
    const bool https = out.scheme.size() == 5 && lower(out.scheme[4]) == 's';
    if ((https && out.port == "443") || (!https && out.port == "80")) out.port = {};
    return true;
}

bool equal_nocase(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool same_origin(std::string_view a, std::string_view b) noexcept
{
    origin_parts x, y;
    if (!split_origin(a, x) || !split_origin(b, y)) return false;
    return equal_nocase(x.scheme, y.scheme) && equal_nocase(x.host, y.host) && x.port == y.port;
}

}  // namespace

bool valid_origin(std::string_view origin) noexcept
{
    origin_parts p;
    return split_origin(origin, p) && (equal_nocase(p.scheme, "http") || equal_nocase(p.scheme, "https"));
}

bool origin_listed(std::string_view origin, std::span<const std::string> allowed) noexcept
{
    for (const auto& a : allowed)
        if (a == "*" || same_origin(origin, a)) return true;
    return false;
}

bool cors_allowed(std::string_view origin, std::span<const std::string> allowed) noexcept
{
    return origin.empty() || origin_listed(origin, allowed);
}

bool ws_origin_allowed(std::string_view origin, std::string_view host, std::span<const std::string> allowed) noexcept
{
    if (origin.empty()) return true;
    if (!allowed.empty()) return origin_listed(origin, allowed);
    origin_parts o;
    if (host.empty() || !split_origin(origin, o)) return false;
    // The origin the request's Host would be under the Origin's own scheme.
    return same_origin(origin, std::string(o.scheme) + "://" + std::string(host));
}

}  // namespace liveai::server
