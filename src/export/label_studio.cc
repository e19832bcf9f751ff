#include "export/label_studio.h"

#include <cmath>
#include <filesystem>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "util/error.h"
#include "util/file_read.h"
#include "util/json_array_reader.h"
#include "util/jsonl.h"

namespace groundcap {

namespace {

using ojson = nlohmann::ordered_json;

/// Largest Label Studio export read (it is held in memory: reviewed sets are human-sized).
/// A corner that moves less than this is unchanged (percent rounding).
constexpr double kMovedPx = 0.5;

double Pct(double v, double total) { return std::round(v / total * 100.0 * 1e6) / 1e6; }

std::string Str(const ojson& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double NumOr(const ojson& obj, const char* key, double fallback) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : fallback;
}

ojson Geometry(const XyxyBox& b, const ExportImage& image) {
  return ojson{{"x", Pct(b[0], image.width)},
               {"y", Pct(b[1], image.height)},
               {"width", Pct(b[2] - b[0], image.width)},
               {"height", Pct(b[3] - b[1], image.height)},
               {"rotation", 0}};
}

/// The reviewed box in pixels of a W x H image, rounded to integers as groundcap writes them.
std::array<double, 4> ToPixels(const ReviewedRegion& r, double w, double h) {
  return {std::round(r.x * w / 100), std::round(r.y * h / 100), std::round((r.x + r.width) * w / 100),
          std::round((r.y + r.height) * h / 100)};
}

/// Applies a reviewed box to one box object (instance or region): unchanged,
/// or moved (source human). Returns true when moved.
bool FoldBox(const ReviewedRegion& r, double w, double h, ojson* obj, ReviewCounts* counts) {
  auto px = ToPixels(r, w, h);
  const ojson& old = (*obj)["bbox"];
  bool moved = !old.is_array() || old.size() != 4;
  for (size_t i = 0; !moved && i < 4; ++i) moved = !old[i].is_number() || std::fabs(old[i].get<double>() - px[i]) > kMovedPx;
  if (moved) {
    (*obj)["teacher_bbox"] = old;
    (*obj)["bbox"] = ojson::array({static_cast<int64_t>(px[0]), static_cast<int64_t>(px[1]),
                                   static_cast<int64_t>(px[2]), static_cast<int64_t>(px[3])});
    (*obj)["source"] = "human";
    ++counts->boxes_moved;
  } else {
    (*obj)["source"] = "teacher";
    ++counts->boxes_kept;
  }
  return moved;
}

}  // namespace

std::string LabelStudioRegionId(const std::string& bbox_id, const std::string& sample_id) {
  std::string rest = bbox_id;
  if (!sample_id.empty() && rest.rfind(sample_id + ":", 0) == 0) rest = rest.substr(sample_id.size() + 1);
  std::string out;
  for (char c : rest) {
    if (c != ':') out.push_back(c);
  }
  return out;
}

ojson ToLabelStudioTask(const ExportImage& image) {
  ojson result = ojson::array();
  ojson ids = ojson::array();
  double score_sum = 0;
  int64_t n = 0;
  for (const auto& e : image.expressions) {
    for (size_t j = 0; j < e.boxes.size(); ++j) {
      std::string id = LabelStudioRegionId(e.box_ids[j], image.sample_id);
      if (id.empty()) id = fmt::format("x{}", n);
      ids.push_back(id);
      ojson value = Geometry(e.boxes[j], image);
      ojson rect_value = value;
      rect_value["rectanglelabels"] = ojson::array({e.category});
      ojson text_value = value;
      text_value["text"] = ojson::array({e.text});
      auto common = [&](const char* from, const char* type, ojson v) {
        return ojson{{"id", id},
                     {"from_name", from},
                     {"to_name", "image"},
                     {"type", type},
                     {"original_width", image.width},
                     {"original_height", image.height},
                     {"image_rotation", 0},
                     {"value", std::move(v)}};
      };
      ojson rect = common("label", "rectanglelabels", std::move(rect_value));
      rect["score"] = e.scores[j];
      result.push_back(std::move(rect));
      result.push_back(common("text", "textarea", std::move(text_value)));
      score_sum += e.scores[j];
      ++n;
    }
  }
  ojson data{{"image", image.file_name},
             {"caption", image.caption},
             {"groundcap_sample_id", image.sample_id},
             {"width", image.width},
             {"height", image.height},
             {"groundcap_ids", std::move(ids)}};
  return ojson{{"data", std::move(data)},
               {"predictions", ojson::array({ojson{{"model_version", "groundcap"},
                                                   {"score", n > 0 ? score_sum / n : 0.0},
                                                   {"result", std::move(result)}}})}};
}

std::string LabelStudioConfig(const std::vector<std::string>& categories) {
  auto escape = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out.push_back(c);
      }
    }
    return out;
  };
  std::string out = "<View>\n  <Image name=\"image\" value=\"$image\"/>\n  <Text name=\"caption\" value=\"$caption\"/>\n"
                    "  <RectangleLabels name=\"label\" toName=\"image\">\n";
  for (const auto& c : categories) out += "    <Label value=\"" + escape(c) + "\"/>\n";
  out += "  </RectangleLabels>\n"
         "  <TextArea name=\"text\" toName=\"image\" perRegion=\"true\" editable=\"true\" displayMode=\"region-list\"/>\n"
         "</View>\n";
  return out;
}

