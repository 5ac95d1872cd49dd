// liveai load generator: many keep-alive HTTP/1.1 connections reading SSE
// streams (or WebSocket streams), checking every stream and reporting
// throughput, time to first chunk, inter-chunk gaps and the server's CPU and
// peak RSS (from /proc/<pid>).
//
//   loadgen --port 8080 --block bench-burst --connections 64 --duration 10 --pid PID
//   loadgen --port 8080 --block bench-paced --connections 1000 --streams 1000 --paced-ms 20 --pid PID
//   loadgen --port 8080 --block bench-slow --mode cancel --close-after 1 --iterations 200
//   loadgen ... --ws            (the WebSocket endpoint instead of SSE)
//   loadgen --mode collect --block bench-burst --connections 64 --duration 5   (POST /api/ai-block)
//   loadgen ... --format openai (the stream is OpenAI's, passed through: a
//               pass-through proxy or the fake upstream itself)
//   loadgen ... --v1            (POST /v1/chat/completions with model = the
//               block: liveai's OpenAI-compatible stream; implies --format openai)
//   loadgen ... --api-key KEY   (Authorization: Bearer KEY on every request)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <climits>
#include <functional>

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string block = "bench-burst";
    std::string prompt = "hi";
    std::string mode = "stream";  // stream | cancel
    int connections = 64;
    double duration = 10;         // seconds; ignored when streams > 0
    long streams = 0;             // total streams to run (0: until duration)
    double paced_ms = 0;          // expected gap, for lateness
    int close_after = 1;          // cancel mode: close after this many chunks (0: before the first)
    int iterations = 200;         // cancel mode
    int pid = 0;                  // server process for CPU / RSS
    bool ws = false;
    bool openai = false;          // --format openai
    bool v1 = false;              // --v1: POST /v1/chat/completions
    std::string api_key;          // --api-key
    std::string cdf;              // write percentiles to this CSV
    double timeout = 0;           // give up after this many seconds (0: duration + 30 s, or 600 s with --streams)
};

