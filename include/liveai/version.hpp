#pragma once

namespace liveai {
inline constexpr const char* version_string = "0.1.0";
}
