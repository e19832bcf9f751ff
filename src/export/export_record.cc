#include "export/export_record.h"

#include <cctype>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace groundcap {

namespace {

using ojson = nlohmann::ordered_json;

/// Boxes may overshoot the image by this much (rounding) and still count as inside.
constexpr double kOutsideTolerancePx = 0.5;

/// Reads a non-negative integer (JSON integer or integral float).
bool ReadInt(const ojson& j, int64_t* out) {
  if (j.is_number_integer()) {
    *out = j.get<int64_t>();
    return true;
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

/// The object's `bbox` when it is 4 finite numbers with x2 > x1 and y2 > y1.
bool ReadBox(const ojson& obj, XyxyBox* box) {
  auto it = obj.find("bbox");
  if (it == obj.end() || !it->is_array() || it->size() != 4) return false;
  for (size_t i = 0; i < 4; ++i) {
    if (!(*it)[i].is_number()) return false;
    (*box)[i] = (*it)[i].get<double>();
    if (!std::isfinite((*box)[i])) return false;
  }
  return (*box)[2] > (*box)[0] && (*box)[3] > (*box)[1];
}

std::string Str(const ojson& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string BoxText(const XyxyBox& b) { return fmt::format("[{}, {}, {}, {}]", b[0], b[1], b[2], b[3]); }

/// Everything the per-box filters need, shared by both pipelines.
class BoxFilter {
 public:
  BoxFilter(const ExportFilters& f, const ExportImage& image, ExportCounts* counts, std::vector<SkipNote>* skips)
      : f_(f), image_(image), counts_(counts), skips_(skips) {}

  void Note(const char* level, std::string id, const char* reason, std::string detail) {
    if (skips_) skips_->push_back(SkipNote{level, std::move(id), reason, std::move(detail)});
  }

  /// True when the box in `obj` passes; otherwise counts and notes why not.
  bool Keep(const ojson& obj, const char* level, const std::string& id, XyxyBox* box, double* score) {
    if (!obj.is_object()) {
      ++counts_->instances_bad_box;
      Note(level, id, "bad_box", "not an object");
      return false;
    }
    auto verified = obj.find("verified");
    const bool has_verified = verified != obj.end() && verified->is_boolean();
    if (has_verified && !verified->get<bool>()) {
      ++counts_->instances_rejected;
      Note(level, id, "rejected_by_verification", Str(obj, "verify_reason"));
      return false;
    }
    if (f_.verified_only && !has_verified) {
      ++counts_->instances_not_verified;
      Note(level, id, "not_verified", "--verified-only and the record has no verification");
      return false;
    }
    if (!ReadBox(obj, box)) {
      ++counts_->instances_bad_box;
      Note(level, id, "bad_box", "bbox is not 4 finite numbers with x2 > x1, y2 > y1");
      return false;
    }
    const XyxyBox& b = *box;
    if (b[0] < -kOutsideTolerancePx || b[1] < -kOutsideTolerancePx || b[2] > image_.width + kOutsideTolerancePx ||
        b[3] > image_.height + kOutsideTolerancePx) {
      ++counts_->instances_outside_image;
      Note(level, id, "outside_image",
           fmt::format("bbox {} is outside the {}x{} image", BoxText(b), image_.width, image_.height));
      return false;
    }
    auto s = obj.find("score");
    *score = s != obj.end() && s->is_number() ? s->get<double>() : 1.0;
    if (level == std::string("region")) {
      auto vs = obj.find("verify_score");  // regions carry no teacher score
      *score = vs != obj.end() && vs->is_number() ? vs->get<double>() : 1.0;
    }
    if (*score < f_.min_score) {
      ++counts_->instances_below_min_score;
      Note(level, id, "below_min_score", fmt::format("score {} < --min-score {}", *score, f_.min_score));
      return false;
    }
    if (b[2] - b[0] < f_.min_box_size || b[3] - b[1] < f_.min_box_size) {
      ++counts_->instances_below_min_size;
      Note(level, id, "below_min_box_size",
           fmt::format("{}x{} px < --min-box-size {}", b[2] - b[0], b[3] - b[1], f_.min_box_size));
      return false;
    }
    return true;
  }

 private:
  const ExportFilters& f_;
  const ExportImage& image_;
  ExportCounts* counts_;
  std::vector<SkipNote>* skips_;
};

/// True when UTF-8 `w` holds a letter or digit: ASCII alphanumerics, or a
/// code point below U+2000 (Latin, Greek, Cyrillic, ...) or in the CJK and
/// Hangul blocks; emoji and symbols alone are not a word.
bool HasWordChar(std::string_view w) {
  for (size_t i = 0; i < w.size();) {
    unsigned char c = static_cast<unsigned char>(w[i]);
    if (c < 0x80) {
      if (std::isalnum(c)) return true;
      ++i;
      continue;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    uint32_t cp = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < len && i + k < w.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(w[i + k]) & 0x3F);
    if (cp < 0x2000 || (cp >= 0x2E80 && cp <= 0xD7FF)) return true;
    i += len;
  }
  return false;
}

bool IsRegionRecord(const ojson& r) {
  auto it = r.find("regions");
  return it != r.end() && it->is_array() && r.find("cleaned_caption") == r.end();
}

}  // namespace

std::string HeadNoun(std::string_view phrase) {
  static const std::set<std::string> kCut = {
      "with", "on", "in", "of", "at", "by", "near", "under", "behind", "beside", "next", "above", "below",
      "over", "from", "into", "onto", "that", "which", "who", "whose", "while", "wearing", "holding",
      "carrying", "sitting", "standing", "lying", "is", "are", "and", "to", "for", "against", "inside", "outside"};
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    // strip non-alphanumeric ASCII at the edges (quotes, apostrophes)
    size_t a = 0, b = word.size();
    while (a < b && static_cast<unsigned char>(word[a]) < 0x80 && !std::isalnum(static_cast<unsigned char>(word[a]))) ++a;
    while (b > a && static_cast<unsigned char>(word[b - 1]) < 0x80 &&
           !std::isalnum(static_cast<unsigned char>(word[b - 1])))
      --b;
    if (b > a && HasWordChar(std::string_view(word).substr(a, b - a))) words.push_back(word.substr(a, b - a));
    word.clear();
  };
  bool done = false;
  for (char c : phrase) {
    if (done) break;
    unsigned char u = static_cast<unsigned char>(c);
    if (c == ',' || c == '.' || c == ';' || c == ':' || c == '(' || c == '!' || c == '?') {
      flush();
      done = true;
    } else if (u < 0x80 && std::isspace(u)) {
      flush();
      if (!words.empty() && kCut.count(words.back()) && words.size() > 1) {
        words.pop_back();
        done = true;
      }
    } else {
      word.push_back(u < 0x80 ? static_cast<char>(std::tolower(u)) : c);
    }
  }
  if (!done) flush();
  if (words.size() > 1 && kCut.count(words.back())) words.pop_back();
  return words.empty() ? std::string("object") : words.back();
}

RecordVerdict ReadExportRecord(const ojson& record, const ExportFilters& filters, ExportImage* image,
                               ExportCounts* counts, std::vector<SkipNote>* skips, std::string* reason) {
  *image = ExportImage{};
  image->sample_id = Str(record, "sample_id");
  auto note = [&](const char* reason_code, std::string detail) {
    if (skips) skips->push_back(SkipNote{"record", image->sample_id, reason_code, std::move(detail)});
  };
  auto status_it = record.find("status");
  std::string status = status_it != record.end() && status_it->is_string() ? status_it->get<std::string>()
                                                                              : std::string("missing");
  if (!filters.statuses.count(status)) {
    ++counts->left_out_by_status[status];
    std::string detail = "status " + status;
    auto err = record.find("error");
    if (err != record.end() && err->is_object()) detail += ": " + Str(*err, "kind") + " " + Str(*err, "message");
    note(("status_" + status).c_str(), detail);
    return RecordVerdict::kLeftOutByStatus;
  }
  auto unusable = [&](const char* code, std::string why) {
    ++counts->records_unusable;
    note(code, why);
    *reason = std::move(why);
    return RecordVerdict::kUnusable;
  };
  const bool region = IsRegionRecord(record);
  if (region && filters.kinds == RecordKinds::kGrounding) {
    ++counts->records_wrong_pipeline;
    return unusable("wrong_pipeline", "a region-caption record; this format needs image-grounding results");
  }
  if (!region && filters.kinds == RecordKinds::kRegionCaption) {
    ++counts->records_wrong_pipeline;
    return unusable("wrong_pipeline",
                    record.contains("cleaned_caption")
                        ? "an image-grounding record; this format needs region-caption results"
                        : "not a region-caption record (no regions array; dataflow-mode records are not read)");
  }
  const char* path_key = region ? "image" : "image_path";
  const char* w_key = region ? "width" : "image_width";
  const char* h_key = region ? "height" : "image_height";
  auto path = record.find(path_key);
  auto w = record.find(w_key);
  auto h = record.find(h_key);
  if (path == record.end() || !path->is_string()) return unusable("unusable", fmt::format("no string {}", path_key));
  int64_t width = 0, height = 0;
  if (w == record.end() || h == record.end() || !ReadInt(*w, &width) || !ReadInt(*h, &height) || width <= 0 ||
      height <= 0 || width > INT32_MAX || height > INT32_MAX) {
    return unusable("unusable", fmt::format("no positive {}/{}", w_key, h_key));
  }
  image->file_name = path->get<std::string>();
  image->width = static_cast<int>(width);
  image->height = static_cast<int>(height);
  image->region_caption = region;
  BoxFilter boxes(filters, *image, counts, skips);

  if (region) {
    for (const auto& r : record["regions"]) {
      int64_t rid = 0;
      auto rid_it = r.is_object() ? r.find("region_id") : r.end();
      if (r.is_object() && rid_it != r.end()) ReadInt(*rid_it, &rid);
      const std::string id = fmt::format("{}:r{}", image->sample_id, rid);
      std::string rstatus = r.is_object() ? Str(r, "status") : "";
      if (r.is_object() && rstatus != "ok") {
        ++counts->regions_not_ok;
        boxes.Note("region", id, "region_not_ok",
                   "region status " + (rstatus.empty() ? std::string("missing") : rstatus) + " " + Str(r, "reason"));
        continue;
      }
      XyxyBox box;
      double score = 1;
      if (!boxes.Keep(r, "region", id, &box, &score)) continue;
      ExportExpression e;
      e.text = Str(r, "caption");
      e.start = e.end = -1;
      e.category = HeadNoun(e.text);
      e.id = id;
      e.boxes.push_back(box);
      e.box_ids.push_back(id);
      e.scores.push_back(score);
      image->expressions.push_back(std::move(e));
    }
  } else {
    auto caption = record.find("cleaned_caption");
    auto exprs = record.find("expressions");
    if (caption == record.end() || !caption->is_string()) {
      return unusable("unusable", "no string cleaned_caption (not an image-grounding record)");
    }
    if (exprs == record.end() || !exprs->is_array()) return unusable("unusable", "no expressions array");
    image->caption = caption->get<std::string>();
    const int64_t caption_len = CodePointCount(image->caption);
    for (const auto& e : *exprs) {
      if (!e.is_object()) {
        ++counts->expressions_without_span;
        boxes.Note("expression", "", "bad_expression", "not an object");
        continue;
      }
      ExportExpression out;
      out.id = Str(e, "expression_id");
      out.text = Str(e, "text");
      auto span = e.find("char_span");
      int64_t start = 0, end = 0;
      const bool located = span != e.end() && span->is_array() && span->size() == 2 && ReadInt((*span)[0], &start) &&
                           ReadInt((*span)[1], &end) && start >= 0 && end > start && end <= caption_len;
      if (!located) {
        if (filters.drop_unlocated) {
          ++counts->expressions_without_span;
          boxes.Note("expression", out.id, "unlocated", "no span of '" + out.text + "' in the caption");
          continue;
        }
        start = end = -1;
      }
      out.start = start;
      out.end = end;
      out.category = Str(e, "noun_chunk");
      if (out.category.empty()) out.category = HeadNoun(out.text);
      auto insts = e.find("instances");
      if (insts != e.end() && insts->is_array()) {
        for (const auto& inst : *insts) {
          const std::string bid = inst.is_object() ? Str(inst, "bbox_id") : std::string();
          XyxyBox box;
          double score = 1;
          if (!boxes.Keep(inst, "instance", bid.empty() ? out.id : bid, &box, &score)) continue;
          out.boxes.push_back(box);
          out.box_ids.push_back(bid);
          out.scores.push_back(score);
        }
      }
      if (out.boxes.empty()) {
        ++counts->expressions_without_boxes;
        boxes.Note("expression", out.id, "no_box_kept", "no box of '" + out.text + "' left after the filters");
        continue;
      }
      image->expressions.push_back(std::move(out));
    }
  }
  if (image->expressions.empty()) {
    ++counts->records_without_regions;
    note("no_regions", "nothing left after the filters");
    return RecordVerdict::kNoRegions;
  }
  return RecordVerdict::kExport;
}

}  // namespace groundcap
