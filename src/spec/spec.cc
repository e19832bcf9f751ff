// The run specification: schema assembly, YAML loading (the only yaml-cpp
// user), dot-notation overrides, validation and YAML output.
#include "spec/spec.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "spec/spec_limits.h"
#include "util/error.h"
#include "util/text_util.h"
#include "util/file_read.h"
#include "util/jsonl.h"

namespace groundcap {

namespace {

/// The full schema: every valid dotted key, in display order.
struct Schema {
  std::vector<SpecField> fields;           ///< key = full dotted key
  std::map<std::string, size_t> by_key;
  std::set<std::string> prefixes;          ///< "a", "a.b" for key "a.b.c"
};

void Mount(Schema& s, const std::string& prefix, const std::vector<SpecField>& list) {
  for (SpecField f : list) {
    f.key = prefix.empty() ? f.key : prefix + "." + f.key;
    if (s.by_key.count(f.key)) continue;  // first declaration wins
    s.by_key[f.key] = s.fields.size();
    for (size_t dot = f.key.find('.'); dot != std::string::npos; dot = f.key.find('.', dot + 1))
      s.prefixes.insert(f.key.substr(0, dot));
    s.fields.push_back(std::move(f));
  }
}

SpecField Required(SpecField f) {
  f.required = true;
  return f;
}

std::vector<SpecField> TopLevelFields() {
  std::vector<SpecField> v;
  v.push_back(Required(MakeField("results_dir", FieldType::kString, "\"\"",
               "output root; all run state (checkpoints, outputs, summary) lives here")));
  SpecField type = MakeField("autolabel_type", FieldType::kString, "\"image_grounding\"",
                             "pipeline to run");
  type.choices = {kImageGrounding, kRegionCaption};
  v.push_back(type);
  // TAO's top-level keys, accepted and ignored (never read by these pipelines).
  v.push_back(MakeField("gpu_ids", FieldType::kObject, "[0]", "TAO compatibility; ignored"));
  v.push_back(MakeField("num_gpus", FieldType::kObject, "1", "TAO compatibility; ignored"));
  v.push_back(MakeField("batch_size", FieldType::kObject, "4", "TAO compatibility; ignored"));
  v.push_back(MakeField("num_workers", FieldType::kObject, "8",
               "TAO compatibility; ignored (concurrency is <pipeline>.workflow.max_workers)"));
  return v;
}

const Schema& GetSchema() {
  static const Schema schema = [] {
    Schema s;
    Mount(s, "", TopLevelFields());
    for (const char* p : {kImageGrounding, kRegionCaption}) {
      Mount(s, p, WorkflowSpecFields());
      Mount(s, p, TeacherSpecFields());
      Mount(s, p, ImagePrepSpecFields());
      Mount(s, p, CostSpecFields());
      Mount(s, p, p == std::string(kImageGrounding) ? GroundingSpecFields() : RegionCaptionSpecFields());
    }
    return s;
  }();
  return schema;
}

std::string Closest(const std::string& key) {
  const Schema& s = GetSchema();
  std::string best;
  size_t best_d = static_cast<size_t>(-1);
  for (const SpecField& f : s.fields) {
    size_t d = EditDistance(key, f.key);
    if (d < best_d) {
      best_d = d;
      best = f.key;
    }
  }
  return best;
}

[[noreturn]] void UnknownKey(const std::string& where, const std::string& key) {
  // A huge key is cut in the message and gets no suggestion: the edit
  // distance against every key would take minutes.
  constexpr size_t kShown = 120;
  if (key.size() > kShown) {
    throw SetupError(fmt::format("{}: unknown key '{}...' ({} bytes)", where, key.substr(0, kShown), key.size()));
  }
  std::string best = Closest(key);
  throw SetupError(fmt::format("{}: unknown key '{}'{}", where, key,
                               best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
}

const char* TypeName(FieldType t) {
  switch (t) {
    case FieldType::kString: return "a string";
    case FieldType::kInt: return "an integer";
    case FieldType::kFloat: return "a number";
    case FieldType::kBool: return "true or false";
    case FieldType::kStringList: return "a list of strings";
    case FieldType::kObject: return "a YAML value";
  }
  return "?";
}

/// Thrown (and caught in this file only) when a spec exceeds a limit of
/// spec_limits.h; the message says which.
class LimitExceeded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The expansion budget of one spec (file and overrides together). yaml-cpp
/// shares an anchored node between its aliases, so parsing an alias bomb is
/// cheap and only walking it explodes: every walk over spec YAML charges each
/// node it visits here, aliases at every use, and stops at the limits.
class ExpansionBudget {
 public:
  /// Charges one node at nesting `depth` (0 = a field's value); throws
  /// LimitExceeded past kMaxSpecNodes, kMaxSpecExpandedBytes or kMaxJsonDepth.
  void Charge(const YAML::Node& n, int depth) {
    if (depth > kMaxJsonDepth)
      throw LimitExceeded(fmt::format("nests deeper than {} levels (the spec limit)", kMaxJsonDepth));
    if (++nodes_ > kMaxSpecNodes) {
      throw LimitExceeded(fmt::format(
          "the spec expands to more than {} YAML nodes (an alias counts at every use; the spec limit "
          "is {} nodes)",
          kMaxSpecNodes, kMaxSpecNodes));
    }
    if (n.IsScalar()) bytes_ += static_cast<int64_t>(n.Scalar().size());
    if (bytes_ > kMaxSpecExpandedBytes) {
      throw LimitExceeded(fmt::format(
          "the spec expands to more than {} bytes of text (an alias counts at every use; the spec "
          "limit is {} bytes)",
          kMaxSpecExpandedBytes, kMaxSpecExpandedBytes));
    }
  }

 private:
  int64_t nodes_ = 0;
  int64_t bytes_ = 0;
};

/// Charges `n` and everything below it (aliases expanded).
void ChargeTree(const YAML::Node& n, ExpansionBudget& budget, int depth) {
  budget.Charge(n, depth);
  if (n.IsSequence()) {
    for (const YAML::Node& e : n) ChargeTree(e, budget, depth + 1);
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      ChargeTree(kv.first, budget, depth + 1);
      ChargeTree(kv.second, budget, depth + 1);
    }
  }
}

/// A mapping key as text. as<std::string>() would throw YAML's own exception
/// for a complex key ("? [a, b]"); those are written out in flow style, once
/// the budget has paid for their expansion.
std::string KeyText(const YAML::Node& key, ExpansionBudget& budget, int depth) {
  ChargeTree(key, budget, depth);
  return key.IsScalar() ? key.Scalar() : YAML::Dump(key);
}

nlohmann::json AnyToJson(const YAML::Node& n, ExpansionBudget& budget, int depth) {
  budget.Charge(n, depth);
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const YAML::Node& e : n) a.push_back(AnyToJson(e, budget, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) o[KeyText(kv.first, budget, depth + 1)] = AnyToJson(kv.second, budget, depth + 1);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted: always a string
      int64_t i;
      double d;
      bool b;
      if (YAML::convert<int64_t>::decode(n, i)) return i;
      if (YAML::convert<double>::decode(n, d)) return d;
      if (YAML::convert<bool>::decode(n, b)) return b;
      return s;
    }
  }
  return nullptr;
}

std::string ConvertCharged(const SpecField& f, const YAML::Node& n, nlohmann::json* out, ExpansionBudget& budget);

/// Converts a YAML node to the field's JSON value, charging `budget` for
/// every node read. Returns an error message ("expected an integer, got
/// 'x'", a limit of spec_limits.h) or "" on success.
std::string Convert(const SpecField& f, const YAML::Node& n, nlohmann::json* out, ExpansionBudget& budget) {
  try {
    return ConvertCharged(f, n, out, budget);
  } catch (const LimitExceeded& e) {
    return e.what();
  }
}

std::string ConvertCharged(const SpecField& f, const YAML::Node& n, nlohmann::json* out, ExpansionBudget& budget) {
  budget.Charge(n, 0);
  auto got = [&] {
    if (n.IsScalar()) return fmt::format("got '{}'", n.Scalar());
    if (n.IsSequence()) return std::string("got a list");
    if (n.IsMap()) return std::string("got a mapping");
    return std::string("got nothing");
  };
  auto fail = [&] { return fmt::format("expected {}, {}", TypeName(f.type), got()); };
  switch (f.type) {
    case FieldType::kObject:
      *out = AnyToJson(n, budget, 0);
      return "";
    case FieldType::kString:
      if (n.IsNull() || !n.IsDefined()) { *out = ""; return ""; }
      if (!n.IsScalar()) return fail();
      *out = n.Scalar();
      return "";
    case FieldType::kInt: {
      int64_t v;
      if (!n.IsScalar() || n.Tag() == "!" || !YAML::convert<int64_t>::decode(n, v)) return fail();
      *out = v;
      return "";
    }
    case FieldType::kFloat: {
      double v;
      if (!n.IsScalar() || n.Tag() == "!" || !YAML::convert<double>::decode(n, v)) return fail();
      *out = v;
      return "";
    }
    case FieldType::kBool: {
      bool v;
      if (!n.IsScalar() || n.Tag() == "!" || !YAML::convert<bool>::decode(n, v)) return fail();
      *out = v;
      return "";
    }
    case FieldType::kStringList: {
      nlohmann::json a = nlohmann::json::array();
      if (n.IsNull()) { *out = a; return ""; }
      if (n.IsScalar()) {  // a single value is a one-element list
        a.push_back(n.Scalar());
      } else if (n.IsSequence()) {
        for (const YAML::Node& e : n) {
          budget.Charge(e, 1);
          if (!e.IsScalar()) return fail();
          a.push_back(e.Scalar());
        }
      } else {
        return fail();
      }
      *out = a;
      return "";
    }
  }
  return fail();
}

/// Paths and names end at a NUL when handed to the system, naming another
/// file than the one written: no spec string may contain one.
constexpr const char* kNulMessage = "contains a NUL character (\\0), which no path or name may hold";

/// Type, range and choice checks of a converted value; "" when valid.
std::string Check(const SpecField& f, const nlohmann::json& v) {
  auto in_choices = [&](const std::string& s) {
    return f.choices.empty() || std::find(f.choices.begin(), f.choices.end(), s) != f.choices.end();
  };
  auto choices = [&] {
    std::string c;
    for (const std::string& s : f.choices) c += (c.empty() ? "" : ", ") + s;
    return c;
  };
  switch (f.type) {
    case FieldType::kString:
      if (!v.is_string()) return fmt::format("expected {}", TypeName(f.type));
      if (v.get<std::string>().find('\0') != std::string::npos) return kNulMessage;
      if (!v.get<std::string>().empty() && !in_choices(v.get<std::string>()))
        return fmt::format("'{}' is not one of: {}", v.get<std::string>(), choices());
      return "";
    case FieldType::kInt:
    case FieldType::kFloat: {
      if (!v.is_number() || (f.type == FieldType::kInt && !v.is_number_integer()))
        return fmt::format("expected {}", TypeName(f.type));
      double d = v.get<double>();
      if (d < f.min || d > f.max)
        return fmt::format("{} is out of range [{}, {}]", v.dump(), f.min, f.max);
      return "";
    }
    case FieldType::kBool:
      return v.is_boolean() ? "" : fmt::format("expected {}", TypeName(f.type));
    case FieldType::kStringList:
      if (!v.is_array()) return fmt::format("expected {}", TypeName(f.type));
      for (const nlohmann::json& e : v) {
        if (!e.is_string()) return fmt::format("expected {}", TypeName(f.type));
        if (e.get<std::string>().find('\0') != std::string::npos) return kNulMessage;
        if (!in_choices(e.get<std::string>()))
          return fmt::format("'{}' is not one of: {}", e.get<std::string>(), choices());
      }
      return "";
    case FieldType::kObject:
      return "";
  }
  return "";
}

bool IsEmptyValue(const nlohmann::json& v) {
  return v.is_null() || (v.is_string() && v.get<std::string>().empty()) ||
         (v.is_array() && v.empty());
}

/// Walks a YAML mapping, storing schema keys into `values`.
void Walk(const YAML::Node& map, const std::string& prefix, const std::string& origin,
          std::map<std::string, nlohmann::json>& values, std::map<std::string, bool>& set,
          ExpansionBudget& budget) {
  const Schema& s = GetSchema();
  for (const auto& kv : map) {
    std::string k;
    try {
      k = KeyText(kv.first, budget, 0);
    } catch (const LimitExceeded& e) {
      throw SetupError(fmt::format("{}:{}: {}", origin, kv.first.Mark().line + 1, e.what()));
    }
    std::string full = prefix.empty() ? k : prefix + "." + k;
    std::string where = fmt::format("{}:{}", origin, kv.first.Mark().line + 1);
    auto it = s.by_key.find(full);
    if (it != s.by_key.end()) {
      const SpecField& f = s.fields[it->second];
      nlohmann::json v;
      std::string err = Convert(f, kv.second, &v, budget);
      if (err.empty()) err = Check(f, v);
      if (!err.empty()) throw SetupError(fmt::format("{}: {}: {}", where, full, err));
      values[full] = std::move(v);
      set[full] = true;
    } else if (s.prefixes.count(full)) {
      if (kv.second.IsNull()) continue;  // "image_grounding:" with nothing below
      if (!kv.second.IsMap())
        throw SetupError(fmt::format("{}: {}: expected a mapping of keys", where, full));
      Walk(kv.second, full, origin, values, set, budget);
    } else {
      UnknownKey(where, full);
    }
  }
}

YAML::Node ParseYaml(const std::string& text, const std::string& origin) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw SetupError(fmt::format("{}:{}: invalid YAML: {}", origin, e.mark.line + 1, e.msg));
  }
}

