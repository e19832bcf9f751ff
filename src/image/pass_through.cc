#include "image/pass_through.h"

#include <cstdint>
#include <cstring>

namespace groundcap {
namespace {

uint32_t Big32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

bool PngIsPlain8Bit(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  // Signature (8), then IHDR: length 13, "IHDR", w, h, depth, colour type, ...
  if (n < 33 || std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0) return false;
  if (Big32(p + 8) != 13 || std::memcmp(p + 12, "IHDR", 4) != 0) return false;
  const int depth = p[24], colour = p[25];
  if (depth != 8 || (colour != 0 && colour != 2)) return false;
  // Chunks up to the first IDAT: tRNS (a transparent colour, which would be
  // flattened onto white when prepared) is only allowed before it.
  size_t at = 33;
  while (at + 8 <= n) {
    const uint64_t len = Big32(p + at);
    const unsigned char* type = p + at + 4;
    if (std::memcmp(type, "IDAT", 4) == 0) return true;
    if (std::memcmp(type, "tRNS", 4) == 0) return false;
    at += 12 + len;  // length, type, data, CRC
  }
  return false;  // no image data: leave it to the decoder to say what is wrong
}

}  // namespace groundcap
