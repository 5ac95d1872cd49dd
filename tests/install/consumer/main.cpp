// Built against an installed liveai: loads a config and collects a fixed mock answer.
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/version.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <string_view>

int main()
{
    if (std::string_view(liveai::version_string) != PACKAGE_VERSION) {
        std::cerr << "version.hpp says " << liveai::version_string << ", the package " << PACKAGE_VERSION << "\n";
        return 1;
    }
    const auto config = liveai::parse_config(
        "[blocks.fixed]\nprovider = \"mock\"\n[blocks.fixed.mock]\ntext = \" first words\"\necho_words = 1\n", "inline.toml");
    liveai::engine engine(config.blocks);

    boost::asio::io_context ioc;
    std::string text;
    boost::asio::co_spawn(ioc, engine.collect("fixed", liveai::request{"consumer:"}),
                          [&](std::exception_ptr e, liveai::collect_result r) {
                              if (e) std::rethrow_exception(e);
                              text = r.text;
                          });
    ioc.run();
    std::cout << text << "\n";
}
