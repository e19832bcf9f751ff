// JSON walk behind ParseBoxes: finds the boxes in a parsed reply, whatever
// its shape. See box_tags.h (JsonToRawBoxes).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "boxes/box_tags.h"
#include "util/text_util.h"

namespace groundcap {

namespace {


std::optional<double> JsonNumber(const nlohmann::json& v) {
  if (v.is_number()) {
    double d = v.get<double>();
    return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
  }
  if (v.is_string()) {
    std::string s(Trim(v.get_ref<const std::string&>()));
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

constexpr const char* kBoxKeys[] = {"box_2d", "bbox_2d", "bbox", "box", "bounding_box", "boundingBox", "bbox_xyxy",
                                    "xyxy", "coordinates", "coords", "rect", "box_xyxy"};
constexpr const char* kLabelKeys[] = {"label", "name", "class", "category", "phrase", "text",
                                      "object", "description", "ref", "caption", "id"};
constexpr const char* kScoreKeys[] = {"score", "confidence", "conf", "probability", "prob"};
constexpr std::array<const char*, 4> kNamedSets[] = {{"x_min", "y_min", "x_max", "y_max"},
                                                      {"xmin", "ymin", "xmax", "ymax"},
                                                      {"x1", "y1", "x2", "y2"},
                                                      {"left", "top", "right", "bottom"}};

class JsonWalker {
 public:
  JsonWalker(bool y_first, std::vector<std::string>& diagnostics) : y_first_(y_first), diag_(diagnostics) {}

  void Root(const nlohmann::json& j, const std::string& default_label) {
    if (j.is_array()) {
      if (IsNumericQuad(j)) {
        AddQuadsFrom(j, default_label, std::nullopt, "reply");
        return;
      }
      for (size_t i = 0; i < j.size(); ++i) Item(j[i], default_label, "item " + std::to_string(i), 0);
    } else if (j.is_object()) {
      if (IsBoxItem(j)) {
        diag_.push_back("single object instead of a list");
        Item(j, default_label, "item 0", 0);
      } else if (!Wrapper(j, 0)) {
        diag_.push_back("JSON holds no boxes");
      }
    } else {
      diag_.push_back("JSON holds no boxes");
    }
  }

  std::vector<RawBox> boxes;

 private:
  static bool IsNumericQuad(const nlohmann::json& v) {
    if (!v.is_array() || v.size() != 4) return false;
    for (const auto& e : v) {
      if (!e.is_number() && !e.is_string()) return false;
    }
    return true;
  }

  static const char* NamedSet(const nlohmann::json& o, const std::array<const char*, 4>** set) {
    for (const auto& s : kNamedSets) {
      if (o.contains(s[0]) && o.contains(s[1]) && o.contains(s[2]) && o.contains(s[3])) {
        *set = &s;
        return s[0];
      }
    }
    return nullptr;
  }

  static const char* BoxKey(const nlohmann::json& o) {
    for (const char* k : kBoxKeys) {
      if (o.contains(k)) return k;
    }
    return nullptr;
  }

  static bool IsBoxItem(const nlohmann::json& o) {
    const std::array<const char*, 4>* set = nullptr;
    return o.is_object() && (BoxKey(o) != nullptr || NamedSet(o, &set) != nullptr);
  }

  static bool LooksLikeBoxList(const nlohmann::json& a) {
    for (const auto& e : a) {
      if (IsBoxItem(e) || IsNumericQuad(e) || (e.is_array() && !e.empty() && e[0].is_array())) return true;
    }
    return false;
  }

  /// Reads one or more quads from a box value; reports why not otherwise.
  bool Quads(const nlohmann::json& v, std::vector<std::array<double, 4>>& out, std::string& problem, int depth) {
    if (depth > 4) return false;
    if (v.is_array()) {
      if (v.size() == 4 && std::all_of(v.begin(), v.end(), [](const auto& e) { return !e.is_structured(); })) {
        std::array<double, 4> q{};
        for (int k = 0; k < 4; ++k) {
          auto d = JsonNumber(v[k]);
          if (!d) {
            problem = "non-numeric or non-finite coordinates";
            return false;
          }
          q[k] = *d;
        }
        out.push_back(q);
        return true;
      }
      if (v.size() == 2 && v[0].is_array() && v[1].is_array() && v[0].size() == 2 && v[1].size() == 2) {
        auto a = JsonNumber(v[0][0]), b = JsonNumber(v[0][1]), c = JsonNumber(v[1][0]), d = JsonNumber(v[1][1]);
        if (a && b && c && d) {
          out.push_back({*a, *b, *c, *d});
          return true;
        }
        problem = "non-numeric or non-finite coordinates";
        return false;
      }
      if (!v.empty() && std::all_of(v.begin(), v.end(), [](const auto& e) { return e.is_array(); })) {
        bool any = false;
        for (const auto& e : v) any = Quads(e, out, problem, depth + 1) || any;
        return any;
      }
      problem = "wrong number of coordinates (" + std::to_string(v.size()) + ")";
      return false;
    }
    if (v.is_object()) {
      const std::array<const char*, 4>* set = nullptr;
      if (NamedSet(v, &set)) return Named(v, *set, out, problem);
      if (v.contains("x") && v.contains("y") && (v.contains("width") || v.contains("w"))) {
        auto x = JsonNumber(v["x"]), y = JsonNumber(v["y"]);
        auto w = JsonNumber(v.contains("width") ? v["width"] : v["w"]);
        auto h = JsonNumber(v.contains("height") ? v["height"] : (v.contains("h") ? v["h"] : nlohmann::json()));
        if (x && y && w && h) {
          diag_.push_back("read x/y/width/height as corners");
          Push(out, *x, *y, *x + *w, *y + *h);
          return true;
        }
      }
    }
    problem = "not a coordinate list";
    return false;
  }

  void Push(std::vector<std::array<double, 4>>& out, double x1, double y1, double x2, double y2) const {
    if (y_first_) {
      out.push_back({y1, x1, y2, x2});
    } else {
      out.push_back({x1, y1, x2, y2});
    }
  }

  bool Named(const nlohmann::json& o, const std::array<const char*, 4>& set,
             std::vector<std::array<double, 4>>& out, std::string& problem) {
    auto x1 = JsonNumber(o[set[0]]), y1 = JsonNumber(o[set[1]]), x2 = JsonNumber(o[set[2]]),
         y2 = JsonNumber(o[set[3]]);
    if (!x1 || !y1 || !x2 || !y2) {
      problem = "non-numeric or non-finite coordinates";
      return false;
    }
    Push(out, *x1, *y1, *x2, *y2);
    return true;
  }

  void AddQuadsFrom(const nlohmann::json& v, const std::string& label, std::optional<double> score,
                    const std::string& where) {
    std::vector<std::array<double, 4>> quads;
    std::string problem;
    if (!Quads(v, quads, problem, 0) && quads.empty()) {
      diag_.push_back(where + ": dropped, " + (problem.empty() ? "no coordinates" : problem));
      return;
    }
    for (const auto& q : quads) {
      RawBox b;
      std::copy(q.begin(), q.end(), b.v);
      b.label = label;
      b.score = score;
      boxes.push_back(std::move(b));
    }
  }

  void Item(const nlohmann::json& el, const std::string& default_label, const std::string& where, int depth) {
    if (el.is_object()) {
      std::string label = default_label;
      for (const char* k : kLabelKeys) {
        if (!el.contains(k)) continue;
        const auto& lv = el[k];
        if (lv.is_string()) {
          label = lv.get<std::string>();
        } else if (lv.is_number()) {
          label = lv.dump();
        } else {
          continue;
        }
        break;
      }
      std::optional<double> score;
      for (const char* k : kScoreKeys) {
        if (el.contains(k)) {
          score = JsonNumber(el[k]);
          if (score) break;
        }
      }
      const std::array<const char*, 4>* set = nullptr;
      if (const char* key = BoxKey(el)) {
        AddQuadsFrom(el[key], label, score, where);
      } else if (NamedSet(el, &set)) {
        AddQuadsFrom(el, label, score, where);
      } else if (depth < 4 && Wrapper(el, depth + 1)) {
        // boxes nested one level further down
      } else if (el.contains("point_2d") || el.contains("point")) {
        diag_.push_back(where + ": a point, not a box; skipped");
      } else {
        diag_.push_back(where + ": dropped, no box key");
      }
    } else if (el.is_array()) {
      AddQuadsFrom(el, default_label, std::nullopt, where);
    } else {
      diag_.push_back(where + ": dropped, not an object or list");
    }
  }

  /// An object whose values hold the boxes; true when any box-like value was found.
  bool Wrapper(const nlohmann::json& o, int depth) {
    bool found = false;
    std::vector<std::string> map_keys;  // {label: quad} entries, used only alone
    for (auto it = o.begin(); it != o.end(); ++it) {
      const auto& v = it.value();
      if (v.is_array() && IsNumericQuad(v)) {
        map_keys.push_back(it.key());
      } else if (v.is_array() && (v.empty() || LooksLikeBoxList(v))) {
        diag_.push_back(v.empty() ? "empty list under key '" + it.key() + "'"
                                  : "boxes nested under key '" + it.key() + "'");
        for (size_t i = 0; i < v.size(); ++i) Item(v[i], "", it.key() + "[" + std::to_string(i) + "]", depth + 1);
        found = true;
      } else if (v.is_object() && depth < 4) {
        if (IsBoxItem(v)) {
          Item(v, it.key(), "'" + it.key() + "'", depth + 1);
          found = true;
        } else {
          found = Wrapper(v, depth + 1) || found;
        }
      }
    }
    if (!map_keys.empty()) {
      if (found) {
        diag_.push_back("ignored quads beside the box list (e.g. '" + map_keys[0] + "')");
      } else {
        diag_.push_back("read a {label: box} map");
        for (const auto& k : map_keys) AddQuadsFrom(o[k], k, std::nullopt, "'" + k + "'");
        found = true;
      }
    }
    return found;
  }

  bool y_first_;
  std::vector<std::string>& diag_;
};

}  // namespace

std::vector<RawBox> JsonToRawBoxes(const nlohmann::json& j, bool y_first, const std::string& default_label,
                                   std::vector<std::string>& diagnostics) {
  JsonWalker w(y_first, diagnostics);
  w.Root(j, default_label);
  return std::move(w.boxes);
}

}  // namespace groundcap
