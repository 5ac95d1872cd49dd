// A request as JSON (contract v1.1): the body of the POST stream and collect
// endpoints, and the WebSocket `start` message. The formats are OpenAI's
// (messages, tools, tool_choice), so an OpenAI client's request maps as is.
#pragma once

#include <liveai/request.hpp>

namespace boost::json {
class object;
}

namespace liveai {

// Reads prompt, messages, options, tools and tool_choice (other members are
// the caller's, e.g. "resumable", "type"). Throws stream_error:
// invalid_prompt for a prompt that is not a string, invalid_request naming
// the field for anything else that is wrong (`messages[2].role: ...`).
// The block's limits are checked later, by engine::validate.
request request_from_json(const boost::json::object& body);

// The option names a request may carry, in `options`: max_tokens,
// temperature, top_p, stop, seed.
bool is_request_option(std::string_view name) noexcept;

}  // namespace liveai
