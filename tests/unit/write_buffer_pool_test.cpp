// The write buffers an I/O thread lends: reused, and bounded in count and size.
#include "write_buffer_pool.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using liveai::server::detail::write_buffer_pool;

BOOST_AUTO_TEST_SUITE(write_buffer_pool_suite)

BOOST_AUTO_TEST_CASE(a_buffer_given_back_is_lent_again_empty_with_its_capacity)
{
    write_buffer_pool pool(4, 16 * 1024);
    auto b = pool.take();
    BOOST_TEST(b.empty());
    BOOST_TEST(b.capacity() >= write_buffer_pool::initial_capacity);
    b.assign(3000, 'x');
    const auto grown = b.capacity();
    const auto* storage = b.data();
    pool.give_back(std::move(b));
    BOOST_TEST(pool.kept() == 1u);
    auto again = pool.take();
    BOOST_TEST(again.empty());
    BOOST_TEST(again.capacity() == grown);
    BOOST_TEST(static_cast<const void*>(again.data()) == static_cast<const void*>(storage));
    BOOST_TEST(pool.kept() == 0u);
}

BOOST_AUTO_TEST_CASE(the_pool_keeps_no_more_buffers_than_its_bound)
{
    write_buffer_pool pool(3, 16 * 1024);
    std::vector<std::string> lent;
    for (int i = 0; i < 10; ++i) lent.push_back(pool.take());
    for (auto& b : lent) pool.give_back(std::move(b));
    BOOST_TEST(pool.kept() == 3u);
}

BOOST_AUTO_TEST_CASE(the_pool_keeps_no_more_bytes_than_its_bound)
{
    write_buffer_pool pool(100, 16 * 1024, 8 * 1024);
    std::vector<std::string> lent;
    for (int i = 0; i < 10; ++i) {
        lent.push_back(pool.take());
        lent.back().assign(3000, 'x');  // about 3 KiB of capacity each
    }
    for (auto& b : lent) pool.give_back(std::move(b));
    BOOST_TEST(pool.kept() == 2u);
    BOOST_TEST(pool.kept_bytes() <= 8u * 1024);
    (void)pool.take();
    BOOST_TEST(pool.kept() == 1u);
    BOOST_TEST(pool.kept_bytes() <= 4u * 1024);
}

BOOST_AUTO_TEST_CASE(a_buffer_grown_past_the_size_bound_is_freed_not_kept)
{
    write_buffer_pool pool(4, 4096);
    auto b = pool.take();
    b.assign(10000, 'x');
    pool.give_back(std::move(b));
    BOOST_TEST(pool.kept() == 0u);
    BOOST_TEST(b.capacity() < write_buffer_pool::initial_capacity);  // the caller holds nothing either
}

BOOST_AUTO_TEST_CASE(a_string_that_never_took_a_buffer_is_not_pooled)
{
    write_buffer_pool pool(4, 4096);
    std::string small = "ping";
    pool.give_back(std::move(small));
    BOOST_TEST(pool.kept() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