std::string ReviewCounts::ToText() const {
  std::string out;
  out += fmt::format("import-review: {} tasks read ({} without a submitted annotation, {} unknown), {} records read, {} reviewed\n",
                     tasks_read, tasks_without_annotation, tasks_unknown, records_read, records_reviewed);
  out += fmt::format("  boxes unchanged (source teacher): {}\n", boxes_kept);
  out += fmt::format("  boxes corrected (source human): {}\n", boxes_moved);
  out += fmt::format("  boxes deleted (kept under review_deleted): {}\n", boxes_deleted);
  out += fmt::format("  boxes added (source human): {}\n", boxes_added);
  out += fmt::format("  boxes added but naming no expression (review_unmatched): {}\n", boxes_unmatched);
  out += fmt::format("  region captions rewritten: {}\n", captions_changed);
  return out;
}

std::map<std::string, ReviewedTask> ReadLabelStudioExport(const std::string& path, ReviewCounts* counts) {
  // One task at a time: the export may be gigabytes; what is kept is the
  // reviewed regions of each task.
  std::optional<JsonArrayReader> reader;
  std::string text;
  auto next = [&]() {
    try {
      if (!reader) reader.emplace(path);
      return reader->Next(&text);
    } catch (const SetupError& e) {
      throw SetupError(fmt::format("import-review: {} (a Label Studio JSON export is an array of tasks)", e.what()));
    }
  };
  std::map<std::string, ReviewedTask> out;
  for (int64_t t = 0; next(); ++t) {
    const nlohmann::json task = nlohmann::json::parse(text, nullptr, false);
    ++counts->tasks_read;
    if (!task.is_object()) throw SetupError(fmt::format("import-review: {}: task {} is not an object", path, t));
    auto data = task.find("data");
    std::string sid = data != task.end() && data->is_object() && data->contains("groundcap_sample_id") &&
                              (*data)["groundcap_sample_id"].is_string()
                          ? (*data)["groundcap_sample_id"].get<std::string>()
                          : std::string();
    if (sid.empty()) {
      ++counts->tasks_unknown;
      continue;
    }
    const nlohmann::json* chosen = nullptr;
    auto anns = task.find("annotations");
    if (anns != task.end() && anns->is_array()) {
      for (const auto& a : *anns) {
        if (a.is_object() && !a.value("was_cancelled", false) && a.contains("result") && a["result"].is_array()) {
          chosen = &a;  // the last submitted one wins
        }
      }
    }
    if (!chosen) {
      ++counts->tasks_without_annotation;
      continue;
    }
    ReviewedTask reviewed;
    if (data->contains("groundcap_ids") && (*data)["groundcap_ids"].is_array()) {
      for (const auto& id : (*data)["groundcap_ids"]) {
        if (id.is_string()) reviewed.shown.insert(id.get<std::string>());
      }
    }
    std::map<std::string, size_t> index;
    for (const auto& r : (*chosen)["result"]) {
      if (!r.is_object() || !r.contains("value") || !r["value"].is_object()) continue;
      std::string id = r.value("id", std::string());
      auto [it, added] = index.emplace(id, reviewed.regions.size());
      if (added) reviewed.regions.push_back(ReviewedRegion{id});
      ReviewedRegion& region = reviewed.regions[it->second];
      const auto& v = r["value"];
      const std::string type = r.value("type", std::string());
      if (type == "rectanglelabels" || type == "rectangle") {
        region.has_box = true;
        region.x = v.value("x", 0.0), region.y = v.value("y", 0.0);
        region.width = v.value("width", 0.0), region.height = v.value("height", 0.0);
        if (v.contains("rectanglelabels") && v["rectanglelabels"].is_array() && !v["rectanglelabels"].empty() &&
            v["rectanglelabels"][0].is_string()) {
          region.label = v["rectanglelabels"][0].get<std::string>();
        }
      } else if (type == "textarea") {
        if (v.contains("text") && v["text"].is_array() && !v["text"].empty() && v["text"][0].is_string()) {
          region.has_text = true;
          region.text = v["text"][0].get<std::string>();
        }
      }
    }
    out[sid] = std::move(reviewed);
  }
  return out;
}