// Microsecond histogram: 1 µs buckets to 100 ms, then 1 ms buckets to 100 s.
class histogram {
public:
    histogram() : fine_(100'000, 0), coarse_(100'000, 0) {}
    void add(clock_type::duration d)
    {
        const auto us = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
        if (us < 100'000) ++fine_[static_cast<std::size_t>(us)];
        else ++coarse_[static_cast<std::size_t>(std::min<std::int64_t>(us / 1000, 99'999))];
        ++count_;
        max_us_ = std::max(max_us_, us);
    }
    std::uint64_t count() const { return count_; }
    // Percentile in milliseconds.
    double pct(double p) const
    {
        if (count_ == 0) return 0;
        const auto target = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(count_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < fine_.size(); ++i)
            if ((seen += fine_[i]) >= target) return static_cast<double>(i) / 1000.0;
        for (std::size_t i = 0; i < coarse_.size(); ++i)
            if ((seen += coarse_[i]) >= target) return static_cast<double>(i);
        return static_cast<double>(max_us_) / 1000.0;
    }
    double max_ms() const { return static_cast<double>(max_us_) / 1000.0; }

private:
    std::vector<std::uint64_t> fine_, coarse_;
    std::uint64_t count_ = 0;
    std::int64_t max_us_ = 0;
};

struct stats {
    long streams_done = 0;
    long streams_failed = 0;
    long events = 0;
    long chunks = 0;  // text deltas (chunk events, or OpenAI content deltas)
    histogram ttfc, gap, lateness;
    std::vector<std::string> failures;
    void fail(std::string why)
    {
        ++streams_failed;
        if (failures.size() < 5) failures.push_back(std::move(why));
    }
};

struct proc_sample {
    double cpu_seconds = 0;
    long rss_kib = 0;
    long hwm_kib = 0;
};

proc_sample sample_process(int pid)
{
    proc_sample s;
    if (pid <= 0) return s;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    const auto close = text.rfind(')');
    if (close != std::string::npos) {
        std::istringstream rest(text.substr(close + 2));
        std::string field;
        double utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stod(field);
            if (i == 15) stime = std::stod(field);
        }
        s.cpu_seconds = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stol(line.substr(6));
        if (line.rfind("VmHWM:", 0) == 0) s.hwm_kib = std::stol(line.substr(6));
    }
    return s;
}

// Incremental parser of a chunked text/event-stream body: counts events,
// checks chunk indexes and that exactly one terminal event comes last.
class sse_reader {
public:
    enum class result { more, complete, error_event, broken };

    explicit sse_reader(bool openai) : openai_(openai) {}

    // Feeds body bytes (after the HTTP header); returns the stream's state.
    result feed(std::string_view data, clock_type::time_point now, stats& st)
    {
        while (!data.empty()) {
            if (chunk_left_ == 0) {
                // Chunk-size line (possibly after the CRLF ending the previous chunk).
                line_.append(data.substr(0, data.find('\n') == std::string_view::npos ? data.size() : data.find('\n') + 1));
                const auto consumed = std::min(data.size(), data.find('\n') == std::string_view::npos ? data.size() : data.find('\n') + 1);
                data.remove_prefix(consumed);
                if (line_.back() != '\n') return result::more;
                std::string_view l(line_);
                while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
                if (l.empty()) {
                    line_.clear();
                    continue;
                }
                std::size_t size = 0;
                std::from_chars(l.data(), l.data() + l.size(), size, 16);
                line_.clear();
                if (size == 0) return terminal_ == result::more ? result::broken : terminal_;
                chunk_left_ = size;
                continue;
            }
            const auto take = std::min(chunk_left_, data.size());
            if (!on_body(data.substr(0, take), now, st)) return result::broken;
            chunk_left_ -= take;
            data.remove_prefix(take);
        }
        return result::more;
    }

    long chunks() const { return next_index_; }

private:
    bool on_body(std::string_view bytes, clock_type::time_point now, stats& st)
    {
        for (char c : bytes) {
            if (c != '\n') {
                event_line_.push_back(c);
                continue;
            }
            if (event_line_.empty()) {  // end of an event
                if ((!event_.empty() || (openai_ && !data_.empty())) && !on_event(now, st)) return false;
                event_.clear();
                data_.clear();
                continue;
            }
            if (event_line_.rfind("event: ", 0) == 0) event_ = event_line_.substr(7);
            else if (event_line_.rfind("data: ", 0) == 0) data_ = event_line_.substr(6);
            event_line_.clear();
        }
        return true;
    }

    bool on_event(clock_type::time_point now, stats& st)
    {
        if (terminal_ != result::more) return false;  // something after the terminal event
        ++st.events;
        if (openai_) {
            // OpenAI's stream: content deltas are the chunks; [DONE] ends it.
            if (data_ == "[DONE]") {
                terminal_ = result::complete;
                return true;
            }
            if (data_.find("\"content\":\"") == std::string::npos || data_.find("\"content\":\"\"") != std::string::npos)
                return true;
            return chunk_arrived(now, st);
        }
        if (event_ == "chunk") {
            const auto pos = data_.find("\"index\":");
            long index = -1;
            if (pos != std::string::npos) std::from_chars(data_.data() + pos + 8, data_.data() + data_.size(), index);
            if (index != next_index_) return false;
            return chunk_arrived(now, st);
        }
        terminal_ = event_ == "complete" ? result::complete : result::error_event;
        return true;
    }

    // A text delta: the first one's time, or the gap since the previous one.
    bool chunk_arrived(clock_type::time_point now, stats& st)
    {
        ++st.chunks;
        if (next_index_ == 0) first_ = now;
        else st.gap.add(now - last_);
        last_ = now;
        ++next_index_;
        return true;
    }

public:
    clock_type::time_point first_{}, last_{};

private:
    std::size_t chunk_left_ = 0;
    std::string line_;
    std::string event_line_;
    std::string event_;
    std::string data_;
    long next_index_ = 0;
    result terminal_ = result::more;
    bool openai_ = false;
};

struct run_state {
    options opt;
    stats st;
    clock_type::time_point deadline;
    long started = 0;
    bool time_up() const
    {
        return opt.streams > 0 ? started >= opt.streams : clock_type::now() >= deadline;
    }
};

// The request line and head of one stream (and its body, for --v1).
std::string stream_request(const options& opt)
{
    const std::string auth = opt.api_key.empty() ? std::string() : "Authorization: Bearer " + opt.api_key + "\r\n";
    if (!opt.v1)
        return "GET /api/stream/ai-block/" + opt.block + "?prompt=" + opt.prompt + " HTTP/1.1\r\nHost: bench\r\n" + auth + "\r\n";
    const std::string body = R"({"model":")" + opt.block + R"(","stream":true,"messages":[{"role":"user","content":")" + opt.prompt +
                             R"("}]})";
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\n" + auth +
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

