// Standard base64 (RFC 4648 section 4): encode without line breaks, strict
// decode (canonical padding only, no whitespace, no URL-safe alphabet).
#include <array>
#include <cstdint>
#include <string>

#include "image/image.h"

namespace groundcap {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

std::string Base64Encode(const std::string& bytes) {
  std::string out;
  out.resize((bytes.size() + 2) / 3 * 4);
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size(), i = 0, o = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[o++] = kAlphabet[v >> 18];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  if (i < n) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (i + 1 < n) v |= uint32_t{in[i + 1]} << 8;
    out[o++] = kAlphabet[v >> 18];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Fail(ErrorKind::kInvalidInput, "base64: length is not a multiple of 4");
  }
  const size_t quads = text.size() / 4;
  std::string out(quads * 3, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  auto bad = [](size_t offset) {
    return Fail(ErrorKind::kInvalidInput, "base64: invalid character at offset " + std::to_string(offset));
  };
  // Every quad but the last has no padding: one table look-up per character
  // and a single sign test per quad (an invalid character is -1).
  const size_t full = quads == 0 ? 0 : quads - 1;
  for (size_t q = 0; q < full; ++q, in += 4, o += 3) {
    const int a = kDecode[in[0]], b = kDecode[in[1]], c = kDecode[in[2]], d = kDecode[in[3]];
    if ((a | b | c | d) < 0) {
      for (size_t k = 0; k < 4; ++k)
        if (kDecode[in[k]] < 0) return bad(q * 4 + k);
    }
    const uint32_t bits = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
    o[0] = static_cast<unsigned char>(bits >> 16);
    o[1] = static_cast<unsigned char>(bits >> 8);
    o[2] = static_cast<unsigned char>(bits);
  }
  if (quads == 0) return out;
  const size_t i = full * 4;
  const int pad = in[3] != '=' ? 0 : in[2] == '=' ? 2 : 1;
  int v[4] = {0, 0, 0, 0};
  for (int k = 0; k < 4 - pad; ++k) {
    v[k] = kDecode[in[k]];
    if (v[k] < 0) return bad(i + k);
  }
  const uint32_t bits = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
  // Canonical form: the bits dropped by padding must be zero.
  if ((pad == 1 && (bits & 0xFF)) || (pad == 2 && (bits & 0xFFFF))) {
    return Fail(ErrorKind::kInvalidInput, "base64: non-zero bits before padding");
  }
  o[0] = static_cast<unsigned char>(bits >> 16);
  o[1] = static_cast<unsigned char>(bits >> 8);
  o[2] = static_cast<unsigned char>(bits);
  out.resize(out.size() - static_cast<size_t>(pad));
  return out;
}

}  // namespace groundcap
