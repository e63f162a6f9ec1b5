#include "gguf/reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "gguf/parser.hpp"

namespace vks::gguf {

File File::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(Status::io_error, "cannot open '%s': %s", path.c_str(), std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        fail(Status::io_error, "cannot stat '%s': %s", path.c_str(), std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(Status::io_error, "'%s' is not a regular file", path.c_str());
    }
    File f;
    f.size_ = uint64_t(st.st_size);
    if (f.size_ > 0) {
        // The mapping stays valid after close(); the File unmaps it.
        void* addr = ::mmap(nullptr, size_t(f.size_), PROT_READ, MAP_PRIVATE, fd, 0);
        int e = errno;
        ::close(fd);
        if (addr == MAP_FAILED) fail(Status::io_error, "cannot mmap '%s': %s", path.c_str(), std::strerror(e));
        f.map_addr_ = addr;
        f.map_size_ = size_t(f.size_);
        f.base_ = static_cast<const uint8_t*>(addr);
    } else {
        ::close(fd);
    }
    try {
        detail::Parser::parse(f);
    } catch (const Error& e) {
        fail(e.status(), "%s: %s", path.c_str(), e.what());
    }
    return f;
}

File File::from_memory(std::span<const uint8_t> bytes) {
    File f;
    f.base_ = bytes.data();
    f.size_ = bytes.size();
    detail::Parser::parse(f);
    return f;
}

File::File(File&& o) noexcept { *this = std::move(o); }

File& File::operator=(File&& o) noexcept {
    if (this == &o) return *this;
    release();
    map_addr_ = o.map_addr_;
    map_size_ = o.map_size_;
    base_ = o.base_;
    size_ = o.size_;
    version_ = o.version_;
    alignment_ = o.alignment_;
    data_offset_ = o.data_offset_;
    // Views point into the mapping, which does not move, so they stay valid.
    kvs_ = std::move(o.kvs_);
    kv_index_ = std::move(o.kv_index_);
    tensors_ = std::move(o.tensors_);
    tensor_index_ = std::move(o.tensor_index_);
    o.map_addr_ = nullptr;
    o.map_size_ = 0;
    o.base_ = nullptr;
    o.size_ = 0;
    return *this;
}

File::~File() { release(); }

void File::release() {
    if (map_addr_) ::munmap(map_addr_, map_size_);
    map_addr_ = nullptr;
    map_size_ = 0;
}

const Value* File::find(std::string_view key) const {
    auto it = kv_index_.find(key);
    return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

namespace {

const Value& require(const File& f, std::string_view key) {
    const Value* v = f.find(key);
    if (!v) fail(Status::bad_format, "required metadata key '%.*s' is missing", int(key.size()), key.data());
    return *v;
}

// Runs a Value accessor and prefixes its type error with the key name.
template <class Fn>
auto with_key(std::string_view key, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const Error& e) {
        fail(e.status(), "key '%.*s': %s", int(key.size()), key.data(), e.what());
    }
}

uint32_t to_u32(std::string_view key, const Value& v) {
    uint64_t x = with_key(key, [&] { return v.as_u64(); });
    if (x > UINT32_MAX)
        fail(Status::bad_format, "key '%.*s': value %llu does not fit in uint32", int(key.size()), key.data(),
             (unsigned long long)x);
    return uint32_t(x);
}

}  // namespace

std::string_view File::get_string(std::string_view key) const {
    const Value& v = require(*this, key);
    return with_key(key, [&] { return v.as_string(); });
}

uint32_t File::get_u32(std::string_view key) const { return to_u32(key, require(*this, key)); }

uint64_t File::get_u64(std::string_view key) const {
    const Value& v = require(*this, key);
    return with_key(key, [&] { return v.as_u64(); });
}

int64_t File::get_i64(std::string_view key) const {
    const Value& v = require(*this, key);
    return with_key(key, [&] { return v.as_i64(); });
}

float File::get_f32(std::string_view key) const {
    const Value& v = require(*this, key);
    return float(with_key(key, [&] { return v.as_f64(); }));
}

bool File::get_bool(std::string_view key) const {
    const Value& v = require(*this, key);
    return with_key(key, [&] { return v.as_bool(); });
}

const Array& File::get_array(std::string_view key, std::optional<ValueType> elem) const {
    const Value& v = require(*this, key);
    const Array& a = with_key(key, [&]() -> const Array& { return v.as_array(); });
    if (elem && a.type() != *elem)
        fail(Status::bad_format, "key '%.*s' is an array of %s, expected an array of %s", int(key.size()), key.data(),
             value_type_name(a.type()), value_type_name(*elem));
    return a;
}

uint32_t File::get_u32_or(std::string_view key, uint32_t fallback) const {
    const Value* v = find(key);
    return v ? to_u32(key, *v) : fallback;
}

float File::get_f32_or(std::string_view key, float fallback) const { return has(key) ? get_f32(key) : fallback; }

std::string_view File::get_string_or(std::string_view key, std::string_view fallback) const {
    return has(key) ? get_string(key) : fallback;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::get_tensor(std::string_view name) const {
    const TensorInfo* t = find_tensor(name);
    if (!t) fail(Status::bad_format, "required tensor '%.*s' is missing", int(name.size()), name.data());
    return *t;
}

}  // namespace vks::gguf
