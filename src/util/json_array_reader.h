// Streams the elements of a file holding one JSON array (a Label Studio
// export, for one), one element's text at a time, so a multi-gigabyte array
// never sits in memory whole. Only the structure is scanned (brackets,
// strings and their escapes); each element is parsed by the caller.
#ifndef GROUNDCAP_JSON_ARRAY_READER_H_
#define GROUNDCAP_JSON_ARRAY_READER_H_

#include <cstdint>
#include <fstream>
#include <string>

namespace groundcap {

class JsonArrayReader {
 public:
  /// Throws SetupError when `path` cannot be opened.
  explicit JsonArrayReader(std::string path);
  /// The next element's text (without surrounding whitespace); false after
  /// the last one. Throws SetupError naming the file and byte offset when
  /// the file is not one JSON array (another value, unbalanced brackets, an
  /// unterminated string, text after the closing bracket).
  bool Next(std::string* element);
  /// Elements returned so far.
  int64_t count() const { return count_; }

 private:
  /// The next byte, or -1 at the end of the file.
  int Get();
  int SkipSpace();
  [[noreturn]] void Fail(const std::string& what) const;

  std::string path_;
  std::ifstream in_;
  std::string buf_;
  size_t pos_ = 0;
  int64_t offset_ = 0;  ///< bytes consumed
  int64_t count_ = 0;
  bool started_ = false, done_ = false;
};

}  // namespace groundcap

#endif  // GROUNDCAP_JSON_ARRAY_READER_H_