asio::awaitable<void> sse_connection(run_state& rs)
{
    auto& opt = rs.opt;
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(tcp::endpoint(asio::ip::make_address(opt.host), opt.port), asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    const std::string request = stream_request(opt);
    std::vector<char> buf(64 * 1024);
    std::string header;
    while (!rs.time_up()) {
        ++rs.started;
        const auto sent = clock_type::now();
        co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
        header.clear();
        sse_reader reader(opt.openai);
        sse_reader::result r = sse_reader::result::more;
        bool in_header = true;
        while (r == sse_reader::result::more) {
            const auto n = co_await socket.async_read_some(asio::buffer(buf), asio::use_awaitable);
            const auto now = clock_type::now();
            std::string_view data(buf.data(), n);
            if (in_header) {
                header.append(data);
                const auto end = header.find("\r\n\r\n");
                if (end == std::string::npos) continue;
                if (header.compare(0, 12, "HTTP/1.1 200") != 0) {
                    rs.st.fail(header.substr(0, header.find("\r\n")));
                    co_return;
                }
                in_header = false;
                data = std::string_view(header).substr(end + 4);
                r = reader.feed(data, now, rs.st);
                continue;
            }
            r = reader.feed(data, now, rs.st);
        }
        if (r == sse_reader::result::broken) {
            rs.st.fail("stream broken (gap in indexes or event after the terminal one)");
            co_return;
        }
        if (reader.chunks() > 0) rs.st.ttfc.add(reader.first_ - sent);
        ++rs.st.streams_done;
    }
}

asio::awaitable<void> ws_connection(run_state& rs)
{
    auto& opt = rs.opt;
    beast::websocket::stream<tcp::socket> ws(co_await asio::this_coro::executor);
    co_await ws.next_layer().async_connect(tcp::endpoint(asio::ip::make_address(opt.host), opt.port), asio::use_awaitable);
    ws.next_layer().set_option(tcp::no_delay(true));
    co_await ws.async_handshake(opt.host, "/api/ws/ai-block/" + opt.block, asio::use_awaitable);
    const std::string start = R"({"type":"start","prompt":")" + opt.prompt + "\"}";
    beast::flat_buffer buffer;
    while (!rs.time_up()) {
        ++rs.started;
        const auto sent = clock_type::now();
        co_await ws.async_write(asio::buffer(start), asio::use_awaitable);
        long index = 0;
        clock_type::time_point last{};
        for (;;) {
            buffer.clear();
            co_await ws.async_read(buffer, asio::use_awaitable);
            const auto now = clock_type::now();
            std::string_view msg(static_cast<const char*>(buffer.data().data()), buffer.size());
            ++rs.st.events;
            if (msg.find(R"("type":"chunk")") != std::string_view::npos) {
                ++rs.st.chunks;
                if (index == 0) rs.st.ttfc.add(now - sent);
                else rs.st.gap.add(now - last);
                last = now;
                ++index;
                continue;
            }
            if (msg.find(R"("type":"complete")") != std::string_view::npos) break;
            rs.st.fail(std::string(msg.substr(0, 200)));
            co_return;
        }
        ++rs.st.streams_done;
    }
}

asio::awaitable<void> collect_connection(run_state& rs)
{
    auto& opt = rs.opt;
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect(tcp::endpoint(asio::ip::make_address(opt.host), opt.port), asio::use_awaitable);
    stream.socket().set_option(tcp::no_delay(true));
    beast::http::request<beast::http::string_body> req{beast::http::verb::post, "/api/ai-block/" + opt.block, 11};
    req.set(beast::http::field::host, "bench");
    req.set(beast::http::field::content_type, "application/json");
    req.body() = R"({"prompt":")" + opt.prompt + R"("})";
    req.prepare_payload();
    beast::flat_buffer buffer;
    while (!rs.time_up()) {
        ++rs.started;
        const auto sent = clock_type::now();
        co_await beast::http::async_write(stream, req, asio::use_awaitable);
        beast::http::response<beast::http::string_body> res;
        co_await beast::http::async_read(stream, buffer, res, asio::use_awaitable);
        if (res.result_int() != 200 || res.body().find("\"text\"") == std::string::npos) {
            rs.st.fail("collect answered " + std::to_string(res.result_int()));
            co_return;
        }
        rs.st.ttfc.add(clock_type::now() - sent);  // whole-request latency
        ++rs.st.events;
        ++rs.st.streams_done;
    }
}

// Cancellation latency: open a stream, close after k chunks, then poll
// /metrics until liveai_provider_cancellations_total moves.
double read_cancellations(tcp::socket& s)
{
    const std::string req = "GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n";
    asio::write(s, asio::buffer(req));
    std::string response;
    std::vector<char> buf(65536);
    for (;;) {
        const auto n = s.read_some(asio::buffer(buf));
        response.append(buf.data(), n);
        const auto end = response.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        const auto cl = response.find("Content-Length: ");
        const auto length = std::stoul(response.substr(cl + 16));
        if (response.size() >= end + 4 + length) break;
    }
    const auto pos = response.find("\nliveai_provider_cancellations_total ");
    return std::stod(response.substr(pos + 37));
}

