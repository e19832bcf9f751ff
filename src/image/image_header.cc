#include "image/image_header.h"

#include <fstream>

#include "util/file_read.h"

namespace groundcap {

namespace {

int Be16(const std::string& b, size_t i) {
  return (static_cast<unsigned char>(b[i]) << 8) | static_cast<unsigned char>(b[i + 1]);
}

}  // namespace

Size EncodedImageSize(const std::string& b) {
  if (b.size() >= 24 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 && b.compare(12, 4, "IHDR") == 0) {
    auto be32 = [&](size_t i) { return (Be16(b, i) << 16) | Be16(b, i + 2); };
    return Size{be32(16), be32(20)};
  }
  if (b.size() < 4 || static_cast<unsigned char>(b[0]) != 0xFF || static_cast<unsigned char>(b[1]) != 0xD8)
    return Size{};
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return Size{};
    const unsigned char marker = static_cast<unsigned char>(b[i + 1]);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && i + 9 <= b.size()) return Size{Be16(b, i + 7), Be16(b, i + 5)};
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;
      continue;
    }
    i += 2 + static_cast<size_t>(Be16(b, i + 2));
  }
  return Size{};
}

Size EncodedFileSize(const std::string& path) {
  if (NotARegularFile(path)) return Size{};
  std::ifstream in(path, std::ios::binary);
  std::string head;
  for (size_t want : {size_t{4} * 1024, size_t{64} * 1024, size_t{1024} * 1024}) {
    const size_t have = head.size();
    head.resize(want);
    in.read(head.data() + have, static_cast<std::streamsize>(want - have));
    head.resize(have + static_cast<size_t>(in.gcount()));
    const Size s = EncodedImageSize(head);
    if (s.width > 0 && s.height > 0) return s;
    if (head.size() < want) break;  // the whole file was read
  }
  return Size{};
}

}  // namespace groundcap