const SpecField& FieldOrThrow(const std::string& key) {
  const Schema& s = GetSchema();
  auto it = s.by_key.find(key);
  if (it == s.by_key.end()) throw std::logic_error("unknown spec key " + key);
  return s.fields[it->second];
}

/// Emits one scalar/list value as YAML text (JSON is valid YAML flow style).
std::string YamlValue(const nlohmann::json& v) { return DumpJsonLine(v); }

/// Writes `fields` (full keys, in schema order) as nested YAML. Keys are
/// grouped under their mappings first (each mapping in the order its first
/// key appears), so no mapping is written twice: YAML parsers that keep only
/// the last copy of a repeated key (PyYAML) would silently lose the first.
std::string EmitNested(const std::vector<std::pair<const SpecField*, nlohmann::json>>& items, bool comments) {
  std::map<std::string, size_t> first_seen;  // mapping path -> order of appearance
  std::vector<std::vector<size_t>> rank(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& key = items[i].first->key;
    for (size_t dot = key.find('.');; dot = key.find('.', dot + 1)) {
      rank[i].push_back(first_seen.emplace(key.substr(0, dot), first_seen.size()).first->second);
      if (dot == std::string::npos) break;
    }
  }
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rank[a] < rank[b]; });

  std::ostringstream out;
  std::vector<std::string> open;  // currently open mapping path
  for (size_t index : order) {
    const auto& [f, v] = items[index];
    std::vector<std::string> parts;
    std::stringstream ss(f->key);
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
    open.resize(common);
    for (size_t i = common; i + 1 < parts.size(); ++i) {
      if (i == 0) out << "\n";
      out << std::string(2 * i, ' ') << parts[i] << ":\n";
      open.push_back(parts[i]);
    }
    std::string indent(2 * (parts.size() - 1), ' ');
    if (comments && !f->help.empty()) {
      out << indent << "# " << f->help;
      if (f->required) out << " (required)";
      if (!f->choices.empty()) {
        out << " [";
        for (size_t i = 0; i < f->choices.size(); ++i) out << (i ? "|" : "") << f->choices[i];
        out << "]";
      }
      out << "\n";
    }
    out << indent << parts.back() << ": " << YamlValue(v) << "\n";
  }
  return out.str();
}

