// Streaming JSONL: a line reader with 1-based line numbers and byte offsets
// (memory bounded by the longest line, never by the file), per-line parsing
// that tolerates invalid UTF-8, and safe dumping.
#ifndef GROUNDCAP_JSONL_H_
#define GROUNDCAP_JSONL_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace groundcap {

/// One physical line of a JSONL file, without its line terminator.
struct JsonlLine {
  int64_t line = 0;      ///< 1-based line number
  int64_t offset = 0;    ///< byte offset of the line's first byte
  std::string text;      ///< empty when `too_long`
  bool too_long = false; ///< longer than the reader's limit; text dropped
};

/// Reads a file line by line. Blank (whitespace-only) lines are skipped but
/// counted; a missing final newline is fine; "\r\n" endings are accepted.
class JsonlReader {
 public:
  /// Lines longer than this are reported as too_long and not kept in memory.
  static constexpr int64_t kDefaultMaxLineBytes = int64_t{256} << 20;

  /// Opens `path`; throws SetupError when it cannot be read.
  explicit JsonlReader(const std::string& path, int64_t max_line_bytes = kDefaultMaxLineBytes);
  ~JsonlReader();
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  /// The next non-blank line; false at end of file.
  bool Next(JsonlLine* out);
  /// Bytes consumed so far (for progress estimates).
  int64_t bytes_read() const { return pos_; }
  /// File size at open time.
  int64_t file_size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  int64_t max_line_bytes_;
  int64_t pos_ = 0;
  int64_t size_ = 0;
  int64_t line_no_ = 0;
};

/// Replaces every invalid UTF-8 sequence in `s` by U+FFFD. Returns true when
/// anything was replaced.
bool SanitizeUtf8(std::string* s);

/// Deepest nesting of arrays and objects accepted in JSON that groundcap did
/// not write itself (input records, server bodies, teacher replies), so that
/// no recursive walk over it (sample ids, fingerprints, dumps, repair) can
/// run out of stack. Real records and replies nest a handful of levels.
inline constexpr int kMaxJsonDepth = 64;

/// True when `text` opens more than `limit` arrays/objects inside each other
/// (brackets inside strings do not count). A linear scan, no parse, no
/// recursion: safe on any input.
bool JsonNestsDeeperThan(std::string_view text, int limit = kMaxJsonDepth);

/// Parses one line that must hold a JSON object. Invalid UTF-8 is replaced
/// (and *repaired set to true) rather than rejected; anything else that is not
/// a single JSON object, or nests deeper than kMaxJsonDepth, is an
/// kInvalidInput error whose message says why.
Result<nlohmann::ordered_json> ParseJsonObjectLine(std::string_view text, bool* repaired = nullptr);

/// One-line JSON text (no newline); invalid UTF-8 in strings is replaced.
std::string DumpJsonLine(const nlohmann::ordered_json& j);
std::string DumpJsonLine(const nlohmann::json& j);

/// Streams a file that appears atomically: data goes to `<path>.tmp`, and
/// Commit() fsyncs and renames it over `path`. Destroying an uncommitted
/// writer removes the temporary. Throws SetupError on I/O failure.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  void Write(std::string_view data);
  void Commit();

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
};

/// Writes `bytes` to `path` atomically: a uniquely named temporary in the
/// same directory, fsync, rename. Safe from several threads at once. A
/// failure is a value (kind kInternal) so per-sample writers can record it.
Result<bool> WriteFileAtomic(const std::string& path, std::string_view bytes);
/// Copies `from` to `to` atomically (AtomicFileWriter). Throws SetupError.
void CopyFileAtomic(const std::string& from, const std::string& to);

}  // namespace groundcap

#endif  // GROUNDCAP_JSONL_H_
