// Tutorial 1: load a config and collect one whole answer (the non-streaming mode).
//
//   example_collect_one config/liveai.toml report "a prompt"
#include <liveai/config.hpp>
#include <liveai/engine.hpp>
#include <liveai/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " CONFIG BLOCK PROMPT\n";
        return 2;
    }
    try {
        liveai::engine engine(liveai::load_config_file(argv[1]).blocks);
        boost::asio::io_context ioc;
        boost::asio::co_spawn(ioc, engine.collect(argv[2], liveai::request{argv[3]}),
                              [](std::exception_ptr e, liveai::collect_result r) {
                                  if (e) std::rethrow_exception(e);
                                  std::cout << r.text << "\n[finish: " << liveai::to_string(r.finish_reason) << ", "
                                            << r.chunks << " chunks, ";
                                  if (r.usage)
                                      std::cout << r.usage->input_tokens << " in / " << r.usage->output_tokens << " out]\n";
                                  else
                                      std::cout << "usage not reported]\n";
                              });
        ioc.run();
    } catch (const liveai::stream_error& e) {
        std::cerr << "error " << liveai::to_code(e.code()) << ": " << e.message() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