nlohmann::json DefaultValue(const SpecField& f) {
  YAML::Node n = ParseYaml(f.default_yaml.empty() ? "\"\"" : f.default_yaml, "default of " + f.key);
  nlohmann::json v;
  ExpansionBudget budget;
  std::string err = Convert(f, n, &v, budget);
  if (!err.empty()) throw std::logic_error("bad default for " + f.key + ": " + err);
  return v;
}

bool InBlock(const std::string& key, const std::string& pipeline) {
  return key.find('.') == std::string::npos || key.rfind(pipeline + ".", 0) == 0;
}

}  // namespace

Spec Spec::Load(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text;
  if (!path.empty()) {
    // Bounded, regular files only: a directory, a device or a FIFO is named
    // as such (an empty read used to report a missing results_dir).
    Result<std::string> read = ReadRegularFile(path, kMaxSpecFileBytes);
    if (!read) throw SetupError(fmt::format("spec file '{}' {}", path, read.error().message));
    text = std::move(*read);
  }
  return FromYaml(text, overrides, path.empty() ? "<defaults>" : path);
}

Spec Spec::FromYaml(const std::string& yaml, const std::vector<std::string>& overrides,
                    const std::string& origin) {
  const Schema& s = GetSchema();
  Spec spec;
  for (const SpecField& f : s.fields) spec.values_[f.key] = DefaultValue(f);
  YAML::Node root = ParseYaml(yaml, origin);
  ExpansionBudget budget;  // one budget for the file and its overrides
  if (root.IsMap()) {
    Walk(root, "", origin, spec.values_, spec.set_, budget);
  } else if (!root.IsNull() && root.IsDefined()) {
    throw SetupError(fmt::format("{}: the spec must be a YAML mapping", origin));
  }
  for (const std::string& o : overrides) {
    size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      throw SetupError(fmt::format("override '{}': expected key=value", o));
    std::string key = o.substr(0, eq);
    auto it = s.by_key.find(key);
    if (it == s.by_key.end()) UnknownKey(fmt::format("override '{}'", o), key);
    const SpecField& f = s.fields[it->second];
    YAML::Node n = ParseYaml(o.substr(eq + 1), fmt::format("override '{}'", o));
    nlohmann::json v;
    std::string err = Convert(f, n, &v, budget);
    if (err.empty()) err = Check(f, v);
    if (!err.empty()) throw SetupError(fmt::format("override '{}': {}: {}", o, key, err));
    spec.values_[key] = std::move(v);
    spec.set_[key] = true;
  }
  spec.pipeline_ = spec.values_.at("autolabel_type").get<std::string>();
  if (spec.pipeline_.empty())
    throw SetupError(fmt::format("{}: missing required field 'autolabel_type' ({} | {})", origin,
                                 kImageGrounding, kRegionCaption));
  for (const SpecField& f : s.fields) {
    if (!f.required || !InBlock(f.key, spec.pipeline_)) continue;
    if (IsEmptyValue(spec.values_.at(f.key)))
      throw SetupError(fmt::format(
          "{}: missing required field '{}' (set it in the spec or pass {}=...)", origin, f.key, f.key));
  }
  return spec;
}

