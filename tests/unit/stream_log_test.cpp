// The in-memory stream log: events in order, the bound that holds.
#include "stream_log.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace liveai::server::detail;

BOOST_AUTO_TEST_SUITE(stream_log_suite)

BOOST_AUTO_TEST_CASE(events_come_back_as_appended)
{
    memory_stream_log log(1 << 20);
    BOOST_TEST(log.first_seq() > log.last_seq());  // empty
    for (int i = 0; i < 1000; ++i) log.append(event_kind::chunk, "{\"index\":" + std::to_string(i) + "}");
    log.append(event_kind::complete, "{}");
    BOOST_TEST(log.first_seq() == 1u);
    BOOST_TEST(log.last_seq() == 1001u);
    BOOST_TEST(log.ended());
    for (std::uint64_t seq = 1; seq <= 1000; ++seq) {
        const auto e = log.at(seq);
        BOOST_TEST((e.kind == event_kind::chunk));
        BOOST_TEST(e.payload == "{\"index\":" + std::to_string(seq - 1) + "}");
    }
    BOOST_TEST((log.at(1001).kind == event_kind::complete));
    BOOST_TEST(log.bytes_from(1001) == 2u);
    BOOST_TEST(log.bytes_from(1000) == 2u + std::string("{\"index\":999}").size());
}

BOOST_AUTO_TEST_CASE(undelivered_events_are_never_dropped)
{
    memory_stream_log log(1024);
    const std::string payload(100, 'x');
    for (int i = 0; i < 50; ++i) log.append(event_kind::chunk, payload);
    BOOST_TEST(log.first_seq() == 1u);  // nothing delivered: all kept, over the bound
    log.delivered(21);
    // Delivered events go, oldest first, until the log is within its bound.
    BOOST_TEST(log.first_seq() == 21u);
    BOOST_TEST(log.at(21).payload == payload);
}

BOOST_AUTO_TEST_CASE(a_long_stream_holds_its_bound_plus_one_event)
{
    // Random event sizes; the subscriber keeps up, so every event is
    // delivered right after it is appended.
    const std::size_t bound = 16 * 1024;
    memory_stream_log log(bound);
    std::size_t largest = 0, worst_retained = 0, worst_footprint = 0;
    std::uint32_t rng = 7;
    for (int i = 0; i < 200000; ++i) {
        rng = rng * 1103515245u + 12345u;
        const std::size_t size = 10 + (rng >> 16) % 300;
        largest = std::max(largest, size);
        log.append(event_kind::chunk, std::string(size, 'a' + static_cast<char>(i % 26)));
        log.delivered(log.last_seq() + 1);
        worst_retained = std::max(worst_retained, log.retained_bytes());
        worst_footprint = std::max(worst_footprint, log.footprint());
    }
    BOOST_TEST(worst_retained <= bound + largest);
    // Memory: the retained bytes, two partly used pages of 4 KiB, the index.
    BOOST_TEST_MESSAGE("retained <= " << worst_retained << " bytes, footprint <= " << worst_footprint << " bytes, bound "
                                      << bound);
    BOOST_TEST(worst_footprint <= bound + largest + 2 * 4096 + 16 * 1024);
    // What is kept is the newest events, intact.
    const auto last = log.at(log.last_seq());
    BOOST_TEST(last.payload.front() == 'a' + static_cast<char>(199999 % 26));
}

BOOST_AUTO_TEST_CASE(reads_in_any_order_match_what_was_appended)
{
    // Sizes from empty to larger than a page, so events fill pages of every
    // size and some get a page of their own; then every retained event is
    // read, and measured, in a scrambled order (the page hint misses). The
    // log stores kinds without judging them: an error mid-way is just a kind.
    memory_stream_log log(64 * 1024);
    std::vector<std::string> appended;
    std::uint32_t rng = 11;
    for (int i = 0; i < 3000; ++i) {
        rng = rng * 1103515245u + 12345u;
        std::size_t size = (rng >> 16) % 200;
        if (i % 97 == 0) size = 5000;
        appended.push_back(std::string(size, static_cast<char>('a' + i % 26)));
        log.append(i % 5 == 0 ? event_kind::error : event_kind::chunk, appended.back());
        log.delivered(log.last_seq() + 1);
    }
    BOOST_REQUIRE(log.first_seq() > 1u);  // the front was dropped
    std::vector<std::size_t> suffix(appended.size() + 1, 0);
    for (std::size_t i = appended.size(); i-- > 0;) suffix[i] = suffix[i + 1] + appended[i].size();
    const auto first = log.first_seq(), last = log.last_seq();
    const std::uint64_t n = last - first + 1;
    int mismatches = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
        const std::uint64_t seq = first + (k * 7919) % n;
        const auto e = log.at(seq);
        const auto& want = appended[seq - 1];
        if (e.seq != seq || e.payload != want ||
            (e.kind == event_kind::error) != ((seq - 1) % 5 == 0) || log.bytes_from(seq) != suffix[seq - 1])
            ++mismatches;
    }
    BOOST_TEST(mismatches == 0);
    BOOST_TEST(log.bytes_from(first - 1) == suffix[first - 1]);  // before the front: from the front
    BOOST_TEST(log.bytes_from(last + 1) == 0u);
}

