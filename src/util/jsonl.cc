#include "util/jsonl.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/core.h>

namespace groundcap {

JsonlReader::JsonlReader(const std::string& path, int64_t max_line_bytes)
    : path_(path), max_line_bytes_(max_line_bytes) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw SetupError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  if (std::fseek(file_, 0, SEEK_END) == 0) {
    size_ = std::ftell(file_);
    std::fseek(file_, 0, SEEK_SET);
  }
}

JsonlReader::~JsonlReader() {
  if (file_) std::fclose(file_);
}

bool JsonlReader::Next(JsonlLine* out) {
  while (true) {
    out->text.clear();
    out->too_long = false;
    out->offset = pos_;
    int64_t len = 0;
    bool any = false;
    int c;
    while ((c = getc_unlocked(file_)) != EOF) {
      any = true;
      ++pos_;
      if (c == '\n') break;
      ++len;
      if (len > max_line_bytes_) {
        if (!out->too_long) {
          out->too_long = true;
          out->text.clear();
          out->text.shrink_to_fit();
        }
      } else {
        out->text.push_back(static_cast<char>(c));
      }
    }
    if (!any) return false;
    ++line_no_;
    out->line = line_no_;
    if (!out->text.empty() && out->text.back() == '\r') out->text.pop_back();
    if (out->too_long) return true;
    if (out->text.find_first_not_of(" \t\r\f\v") == std::string::npos) continue;  // blank
    return true;
  }
}

bool SanitizeUtf8(std::string* s) {
  std::string out;
  bool changed = false;
  const auto* p = reinterpret_cast<const unsigned char*>(s->data());
  size_t n = s->size(), i = 0;
  out.reserve(n);
  while (i < n) {
    unsigned char c = p[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) { out.push_back(static_cast<char>(c)); ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok) {
      // Overlong forms, surrogates and out-of-range code points are invalid.
      static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) ok = false;
    }
    if (ok) {
      out.append(s->data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      changed = true;
      ++i;
    }
  }
  if (changed) s->swap(out);
  return changed;
}

bool JsonNestsDeeperThan(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

Result<nlohmann::ordered_json> ParseJsonObjectLine(std::string_view text, bool* repaired) {
  if (JsonNestsDeeperThan(text)) {
    return Fail(ErrorKind::kInvalidInput,
                fmt::format("nested deeper than {} levels (the limit for input records)", kMaxJsonDepth));
  }
  std::string s(text);
  bool fixed = SanitizeUtf8(&s);
  if (repaired) *repaired = fixed;
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(s);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    std::string msg = e.what();
    size_t pos = msg.find("] ");  // drop the "[json.exception.<kind>.<id>] " prefix
    return Fail(ErrorKind::kInvalidInput,
                "not valid JSON: " + (pos == std::string::npos ? msg : msg.substr(pos + 2)));
  }
  if (!j.is_object())
    return Fail(ErrorKind::kInvalidInput, fmt::format("expected a JSON object, got {}", j.type_name()));
  return j;
}

std::string DumpJsonLine(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string DumpJsonLine(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  tmp_ = path_ + ".tmp";
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (!file_) throw SetupError(fmt::format("cannot write {}: {}", tmp_, std::strerror(errno)));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_) {
    std::fclose(file_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFileWriter::Write(std::string_view data) {
  if (!file_) throw SetupError("write after commit: " + path_);
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size())
    throw SetupError(fmt::format("cannot write {}: {}", tmp_, std::strerror(errno)));
}

void AtomicFileWriter::Commit() {
  if (!file_) return;
  bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_.c_str());
    throw SetupError(fmt::format("cannot write {}: {}", path_, std::strerror(err)));
  }
}

Result<bool> WriteFileAtomic(const std::string& path, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(ErrorKind::kInternal, fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Fail(ErrorKind::kInternal, fmt::format("cannot write {}: {}", path, why));
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  int sync_errno = errno;
  bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    std::string why = std::strerror(synced ? errno : sync_errno);
    ::unlink(tmp.c_str());
    return Fail(ErrorKind::kInternal, fmt::format("cannot write {}: {}", path, why));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Fail(ErrorKind::kInternal, fmt::format("cannot rename into place {}: {}", path, why));
  }
  return true;
}

void CopyFileAtomic(const std::string& from, const std::string& to) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(from.c_str(), "rb"), &std::fclose);
  if (!in) throw SetupError(fmt::format("cannot read {}: {}", from, std::strerror(errno)));
  AtomicFileWriter w(to);
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, in.get())) > 0) w.Write(std::string_view(buf, n));
  if (std::ferror(in.get())) throw SetupError(fmt::format("cannot read {}", from));
  w.Commit();
}

}  // namespace groundcap