std::string Spec::Str(const std::string& key) const {
  const SpecField& f = FieldOrThrow(key);
  const nlohmann::json& v = values_.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (f.type == FieldType::kObject) return v.is_null() ? "" : v.dump();
  throw std::logic_error("spec key " + key + " is not a string");
}

int64_t Spec::Int(const std::string& key) const {
  FieldOrThrow(key);
  const nlohmann::json& v = values_.at(key);
  if (!v.is_number()) throw std::logic_error("spec key " + key + " is not a number");
  return v.get<int64_t>();
}

double Spec::Float(const std::string& key) const {
  FieldOrThrow(key);
  const nlohmann::json& v = values_.at(key);
  if (!v.is_number()) throw std::logic_error("spec key " + key + " is not a number");
  return v.get<double>();
}

bool Spec::Bool(const std::string& key) const {
  FieldOrThrow(key);
  const nlohmann::json& v = values_.at(key);
  if (!v.is_boolean()) throw std::logic_error("spec key " + key + " is not a bool");
  return v.get<bool>();
}

std::vector<std::string> Spec::List(const std::string& key) const {
  FieldOrThrow(key);
  const nlohmann::json& v = values_.at(key);
  std::vector<std::string> out;
  if (!v.is_array()) throw std::logic_error("spec key " + key + " is not a list");
  for (const nlohmann::json& e : v) out.push_back(e.is_string() ? e.get<std::string>() : e.dump());
  return out;
}