void ApplyReview(const ReviewedTask& task, ojson* record, ReviewCounts* counts) {
  ojson& rec = *record;
  const std::string sid = Str(rec, "sample_id");
  const bool region = rec.contains("regions") && rec["regions"].is_array() && !rec.contains("cleaned_caption");
  const double w = NumOr(rec, region ? "width" : "image_width", 0);
  const double h = NumOr(rec, region ? "height" : "image_height", 0);
  std::map<std::string, const ReviewedRegion*> by_id;
  for (const auto& r : task.regions) by_id[r.id] = &r;
  std::set<std::string> used;

  if (region) {
    ojson kept = ojson::array(), deleted = ojson::array();
    int64_t max_id = 0;
    for (auto& r : rec["regions"]) {
      if (!r.is_object()) continue;
      const int64_t rid = r.value("region_id", int64_t{0});
      max_id = std::max(max_id, rid);
      const std::string id = "r" + std::to_string(rid);
      if (r.value("status", std::string()) != "ok" || (!task.shown.empty() && !task.shown.count(id))) {
        kept.push_back(std::move(r));  // never shown for review
        continue;
      }
      auto it = by_id.find(id);
      if (it == by_id.end() || !it->second->has_box) {
        ++counts->boxes_deleted;
        deleted.push_back(std::move(r));
        continue;
      }
      used.insert(it->first);
      FoldBox(*it->second, w, h, &r, counts);
      if (it->second->has_text && it->second->text != Str(r, "caption")) {
        r["teacher_caption"] = r["caption"];
        r["caption"] = it->second->text;
        r["caption_source"] = "human";
        ++counts->captions_changed;
      }
      kept.push_back(std::move(r));
    }
    for (const auto& r : task.regions) {
      if (used.count(r.id) || !r.has_box) continue;
      auto px = ToPixels(r, w, h);
      kept.push_back(ojson{{"region_id", ++max_id},
                           {"bbox", ojson::array({static_cast<int64_t>(px[0]), static_cast<int64_t>(px[1]),
                                                  static_cast<int64_t>(px[2]), static_cast<int64_t>(px[3])})},
                           {"caption", r.text},
                           {"status", "ok"},
                           {"source", "human"},
                           {"caption_source", "human"}});
      ++counts->boxes_added;
    }
    rec["regions"] = std::move(kept);
    if (!deleted.empty()) rec["review_deleted"] = std::move(deleted);
  } else if (rec.contains("expressions") && rec["expressions"].is_array()) {
    auto& exprs = rec["expressions"];
    for (auto& e : exprs) {
      if (!e.is_object() || !e.contains("instances") || !e["instances"].is_array()) continue;
      ojson kept = ojson::array(), deleted = ojson::array();
      for (auto& inst : e["instances"]) {
        if (!inst.is_object()) continue;
        const std::string id = LabelStudioRegionId(Str(inst, "bbox_id"), sid);
        const bool rejected = inst.contains("verified") && inst["verified"].is_boolean() && !inst["verified"].get<bool>();
        if (rejected || (!task.shown.empty() && !task.shown.count(id))) {
          kept.push_back(std::move(inst));  // never shown for review
          continue;
        }
        auto it = by_id.find(id);
        if (it == by_id.end() || !it->second->has_box) {
          ++counts->boxes_deleted;
          deleted.push_back(std::move(inst));
          continue;
        }
        used.insert(it->first);
        FoldBox(*it->second, w, h, &inst, counts);
        kept.push_back(std::move(inst));
      }
      e["instances"] = std::move(kept);
      if (!deleted.empty()) e["review_deleted"] = std::move(deleted);
    }
    ojson unmatched = ojson::array();
    for (const auto& r : task.regions) {
      if (used.count(r.id) || !r.has_box) continue;
      auto px = ToPixels(r, w, h);
      ojson bbox = ojson::array({static_cast<int64_t>(px[0]), static_cast<int64_t>(px[1]),
                                 static_cast<int64_t>(px[2]), static_cast<int64_t>(px[3])});
      ojson* target = nullptr;
      size_t k = 0;
      for (size_t i = 0; i < exprs.size(); ++i) {
        if (exprs[i].is_object() && r.has_text && Str(exprs[i], "text") == r.text) {
          target = &exprs[i];
          k = i;
          break;
        }
      }
      if (!target) {
        unmatched.push_back(ojson{{"bbox", bbox}, {"label", r.label}, {"text", r.text}, {"source", "human"}});
        ++counts->boxes_unmatched;
        continue;
      }
      if (!(*target)["instances"].is_array()) (*target)["instances"] = ojson::array();
      const size_t j = (*target)["instances"].size();
      (*target)["instances"].push_back(ojson{{"bbox", std::move(bbox)},
                                             {"score", 1.0},
                                             {"bbox_score", 1.0},
                                             {"bbox_id", fmt::format("{}:e{}:h{}", sid, k, j)},
                                             {"source", "human"}});
      ++counts->boxes_added;
    }
    if (!unmatched.empty()) rec["review_unmatched"] = std::move(unmatched);
  }
  rec["reviewed"] = true;
  if (rec.contains("pipeline_steps") && rec["pipeline_steps"].is_array()) rec["pipeline_steps"].push_back("human_review");
  ++counts->records_reviewed;
}

