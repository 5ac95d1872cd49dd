#include <liveai/detail/utf8.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace liveai::detail;

BOOST_AUTO_TEST_SUITE(utf8)

BOOST_AUTO_TEST_CASE(accepts_valid_text)
{
    BOOST_TEST(is_valid_utf8(""));
    BOOST_TEST(is_valid_utf8("hello"));
    BOOST_TEST(is_valid_utf8("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"));  // café 日本 😀
    BOOST_TEST(is_valid_utf8("\xF4\x8F\xBF\xBF"));                                      // U+10FFFF
}

BOOST_AUTO_TEST_CASE(rejects_invalid_text_at_the_right_offset)
{
    BOOST_TEST(find_invalid_utf8("ab\xC3") == 2u);               // truncated
    BOOST_TEST(find_invalid_utf8("a\xC0\xAF") == 1u);            // overlong
    BOOST_TEST(find_invalid_utf8("\xED\xA0\x80") == 0u);         // surrogate
    BOOST_TEST(find_invalid_utf8("xx\xF4\x90\x80\x80") == 2u);   // above U+10FFFF
    BOOST_TEST(find_invalid_utf8("\x80") == 0u);                 // lone continuation
    BOOST_TEST(find_invalid_utf8("ok\xE2\x82") == 2u);
}

BOOST_AUTO_TEST_CASE(cut_never_splits_a_character)
{
    const std::string s = "\xF0\x9F\x98\x80\xF0\x9F\x98\x80";  // two 4-byte emoji
    BOOST_TEST(utf8_cut(s, 8) == 8u);
    for (std::size_t max = 4; max < 8; ++max) BOOST_TEST(utf8_cut(s, max) == 4u);
    // Even when one character does not fit, the cut makes progress.
    BOOST_TEST(utf8_cut(s, 2) == 4u);
}

BOOST_AUTO_TEST_CASE(segments_rebuild_the_text_exactly)
{
    const std::string text = "  Hello,\tw\xC3\xB6rld \xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80 end\n";
    for (std::size_t max = 1; max < 12; ++max) {
        std::string rebuilt;
        std::size_t pos = 0;
        for (auto seg = next_segment(text, pos, max); !seg.empty(); seg = next_segment(text, pos, max)) {
            BOOST_TEST(is_valid_utf8(seg));
            rebuilt += seg;
        }
        BOOST_TEST(rebuilt == text);
    }
}

BOOST_AUTO_TEST_SUITE_END()