int run_cancel(const options& opt)
{
    asio::io_context ioc;
    tcp::endpoint ep(asio::ip::make_address(opt.host), opt.port);
    tcp::socket metrics(ioc);
    metrics.connect(ep);
    histogram latency;
    int failures = 0;
    for (int i = 0; i < opt.iterations; ++i) {
        const double before = read_cancellations(metrics);
        tcp::socket s(ioc);
        s.connect(ep);
        const std::string request = "GET /api/stream/ai-block/" + opt.block + "?prompt=" + opt.prompt + " HTTP/1.1\r\nHost: bench\r\n\r\n";
        asio::write(s, asio::buffer(request));
        std::string got;
        std::vector<char> buf(4096);
        const std::string marker = opt.close_after == 0 ? "retry:" : "event: chunk";
        int seen = 0;
        while (seen < std::max(1, opt.close_after)) {
            const auto n = s.read_some(asio::buffer(buf));
            got.append(buf.data(), n);
            seen = 0;
            for (auto p = got.find(marker); p != std::string::npos; p = got.find(marker, p + 1)) ++seen;
        }
        const auto closed = clock_type::now();
        s.close();
        for (;;) {
            if (read_cancellations(metrics) > before) break;
            if (clock_type::now() - closed > std::chrono::seconds(5)) {
                ++failures;
                break;
            }
        }
        latency.add(clock_type::now() - closed);
    }
    std::printf("cancel: %d closes after %d chunk(s), %d not cancelled within 5 s\n", opt.iterations, opt.close_after, failures);
    std::printf("close -> provider cancelled (ms, measured by polling /metrics): p50 %.3f p90 %.3f p99 %.3f max %.3f\n",
                latency.pct(50), latency.pct(90), latency.pct(99), latency.max_ms());
    return failures == 0 ? 0 : 1;
}

