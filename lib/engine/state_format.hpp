#pragma once
// Constants of the session state format shared by the writer (session_state.cpp) and the
// parser (state_format.cpp).
#include <cstdint>

namespace vks::engine::state_format {

inline constexpr char kMagic[8] = {'V', 'K', 'S', 'S', 'T', 'A', 'T', 'E'};
// 2: per-layer cache shapes (Gemma 3's sliding-window layers), per-layer slot counts.
inline constexpr uint32_t kVersion = 2;

}  // namespace vks::engine::state_format
