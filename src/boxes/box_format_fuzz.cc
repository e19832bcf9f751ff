// libFuzzer target over the reply parsers: any bytes, any format, any sizes
// must give boxes or an error value, never a crash, hang or sanitizer report.
// Built by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "boxes/box_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace groundcap;
  if (size < 3) return 0;
  // Byte 0 picks the format, bytes 1-2 the image and input sizes.
  const auto names = BoxFormatNames();
  const BoxFormat format = *BoxFormatFromName(names[data[0] % names.size()]);
  ParseBoxesOptions o;
  o.format = format;
  o.image = Size{1 + data[1] * 7, 1 + data[2] * 5};
  o.input = (data[1] & 1) ? Size{} : Size{1 + data[2] * 3, 1 + data[1] * 2};
  o.hygiene.dedupe_iou = (data[0] & 0x80) ? 0.5 : 0;
  std::string_view reply(reinterpret_cast<const char*>(data + 3), size - 3);

  auto parsed = ParseBoxes(reply, o);
  if (parsed) {
    for (const Box& b : parsed->boxes) {
      // Invariants after hygiene: finite, ordered, inside the image.
      if (!(std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2))) std::abort();
      if (b.x1 > b.x2 || b.y1 > b.y2) std::abort();
      if (b.x1 < 0 || b.y1 < 0 || b.x2 > o.image.width || b.y2 > o.image.height) std::abort();
    }
  }
  std::vector<std::string> repairs;
  auto j = ParseLenientJson(reply, &repairs);
  if (j) (void)j->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Size s = SmartResize(Size{1 + data[1] * 40, 1 + data[2] * 40});
  if (s.width % 28 != 0 || s.height % 28 != 0) std::abort();
  return 0;
}
