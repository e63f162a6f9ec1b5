#include "common/error.hpp"

#include <cstdarg>
#include <cstdio>

namespace vks {

const char* status_name(Status s) {
    switch (s) {
        case Status::ok: return "ok";
        case Status::invalid_argument: return "invalid argument";
        case Status::io_error: return "i/o error";
        case Status::bad_format: return "bad format";
        case Status::unsupported: return "unsupported";
        case Status::out_of_host_memory: return "out of host memory";
        case Status::out_of_device_memory: return "out of device memory";
        case Status::device_lost: return "device lost";
        case Status::vulkan_error: return "vulkan error";
        case Status::feature_missing: return "feature missing";
        case Status::cancelled: return "cancelled";
        case Status::context_full: return "context full";
        case Status::internal: return "internal error";
    }
    return "unknown status";
}

static std::string vformat(const char* fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = std::vsnprintf(nullptr, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return fmt;
    std::string out(size_t(n), '\0');
    std::vsnprintf(out.data(), out.size() + 1, fmt, ap);
    return out;
}

std::string strfmt(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

void fail(Status status, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string s = vformat(fmt, ap);
    va_end(ap);
    throw Error(status, s);
}

}  // namespace vks
