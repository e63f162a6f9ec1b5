#include "common/file_io.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "common/error.hpp"

namespace vks {

namespace {

// Makes the rename itself durable: the new directory entry reaches the disk with the folder's
// own fsync. Best effort: the file's data is already synced and in place, and some file systems
// refuse fsync on a directory (EINVAL), which must not turn a finished write into an error.
void sync_parent_folder(const std::string& path) noexcept {
    try {
        const size_t slash = path.find_last_of('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
        const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return;
        (void)::fsync(fd);
        ::close(fd);
    } catch (...) {  // (the folder name's allocation)
    }
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write) {
    static std::atomic<unsigned> n_writes{0};
    const std::string tmp = path + strfmt(".tmp%d.%u", int(::getpid()), n_writes++);
    std::FILE* fp = std::fopen(tmp.c_str(), "wb");
    if (!fp) fail(Status::io_error, "cannot create '%s': %s", tmp.c_str(), std::strerror(errno));
    try {
        write(fp);
    } catch (...) {
        std::fclose(fp);
        std::remove(tmp.c_str());
        throw;
    }
    errno = 0;
    bool ok = !std::ferror(fp) && std::fflush(fp) == 0 && ::fsync(::fileno(fp)) == 0;
    int e = errno;
    ok = (std::fclose(fp) == 0) && ok;
    if (!ok) {
        std::remove(tmp.c_str());
        fail(Status::io_error, "cannot write '%s': %s", tmp.c_str(), e ? std::strerror(e) : "write error");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        e = errno;
        std::remove(tmp.c_str());
        fail(Status::io_error, "cannot rename '%s' to '%s': %s", tmp.c_str(), path.c_str(), std::strerror(e));
    }
    sync_parent_folder(path);
}

}  // namespace vks
