// The simulated teacher's answers: task dispatch, model-family conventions
// and noise. The pixel side is sim_vision.cc.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "image/draw.h"
#include "sim/sim_verify.h"
#include "sim/sim_vision.h"
#include "util/error.h"
#include "util/rng.h"

namespace groundcap {
namespace {


uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t' || line.front() == '-')) {
      line.remove_prefix(1);
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

/// Moves each edge of `b` by up to 0.25*noise of the box size, as
/// ApplyNoise does for seen objects.
Box Jitter(Box b, double noise, Rng& rng) {
  double j = 0.25 * noise;
  double w = b.width(), h = b.height();
  b.x1 += (rng.Uniform() * 2 - 1) * j * w;
  b.x2 += (rng.Uniform() * 2 - 1) * j * w;
  b.y1 += (rng.Uniform() * 2 - 1) * j * h;
  b.y2 += (rng.Uniform() * 2 - 1) * j * h;
  return b;
}

/// Noise applied to what the teacher "sees": missed objects, shape
/// confusions and box jitter, all scaled by the noise level.
std::vector<FoundShape> ApplyNoise(std::vector<FoundShape> shapes, double noise, Rng& rng) {
  if (noise <= 0) return shapes;
  std::vector<FoundShape> out;
  for (FoundShape s : shapes) {
    if (rng.Uniform() < 0.35 * noise) continue;  // missed
    if (rng.Uniform() < 0.25 * noise) {          // confused with another shape
      int other = static_cast<int>(rng.Uniform() * (kShapeKindCount - 1));
      if (other >= static_cast<int>(s.shape)) ++other;
      s.shape = static_cast<ShapeKind>(other);
    }
    s.box = Jitter(s.box, noise, rng);
    out.push_back(s);
  }
  return out;
}

bool IsGrid(BoxFormat f) { return f != BoxFormat::kMoondream && f != BoxFormat::kXyxyNorm1; }

const char* BoxKey(BoxFormat f) {
  switch (f) {
    case BoxFormat::kGemini:
      return "box_2d";
    case BoxFormat::kQwen25Vl:
    case BoxFormat::kQwen3Vl:
    case BoxFormat::kQwen2Vl:
      return "bbox_2d";
    default:
      return "bbox";
  }
}

/// Wraps a reply in an object when the request's schema demands an object
/// root (OpenAI strict mode): under the first array property.
nlohmann::json FitSchema(nlohmann::json reply, const nlohmann::json& schema) {
  if (!reply.is_array() || !schema.is_object()) return reply;
  std::string type = schema.value("type", "");
  std::transform(type.begin(), type.end(), type.begin(), [](char c) { return std::tolower(c); });
  if (type != "object" || !schema.contains("properties")) return reply;
  for (const auto& [name, prop] : schema["properties"].items()) {
    std::string pt = prop.is_object() ? prop.value("type", "") : "";
    std::transform(pt.begin(), pt.end(), pt.begin(), [](char c) { return std::tolower(c); });
    if (pt == "array") return nlohmann::json{{name, std::move(reply)}};
  }
  return reply;
}

/// Brightens a DataFlow-dimmed image back (it was scaled by 0.8).
RgbImage Undim(const RgbImage& image) {
  RgbImage out = image;
  for (uint8_t& v : out.pixels) v = static_cast<uint8_t>(std::min(255, static_cast<int>(std::lround(v * 1.25))));
  return out;
}

/// DataFlow marks: pure-green 2 px rectangles. Returns the boxes DrawMarks
/// was given (its lines cover pixels x1-1 and x1), in reading order.
std::vector<Box> FindGreenRectangles(const RgbImage& image) {
  const int w = image.width, h = image.height;
  std::vector<uint8_t> green(static_cast<size_t>(w) * h, 0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = image.at(x, y);
      // JPEG smears the 2 px lines into the background: strongly green
      // rather than pure green.
      green[static_cast<size_t>(y) * w + x] = p[1] >= 170 && p[1] - std::max(p[0], p[2]) >= 60;
    }
  }
  std::vector<Box> boxes;
  std::vector<int> stack;
  for (int start = 0; start < w * h; ++start) {
    if (green[start] != 1) continue;
    int x1 = w, y1 = h, x2 = -1, y2 = -1, n = 0;
    stack.push_back(start);
    green[start] = 2;
    while (!stack.empty()) {
      int idx = stack.back();
      stack.pop_back();
      int px = idx % w, py = idx / w;
      x1 = std::min(x1, px), x2 = std::max(x2, px), y1 = std::min(y1, py), y2 = std::max(y2, py);
      ++n;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          int nx = px + dx, ny = py + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          uint8_t& g = green[static_cast<size_t>(ny) * w + nx];
          if (g == 1) {
            g = 2;
            stack.push_back(ny * w + nx);
          }
        }
      }
    }
    Box b;
    b.x1 = x1, b.y1 = y1, b.x2 = x2 + 1, b.y2 = y2 + 1;
    boxes.push_back(b);
  }
  // Labels and compression break outlines into pieces: merge pieces that
  // touch or nearly touch.
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t i = 0; i < boxes.size() && !merged; ++i) {
      for (size_t j = i + 1; j < boxes.size() && !merged; ++j) {
        Box& a = boxes[i];
        const Box& b = boxes[j];
        if (a.x1 - 3 > b.x2 || b.x1 - 3 > a.x2 || a.y1 - 3 > b.y2 || b.y1 - 3 > a.y2) continue;
        a.x1 = std::min(a.x1, b.x1), a.y1 = std::min(a.y1, b.y1);
        a.x2 = std::max(a.x2, b.x2), a.y2 = std::max(a.y2, b.y2);
        boxes.erase(boxes.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
      }
    }
  }
  // 2 px lines centred on the box edges: pixels c-1 and c.
  std::vector<Box> rects;
  for (const Box& b : boxes) {
    if (b.width() < 8 || b.height() < 8) continue;
    Box r = b;
    r.x1 += 1, r.y1 += 1, r.x2 -= 1, r.y2 -= 1;
    rects.push_back(r);
  }
  boxes = std::move(rects);
  std::sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) {
    return a.y1 != b.y1 ? a.y1 < b.y1 : a.x1 < b.x1;
  });
  return boxes;
}

