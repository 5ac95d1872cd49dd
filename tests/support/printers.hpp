// Test support: let Boost.Test print liveai values in failure messages.
#pragma once

#include <liveai/client/stream_event.hpp>
#include <liveai/error.hpp>
#include <liveai/token.hpp>
#include <liveai/token_stream.hpp>

#include <ostream>

namespace liveai {

inline std::ostream& operator<<(std::ostream& out, finish_reason r) { return out << to_string(r); }
inline std::ostream& operator<<(std::ostream& out, error e) { return out << to_code(e); }
inline std::ostream& operator<<(std::ostream& out, token_stream::state s)
{
    return out << (s == token_stream::state::open ? "open" : s == token_stream::state::finished ? "finished" : "failed");
}

}  // namespace liveai

namespace liveai::client {

inline std::ostream& operator<<(std::ostream& out, event_type t)
{
    return out << (t == event_type::chunk ? "chunk" : t == event_type::complete ? "complete" : "error");
}

}  // namespace liveai::client
