#include <liveai/token.hpp>

namespace liveai {

std::string_view to_string(finish_reason reason) noexcept
{
    switch (reason) {
    case finish_reason::stop: return "stop";
    case finish_reason::length: return "length";
    case finish_reason::content_filter: return "content_filter";
    case finish_reason::cancelled: return "cancelled";
    case finish_reason::tool_calls: return "tool_calls";
    }
    return "stop";
}

std::optional<finish_reason> finish_reason_from_string(std::string_view name) noexcept
{
    for (auto r : {finish_reason::stop, finish_reason::length, finish_reason::content_filter, finish_reason::cancelled,
                   finish_reason::tool_calls})
        if (to_string(r) == name) return r;
    return std::nullopt;
}

}  // namespace liveai
