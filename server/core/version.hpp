#pragma once

#include <string_view>

namespace pivot::core {

/// pivot-server's own version.
inline constexpr std::string_view kVersion = "0.1.0";
/// The RoadRunner release whose wire protocol we implement; exported to workers as RR_VERSION.
inline constexpr std::string_view kRoadRunnerCompatVersion = "2025.1.15";

}  // namespace pivot::core