void raise_fd_limit()
{
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--host") opt.host = next();
        else if (a == "--port") opt.port = static_cast<std::uint16_t>(std::stoi(next()));
        else if (a == "--block") opt.block = next();
        else if (a == "--prompt") opt.prompt = next();
        else if (a == "--mode") opt.mode = next();
        else if (a == "--connections") opt.connections = std::stoi(next());
        else if (a == "--duration") opt.duration = std::stod(next());
        else if (a == "--streams") opt.streams = std::stol(next());
        else if (a == "--paced-ms") opt.paced_ms = std::stod(next());
        else if (a == "--close-after") opt.close_after = std::stoi(next());
        else if (a == "--iterations") opt.iterations = std::stoi(next());
        else if (a == "--pid") opt.pid = std::stoi(next());
        else if (a == "--ws") opt.ws = true;
        else if (a == "--format") opt.openai = next() == "openai";
        else if (a == "--v1") opt.v1 = opt.openai = true;
        else if (a == "--api-key") opt.api_key = next();
        else if (a == "--cdf") opt.cdf = next();
        else if (a == "--timeout") opt.timeout = std::stod(next());
        else {
            std::cerr << "unknown option " << a << "\n";
            return 2;
        }
    }
    raise_fd_limit();
    if (opt.mode == "cancel") return run_cancel(opt);

    asio::io_context ioc(1);
    run_state rs{opt, {}, clock_type::now() + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(opt.duration)), 0};
    if (opt.pid > 0) {
        // Reset the peak RSS so VmHWM covers this run only.
        std::ofstream("/proc/" + std::to_string(opt.pid) + "/clear_refs") << "5";
    }
    const auto before = sample_process(opt.pid);
    long peak_rss = before.rss_kib;
    const auto start = clock_type::now();
    auto finished = start;
    int running = opt.connections;
    asio::steady_timer sampler(ioc);
    for (int c = 0; c < opt.connections; ++c) {
        auto conn = opt.mode == "collect" ? collect_connection(rs) : opt.ws ? ws_connection(rs) : sse_connection(rs);
        asio::co_spawn(ioc, std::move(conn), [&](std::exception_ptr e) {
            if (--running == 0) {
                finished = clock_type::now();
                sampler.cancel();
            }
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                rs.st.fail(ex.what());
            }
        });
    }
    // Sample the server's RSS while the run goes on.
    std::function<void()> sample = [&] {
        sampler.expires_after(std::chrono::milliseconds(100));
        sampler.async_wait([&](auto ec) {
            if (ec || running == 0) return;
            peak_rss = std::max(peak_rss, sample_process(opt.pid).rss_kib);
            sample();
        });
    };
    if (opt.pid > 0) sample();
    const double limit = opt.timeout > 0 ? opt.timeout : opt.streams > 0 ? 600.0 : opt.duration + 30.0;
    ioc.run_until(start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(limit)));
    if (running > 0) rs.st.fail(std::to_string(running) + " connections still running at the time limit");
    if (running > 0) finished = clock_type::now();
    const double elapsed = std::chrono::duration<double>(finished - start).count();
    const auto after = sample_process(opt.pid);
    peak_rss = std::max({peak_rss, after.rss_kib, after.hwm_kib});

    auto& st = rs.st;
    const double cpu = after.cpu_seconds - before.cpu_seconds;
    std::printf("transport: %s, block: %s, connections: %d, elapsed: %.2f s\n", opt.ws ? "websocket" : "sse",
                opt.block.c_str(), opt.connections, elapsed);
    std::printf("streams: %ld done, %ld failed\n", st.streams_done, st.streams_failed);
    for (const auto& f : st.failures) std::printf("  failure: %s\n", f.c_str());
    std::printf("events: %ld, %.0f events/s\n", st.events, static_cast<double>(st.events) / elapsed);
    if (opt.pid > 0 && st.chunks > 0)
        std::printf("server: %.3f us CPU per chunk (%ld chunks)\n", cpu * 1e6 / static_cast<double>(st.chunks), st.chunks);
    if (opt.pid > 0) {
        std::printf("server: %.2f CPU s, %.0f events per CPU-second, RSS before %.1f MiB, peak %.1f MiB\n", cpu,
                    cpu > 0 ? static_cast<double>(st.events) / cpu : 0.0, before.rss_kib / 1024.0, peak_rss / 1024.0);
        if (st.streams_done > 0)
            std::printf("server: %.2f KiB RSS per simultaneous stream (peak - before) / connections\n",
                        static_cast<double>(peak_rss - before.rss_kib) / opt.connections);
    }
    std::printf("time to first chunk (ms): p50 %.3f p90 %.3f p99 %.3f max %.3f\n", st.ttfc.pct(50), st.ttfc.pct(90),
                st.ttfc.pct(99), st.ttfc.max_ms());
    std::printf("inter-chunk gap (ms):     p50 %.3f p90 %.3f p99 %.3f max %.3f\n", st.gap.pct(50), st.gap.pct(90),
                st.gap.pct(99), st.gap.max_ms());
    if (opt.paced_ms > 0)
        std::printf("lateness (gap - %.0f ms):  p50 %.3f p90 %.3f p99 %.3f max %.3f\n", opt.paced_ms,
                    st.gap.pct(50) - opt.paced_ms, st.gap.pct(90) - opt.paced_ms, st.gap.pct(99) - opt.paced_ms,
                    st.gap.max_ms() - opt.paced_ms);
    // One machine-readable line for benchmarks/run.sh.
    std::printf("RESULT {\"streams_done\":%ld,\"streams_failed\":%ld,\"events\":%ld,\"chunks\":%ld,\"elapsed\":%.4f,\"events_per_s\":%.1f,"
                "\"server_cpu_s\":%.3f,\"rss_before_kib\":%ld,\"rss_peak_kib\":%ld,"
                "\"ttfc_ms\":[%.3f,%.3f,%.3f,%.3f],\"gap_ms\":[%.3f,%.3f,%.3f,%.3f]}\n",
                st.streams_done, st.streams_failed, st.events, st.chunks, elapsed, static_cast<double>(st.events) / elapsed, cpu,
                before.rss_kib, peak_rss, st.ttfc.pct(50), st.ttfc.pct(90), st.ttfc.pct(99), st.ttfc.max_ms(), st.gap.pct(50),
                st.gap.pct(90), st.gap.pct(99), st.gap.max_ms());
    if (!opt.cdf.empty()) {
        std::ofstream out(opt.cdf);
        out << "percentile,ttfc_ms,gap_ms\n";
        for (double p = 0.5; p < 100; p += 0.5) out << p << ',' << st.ttfc.pct(p) << ',' << st.gap.pct(p) << '\n';
        out << 99.9 << ',' << st.ttfc.pct(99.9) << ',' << st.gap.pct(99.9) << '\n';
    }
    return st.streams_failed == 0 && st.streams_done > 0 ? 0 : 1;
}
