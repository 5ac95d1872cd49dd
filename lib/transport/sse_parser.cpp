#include <liveai/transport/sse_parser.hpp>

#include <liveai/error.hpp>

#include <algorithm>
#include <cstring>

namespace liveai::transport {

namespace {
constexpr std::size_t max_unframed_bytes = 64 * 1024;

// The first CR or LF. find_first_of("\r\n") runs a memchr over the set for
// every input byte; two vectorised scans (LF, then CR before it) cost a
// fraction of that, and streams that use LF alone find no CR.
std::size_t find_line_end(std::string_view s) noexcept
{
    const auto* lf = static_cast<const char*>(std::memchr(s.data(), '\n', s.size()));
    const std::size_t limit = lf ? static_cast<std::size_t>(lf - s.data()) : s.size();
    if (const auto* cr = static_cast<const char*>(std::memchr(s.data(), '\r', limit))) return static_cast<std::size_t>(cr - s.data());
    return lf ? limit : std::string_view::npos;
}
}  // namespace

bool sse_parser::line(std::string_view text)
{
    if (text.empty()) {
        if (data_.empty()) {
            type_.clear();
            return false;
        }
        data_.pop_back();  // the LF after the last data line
        dispatched_data_.swap(data_);
        dispatched_type_.swap(type_);
        data_.clear();
        type_.clear();
        return true;
    }
    if (text.front() == ':') return false;  // comment
    const auto colon = text.find(':');
    const std::string_view field = text.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
        data_.append(value);
        data_.push_back('\n');
    } else if (field == "event") {
        type_.assign(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
    } else if (field == "retry") {
        if (!value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            std::uint64_t ms = 0;
            for (char c : value) ms = ms * 10 + static_cast<std::uint64_t>(c - '0');
            retry_ = ms;
        }
    } else if (unframed_.size() + text.size() < max_unframed_bytes) {
        unframed_.append(text);
        unframed_.push_back('\n');
    }
    return false;
}

void sse_parser::end_of_input()
{
    if (partial_.empty() || failed_) return;
    const std::string line_text = std::move(partial_);
    partial_.clear();
    // Only what a field line would leave unframed: a dangling `data:` line is
    // an unterminated event, which is discarded.
    const auto field = std::string_view(line_text).substr(0, line_text.find(':'));
    if (line_text.front() == ':' || field == "data" || field == "event" || field == "id" || field == "retry") return;
    if (unframed_.size() + line_text.size() < max_unframed_bytes) unframed_.append(line_text);
}

std::optional<sse_event> sse_parser::next(std::string_view& input, boost::system::error_code& ec)
{
    if (failed_) {
        ec = make_error_code(error::upstream_protocol);
        return std::nullopt;
    }
    if (start_) {
        // The BOM may itself arrive split across reads.
        static constexpr std::string_view bom = "\xEF\xBB\xBF";
        const std::string_view seen = partial_;
        std::string probe(seen);
        probe.append(input.substr(0, bom.size() - std::min(bom.size(), probe.size())));
        if (probe.size() < bom.size() && bom.starts_with(probe)) {
            partial_ = probe;
            input.remove_prefix(probe.size() - seen.size());
            return std::nullopt;
        }
        start_ = false;
        if (probe.starts_with(bom)) {
            input.remove_prefix(bom.size() - seen.size());
            partial_.clear();
        }
    }
    while (!input.empty()) {
        if (skip_lf_) {
            skip_lf_ = false;
            if (input.front() == '\n') {
                input.remove_prefix(1);
                continue;
            }
        }
        const auto eol = find_line_end(input);
        if (eol == std::string_view::npos) {
            if (partial_.size() + input.size() + data_.size() > max_event_bytes_) {
                failed_ = true;
                ec = make_error_code(error::upstream_protocol);
                return std::nullopt;
            }
            partial_.append(input);
            input = {};
            return std::nullopt;
        }
        if (input[eol] == '\r') {
            if (eol + 1 < input.size()) {
                if (input[eol + 1] == '\n') skip_lf_ = true;
            } else {
                skip_lf_ = true;  // an LF may start the next read
            }
        }
        std::string_view text = input.substr(0, eol);
        input.remove_prefix(eol + 1);
        if (!partial_.empty()) {
            if (partial_.size() + text.size() + data_.size() > max_event_bytes_) {
                failed_ = true;
                ec = make_error_code(error::upstream_protocol);
                return std::nullopt;
            }
            partial_.append(text);
            text = partial_;
        }
        if (data_.size() + text.size() > max_event_bytes_) {
            failed_ = true;
            ec = make_error_code(error::upstream_protocol);
            return std::nullopt;
        }
        const bool dispatched = line(text);
        partial_.clear();
        if (dispatched) {
            return sse_event{dispatched_type_.empty() ? std::string_view("message") : std::string_view(dispatched_type_),
                             dispatched_data_, last_id_};
        }
    }
    return std::nullopt;
}

}  // namespace liveai::transport
