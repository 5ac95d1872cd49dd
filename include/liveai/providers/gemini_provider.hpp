// Google Gemini streaming: POST {base_url}/models/{model}:streamGenerateContent?alt=sse
// with x-goog-api-key. The stream ends at the end of the body.
#pragma once

#include <liveai/providers/http_stream_provider.hpp>
#include <liveai/request.hpp>

namespace liveai {

class gemini_provider final : public http_stream_provider {
public:
    gemini_provider(upstream_settings settings, std::string model, std::string system_prompt, request req);

protected:
    event_action on_event(std::string_view data, delta_sink& out) override;
    stream_error error_from_response(unsigned status, std::string_view body) const override;

private:
    std::uint32_t calls_ = 0;  // function calls so far
};

// Gemini's finishReason as the contract's finish_reason: STOP -> stop,
// MAX_TOKENS -> length; SAFETY, RECITATION, PROHIBITED_CONTENT, BLOCKLIST,
// SPII, IMAGE_SAFETY -> content_filter; LANGUAGE, OTHER,
// MALFORMED_FUNCTION_CALL, FINISH_REASON_UNSPECIFIED and unknown -> stop.
liveai::finish_reason gemini_finish_reason(std::string_view reason) noexcept;

}  // namespace liveai