nlohmann::json Extraction(std::string_view prompt, const std::vector<FoundShape>& seen) {
  std::string caption;
  for (std::string_view line : Lines(prompt)) {
    if (line.starts_with("Caption: ")) caption = std::string(line.substr(9));
  }
  std::string cleaned = CleanCaption(caption);
  nlohmann::json exprs = nlohmann::json::array();
  for (const Mention& m : FindMentions(cleaned)) {
    bool visible = std::any_of(seen.begin(), seen.end(), [&](const FoundShape& s) {
      return s.shape == m.shape && (m.color < 0 || s.color == m.color);
    });
    if (!visible) continue;
    exprs.push_back({{"text", cleaned.substr(m.begin, m.end - m.begin)}, {"noun_chunk", ShapeName(m.shape)}});
  }
  return {{"cleaned_caption", cleaned}, {"expressions", exprs}};
}

bool Matches(const FoundShape& s, const Mention& m) {
  return s.shape == m.shape && (m.color < 0 || s.color == m.color);
}

/// A box of plausible object size (a side of 12-31% of the short side, as
/// synthetic objects have) that overlaps no shape of `all`; nullopt when
/// none fits after a few tries.
std::optional<Box> BackgroundBox(const std::vector<FoundShape>& all, Size received, Rng& rng) {
  const double W = received.width, H = received.height, short_side = std::min(W, H);
  for (int attempt = 0; attempt < 64; ++attempt) {
    double side = short_side * rng.Uniform(0.12, 0.31);
    double w = side * rng.Uniform(0.8, 1.25), h = side;
    if (w >= W || h >= H) continue;
    Box b;
    b.x1 = rng.Uniform(0, W - w), b.y1 = rng.Uniform(0, H - h);
    b.x2 = b.x1 + w, b.y2 = b.y1 + h;
    // Keep clear of anti-aliased edges and of the rounding of a 0-1000 grid.
    const double pad = std::max(3.0, 0.01 * short_side);
    bool free = std::none_of(all.begin(), all.end(), [&](const FoundShape& s) {
      return b.x1 < s.box.x2 + pad && s.box.x1 - pad < b.x2 && b.y1 < s.box.y2 + pad && s.box.y1 - pad < b.y2;
    });
    if (free) return b;
  }
  return std::nullopt;
}

/// The wrong box a noisy teacher adds to an expression: half the time on
/// another object (one whose colour or shape differs from the mention's),
/// otherwise on background; either kind stands in for the other when there
/// is none. `all` is every shape in the image, before noise.
std::optional<Box> WrongBox(const Mention& m, const std::vector<FoundShape>& all, Size received, double noise,
                            Rng& rng) {
  std::vector<const FoundShape*> others;
  for (const FoundShape& s : all) {
    if (!Matches(s, m)) others.push_back(&s);
  }
  bool on_object = rng.Uniform() < 0.5;
  if (!on_object || others.empty()) {
    if (std::optional<Box> b = BackgroundBox(all, received, rng)) return b;
  }
  if (others.empty()) return std::nullopt;
  return Jitter(others[static_cast<size_t>(rng.Below(static_cast<int>(others.size())))]->box, noise, rng);
}

