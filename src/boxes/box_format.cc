// Box formats of the model families and their mapping to original-image
// pixels. See box_format.h and docs/formats.md "Box formats".
#include "boxes/box_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "boxes/box_tags.h"
#include "boxes/json_repair.h"

namespace groundcap {

namespace {

struct FormatInfo {
  BoxFormat format;
  const char* name;
};
constexpr FormatInfo kFormats[] = {
    {BoxFormat::kGemini, "gemini"},
    {BoxFormat::kQwen2Vl, "qwen2_vl"},
    {BoxFormat::kQwen25Vl, "qwen2_5_vl"},
    {BoxFormat::kQwen3Vl, "qwen3_vl"},
    {BoxFormat::kInternVl, "internvl"},
    {BoxFormat::kGlm4v, "glm4v"},
    {BoxFormat::kDeepseekVl2, "deepseek_vl2"},
    {BoxFormat::kFlorence2, "florence2"},
    {BoxFormat::kPaliGemma, "paligemma"},
    {BoxFormat::kMoondream, "moondream"},
    {BoxFormat::kXyxyNorm1000, "xyxy_norm1000"},
    {BoxFormat::kXyxyNorm1, "xyxy_norm1"},
    {BoxFormat::kXyxyPixels, "xyxy_pixels"},
};

bool YFirst(BoxFormat f) { return f == BoxFormat::kGemini || f == BoxFormat::kPaliGemma; }

/// Largest raw value per axis the format can write (x, y).
void RawRange(BoxFormat f, Size input, double* max_x, double* max_y) {
  switch (f) {
    case BoxFormat::kQwen25Vl:
    case BoxFormat::kXyxyPixels:
      *max_x = input.width;
      *max_y = input.height;
      return;
    case BoxFormat::kDeepseekVl2:
      *max_x = *max_y = 999;
      return;
    case BoxFormat::kPaliGemma:
      *max_x = *max_y = 1024;
      return;
    case BoxFormat::kMoondream:
    case BoxFormat::kXyxyNorm1:
      *max_x = *max_y = 1;
      return;
    default:
      *max_x = *max_y = 1000;
  }
}

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%%", 100 * fraction);
  return buf;
}

/// How far the raw x and y values leave [0, max_x] x [0, max_y], as the
/// largest fraction of the axis range (0 when inside).
double Overshoot(const double rx[2], const double ry[2], double max_x, double max_y) {
  double over = 0;
  for (int k = 0; k < 2; ++k) {
    over = std::max({over, -rx[k] / max_x, (rx[k] - max_x) / max_x, -ry[k] / max_y, (ry[k] - max_y) / max_y});
  }
  return over;
}

/// Why a box is far out of range: which other coordinate system its values
/// fit, if any (a 0-1000 reply to a pixel prompt, pixels to a grid prompt).
std::string WrongSystemHint(BoxFormat f, const double rx[2], const double ry[2], Size input) {
  auto fits = [&](double mx, double my) {
    return rx[0] >= 0 && rx[1] >= 0 && ry[0] >= 0 && ry[1] >= 0 && rx[0] <= mx && rx[1] <= mx && ry[0] <= my &&
           ry[1] <= my;
  };
  if (!UsesInputPixels(f) && fits(input.width, input.height)) {
    return "the values fit pixels of the " + std::to_string(input.width) + "x" + std::to_string(input.height) +
           " image sent; is the teacher answering in pixels?";
  }
  if (f != BoxFormat::kDeepseekVl2 && f != BoxFormat::kPaliGemma && f != BoxFormat::kFlorence2 && fits(1000, 1000)) {
    return "the values fit a 0-1000 grid; is the teacher answering on 0-1000?";
  }
  return "runaway digits or another coordinate system";
}

std::string BoxName(size_t i, const Box& b) {
  return "box " + std::to_string(i) + (b.label.empty() ? "" : " ('" + b.label + "')");
}

}  // namespace

const char* BoxFormatName(BoxFormat f) {
  for (const auto& info : kFormats) {
    if (info.format == f) return info.name;
  }
  return "xyxy_norm1000";
}

