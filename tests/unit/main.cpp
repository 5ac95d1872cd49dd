#define BOOST_TEST_MODULE liveai unit tests
#include <boost/test/unit_test.hpp>
