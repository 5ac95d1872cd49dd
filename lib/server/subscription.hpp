// Private: what a session (SSE or WebSocket) writes from: the events of one
// stream, readable on the session's own thread, and the calls back to the
// stream's owner. A stream of another I/O thread is mirrored: its owner
// ships each batch of new events to the session's thread, which is the one
// mechanism a resume that lands on another thread uses, for both transports.
#pragma once

#include "resume.hpp"
#include "router.hpp"
#include "stream_log.hpp"
#include "stream_record.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

namespace liveai::server::detail {

class subscription {
public:
    virtual ~subscription() = default;

    // The stream's events, on the session's thread.
    virtual const stream_log& log() const noexcept = 0;
    virtual const std::string& stream_id() const noexcept = 0;
    // The session wrote every event before next_seq.
    virtual void written(std::uint64_t next_seq) = 0;
    // An explicit stop: a WebSocket cancel.
    virtual void stop() = 0;
};

// The subscriber `s` writes `record` (of this thread) from next_seq on.
std::unique_ptr<subscription> subscribe_local(std::shared_ptr<stream_record> record, stream_subscriber& s,
                                              std::uint64_t next_seq);

struct resume_result {
    resume_decision decision;
    std::unique_ptr<subscription> stream;  // when decision.outcome == replay
};

// Decides a resume on the thread that owns the stream (check_resume) and,
// when it may go on, subscribes `s` to it from the event after `from`.
boost::asio::awaitable<resume_result> subscribe_resume(worker& home, const block_config& block, event_id from,
                                                       stream_subscriber& s,
                                                       const key_state* key = nullptr);

}  // namespace liveai::server::detail