std::vector<std::string> BoxFormatNames() {
  std::vector<std::string> names;
  for (const auto& info : kFormats) names.emplace_back(info.name);
  return names;
}

Result<BoxFormat> BoxFormatFromName(std::string_view name) {
  std::string lower = AsciiLower(name);
  for (const auto& info : kFormats) {
    if (lower == info.name) return info.format;
  }
  std::string all;
  for (const auto& info : kFormats) all += std::string(all.empty() ? "" : ", ") + info.name;
  return Fail(ErrorKind::kInvalidInput, "unknown box format '" + std::string(name) + "' (known: " + all + ")");
}

BoxFormat AutoBoxFormat(std::string_view model_name, std::string* why) {
  // Compare on a squashed lower-case name: "Qwen/Qwen2.5-VL-7B" -> "qwenqwen25vl7b".
  std::string squashed;
  for (char c : AsciiLower(model_name)) {
    if (c != '-' && c != '_' && c != '.' && c != ' ' && c != '/' && c != ':') squashed += c;
  }
  struct Rule {
    const char* needle;
    BoxFormat format;
    const char* reason;
  };
  static constexpr Rule kRules[] = {
      {"paligemma", BoxFormat::kPaliGemma, "PaliGemma: <locNNNN> y-x tokens, 1024 bins"},
      {"gemini", BoxFormat::kGemini, "Gemini: box_2d [ymin,xmin,ymax,xmax] on 0-1000"},
      {"qwen25vl", BoxFormat::kQwen25Vl, "Qwen2.5-VL: bbox_2d in pixels of the model input"},
      {"qwen3vl", BoxFormat::kQwen3Vl, "Qwen3-VL: bbox_2d on 0-1000"},
      {"qwen2vl", BoxFormat::kQwen2Vl, "Qwen2-VL: <|box_start|>(x1,y1),(x2,y2) on 0-1000"},
      {"qwenvl", BoxFormat::kQwen2Vl, "Qwen-VL: (x1,y1),(x2,y2) on 0-1000"},
      {"internvl", BoxFormat::kInternVl, "InternVL: <ref>/<box> on 0-1000"},
      {"glm4", BoxFormat::kGlm4v, "GLM-4.xV: <|begin_of_box|> on 0-1000"},
      {"deepseekvl2", BoxFormat::kDeepseekVl2, "DeepSeek-VL2: <|det|> on 0-999"},
      {"florence", BoxFormat::kFlorence2, "Florence-2: <loc_N> tokens, 1000 bins"},
      {"moondream", BoxFormat::kMoondream, "Moondream: x_min..y_max on 0-1"},
  };
  for (const Rule& r : kRules) {
    if (squashed.find(r.needle) == std::string::npos) continue;
    // "glm4" alone is a text model; the vision models carry a "v".
    if (r.format == BoxFormat::kGlm4v && squashed.find('v', squashed.find("glm4")) == std::string::npos) continue;
    if (why) *why = std::string("model name '") + std::string(model_name) + "' matches '" + r.needle + "': " + r.reason;
    return r.format;
  }
  if (why) {
    *why = "model name '" + std::string(model_name) +
           "' matches no grounding family: generic [x1,y1,x2,y2] on 0-1000 as the prompt asks";
  }
  return BoxFormat::kXyxyNorm1000;
}

bool UsesInputPixels(BoxFormat f) { return f == BoxFormat::kQwen25Vl || f == BoxFormat::kXyxyPixels; }

