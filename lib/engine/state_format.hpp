#pragma once
// Constants of the session state format shared by the writer (session_state.cpp) and the
// parser (state_format.cpp).
#include <cstdint>

namespace vks::engine::state_format {

inline constexpr char kMagic[8] = {'V', 'K', 'S', 'S', 'T', 'A', 'T', 'E'};
// Version 2: per-layer cache shapes (Gemma 3's sliding-window layers) and the cache element
// types (kv::CacheTypes); the cache bytes of all layers replace version 1's slot_bytes. Version 1
// (uniform f16 layers) still loads into a session with f16 caches and uniform layers.
inline constexpr uint32_t kVersion = 2;
inline constexpr uint32_t kOldestVersion = 1;
// CacheTypes flags word (version 2).
inline constexpr uint32_t kFlagHadamard = 1u;
inline constexpr uint32_t kFlagF16Sinks = 2u;

}  // namespace vks::engine::state_format