/// Per `E<k>` line, the seen shapes the expression names; with noise, each
/// line gets one wrong box with probability `noise`, at a random rank, so
/// its score is drawn from the same scores right boxes get.
nlohmann::json Grounding(std::string_view prompt, const std::vector<FoundShape>& seen,
                         const std::vector<FoundShape>& all, double noise, Rng& rng, BoxFormat format,
                         Size received) {
  nlohmann::json dets = nlohmann::json::array();
  for (std::string_view line : Lines(prompt)) {
    if (line.size() < 3 || line[0] != 'E') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon < 2) continue;
    std::string_view digits = line.substr(1, colon - 1);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      continue;
    }
    std::vector<Mention> mentions = FindMentions(line.substr(colon + 1));
    if (mentions.empty()) continue;
    const Mention& m = mentions.front();
    std::vector<Box> boxes;
    for (const FoundShape& s : seen) {
      if (Matches(s, m)) boxes.push_back(s.box);
    }
    if (noise > 0 && rng.Uniform() < noise) {
      if (std::optional<Box> wrong = WrongBox(m, all, received, noise, rng)) {
        boxes.insert(boxes.begin() + rng.Below(static_cast<int>(boxes.size()) + 1), *wrong);
      }
    }
    int rank = 0;
    for (const Box& box : boxes) {
      std::array<double, 4> q = EncodeQuad(box, format, received);
      nlohmann::json coords = nlohmann::json::array();
      for (double v : q) {
        if (IsGrid(format)) {
          coords.push_back(static_cast<int64_t>(std::lround(v)));
        } else {
          coords.push_back(std::round(v * 10000) / 10000);
        }
      }
      nlohmann::json det;
      det["label"] = "E" + std::string(digits);
      det[BoxKey(format)] = coords;
      det["score"] = std::round((0.95 - 0.05 * rank++) * 100) / 100;
      dets.push_back(std::move(det));
    }
  }
  return dets;
}

/// The same noise for one region caption: nullopt when the region is missed
/// (structured: left out of the reply; dataflow: described as background),
/// or a confused shape.
std::optional<FoundShape> NoisyRegion(std::optional<FoundShape> f, double noise, Rng& rng) {
  if (!f || noise <= 0) return f;
  std::vector<FoundShape> kept = ApplyNoise({*f}, noise, rng);
  if (kept.empty()) return std::nullopt;
  return kept.front();
}

nlohmann::json RegionsStructured(std::string_view prompt, const RgbImage& image, double noise,
                                 Rng& rng) {
  nlohmann::json regions = nlohmann::json::array();
  // Outlines are drawn inside the box, about sqrt(W*H)/320 pixels wide (draw.cc).
  const double scale = std::sqrt(static_cast<double>(image.width) * image.height);
  const int margin = std::clamp(static_cast<int>(std::lround(scale / 320)), 2, 16) + 1;
  for (std::string_view line : Lines(prompt)) {
    if (!line.starts_with("Region [")) continue;
    std::string s(line);
    int id = 0;
    double v[4];
    if (std::sscanf(s.c_str(), "Region [%d]: box %lf,%lf,%lf,%lf", &id, &v[0], &v[1], &v[2], &v[3]) != 5) continue;
    Box b;
    b.x1 = v[0] / 1000 * image.width, b.y1 = v[1] / 1000 * image.height;
    b.x2 = v[2] / 1000 * image.width, b.y2 = v[3] / 1000 * image.height;
    std::optional<FoundShape> seen = DescribeRegion(image, b, margin);
    std::optional<FoundShape> f = NoisyRegion(seen, noise, rng);
    if (seen && !f) continue;  // missed: a re-ask may get it
    regions.push_back({{"region_id", id}, {"caption", f ? DescribeShape(*f) : "a plain background"}});
  }
  return {{"regions", regions}};
}