Box MapQuad(const double raw[4], BoxFormat format, Size image, Size input) {
  if (input.width <= 0 || input.height <= 0) input = image;
  const double w = image.width, h = image.height;
  Box b;
  switch (format) {
    case BoxFormat::kGemini:  // [ymin, xmin, ymax, xmax] / 1000
      b.x1 = raw[1] * w / 1000, b.y1 = raw[0] * h / 1000, b.x2 = raw[3] * w / 1000, b.y2 = raw[2] * h / 1000;
      break;
    case BoxFormat::kPaliGemma:  // [ymin, xmin, ymax, xmax] / 1024
      b.x1 = raw[1] * w / 1024, b.y1 = raw[0] * h / 1024, b.x2 = raw[3] * w / 1024, b.y2 = raw[2] * h / 1024;
      break;
    case BoxFormat::kQwen25Vl:
    case BoxFormat::kXyxyPixels: {  // pixels of the image sent
      const double iw = input.width, ih = input.height;
      b.x1 = raw[0] * w / iw, b.y1 = raw[1] * h / ih, b.x2 = raw[2] * w / iw, b.y2 = raw[3] * h / ih;
      break;
    }
    case BoxFormat::kDeepseekVl2:  // 0-999
      b.x1 = raw[0] * w / 999, b.y1 = raw[1] * h / 999, b.x2 = raw[2] * w / 999, b.y2 = raw[3] * h / 999;
      break;
    case BoxFormat::kFlorence2:  // bin centres of 1000 bins
      b.x1 = (raw[0] + 0.5) * w / 1000, b.y1 = (raw[1] + 0.5) * h / 1000;
      b.x2 = (raw[2] + 0.5) * w / 1000, b.y2 = (raw[3] + 0.5) * h / 1000;
      break;
    case BoxFormat::kMoondream:
    case BoxFormat::kXyxyNorm1:
      b.x1 = raw[0] * w, b.y1 = raw[1] * h, b.x2 = raw[2] * w, b.y2 = raw[3] * h;
      break;
    default:  // qwen2_vl, qwen3_vl, internvl, glm4v, xyxy_norm1000: 0-1000
      b.x1 = raw[0] * w / 1000, b.y1 = raw[1] * h / 1000, b.x2 = raw[2] * w / 1000, b.y2 = raw[3] * h / 1000;
  }
  return b;
}

void ApplyHygiene(std::vector<Box>& boxes, Size image, const BoxHygiene& hygiene,
                  std::vector<std::string>* diagnostics) {
  auto note = [&](std::string s) {
    if (diagnostics) diagnostics->push_back(std::move(s));
  };
  std::vector<Box> kept;
  kept.reserve(boxes.size());
  const double w = image.width, h = image.height;
  for (size_t i = 0; i < boxes.size(); ++i) {
    Box b = std::move(boxes[i]);
    if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) || !std::isfinite(b.y2)) {
      note("dropped " + BoxName(i, b) + ": non-finite coordinates");
      continue;
    }
    if (b.x1 > b.x2 || b.y1 > b.y2) {
      note("swapped reversed corners of " + BoxName(i, b));
      if (b.x1 > b.x2) std::swap(b.x1, b.x2);
      if (b.y1 > b.y2) std::swap(b.y1, b.y2);
    }
    if (w > 0 && h > 0 && (b.x1 < 0 || b.y1 < 0 || b.x2 > w || b.y2 > h)) {
      note("clamped " + BoxName(i, b) + " [" + Fmt(b.x1) + ", " + Fmt(b.y1) + ", " + Fmt(b.x2) + ", " + Fmt(b.y2) +
           "] px to the " + std::to_string(image.width) + "x" + std::to_string(image.height) + " image");
      b.x1 = std::clamp(b.x1, 0.0, w), b.x2 = std::clamp(b.x2, 0.0, w);
      b.y1 = std::clamp(b.y1, 0.0, h), b.y2 = std::clamp(b.y2, 0.0, h);
    }
    double min_size = std::max(hygiene.min_size, 1e-9);
    if (b.width() < min_size || b.height() < min_size) {
      note("dropped " + BoxName(i, b) + ": " + Fmt(b.width()) + "x" + Fmt(b.height()) + " px is under min size " +
           Fmt(hygiene.min_size));
      continue;
    }
    bool drop = false;
    for (Box& k : kept) {
      if (k.label != b.label) continue;
      bool exact = std::abs(k.x1 - b.x1) < 1e-6 && std::abs(k.y1 - b.y1) < 1e-6 && std::abs(k.x2 - b.x2) < 1e-6 &&
                   std::abs(k.y2 - b.y2) < 1e-6;
      if (exact) {
        note("dropped " + BoxName(i, b) + ": exact duplicate");
        if (b.score && (!k.score || *b.score > *k.score)) k.score = b.score;
        drop = true;
        break;
      }
      if (hygiene.dedupe_iou > 0 && IoU(k, b) > hygiene.dedupe_iou) {
        note("dropped " + BoxName(i, b) + ": IoU " + Fmt(IoU(k, b)) + " with an earlier box of the same label");
        if (b.score && (!k.score || *b.score > *k.score)) {
          // Keep the better-scored geometry in the earlier slot.
          k = b;
        }
        drop = true;
        break;
      }
    }
    if (!drop) kept.push_back(std::move(b));
  }
  boxes = std::move(kept);
}

