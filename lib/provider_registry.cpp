#include <liveai/provider_registry.hpp>

#include <algorithm>
#include <stdexcept>

namespace liveai {

namespace {

// A provider's settings are the block's table of that name, so a name may
// not be one of the block's own keys.
constexpr std::string_view block_keys[] = {"provider", "model", "system_prompt", "streaming", "max_prompt_bytes",
                                           "max_messages", "client_options",
                                           "first_token_timeout_ms", "idle_timeout_ms", "total_timeout_ms",
                                           "on_disconnect", "resume_grace_ms", "fallback", "hedge_after_ms",
                                           // what a composed block's provider reads as
                                           "hedge"};

}  // namespace

void provider_registry::add(std::string name, std::shared_ptr<const provider_factory> factory)
{
    if (!factory) throw std::invalid_argument("provider \"" + name + "\": no factory");
    if (!valid_block_name(name))
        throw std::invalid_argument("provider \"" + name + "\": names must match [a-z0-9][a-z0-9_-]{0,63}");
    if (std::find(std::begin(block_keys), std::end(block_keys), name) != std::end(block_keys))
        throw std::invalid_argument("provider \"" + name + "\": the name is a key of a block's own table");
    if (find(name)) throw std::invalid_argument("provider \"" + name + "\" is registered already");
    providers_.emplace_back(std::move(name), std::move(factory));
}

const provider_factory* provider_registry::find(std::string_view name) const noexcept
{
    for (const auto& [n, f] : providers_)
        if (n == name) return f.get();
    return nullptr;
}

std::vector<std::string> provider_registry::names() const
{
    std::vector<std::string> out;
    out.reserve(providers_.size());
    for (const auto& p : providers_) out.push_back(p.first);
    return out;
}

std::string provider_registry::list() const
{
    std::string out;
    for (const auto& p : providers_) out += (out.empty() ? "" : ", ") + p.first;
    return out.empty() ? "none registered" : out;
}

}  // namespace liveai
