#define BOOST_TEST_MODULE liveai integration tests
#include <boost/test/unit_test.hpp>