const nlohmann::json& Spec::Json(const std::string& key) const {
  FieldOrThrow(key);
  return values_.at(key);
}

bool Spec::IsSet(const std::string& key) const {
  FieldOrThrow(key);
  auto it = set_.find(key);
  return it != set_.end() && it->second;
}

void Spec::Set(const std::string& key, const nlohmann::json& value) {
  const SpecField& f = FieldOrThrow(key);
  nlohmann::json v = value;
  if (f.type == FieldType::kFloat && v.is_number()) v = v.get<double>();
  std::string err = Check(f, v);
  if (!err.empty()) throw SetupError(fmt::format("{}: {}", key, err));
  values_[key] = std::move(v);
  set_[key] = true;
  if (key == "autolabel_type") pipeline_ = values_[key].get<std::string>();
}

std::string Spec::ResolvedYaml(bool redact) const {
  std::vector<std::pair<const SpecField*, nlohmann::json>> items;
  for (const SpecField& f : GetSchema().fields) {
    if (!InBlock(f.key, pipeline_)) continue;
    nlohmann::json v = values_.at(f.key);
    if (redact && f.secret && !IsEmptyValue(v)) v = "<redacted>";
    items.emplace_back(&f, std::move(v));
  }
  return "# groundcap resolved spec" + std::string(redact ? " (secrets redacted)" : "") + "\n" +
         EmitNested(items, false);
}