ReviewCounts RunImportReview(const ImportReviewRequest& request) {
  ReviewCounts counts;
  if (std::optional<std::string> why = NotARegularFile(request.label_studio_export))
    throw SetupError(fmt::format("import-review: cannot read {}: {}", request.label_studio_export, *why));
  auto tasks = ReadLabelStudioExport(request.label_studio_export, &counts);
  std::string input = request.results;
  if (std::filesystem::is_directory(input)) input = (std::filesystem::path(input) / "annotations.jsonl").string();
  if (!std::filesystem::is_regular_file(input)) {
    throw SetupError(fmt::format("import-review: {} has no annotations.jsonl", request.results));
  }
  std::error_code ec;
  if (std::filesystem::exists(request.output, ec) && std::filesystem::equivalent(input, request.output, ec)) {
    throw SetupError(fmt::format("import-review: --out {} is the input file", request.output));
  }
  JsonlReader reader(input);
  AtomicFileWriter out(request.output);
  JsonlLine line;
  std::set<std::string> found;
  while (reader.Next(&line)) {
    ++counts.records_read;
    if (line.too_long) {
      throw SetupError(fmt::format("import-review: {}:{}: line too long to merge", input, line.line));
    }
    auto record = ParseJsonObjectLine(line.text);
    if (!record) {  // pass through what cannot be read, unchanged
      out.Write(line.text);
      out.Write("\n");
      continue;
    }
    auto it = tasks.find(Str(*record, "sample_id"));
    if (it != tasks.end() && Str(*record, "status") == "ok") {
      ApplyReview(it->second, &*record, &counts);
      found.insert(it->first);
    }
    out.Write(DumpJsonLine(*record));
    out.Write("\n");
  }
  counts.tasks_unknown += static_cast<int64_t>(tasks.size() - found.size());
  out.Commit();
  return counts;
}

}  // namespace groundcap
