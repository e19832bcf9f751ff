#include "util/json_array_reader.h"

#include <fmt/core.h>

#include "util/error.h"

namespace groundcap {

JsonArrayReader::JsonArrayReader(std::string path) : path_(std::move(path)), in_(path_, std::ios::binary) {
  if (!in_) throw SetupError(fmt::format("cannot open {}", path_));
}

int JsonArrayReader::Get() {
  if (pos_ == buf_.size()) {
    buf_.resize(1 << 16);
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.resize(static_cast<size_t>(in_.gcount()));
    pos_ = 0;
    if (buf_.empty()) return -1;
  }
  ++offset_;
  return static_cast<unsigned char>(buf_[pos_++]);
}

int JsonArrayReader::SkipSpace() {
  int c = Get();
  while (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = Get();
  return c;
}

void JsonArrayReader::Fail(const std::string& what) const {
  throw SetupError(fmt::format("{}: not one JSON array: {} (byte {})", path_, what, offset_));
}

bool JsonArrayReader::Next(std::string* element) {
  if (done_) return false;
  int c = SkipSpace();
  if (!started_) {
    started_ = true;
    if (c != '[') Fail(c < 0 ? "the file is empty" : "it does not start with '['");
    c = SkipSpace();
    if (c == ']') {
      done_ = true;
      if (SkipSpace() >= 0) Fail("text after the closing ']'");
      return false;
    }
  }
  element->clear();
  int depth = 0;
  bool in_string = false, escaped = false;
  for (;; c = Get()) {
    if (c < 0) Fail(in_string ? "a string is not terminated" : "the array is not closed");
    if (in_string) {
      element->push_back(static_cast<char>(c));
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (depth == 0 && (c == ',' || c == ']')) break;
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') ++depth;
    else if ((c == ']' || c == '}') && --depth < 0) Fail("unbalanced brackets");
    element->push_back(static_cast<char>(c));
  }
  while (!element->empty() && (element->back() == ' ' || element->back() == '\t' || element->back() == '\n' ||
                               element->back() == '\r'))
    element->pop_back();
  if (element->empty()) Fail("an empty element");
  if (c == ']') {
    done_ = true;
    if (SkipSpace() >= 0) Fail("text after the closing ']'");
  }
  ++count_;
  return true;
}

}  // namespace groundcap
