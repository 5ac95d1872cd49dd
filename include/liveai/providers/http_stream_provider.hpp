// The base of providers that stream server-sent events from an HTTP(S)
// upstream: connection reuse, TLS, timeouts, retries before the first token,
// HTTP error mapping and prompt cancellation, driven by upstream::exchange_fsm.
// Subclasses say what to send and how to read one event's data.
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

    // Cancellation (cancel(), or the awaiting coroutine's slot, terminal or
    // stronger) stops whatever is pending at once: resolve, connect, TLS
    // handshake, request write, header or body read, or the wait before a
    // retry. After it no byte is written upstream and the connection is
    // closed, so the upstream stops generating (and billing).
    boost::asio::awaitable<std::optional<token>> next() override;
    // The next event of what was already read, if it is a token.
    std::optional<token> try_next() override;
    void cancel() noexcept override;
    bool stops_promptly() const noexcept override { return true; }

    // How many requests were counted as attempts (1 + retries), for tests and logs.
    unsigned attempts() const noexcept;
    unsigned upstream_attempts() const noexcept override { return attempts(); }
    // Requests actually written (attempts plus a stale pooled connection's retry).
    unsigned requests_sent() const noexcept;

protected:
    struct request_spec {
        std::string path_and_query;  // appended to base_url's path
        std::string body;            // JSON
        std::vector<std::pair<std::string, std::string>> headers;
    };

    enum class event_action { more, end };  // end: only for an event with no delta
    static constexpr std::size_t max_tool_calls = 128;  // in one answer

    // Where on_event puts the deltas one upstream event carries: usually
    // one, sometimes none (a usage event) or several (text and a tool call).
    // Their buffers are reused, so a steady stream allocates nothing here.
    class delta_sink {
    public:
        void text(std::string_view t) { add(token_kind::text).text.assign(t); }
        // Swaps `t` with the delta's buffer: no copy (the caller gets a
        // buffer back to fill next time).
        void text_swap(std::string& t) { add(token_kind::text).text.swap(t); }
        void reasoning(std::string_view t) { add(token_kind::reasoning).text.assign(t); }
        // A fragment of tool call `index` (0, 1, ... in the order the calls
        // start); id and name in its first fragment.
        void tool_call(std::uint32_t index, std::string_view id, std::string_view name, std::string_view arguments);

    private:
        friend class http_stream_provider;
        struct delta {
            token_kind kind = token_kind::text;
            std::uint32_t index = 0;
            std::string text, id, name;
        };
        delta& add(token_kind kind);
        bool empty() const noexcept { return next_ == count_; }
        token take() noexcept;

        std::vector<delta> deltas_;
        std::size_t count_ = 0;  // filled
        std::size_t next_ = 0;   // taken
    };

    // Throws stream_error on a config problem (bad base_url, missing key).
    http_stream_provider(std::string provider_name, upstream_settings settings);

    // The API key from settings().api_key_env ("" when it is empty); throws
    // upstream_auth naming the variable when it is not set.
    std::string api_key() const;
    void set_request(request_spec spec);
    const upstream_settings& settings() const noexcept;

    // One SSE event's data (or, for text the upstream sent outside SSE
    // framing, that raw text). Put its deltas (whole UTF-8) into `out`;
    // return end for the upstream's end marker, else more; throw
    // stream_error for in-stream errors. Tool-call arguments are checked
    // here once the stream ends: not a JSON object is upstream_protocol. Call set_finish when the upstream names a finish
    // reason: the stream is complete only if it did, whether it then ends by a
    // marker, by the end of the body, or by a broken connection; without one,
    // every end is an upstream_protocol error.
    virtual event_action on_event(std::string_view data, delta_sink& out) = 0;

    // An HTTP error response as the contract's error, upstream message kept.
    virtual stream_error error_from_response(unsigned status, std::string_view body) const;
    // An `{"error": {...}}` object's message (trimmed), or the raw text.
    static std::string upstream_message(std::string_view body);

    void set_finish(liveai::finish_reason reason) noexcept
    {
        finish_ = reason;
        finish_seen_ = true;
    }
    void set_upstream_usage(liveai::usage u) noexcept { upstream_usage_ = u; }

private:
    struct exchange;

    boost::asio::awaitable<void> perform_until_body();
    std::optional<token> parse_pending();
    void drain_read_bytes();
    void request_cancel() noexcept;
    void listen_to_caller() noexcept;
    void end_cancelled() noexcept;
    void close_upstream() noexcept;
    void finish_stream();
    void finish_answer();
    token deliver();
    void check_tool_calls() const;
    void end_of_body();
    [[noreturn]] void fail_with(const stream_error& e);

    std::string provider_name_;
    std::unique_ptr<exchange> x_;
    liveai::finish_reason finish_ = liveai::finish_reason::stop;
    bool finish_seen_ = false;
    std::optional<liveai::usage> upstream_usage_;
    delta_sink deltas_;
    // Each tool call's arguments so far, to check them at the end.
    std::vector<std::string> tool_arguments_;
};

}  // namespace liveai
