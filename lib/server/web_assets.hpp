// Private: the browser client (lib/server/web/), embedded at build time.
#pragma once

#include <string_view>
#include <vector>

namespace liveai::server::detail {

struct web_asset {
    std::string_view path;  // "/" for index.html
    std::string_view content_type;
    std::string_view body;
};

const std::vector<web_asset>& web_assets();

}  // namespace liveai::server::detail
