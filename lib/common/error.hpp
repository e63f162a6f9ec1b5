#pragma once
// Typed errors inside the C++ library. Every failure is an vks::Error carrying a Status that
// maps one-to-one onto the C API's vks_status; lib/capi turns them into status + message.
// The library never calls exit() or abort().
#include <stdexcept>
#include <string>

namespace vks {

enum class Status : int {
    ok = 0,
    invalid_argument = 1,      // caller passed a bad value (NULL, size, range, token id)
    io_error = 2,              // file could not be opened, read or written
    bad_format = 3,            // file content is malformed (GGUF, state file)
    unsupported = 4,           // valid input we do not support (tensor type, architecture)
    out_of_host_memory = 5,
    out_of_device_memory = 6,
    device_lost = 7,
    vulkan_error = 8,          // any other failing VkResult
    feature_missing = 9,       // the device lacks a feature this path needs
    cancelled = 10,            // a callback asked to stop
    context_full = 11,         // dense policy: the cache has no free slot
    internal = 12,             // a bug in vkstream
};

const char* status_name(Status s);

class Error : public std::runtime_error {
public:
    Error(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    Status status() const { return status_; }

private:
    Status status_;
};

// printf-style formatting into a std::string (C++20 <format> is not in every toolchain we target).
std::string strfmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

[[noreturn]] void fail(Status status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace vks
