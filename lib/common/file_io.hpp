#pragma once
// Atomic file writes, shared by every writer in the library (GGUF files, session state, the
// pipeline cache): the content goes to a temporary file next to `path` whose name is unique per
// process and per call (so concurrent writers never share one), is flushed and fsync'ed, then
// renamed over `path`, and the folder is fsync'ed (best effort) so the rename survives a crash too.
// `path` is therefore either its old content or the complete new one.
#include <cstdio>
#include <functional>
#include <string>

namespace vks {

// `write` puts the content into the open temporary file (fwrite; errors are picked up by
// ferror afterwards). Throws Error(io_error) naming the file and the cause; an exception from
// `write` is passed on. Either way the temporary file is removed.
void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write);

}  // namespace vks
