// groundcap parse-reply: reads one teacher reply and prints its boxes in
// original-image pixels, for users debugging prompts and for tests.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "boxes/box_format.h"
#include "cli/commands.h"
#include "util/error.h"

namespace groundcap {

namespace {

/// Parses "WxH" (also "W,H" or "W*H") into a Size with positive sides.
bool ParseSizeArg(const std::string& text, Size* out) {
  int w = 0, h = 0;
  char sep = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &w, &sep, &h, &extra) != 3) return false;
  if (sep != 'x' && sep != 'X' && sep != ',' && sep != '*') return false;
  if (w <= 0 || h <= 0) return false;
  *out = Size{w, h};
  return true;
}

int SetupFail(const std::string& message) {
  std::fprintf(stderr, "groundcap parse-reply: %s\n", message.c_str());
  return kExitSetupError;
}

}  // namespace

int CmdParseReply(const ParseReplyOptions& options) {
  ParseBoxesOptions po;
  if (!ParseSizeArg(options.image_size, &po.image)) {
    return SetupFail("--image-size must be WxH with positive integers, got '" + options.image_size + "'");
  }
  if (!options.input_size.empty() && !ParseSizeArg(options.input_size, &po.input)) {
    return SetupFail("--input-size must be WxH with positive integers, got '" + options.input_size + "'");
  }
  po.hygiene.min_size = options.min_size;
  po.hygiene.dedupe_iou = options.dedupe_iou;
  po.hygiene.range_tolerance = options.range_tolerance;

  std::vector<std::string> notes;
  if (options.format.empty() || options.format == "auto") {
    if (options.model.empty()) return SetupFail("--format auto needs --model NAME");
    std::string why;
    po.format = AutoBoxFormat(options.model, &why);
    notes.push_back(std::string("auto format: ") + BoxFormatName(po.format) + " (" + why + ")");
  } else {
    auto f = BoxFormatFromName(options.format);
    if (!f) return SetupFail(f.error().message);
    po.format = *f;
  }

  std::string reply;
  if (options.file.empty() || options.file == "-") {
    reply.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(options.file, std::ios::binary);
    if (!in) return SetupFail("cannot read reply file '" + options.file + "'");
    reply.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  auto parsed = ParseBoxes(reply, po);
  nlohmann::json out;
  out["format"] = BoxFormatName(po.format);
  if (!parsed) {
    out["boxes"] = nlohmann::json::array();
    out["diagnostics"] = notes;
    out["error"] = parsed.error().ToJson();
    std::cout << out.dump(2) << "\n";
    return kExitSomeFailed;
  }
  nlohmann::json boxes = nlohmann::json::array();
  for (const Box& b : parsed->boxes) {
    nlohmann::json jb;
    jb["bbox"] = {b.x1, b.y1, b.x2, b.y2};
    jb["label"] = b.label.empty() ? nlohmann::json() : nlohmann::json(b.label);
    jb["score"] = b.score ? nlohmann::json(*b.score) : nlohmann::json();
    boxes.push_back(std::move(jb));
  }
  out["boxes"] = std::move(boxes);
  for (auto& d : parsed->diagnostics) notes.push_back(std::move(d));
  out["diagnostics"] = notes;
  // Labels come from model text: replace invalid UTF-8 instead of throwing.
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return kExitOk;
}

}  // namespace groundcap