std::string Spec::DefaultYaml(const std::string& pipeline) {
  std::vector<std::pair<const SpecField*, nlohmann::json>> items;
  for (const SpecField& f : GetSchema().fields) {
    if (!InBlock(f.key, pipeline)) continue;
    items.emplace_back(&f, f.key == "autolabel_type" ? nlohmann::json(pipeline) : DefaultValue(f));
  }
  return fmt::format(
             "# groundcap default spec for {}.\n"
             "# Run: groundcap generate -e spec.yaml [key=value ...]; every key can be\n"
             "# overridden in dot notation, e.g. {}.workflow.max_workers=16.\n",
             pipeline, pipeline) +
         EmitNested(items, true);
}

SpecField MakeField(std::string key, FieldType type, std::string default_yaml, std::string help,
                    double min, double max) {
  SpecField f;
  f.key = std::move(key);
  f.type = type;
  f.default_yaml = std::move(default_yaml);
  f.help = std::move(help);
  f.min = min;
  f.max = max;
  return f;
}

nlohmann::json YamlToJson(const std::string& yaml, const std::string& origin) {
  YAML::Node root = ParseYaml(yaml, origin);
  ExpansionBudget budget;
  try {
    return AnyToJson(root, budget, 0);
  } catch (const LimitExceeded& e) {
    throw SetupError(fmt::format("{}: {}", origin, e.what()));
  }
}

}  // namespace groundcap
