// What a client asks a block for.
#pragma once

#include <string>

namespace liveai {

struct request {
    std::string prompt;
};

}  // namespace liveai
