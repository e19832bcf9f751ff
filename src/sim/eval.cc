// groundcap eval: see eval.h.
#include "sim/eval.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "util/text_util.h"

namespace groundcap {
namespace {


/// Words of a text, lower case, ASCII letters and digits only.
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) >= 0x80)) {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

bool ReadBox(const nlohmann::json& j, Box* box) {
  if (!j.is_array() || j.size() != 4) return false;
  for (const auto& v : j) {
    if (!v.is_number()) return false;
  }
  box->x1 = j[0].get<double>();
  box->y1 = j[1].get<double>();
  box->x2 = j[2].get<double>();
  box->y2 = j[3].get<double>();
  return true;
}

std::string ImageKeyOf(const nlohmann::json& record) {
  for (const char* key : {"image_path", "image", "file_name"}) {
    auto it = record.find(key);
    if (it != record.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

}  // namespace

/// Truth lookup by exact path, then by unique file name.
class TruthIndex {
 public:
  explicit TruthIndex(const std::vector<TruthImage>& truth) {
    for (const TruthImage& t : truth) {
      by_path_[t.image_path] = &t;
      std::string base = std::filesystem::path(t.image_path).filename().string();
      auto [it, inserted] = by_name_.emplace(base, &t);
      if (!inserted) it->second = nullptr;  // ambiguous
    }
  }
  const TruthImage* Find(const std::string& path) const {
    if (auto it = by_path_.find(path); it != by_path_.end()) return it->second;
    auto it = by_name_.find(std::filesystem::path(path).filename().string());
    return it == by_name_.end() ? nullptr : it->second;
  }

 private:
  std::map<std::string, const TruthImage*> by_path_;
  std::map<std::string, const TruthImage*> by_name_;
};

namespace {

bool IsFailed(const nlohmann::json& record) {
  auto it = record.find("status");
  return it != record.end() && it->is_string() && *it == "failed";
}

struct PredBox {
  Box box;
  double score = 0;
  bool verified = true;                ///< false only for `verified: false`
  std::optional<double> verify_score;  ///< when the instance carries one
};

/// Adds the boxes `keep` accepts, of one expression, to `out`.
template <typename Keep>
void TallyBoxes(const std::vector<PredBox>& boxes, const std::vector<const TruthObject*>& objects, double t,
                Keep keep, BoxSetScore& out) {
  std::vector<bool> hit(objects.size(), false);
  for (const PredBox& p : boxes) {
    if (!keep(p)) continue;
    ++out.boxes;
    bool correct = false;
    for (size_t i = 0; i < objects.size(); ++i) {
      if (IoU(p.box, objects[i]->box) >= t) correct = true, hit[i] = true;
    }
    out.correct += correct;
  }
  out.objects_hit += std::count(hit.begin(), hit.end(), true);
}

/// Verify-curve threshold i: i/10, compared with a little slack so that a
/// score of 0.3 passes the 0.3 threshold.
double CurveThreshold(int i) { return i / 10.0; }

void ScoreGrounding(const nlohmann::json& record, const TruthImage& truth, double t, GroundingScore& s) {
  ++s.records;
  bool failed = IsFailed(record);
  if (failed) ++s.failed;
  // Predicted boxes per normalised expression text.
  std::map<std::string, std::vector<PredBox>> pred;
  if (!failed) {
    for (const auto& e : record["expressions"]) {
      if (!e.is_object() || !e.contains("text") || !e["text"].is_string()) continue;
      std::vector<PredBox>& boxes = pred[NormalizeExpression(e["text"].get<std::string>())];
      if (!e.contains("instances") || !e["instances"].is_array()) continue;
      for (const auto& inst : e["instances"]) {
        PredBox p;
        if (!inst.is_object() || !ReadBox(inst.value("bbox", nlohmann::json()), &p.box)) continue;
        auto sc = inst.find("score");
        p.score = (sc != inst.end() && sc->is_number()) ? sc->get<double>() : 0.0;
        if (auto v = inst.find("verified"); v != inst.end() && v->is_boolean()) {
          p.verified = v->get<bool>();
          s.has_verified = true;
        }
        if (auto vs = inst.find("verify_score"); vs != inst.end() && vs->is_number()) {
          p.verify_score = vs->get<double>();
          s.has_verify_score = true;
        }
        boxes.push_back(p);
      }
    }
  }
  // Ground-truth objects per normalised expression.
  std::map<std::string, std::vector<const TruthObject*>> gt;
  for (const TruthObject& o : truth.objects) {
    if (!o.expression.empty()) gt[NormalizeExpression(o.expression)].push_back(&o);
  }
  for (const auto& [text, objects] : gt) {
    ++s.expressions;
    s.objects += static_cast<int64_t>(objects.size());
    auto it = pred.find(text);
    if (it != pred.end()) {
      const std::vector<PredBox>& boxes = it->second;
      TallyBoxes(boxes, objects, t, [](const PredBox&) { return true; }, s.boxes_all);
      TallyBoxes(boxes, objects, t, [](const PredBox& p) { return p.verified; }, s.boxes_verified);
      for (int i = 0; i < kVerifyCurvePoints; ++i) {
        const double min_score = CurveThreshold(i) - 1e-9;
        TallyBoxes(boxes, objects, t,
                   [&](const PredBox& p) { return p.verified && p.verify_score.value_or(1.0) >= min_score; },
                   s.verify_curve[i]);
      }
    }
    if (it == pred.end() || it->second.empty()) {
      if (!failed) ++s.missing;
      continue;
    }
    std::vector<PredBox>& boxes = it->second;
    std::stable_sort(boxes.begin(), boxes.end(),
                     [](const PredBox& a, const PredBox& b) { return a.score > b.score; });
    double best_iou = 0;
    for (const TruthObject* o : objects) best_iou = std::max(best_iou, IoU(boxes.front().box, o->box));
    s.iou_sum += best_iou;
    if (best_iou >= t) ++s.hits;
    for (const TruthObject* o : objects) {
      if (IoU(boxes.front().box, o->box) >= t) ++s.recall_at_1;
      bool any = std::any_of(boxes.begin(), boxes.end(), [&](const PredBox& p) { return IoU(p.box, o->box) >= t; });
      if (any) ++s.recall_any;
    }
    for (const PredBox& p : boxes) {
      bool hit = std::any_of(objects.begin(), objects.end(),
                             [&](const TruthObject* o) { return IoU(p.box, o->box) >= t; });
      if (!hit) ++s.extra;
    }
  }
  for (const auto& [text, boxes] : pred) {
    if (gt.count(text) == 0) {
      ++s.unmatched_expressions;
      s.extra += static_cast<int64_t>(boxes.size());
    }
  }
}

/// One scored region: its box in original pixels and its caption.
struct PredRegion {
  Box box;
  std::string caption;
};

/// DataFlow answers: "<region1>: text <region2>: text", boxes in "bbox" as xywh.
std::vector<PredRegion> DataflowRegions(const nlohmann::json& record) {
  std::vector<PredRegion> out;
  const nlohmann::json& boxes = record["bbox"];
  std::string answer = record["answer"].get<std::string>();
  size_t pos = answer.find("<region");
  while (pos != std::string::npos) {
    size_t num_end = pos + 7;
    int n = 0;
    while (num_end < answer.size() && std::isdigit(static_cast<unsigned char>(answer[num_end]))) {
      n = n * 10 + (answer[num_end++] - '0');
    }
    size_t next = answer.find("<region", num_end);
    size_t body = answer.find('>', num_end);
    if (body == std::string::npos || (next != std::string::npos && body > next)) break;
    std::string text = answer.substr(body + 1, next == std::string::npos ? std::string::npos : next - body - 1);
    if (n >= 1 && boxes.is_array() && static_cast<size_t>(n) <= boxes.size()) {
      Box xywh;
      if (ReadBox(boxes[n - 1], &xywh)) {
        PredRegion r;
        r.box.x1 = xywh.x1, r.box.y1 = xywh.y1;
        r.box.x2 = xywh.x1 + xywh.x2, r.box.y2 = xywh.y1 + xywh.y2;
        r.caption = text;
        out.push_back(std::move(r));
      }
    }
    pos = next;
  }
  return out;
}

void ScoreRegions(const nlohmann::json& record, const TruthImage& truth, double t, RegionScore& s) {
  ++s.records;
  if (IsFailed(record)) {
    ++s.failed;
    return;
  }
  std::vector<PredRegion> regions;
  if (record.contains("regions") && record["regions"].is_array()) {
    for (const auto& r : record["regions"]) {
      PredRegion p;
      if (!r.is_object() || !ReadBox(r.value("bbox", nlohmann::json()), &p.box)) continue;
      auto cap = r.find("caption");
      p.caption = (cap != r.end() && cap->is_string()) ? cap->get<std::string>() : "";
      regions.push_back(std::move(p));
    }
  } else {
    regions = DataflowRegions(record);
  }
  for (const PredRegion& r : regions) {
    ++s.regions;
    const TruthObject* best = nullptr;
    double best_iou = 0;
    for (const TruthObject& o : truth.objects) {
      double iou = IoU(r.box, o.box);
      if (iou > best_iou) best_iou = iou, best = &o;
    }
    if (best == nullptr || best_iou < t) continue;
    ++s.matched;
    bool c = !best->color.empty() && CaptionNames(r.caption, best->color, "");
    bool sh = !best->shape.empty() && CaptionNames(r.caption, "", best->shape);
    s.color_ok += c;
    s.shape_ok += sh;
    s.both_ok += c && sh;
  }
}

std::string Pct(int64_t n, int64_t d) { return d ? fmt::format("{:.3f}", static_cast<double>(n) / d) : "-"; }

nlohmann::ordered_json BoxSetJson(const BoxSetScore& b, int64_t objects) {
  nlohmann::ordered_json j;
  j["precision"] = b.precision() ? nlohmann::ordered_json(*b.precision()) : nlohmann::ordered_json(nullptr);
  j["recall"] = objects ? static_cast<double>(b.objects_hit) / objects : 0.0;
  j["count"] = b.boxes;
  j["correct"] = b.correct;
  return j;
}

}  // namespace

Result<TruthImage> ParseTruthRecord(const nlohmann::json& record) {
  TruthImage t;
  t.image_path = ImageKeyOf(record);
  if (t.image_path.empty()) return Fail(ErrorKind::kInvalidInput, "truth record has no image_path");
  auto objs = record.find("objects");
  if (objs == record.end() || !objs->is_array()) {
    return Fail(ErrorKind::kInvalidInput, "truth record for " + t.image_path + " has no objects list");
  }
  for (const auto& o : *objs) {
    TruthObject obj;
    if (!o.is_object() || !ReadBox(o.value("bbox", nlohmann::json()), &obj.box)) {
      return Fail(ErrorKind::kInvalidInput, "truth object in " + t.image_path + " has no bbox [x1,y1,x2,y2]");
    }
    for (auto [key, field] : {std::pair{"color", &obj.color}, std::pair{"shape", &obj.shape},
                              std::pair{"expression", &obj.expression}}) {
      auto it = o.find(key);
      if (it != o.end() && it->is_string()) *field = it->get<std::string>();
    }
    t.objects.push_back(std::move(obj));
  }
  return t;
}

std::string NormalizeExpression(std::string_view text) {
  std::vector<std::string> words = Words(text);
  size_t start = (!words.empty() && (words[0] == "a" || words[0] == "an" || words[0] == "the")) ? 1 : 0;
  std::string out;
  for (size_t i = start; i < words.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += words[i];
  }
  return out;
}

bool CaptionNames(std::string_view caption, std::string_view color, std::string_view shape) {
  std::vector<std::string> words = Words(caption);
  auto has = [&](std::string_view w) {
    if (w.empty()) return true;
    std::string lw = AsciiLower(w);
    for (const std::string& x : words) {
      if (x == lw || x == lw + "s" || x == lw + "es") return true;
    }
    return false;
  };
  return has(color) && has(shape);
}

namespace {

/// Adds one prediction record to `report` (Evaluate's loop body).
void ScoreRecord(const nlohmann::json& record, const TruthIndex& index, double iou_threshold, EvalReport& report) {
  if (!record.is_object()) return;
  bool grounding = record.contains("expressions");
  bool regions = record.contains("regions") || (record.contains("answer") && record["answer"].is_string());
  if (!grounding && !regions) {
    // A failed record may carry only its input fields: classify by them.
    if (!IsFailed(record)) return;
    grounding = record.contains("caption") || record.contains("image_path");
    regions = !grounding;
  }
  const TruthImage* t = index.Find(ImageKeyOf(record));
  if (t == nullptr) {
    ++report.images_without_truth;
    return;
  }
  if (grounding) ScoreGrounding(record, *t, iou_threshold, report.grounding);
  if (regions) ScoreRegions(record, *t, iou_threshold, report.regions);
}

}  // namespace

EvalReport Evaluate(const std::vector<nlohmann::json>& predictions, const std::vector<TruthImage>& truth,
                    double iou_threshold) {
  EvalReport report;
  report.iou_threshold = iou_threshold;
  TruthIndex index(truth);
  for (const nlohmann::json& record : predictions) ScoreRecord(record, index, iou_threshold, report);
  return report;
}

Evaluator::Evaluator(std::vector<TruthImage> truth, double iou_threshold)
    : truth_(std::move(truth)), index_(std::make_unique<TruthIndex>(truth_)) {
  total_.iou_threshold = iou_threshold;
}

Evaluator::~Evaluator() = default;

EvalReport Evaluator::Add(const nlohmann::json& record) {
  EvalReport one;
  one.iou_threshold = total_.iou_threshold;
  // Scored twice, into the record's own report and into the total, rather
  // than merging every counter of one into the other.
  ScoreRecord(record, *index_, total_.iou_threshold, one);
  ScoreRecord(record, *index_, total_.iou_threshold, total_);
  return one;
}

nlohmann::ordered_json EvalReport::ToJson() const {
  nlohmann::ordered_json j;
  j["iou_threshold"] = iou_threshold;
  const GroundingScore& g = grounding;
  j["grounding"] = {{"records", g.records},
                    {"failed", g.failed},
                    {"expressions", g.expressions},
                    {"accuracy", g.accuracy()},
                    {"objects", g.objects},
                    {"recall_at_1", g.objects ? static_cast<double>(g.recall_at_1) / g.objects : 0.0},
                    {"recall_any", g.objects ? static_cast<double>(g.recall_any) / g.objects : 0.0},
                    {"mean_iou", g.mean_iou()},
                    {"missing", g.missing},
                    {"extra", g.extra},
                    {"unmatched_expressions", g.unmatched_expressions}};
  nlohmann::ordered_json boxes;
  boxes["all"] = BoxSetJson(g.boxes_all, g.objects);
  boxes["verified"] = BoxSetJson(g.boxes_verified, g.objects);
  if (g.has_verify_score) {
    nlohmann::ordered_json curve = nlohmann::ordered_json::array();
    for (int i = 0; i < kVerifyCurvePoints; ++i) {
      nlohmann::ordered_json point;
      point["threshold"] = CurveThreshold(i);
      nlohmann::ordered_json scores = BoxSetJson(g.verify_curve[i], g.objects);
      for (auto it = scores.begin(); it != scores.end(); ++it) point[it.key()] = it.value();
      curve.push_back(std::move(point));
    }
    boxes["verify_score_curve"] = std::move(curve);
  }
  j["grounding"]["boxes"] = std::move(boxes);
  const RegionScore& r = regions;
  j["region_caption"] = {{"records", r.records},
                         {"failed", r.failed},
                         {"regions", r.regions},
                         {"matched", r.matched},
                         {"color_correct", r.color_ok},
                         {"shape_correct", r.shape_ok},
                         {"both_correct", r.both_ok},
                         {"accuracy", r.accuracy()}};
  j["images_without_truth"] = images_without_truth;
  return j;
}

std::string EvalReport::Table() const {
  std::string s;
  const GroundingScore& g = grounding;
  if (g.records > 0) {
    s += fmt::format("grounding ({} records, {} failed, {} expressions, {} objects, IoU >= {})\n", g.records,
                     g.failed, g.expressions, g.objects, iou_threshold);
    s += fmt::format("  {:<28}{}\n", "accuracy (best box)", Pct(g.hits, g.expressions));
    s += fmt::format("  {:<28}{}\n", "recall@1", Pct(g.recall_at_1, g.objects));
    s += fmt::format("  {:<28}{}\n", "recall@any", Pct(g.recall_any, g.objects));
    s += fmt::format("  {:<28}{:.3f}\n", "mean IoU (best box)", g.mean_iou());
    s += fmt::format("  {:<28}{}\n", "missing expressions", g.missing);
    s += fmt::format("  {:<28}{}\n", "extra boxes", g.extra);
    s += fmt::format("  {:<28}{}\n", "unmatched expressions", g.unmatched_expressions);
    auto box_line = [&](const char* name, const BoxSetScore& b) {
      s += fmt::format("  {:<28}precision {}  recall {}  ({} boxes)\n", name, Pct(b.correct, b.boxes),
                       Pct(b.objects_hit, g.objects), b.boxes);
    };
    box_line("boxes, all", g.boxes_all);
    box_line("boxes, kept (verified)", g.boxes_verified);
    if (!g.has_verified) s += "    (no instance carries `verified`: every box counts as kept)\n";
    if (g.has_verify_score) {
      s += fmt::format("  {:<28}precision / recall (boxes)\n", "verify_score >= t");
      for (int i = 0; i < kVerifyCurvePoints; ++i) {
        const BoxSetScore& b = g.verify_curve[i];
        s += fmt::format("    {:<26.1f}{} / {} ({})\n", CurveThreshold(i), Pct(b.correct, b.boxes),
                         Pct(b.objects_hit, g.objects), b.boxes);
      }
    }
  }
  const RegionScore& r = regions;
  if (r.records > 0) {
    s += fmt::format("region captions ({} records, {} failed, {} regions, {} matched at IoU >= {})\n",
                     r.records, r.failed, r.regions, r.matched, iou_threshold);
    s += fmt::format("  {:<28}{}\n", "colour and shape right", Pct(r.both_ok, r.regions));
    s += fmt::format("  {:<28}{}\n", "colour right", Pct(r.color_ok, r.regions));
    s += fmt::format("  {:<28}{}\n", "shape right", Pct(r.shape_ok, r.regions));
  }
  if (g.records == 0 && r.records == 0) s += "nothing to score: no grounding or region-caption records\n";
  if (images_without_truth > 0) {
    s += fmt::format("{} prediction records had no ground truth (not scored)\n", images_without_truth);
  }
  return s;
}

Result<std::vector<nlohmann::json>> ReadJsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorKind::kInvalidInput, "cannot open " + path);
  std::vector<nlohmann::json> out;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return Fail(ErrorKind::kInvalidInput, fmt::format("{}:{}: not JSON", path, n));
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace groundcap
