// write_file_atomic: the file is either its old content or the complete new one, and no
// temporary file is ever left behind, whether the write succeeds, the writer throws, or the
// destination folder does not exist.
#include <doctest/doctest.h>

#include <dirent.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace {

std::string scratch_folder() {
    std::string dir = "vks_file_io_" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0755);
    return dir;
}

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
        ::closedir(d);
    }
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
    vks::write_file_atomic(path, [&](std::FILE* f) { std::fwrite(text.data(), 1, text.size(), f); });
}

}  // namespace

TEST_CASE("write_file_atomic: writes, replaces, and leaves only the file") {
    const std::string dir = scratch_folder(), path = dir + "/state.bin";
    write_text(path, "first");
    CHECK(slurp(path) == "first");
    write_text(path, "second, longer");
    CHECK(slurp(path) == "second, longer");
    CHECK(entries(dir) == std::vector<std::string>{"state.bin"});
    // A bare file name (the current folder) works too.
    const std::string bare = dir + "_bare.bin";
    write_text(bare, "x");
    CHECK(slurp(bare) == "x");
    std::remove(bare.c_str());
    std::remove(path.c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("write_file_atomic: a writer that throws leaves the old content and no temporary file") {
    const std::string dir = scratch_folder(), path = dir + "/state.bin";
    write_text(path, "old");
    CHECK_THROWS_AS(vks::write_file_atomic(path,
                                           [](std::FILE* f) {
                                               std::fputs("half of the new", f);
                                               throw std::runtime_error("writer failed");
                                           }),
                    std::runtime_error);
    CHECK(slurp(path) == "old");
    CHECK(entries(dir) == std::vector<std::string>{"state.bin"});
    std::remove(path.c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("write_file_atomic: a missing folder is an io_error naming the file") {
    const std::string path = "vks_no_such_folder_" + std::to_string(::getpid()) + "/state.bin";
    try {
        write_text(path, "data");
        FAIL("no error for a missing folder");
    } catch (const vks::Error& e) {
        CHECK(e.status() == vks::Status::io_error);
        CHECK(std::string(e.what()).find("vks_no_such_folder_") != std::string::npos);
    }
}
