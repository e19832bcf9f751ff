// Record -> compact page object, stream counters, script-safe JSON: see report_data.h.
#include "report/report_data.h"

#include <algorithm>
#include <cmath>

#include "util/jsonl.h"

namespace groundcap {
namespace {

using Json = nlohmann::ordered_json;

const Json* Find(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string Str(const Json& j, const char* key) {
  const Json* v = Find(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

/// A finite number rounded to 3 decimals (scores), or -1 when absent.
double Score(const Json& j, const char* key) {
  const Json* v = Find(j, key);
  if (v == nullptr || !v->is_number()) return -1;
  double s = v->get<double>();
  if (!std::isfinite(s)) return -1;
  return std::round(s * 1000) / 1000;
}

/// [x1, y1, x2, y2] of 4 finite numbers, else null.
Json BoxCoords(const Json* bbox) {
  if (bbox == nullptr || !bbox->is_array() || bbox->size() != 4) return nullptr;
  Json out = Json::array();
  for (const Json& v : *bbox) {
    if (!v.is_number() || !std::isfinite(v.get<double>())) return nullptr;
    out.push_back(v);
  }
  return out;
}

/// One drawn box: coordinates, score, and verified / verify_score when the
/// verification step ran.
Json BoxEntry(Json coords, double score, const Json& holder) {
  coords.push_back(score);
  const Json* verified = Find(holder, "verified");
  if (verified != nullptr && verified->is_boolean()) {
    coords.push_back(verified->get<bool>() ? 1 : 0);
    coords.push_back(Score(holder, "verify_score"));
  }
  return coords;
}

/// Grounding: one item per expression, its boxes the instances.
Json GroundingItems(const Json& record) {
  Json items = Json::array();
  const Json* expressions = Find(record, "expressions");
  if (expressions == nullptr || !expressions->is_array()) return items;
  for (const Json& e : *expressions) {
    if (!e.is_object()) continue;
    Json item = Json::object();
    item["t"] = Str(e, "text");
    const Json* span = Find(e, "char_span");
    if (span != nullptr && span->is_array() && span->size() == 2 && (*span)[0].is_number_integer() &&
        (*span)[1].is_number_integer()) {
      item["sp"] = *span;
    } else {
      item["nf"] = 1;
    }
    Json boxes = Json::array();
    if (const Json* instances = Find(e, "instances"); instances != nullptr && instances->is_array()) {
      for (const Json& inst : *instances) {
        Json coords = BoxCoords(Find(inst, "bbox"));
        if (coords.is_null()) continue;
        boxes.push_back(BoxEntry(std::move(coords), Score(inst, "score"), inst));
      }
    }
    item["b"] = std::move(boxes);
    items.push_back(std::move(item));
  }
  return items;
}

/// Structured region captioning: one item per region, its one box.
Json StructuredRegionItems(const Json& regions) {
  Json items = Json::array();
  for (const Json& r : regions) {
    if (!r.is_object()) continue;
    Json item = Json::object();
    item["t"] = Str(r, "caption");
    const Json* id = Find(r, "region_id");
    item["lb"] = "[" + (id != nullptr && id->is_number_integer() ? std::to_string(id->get<int64_t>()) : "?") + "]";
    Json boxes = Json::array();
    Json coords = BoxCoords(Find(r, "bbox"));
    if (!coords.is_null()) boxes.push_back(BoxEntry(std::move(coords), Score(r, "verify_score"), r));
    item["b"] = std::move(boxes);
    std::string status = Str(r, "status");
    if (!status.empty() && status != "ok") item["st"] = status;
    if (std::string reason = Str(r, "reason"); !reason.empty()) item["re"] = reason;
    if (std::string rejected = Str(r, "rejected_caption"); !rejected.empty()) item["rc"] = rejected;
    if (std::string expression = Str(r, "expression"); !expression.empty()) item["ex"] = expression;
    items.push_back(std::move(item));
  }
  return items;
}

/// DataFlow mode: the boxes drawn are `normalized_bbox` (xyxy / (W, H),
/// padded with zeros) up to `valid_bboxes_num`; the answer is one text.
Json DataflowItems(const Json& record, int width, int height) {
  Json items = Json::array();
  const Json* norm = Find(record, "normalized_bbox");
  if (norm == nullptr || !norm->is_array() || width <= 0 || height <= 0) return items;
  int64_t valid = static_cast<int64_t>(norm->size());
  if (const Json* n = Find(record, "valid_bboxes_num"); n != nullptr && n->is_number_integer()) {
    valid = std::min(valid, n->get<int64_t>());
  }
  for (int64_t i = 0; i < valid; ++i) {
    Json coords = BoxCoords(&(*norm)[i]);
    if (coords.is_null()) continue;
    Json px = Json::array();
    for (int k = 0; k < 4; ++k) {
      px.push_back(std::round(coords[k].get<double>() * (k % 2 == 0 ? width : height)));
    }
    Json item = Json::object();
    item["t"] = "";
    item["lb"] = "<region" + std::to_string(i + 1) + ">";
    item["b"] = Json::array({BoxEntry(std::move(px), -1, Json::object())});
    items.push_back(std::move(item));
  }
  return items;
}

Json Flags(const Json& record) {
  Json out = Json::array();
  const Json* flags = Find(record, "flags");
  if (flags == nullptr || !flags->is_array()) return out;
  for (const Json& f : *flags) {
    if (!f.is_object()) continue;
    const Json* item = Find(f, "item");
    const Json* blocking = Find(f, "blocking");
    out.push_back(Json::array({Str(f, "flag"), item != nullptr && item->is_number_integer() ? item->get<int64_t>() : -1,
                               Str(f, "detail"), blocking != nullptr && blocking->is_boolean() && blocking->get<bool>() ? 1 : 0}));
  }
  return out;
}

}  // namespace

const char* ReportKindName(ReportKind kind) {
  return kind == ReportKind::kGrounding ? "image_grounding" : "region_caption";
}

std::optional<ReportKind> DetectReportKind(const Json& record) {
  if (!record.is_object()) return std::nullopt;
  // Chained region captioning keeps the grounding fields it read, so
  // `regions` is asked first.
  if (record.contains("regions") || record.contains("answer")) return ReportKind::kRegionCaption;
  if (record.contains("expressions") || record.contains("cleaned_caption")) return ReportKind::kGrounding;
  if (record.contains("bbox")) return ReportKind::kRegionCaption;
  if (record.contains("caption")) return ReportKind::kGrounding;
  return std::nullopt;
}

std::string RecordImagePath(const Json& record, const std::string& image_key) {
  if (!image_key.empty()) return Str(record, image_key.c_str());
  for (const char* key : {"image_path", "image", "file_name"}) {
    std::string path = Str(record, key);
    if (!path.empty()) return path;
  }
  return "";
}

std::pair<int, int> RecordImageSize(const Json& record) {
  for (auto [wk, hk] : {std::pair{"image_width", "image_height"}, std::pair{"width", "height"}}) {
    const Json* w = Find(record, wk);
    const Json* h = Find(record, hk);
    if (w != nullptr && h != nullptr && w->is_number_integer() && h->is_number_integer() && w->get<int64_t>() > 0 &&
        h->get<int64_t>() > 0 && w->get<int64_t>() < (1 << 30) && h->get<int64_t>() < (1 << 30)) {
      return {static_cast<int>(w->get<int64_t>()), static_cast<int>(h->get<int64_t>())};
    }
  }
  return {0, 0};
}

Json SampleJson(const Json& record, ReportKind kind, const SampleContext& context) {
  Json s = Json::object();
  s["n"] = context.index;
  s["ln"] = context.line;
  s["id"] = Str(record, "sample_id");
  s["img"] = RecordImagePath(record);
  if (!context.thumb_url.empty()) s["th"] = context.thumb_url;
  if (!context.image_url.empty()) s["src"] = context.image_url;
  if (!context.marked_url.empty()) s["mk"] = context.marked_url;
  auto [w, h] = RecordImageSize(record);
  if (w == 0) w = context.width, h = context.height;
  s["w"] = w;
  s["h"] = h;
  std::string status = Str(record, "status");
  s["st"] = status.empty() ? "unknown" : status;
  if (const Json* error = Find(record, "error"); error != nullptr && error->is_object()) {
    s["ek"] = Str(*error, "kind");
    s["em"] = Str(*error, "message");
  } else if (status == "failed") {
    s["ek"] = "unknown";
  }
  if (const Json* warnings = Find(record, "warnings"); warnings != nullptr && warnings->is_array()) {
    Json wa = Json::array();
    for (const Json& wn : *warnings) {
      if (wn.is_string()) wa.push_back(wn);
    }
    if (!wa.empty()) s["wa"] = std::move(wa);
  }
  if (Json fl = Flags(record); !fl.empty()) s["fl"] = std::move(fl);
  if (kind == ReportKind::kGrounding) {
    std::string cleaned = Str(record, "cleaned_caption");
    std::string input = Str(record, "caption");
    s["cap"] = cleaned.empty() ? input : cleaned;
    if (!cleaned.empty() && !input.empty() && input != cleaned) s["inc"] = input;
    s["it"] = GroundingItems(record);
  } else if (const Json* regions = Find(record, "regions"); regions != nullptr && regions->is_array()) {
    s["it"] = StructuredRegionItems(*regions);
  } else {
    if (std::string answer = Str(record, "answer"); !answer.empty()) s["cap"] = answer;
    s["it"] = DataflowItems(record, w, h);
  }
  if (context.eval) {
    s["ev"] = Json::array({context.eval->items, context.eval->correct,
                           context.eval->mean_iou < 0 ? -1.0 : std::round(context.eval->mean_iou * 1000) / 1000});
  }
  return s;
}

void ReportStats::Add(const Json& sample) {
  ++samples_;
  std::string status = Str(sample, "st");
  ++by_status_[status];
  if (status == "failed") ++failed_by_kind_[Str(sample, "ek")];
  if (sample.contains("wa")) ++with_warnings_;
  if (const Json* fl = Find(sample, "fl"); fl != nullptr) {
    for (const Json& f : *fl) ++flags_[f[0].get<std::string>()];
  }
  const Json* items = Find(sample, "it");
  if (items == nullptr) return;
  for (const Json& item : *items) {
    ++items_;
    if (item.contains("nf")) ++spans_not_located_;
    const Json& boxes = item["b"];
    const int64_t n = static_cast<int64_t>(boxes.size());
    boxes_ += n;
    if (n == 0 && status != "failed" && !item.contains("st")) ++items_without_box_;
    ++boxes_per_item_[std::min<int64_t>(n, kBoxBins - 1)];
    for (const Json& b : boxes) {
      double score = b[4].get<double>();
      if (score < 0) {
        ++unscored_boxes_;
        continue;
      }
      ++scores_[std::clamp(static_cast<int>(score * kScoreBins), 0, kScoreBins - 1)];
    }
  }
}

Json ReportStats::ToJson() const {
  Json j = Json::object();
  j["samples"] = samples_;
  j["by_status"] = by_status_;
  j["failed_by_kind"] = failed_by_kind_;
  j["flags"] = flags_;
  j["with_warnings"] = with_warnings_;
  j["items"] = items_;
  j["boxes"] = boxes_;
  j["items_without_box"] = items_without_box_;
  j["spans_not_located"] = spans_not_located_;
  j["boxes_per_item"] = boxes_per_item_;
  j["scores"] = scores_;
  j["unscored_boxes"] = unscored_boxes_;
  return j;
}

std::string ScriptSafeJson(const Json& j) {
  const std::string text = DumpJsonLine(j);
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string PathToUrl(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum || c == '/' || c == '.' || c == '_' || c == '~' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace groundcap
