#pragma once
// Constants of the session state format shared by the writer (session_state.cpp) and the
// parser (state_format.cpp).
#include <cstdint>

namespace vks::engine::state_format {

inline constexpr char kMagic[8] = {'V', 'K', 'S', 'S', 'T', 'A', 'T', 'E'};
// Version 2 records the cache element types (kv::CacheTypes) after n_window and replaces slot_bytes
// by the cache bytes per layer. Version 1 (f16 only) still loads into an f16 session.
inline constexpr uint32_t kVersion = 2;
inline constexpr uint32_t kOldestVersion = 1;
// CacheTypes flags word (version 2).
inline constexpr uint32_t kFlagHadamard = 1u;
inline constexpr uint32_t kFlagF16Sinks = 2u;

}  // namespace vks::engine::state_format
