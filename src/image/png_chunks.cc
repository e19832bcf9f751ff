#include "image/png_chunks.h"

#include <cstdint>
#include <cstring>

namespace groundcap {
namespace {

uint32_t Big32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint32_t PngCrc(const unsigned char* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void PutBig32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

}  // namespace

// A minimal big-endian TIFF holding just the Orientation tag, as an eXIf
// chunk right after IHDR (always first, 8 + 25 bytes in).
std::string WithPngOrientation(const std::string& png, int orientation) {
  const unsigned char tiff[] = {'M', 'M', 0, 42, 0, 0, 0, 8,  // header, IFD0 at 8
                                0, 1,                          // one entry
                                0x01, 0x12, 0, 3, 0, 0, 0, 1,  // Orientation, SHORT, 1
                                0, static_cast<unsigned char>(orientation), 0, 0,
                                0, 0, 0, 0};                   // no next IFD
  std::string chunk = "eXIf";
  chunk.append(reinterpret_cast<const char*>(tiff), sizeof tiff);
  std::string out = png.substr(0, 33);
  PutBig32(&out, sizeof tiff);
  out += chunk;
  PutBig32(&out, PngCrc(reinterpret_cast<const unsigned char*>(chunk.data()), chunk.size()));
  out.append(png, 33);
  return out;
}

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

bool EncodedLooksComplete(const std::string& bytes, const std::string& format) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  if (format == "jpeg") {
    while (n > 2 && p[n - 1] == 0) --n;  // some writers pad after EOI
    return n >= 4 && p[n - 2] == 0xFF && p[n - 1] == 0xD9;
  }
  if (format == "png") {
    static const unsigned char kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    return n >= 8 + 12 && std::memcmp(p + n - 12, kIend, 12) == 0;
  }
  if (format == "webp") {
    if (n < 12) return false;
    const uint64_t riff = uint64_t{p[4]} | (uint64_t{p[5]} << 8) | (uint64_t{p[6]} << 16) | (uint64_t{p[7]} << 24);
    return riff + 8 == n || riff + 9 == n;  // an odd payload may carry one pad byte
  }
  return false;
}

}  // namespace groundcap