BOOST_AUTO_TEST_CASE(a_log_whose_events_all_went_holds_no_old_page)
{
    memory_stream_log log(0);
    for (int i = 0; i < 3; ++i) log.append(event_kind::chunk, std::string(3000, 'x'));
    log.delivered(4);
    BOOST_TEST(log.first_seq() == 4u);  // empty
    BOOST_TEST(log.bytes_from(1) == 0u);
    log.append(event_kind::complete, std::string(5000, 'y'));
    BOOST_TEST(log.at(4).payload == std::string(5000, 'y'));
    // The pages of the dropped events are gone: one page, of the new event.
    BOOST_TEST(log.footprint() < 5000u + 8 + 512);
}

BOOST_AUTO_TEST_CASE(a_shrunk_log_holds_the_same_events_in_their_exact_size)
{
    memory_stream_log log(4096);
    std::vector<std::string> appended;
    for (int i = 0; i < 400; ++i) {
        appended.push_back("{\"index\":" + std::to_string(i) + ",\"text\":\"" + std::string(i % 13, 'x') + "\"}");
        log.append(event_kind::chunk, appended.back());
        log.delivered(log.last_seq() + 1);  // the front goes past the bound
    }
    log.append(event_kind::complete, "{}");
    appended.push_back("{}");
    const auto first = log.first_seq(), last = log.last_seq();
    BOOST_REQUIRE(first > 1u);
    std::vector<std::size_t> from_before;
    for (auto seq = first; seq <= last + 1; ++seq) from_before.push_back(log.bytes_from(seq));
    const auto before = log.footprint();
    log.shrink_to_fit();
    BOOST_TEST(log.first_seq() == first);
    BOOST_TEST(log.last_seq() == last);
    BOOST_TEST(log.ended());
    int mismatches = 0;
    for (auto seq = first; seq <= last; ++seq)
        if (log.at(seq).payload != appended[seq - 1] || log.bytes_from(seq) != from_before[seq - first]) ++mismatches;
    BOOST_TEST(mismatches == 0);
    BOOST_TEST((log.at(last).kind == event_kind::complete));
    const std::size_t exact = log.retained_bytes() + (last - first + 1) * 8;
    BOOST_TEST(log.footprint() < before);
    BOOST_TEST(log.footprint() <= sizeof(memory_stream_log) + exact + 7 + 64);
}

BOOST_AUTO_TEST_CASE(a_log_with_little_slack_is_not_copied_when_shrunk)
{
    // The first page is 512 bytes: 15 events of 24 bytes plus their 8-byte
    // slots fill 480 of them, so shrinking would free 32 bytes (and copy 480).
    memory_stream_log log(1 << 20);
    for (int i = 0; i < 14; ++i) log.append(event_kind::chunk, std::string(24, static_cast<char>('a' + i)));
    log.append(event_kind::complete, std::string(24, 'z'));
    const auto before = log.footprint();
    const char* payload = log.at(1).payload.data();
    log.shrink_to_fit();
    BOOST_TEST(log.footprint() == before);
    BOOST_TEST(static_cast<const void*>(log.at(1).payload.data()) == static_cast<const void*>(payload));
    BOOST_TEST(log.at(14).payload == std::string(24, 'n'));
    BOOST_TEST((log.at(15).kind == event_kind::complete));
}

BOOST_AUTO_TEST_CASE(a_log_can_start_at_any_seq)
{
    memory_stream_log mirror(4096, 42);
    mirror.append(event_kind::chunk, "{}");
    BOOST_TEST(mirror.first_seq() == 42u);
    BOOST_TEST(mirror.last_seq() == 42u);
    BOOST_TEST(mirror.at(42).payload == "{}");
}

BOOST_AUTO_TEST_SUITE_END()
