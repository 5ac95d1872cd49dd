// The one translation unit that compiles Asio, Beast and Asio's OpenSSL glue
// (every liveai part and the project's own programs are compiled with
// BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION), so no
// other file pays for them. A program that links liveai without them
// compiles Asio inline as usual; these definitions stand in for its copies.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