Size SmartResize(Size size, int factor, int64_t min_pixels, int64_t max_pixels) {
  if (size.width <= 0 || size.height <= 0 || factor <= 0) return Size{0, 0};
  const double hh = size.height, ww = size.width, f = factor;
  // Python round() rounds halves to even; nearbyint does the same in the
  // default FE_TONEAREST mode (std::round would not).
  double h_bar = std::max(f, std::nearbyint(hh / f) * f);
  double w_bar = std::max(f, std::nearbyint(ww / f) * f);
  if (h_bar * w_bar > static_cast<double>(max_pixels)) {
    double beta = std::sqrt(hh * ww / static_cast<double>(max_pixels));
    h_bar = std::max(f, std::floor(hh / beta / f) * f);
    w_bar = std::max(f, std::floor(ww / beta / f) * f);
  } else if (h_bar * w_bar < static_cast<double>(min_pixels)) {
    double beta = std::sqrt(static_cast<double>(min_pixels) / (hh * ww));
    h_bar = std::ceil(hh * beta / f) * f;
    w_bar = std::ceil(ww * beta / f) * f;
  }
  return Size{static_cast<int>(w_bar), static_cast<int>(h_bar)};
}

Result<ParsedBoxes> ParseBoxes(std::string_view reply, const ParseBoxesOptions& options) {
  ParsedBoxes result;
  auto& diag = result.diagnostics;
  const BoxFormat format = options.format;
  Size input = options.input;
  if (input.width <= 0 || input.height <= 0) {
    input = options.image;
    if (UsesInputPixels(format)) {
      diag.push_back("input size not given: assuming the image was sent at its original size " +
                     std::to_string(input.width) + "x" + std::to_string(input.height));
    }
  }
  if (options.image.width <= 0 || options.image.height <= 0) {
    return Fail(ErrorKind::kInvalidInput, "image size must be positive");
  }

  bool unclosed_think = false;
  std::string_view answer = StripReasoning(reply, &unclosed_think);
  if (answer.size() != reply.size()) diag.push_back("dropped reasoning text");
  if (unclosed_think && answer.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Fail(ErrorKind::kTruncated, "reply ended inside <think> before any answer");
  }

  std::vector<RawBox> raw;
  bool done = false;
  std::optional<Error> json_error;
  if (format == BoxFormat::kFlorence2 && answer.find("<loc_") != std::string_view::npos) {
    raw = ParseFlorenceLocs(answer, diag);
    done = true;
  } else if (format == BoxFormat::kPaliGemma && answer.find("<loc") != std::string_view::npos) {
    raw = ParsePaliGemmaLocs(answer, diag);
    done = !raw.empty();
  }
  if (!done && HasBoxMarkers(answer)) {
    raw = ParseTaggedBoxes(answer, YFirst(format), diag);
    done = !raw.empty();
  }
  if (!done) {
    std::vector<std::string> repairs;
    auto j = ParseLenientJson(answer, &repairs);
    if (j) {
      for (auto& r : repairs) diag.push_back("json: " + r);
      raw = JsonToRawBoxes(*j, YFirst(format), "", diag);
      done = true;
      // "E0: [1,2,3,4] and E1: [5,6,7,8]": bare lists inside prose carry
      // their labels in the prose; read them all if that finds more.
      bool prose = std::find(repairs.begin(), repairs.end(), "ignored text around the JSON") != repairs.end();
      bool unlabeled = std::all_of(raw.begin(), raw.end(), [](const RawBox& r) { return r.label.empty(); });
      if (prose && unlabeled) {
        std::vector<std::string> bare_diag;
        std::vector<RawBox> bare = ParseBareCoordinates(answer, bare_diag);
        bool labeled = std::any_of(bare.begin(), bare.end(), [](const RawBox& r) { return !r.label.empty(); });
        if (bare.size() > raw.size() || (bare.size() == raw.size() && labeled)) {
          raw = std::move(bare);
          diag.insert(diag.end(), bare_diag.begin(), bare_diag.end());
          diag.push_back("read bare coordinates from prose");
        }
      }
    } else {
      json_error = j.error();
    }
  }
  if (!done) {
    raw = ParseBareCoordinates(answer, diag);
    if (!raw.empty()) {
      diag.push_back("read bare coordinates from prose");
      done = true;
    }
  }
  if (!done && json_error && json_error->message.find("truncated") != std::string::npos) {
    return Fail(ErrorKind::kParse, json_error->message);
  }
  if (raw.empty()) {
    std::string_view trimmed = answer.substr(std::min(answer.size(), answer.find_first_not_of(" \t\r\n")));
    if (trimmed.empty()) {
      diag.push_back("empty reply: no boxes");
    } else if (SaysNothingFound(trimmed)) {
      diag.push_back("reply says nothing was found: no boxes");
    } else {
      diag.push_back("no boxes in reply");
    }
    return result;
  }

  double max_x = 0, max_y = 0;
  RawRange(format, input, &max_x, &max_y);
  const double tolerance = std::max(0.0, options.hygiene.range_tolerance);
  const std::string range = BoxFormatName(format) + std::string(" range [0, ") + Fmt(max_x) + "]x[0, " +
                            Fmt(max_y) + "]";
  for (size_t i = 0; i < raw.size(); ++i) {
    const RawBox& r = raw[i];
    const std::string name = "raw box " + std::to_string(i) + (r.label.empty() ? "" : " ('" + r.label + "')");
    const std::string values = "[" + Fmt(r.v[0]) + ", " + Fmt(r.v[1]) + ", " + Fmt(r.v[2]) + ", " + Fmt(r.v[3]) + "]";
    if (!std::isfinite(r.v[0]) || !std::isfinite(r.v[1]) || !std::isfinite(r.v[2]) || !std::isfinite(r.v[3])) {
      diag.push_back("dropped " + name + ": non-finite coordinates " + values);
      continue;
    }
    double rx[2] = {YFirst(format) ? r.v[1] : r.v[0], YFirst(format) ? r.v[3] : r.v[2]};
    double ry[2] = {YFirst(format) ? r.v[0] : r.v[1], YFirst(format) ? r.v[2] : r.v[3]};
    const double over = Overshoot(rx, ry, max_x, max_y);
    if (over > tolerance) {
      diag.push_back("dropped " + name + ": " + values + " far outside the " + range + " (by " + Percent(over) +
                     " of it, tolerance " + Percent(tolerance) + "): " + WrongSystemHint(format, rx, ry, input));
      continue;
    }
    Box b = MapQuad(r.v, format, options.image, input);
    b.label = r.label;
    b.score = r.score;
    if (over > 0) {
      const double w = options.image.width, h = options.image.height;
      b.x1 = std::clamp(b.x1, 0.0, w), b.x2 = std::clamp(b.x2, 0.0, w);
      b.y1 = std::clamp(b.y1, 0.0, h), b.y2 = std::clamp(b.y2, 0.0, h);
      diag.push_back(name + " " + values + " is outside the " + range + " by " + Percent(over) +
                     " of it (tolerance " + Percent(tolerance) + "): clamped to [" + Fmt(b.x1) + ", " + Fmt(b.y1) +
                     ", " + Fmt(b.x2) + ", " + Fmt(b.y2) + "] px of the " + std::to_string(options.image.width) +
                     "x" + std::to_string(options.image.height) + " image");
    }
    result.boxes.push_back(std::move(b));
  }
  ApplyHygiene(result.boxes, options.image, options.hygiene, &diag);
  return result;
}

}  // namespace groundcap