std::string RegionsDataflow(const RgbImage& dimmed, double noise, Rng& rng) {
  // Each mark is named by the number drawn on it, read off the picture as a
  // model would, so a wrong digit shows as a wrong answer; a mark whose
  // number cannot be read is left out.
  RgbImage image = Undim(dimmed);
  std::map<int, Box> marks;
  for (const Box& b : FindGreenRectangles(image)) {
    int n = ReadDataflowLabel(dimmed, static_cast<int>(std::lround(b.x1)),
                              static_cast<int>(std::lround(b.y1)), 99);
    if (n > 0) marks.emplace(n, b);
  }
  std::string out;
  for (const auto& [n, box] : marks) {
    // DataFlow's label: a black patch from (x+4, y-2) to (x+5+tw, y+28),
    // tw = 13 px per digit + 2.
    int digits = static_cast<int>(std::to_string(n).size());
    Box label;
    label.x1 = box.x1 + 3, label.y1 = box.y1 - 3;
    label.x2 = box.x1 + 7 + 13 * digits + 2, label.y2 = box.y1 + 29;
    std::optional<FoundShape> f = NoisyRegion(DescribeRegion(image, box, 2, {label}), noise, rng);
    if (!out.empty()) out += " ";
    out += "<region" + std::to_string(n) + ">: " + (f ? DescribeShape(*f) : "a plain background") + ".";
  }
  return out;
}

}  // namespace

std::string DescribeShape(const FoundShape& s) {
  std::string color = ObjectPalette()[s.color].name;
  std::string words = color + " " + ShapeName(s.shape);
  return (std::string_view("aeiou").find(words[0]) != std::string_view::npos ? "an " : "a ") + words;
}

std::array<double, 4> EncodeQuad(const Box& box, BoxFormat format, Size received) {
  // The convention itself lives in boxes/ (UnmapQuad); the simulated model
  // only adds that Qwen2.5-VL sees the smart-resized image.
  Size input = format == BoxFormat::kQwen25Vl ? SmartResize(received) : received;
  return UnmapQuad(box, format, received, input);
}

SimReply SimRespond(const SimRequest& request, const SimOptions& options) {
  SimReply reply;
  BoxFormat format = BoxFormat::kGemini;
  if (options.imitate == "auto") {
    format = AutoBoxFormat(request.model);
  } else if (Result<BoxFormat> f = BoxFormatFromName(options.imitate)) {
    format = *f;
  }
  SimTask task = DetectTask(request.prompt);
  if (task == SimTask::kVerify) return SimVerify(request, options);  // every image is a crop
  std::optional<RgbImage> image;
  if (!request.images.empty()) {
    if (Result<RgbImage> img = DecodeImage(request.images.front())) image = std::move(*img);
  }
  if (!image) {
    // No (readable) image: say so, as a careful model would.
    if (task == SimTask::kGrounding) {
      reply.text = "[]";
    } else {
      reply.text = "I cannot see an image in this request.";
    }
    return reply;
  }
  uint64_t h = Fnv1a(request.prompt, Fnv1a(request.images.front().substr(0, 4096), options.seed * 31 + 7));
  Rng rng(h ^ request.images.front().size());
  Size received{image->width, image->height};
  switch (task) {
    case SimTask::kExtraction:
      reply.text = FitSchema(Extraction(request.prompt, ApplyNoise(FindShapes(*image), options.noise, rng)),
                             request.schema)
                       .dump();
      break;
    case SimTask::kGrounding: {
      std::vector<FoundShape> all = FindShapes(*image);
      nlohmann::json dets =
          Grounding(request.prompt, ApplyNoise(all, options.noise, rng), all, options.noise, rng, format, received);
      reply.text = FitSchema(std::move(dets), request.schema).dump();
      bool qwen = format == BoxFormat::kQwen25Vl || format == BoxFormat::kQwen3Vl;
      if (qwen && request.schema.is_null()) reply.text = "```json\n" + reply.text + "\n```";
      break;
    }
    case SimTask::kRegionStructured:
      reply.text = RegionsStructured(request.prompt, *image, options.noise, rng).dump();
      break;
    case SimTask::kRegionDataflow:
      reply.text = RegionsDataflow(*image, options.noise, rng);
      break;
    case SimTask::kVerify:  // answered above
    case SimTask::kUnknown: {
      std::string text = "The image shows";
      std::vector<FoundShape> shapes = FindShapes(*image);
      for (size_t i = 0; i < shapes.size(); ++i) text += (i ? ", " : " ") + DescribeShape(shapes[i]);
      reply.text = shapes.empty() ? "The image shows a plain background." : text + ".";
      break;
    }
  }
  return reply;
}

Responder MakeSimResponder(const SimOptions& options) {
  if (options.imitate != "auto" && !BoxFormatFromName(options.imitate)) {
    throw SetupError("unknown model family to imitate: '" + options.imitate + "' (use auto or one of the box formats)");
  }
  return [options](const SimRequest& request) { return SimRespond(request, options); };
}

}  // namespace groundcap
