// Providers by name: what `provider = "<name>"` in a block means. The
// built-in providers (mock, openai, gemini, anthropic) register the same way
// an application's own provider does.
#pragma once

#include <liveai/block_config.hpp>
#include <liveai/request.hpp>
#include <liveai/settings_reader.hpp>
#include <liveai/token_stream.hpp>

#include <any>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace liveai {

// What the config loader and the engine need of a provider. Implement it for
// full control; provider_registry::add<Settings>(name, read, open) makes one
// from two functions.
class provider_factory {
public:
    virtual ~provider_factory() = default;

    // The settings of a block that has no [blocks.<name>.<provider>] table.
    virtual std::any default_settings() const = 0;
    // Reads [blocks.<name>.<provider>] into `settings` (which holds
    // default_settings()). Problems go to the reader, never as exceptions.
    virtual void read_settings(settings_reader& table, std::any& settings) const = 0;
    // The model of a block that names none; empty: a block must name one.
    virtual std::string default_model() const { return {}; }

    // Called once per block when an engine is made, off the I/O threads: load
    // here what would block an executor (the upstream providers load TLS).
    // Throws stream_error when the block cannot work at all.
    virtual void prepare(const block_config&) const {}
    // What the environment lacks for this block (an API key variable that is
    // not set); the server refuses to start on any, --check-config lists them.
    virtual std::vector<std::string> missing_environment(const block_config&) const { return {}; }
    // Settings that are valid but defeat each other; reported, not refused.
    virtual std::vector<std::string> warnings(const block_config&) const { return {}; }

    // A stream for one request the engine has validated against the block.
    // Runs on the executor that will await the stream; must not block.
    // Throws stream_error for a request it cannot serve.
    virtual std::unique_ptr<token_stream> open(const block_config& block, request req) const = 0;
};

// The settings a block's provider read, as the provider's own type; nullptr
// when the block holds settings of another type.
template <class Settings>
const Settings* find_block_settings(const block_config& block) noexcept
{
    return std::any_cast<Settings>(&block.settings);
}

// For code that builds a block by hand: its settings of this type, made
// (default-constructed) when it holds none of it.
template <class Settings>
Settings& block_settings(block_config& block)
{
    if (!std::any_cast<Settings>(&block.settings)) block.settings = Settings{};
    return *std::any_cast<Settings>(&block.settings);
}

namespace detail {

template <class Settings, class Read, class Open>
class function_provider final : public provider_factory {
public:
    function_provider(std::string model, Read read, Open open)
        : model_(std::move(model)), read_(std::move(read)), open_(std::move(open))
    {
    }
    std::any default_settings() const override { return Settings{}; }
    void read_settings(settings_reader& table, std::any& settings) const override
    {
        read_(table, *std::any_cast<Settings>(&settings));
    }
    std::string default_model() const override { return model_; }
    std::unique_ptr<token_stream> open(const block_config& block, request req) const override
    {
        return open_(block, *std::any_cast<Settings>(&block.settings), std::move(req));
    }

private:
    std::string model_;
    Read read_;
    Open open_;
};

}  // namespace detail

// A set of providers by name. Copies share the factories; an engine keeps
// its own copy, so registering after making an engine does not change it.
class provider_registry {
public:
    // An empty registry (no built-in providers).
    provider_registry() = default;

    // mock, openai, gemini and anthropic.
    static const provider_registry& builtin();

    // Throws std::invalid_argument when the name is taken, is not
    // [a-z0-9][a-z0-9_-]{0,63}, or is a key of a block's own table
    // ("model", "streaming", ...).
    void add(std::string name, std::shared_ptr<const provider_factory> factory);

    // A provider with settings of its own type (default-constructible,
    // copyable): read(settings_reader&, Settings&) reads its table;
    // open(const block_config&, const Settings&, request) opens a stream.
    // Its blocks' model defaults to the provider's name.
    template <class Settings, class Read, class Open>
    void add(std::string name, Read read, Open open)
    {
        auto model = name;
        add(std::move(name), std::make_shared<detail::function_provider<Settings, Read, Open>>(std::move(model), std::move(read),
                                                                                                 std::move(open)));
    }

    // A provider without settings: open(const block_config&, request).
    template <class Open>
        requires(!std::is_convertible_v<Open, std::shared_ptr<const provider_factory>>)
    void add(std::string name, Open open)
    {
        struct none {};
        auto read = [](settings_reader&, none&) {};
        auto open_without = [open = std::move(open)](const block_config& b, const none&, request req) {
            return open(b, std::move(req));
        };
        add<none>(std::move(name), std::move(read), std::move(open_without));
    }

    const provider_factory* find(std::string_view name) const noexcept;
    // In registration order.
    std::vector<std::string> names() const;
    // "mock, openai, gemini": for messages.
    std::string list() const;

private:
    std::vector<std::pair<std::string, std::shared_ptr<const provider_factory>>> providers_;
};

}  // namespace liveai
