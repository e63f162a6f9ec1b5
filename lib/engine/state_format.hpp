#pragma once
// Constants of the session state format shared by the writer (session_state.cpp) and the
// parser (state_format.cpp).
#include <cstdint>

namespace vks::engine::state_format {

inline constexpr char kMagic[8] = {'V', 'K', 'S', 'S', 'T', 'A', 'T', 'E'};
inline constexpr uint32_t kVersion = 1;

}  // namespace vks::engine::state_format
