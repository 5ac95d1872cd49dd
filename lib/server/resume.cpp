#include "resume.hpp"

namespace liveai::server::detail {

resume_decision check_resume(const resumable_stream* stream, std::string_view stream_id, std::string_view block,
                             std::uint64_t after_seq, const resume_limits& limits)
{
    resume_decision d;
    const std::string id(stream_id.substr(0, 64));
    if (!stream) {
        d.code = error::unknown_stream;
        d.message = "stream " + id + " is unknown: it never existed, or it ended more than " +
                    std::to_string(limits.replay_retention.count()) + " ms ago";
        return d;
    }
    if (stream->block != block) {
        d.code = error::invalid_request;
        d.message = "stream " + id + " belongs to block \"" + std::string(stream->block) + "\"";
        return d;
    }
    if (after_seq > stream->last_seq) {
        d.code = error::invalid_request;
        d.message = "stream " + id + " has sent no event " + std::to_string(after_seq) + " (its last is " +
                    std::to_string(stream->last_seq) + ")";
        return d;
    }
    if (stream->ended && after_seq == stream->last_seq) {
        d.outcome = resume_outcome::delivered;
        return d;
    }
    if (after_seq + 1 < stream->first_seq) {
        d.code = error::stream_expired;
        d.message = "the events of stream " + id + " after " + std::to_string(after_seq) +
                    " are no longer kept (replay_buffer_bytes = " + std::to_string(limits.replay_buffer_bytes) + ")";
        return d;
    }
    d.outcome = resume_outcome::replay;
    d.next_seq = after_seq + 1;
    return d;
}

}  // namespace liveai::server::detail
