// The base of providers that stream server-sent events from an HTTP(S)
// upstream: connection reuse, TLS, timeouts, retries before the first token,
// HTTP error mapping and prompt cancellation. Subclasses say what to send and
// how to read one event's data.
#pragma once

#include <liveai/error.hpp>
#include <liveai/providers/upstream_settings.hpp>
#include <liveai/token_stream.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liveai {

class http_stream_provider : public token_stream {
public:
    ~http_stream_provider() override;

    // Cancelling a pending next() (slot or cancel()) closes the upstream
    // connection at once, so the upstream stops generating (and billing).
    boost::asio::awaitable<std::optional<token>> next() override;
    void cancel() noexcept override;

    // How many requests were sent (1 + retries), for tests and logs.
    unsigned attempts() const noexcept;

protected:
    struct request_spec {
        std::string path_and_query;  // appended to base_url's path
        std::string body;            // JSON
        std::vector<std::pair<std::string, std::string>> headers;
    };

    enum class event_action { skip, token, end };

    // Throws stream_error on a config problem (bad base_url, missing key).
    http_stream_provider(std::string provider_name, upstream_settings settings);

    // The API key from settings().api_key_env; throws upstream_auth when unset.
    std::string api_key() const;
    void set_request(request_spec spec);
    const upstream_settings& settings() const noexcept;

    // One SSE event's data. Return token (with `text` filled: whole UTF-8),
    // skip, or end (after set_finish); throw stream_error for in-stream errors.
    virtual event_action on_event(std::string_view data, std::string& text) = 0;
    // Whether the body's end is the normal end of the stream (Gemini) or a
    // truncation (OpenAI, which ends with `data: [DONE]`).
    virtual bool ends_at_eof() const noexcept = 0;

    // An HTTP error response as the contract's error, upstream message kept.
    stream_error error_from_response(unsigned status, std::string_view body) const;
    // An `{"error": {...}}` object's message (trimmed), or the raw text.
    static std::string upstream_message(std::string_view body);

    void set_finish(liveai::finish_reason reason) noexcept { finish_ = reason; }
    void set_upstream_usage(liveai::usage u) noexcept
    {
        upstream_usage_ = u;
        has_upstream_usage_ = true;
    }

private:
    struct exchange;

    boost::asio::awaitable<void> open_once();
    void end_cancelled() noexcept;
    void close_upstream() noexcept;
    void finish_stream();

    std::string provider_name_;
    std::unique_ptr<exchange> x_;
    liveai::finish_reason finish_ = liveai::finish_reason::stop;
    liveai::usage upstream_usage_{};
    bool has_upstream_usage_ = false;
    bool cancel_requested_ = false;
    std::uint64_t tokens_ = 0;
    std::string text_;
};

}  // namespace liveai
