// Bounded whole-file reads for the files a spec or the command line names
// (the spec itself, prompt files), and the file-type checks behind them: a
// device, a FIFO or a directory is refused by type before it is read, and a
// regular file only up to a limit, so no setup step can block or grow memory
// without bound.
#ifndef GROUNDCAP_FILE_READ_H_
#define GROUNDCAP_FILE_READ_H_

#include <cstdint>
#include <optional>
#include <string>

#include "util/error.h"

namespace groundcap {

/// Largest prompt file read (prompt templates are a few kilobytes; 1 MiB).
inline constexpr int64_t kMaxPromptFileBytes = int64_t{1} << 20;

/// Why `path` is not an existing regular file, as a phrase to follow the
/// path ("does not exist", "is a directory", "is a pipe (FIFO), not a regular
/// file", "is a character device, not a regular file", ...), or nullopt
/// when it is one. Symbolic links are followed; the file is not opened.
std::optional<std::string> NotARegularFile(const std::string& path);

/// The whole content of the regular file `path`, at most `max_bytes` long.
/// Anything else is a kInvalidInput error whose message is a phrase to
/// follow the path (see NotARegularFile; "is larger than the limit of N
/// bytes"). The file is opened without blocking (a FIFO cannot hang it) and
/// its type checked on the open descriptor before any byte is read.
Result<std::string> ReadRegularFile(const std::string& path, int64_t max_bytes);

}  // namespace groundcap

#endif  // GROUNDCAP_FILE_READ_H_
