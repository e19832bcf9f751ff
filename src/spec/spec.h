// The run specification: a TAO-compatible YAML file plus dot-notation
// overrides, validated against one schema before any work starts.
//
// The schema is assembled from per-module field lists (each module declares
// the keys it reads, with type, default and help), so `default_specs`,
// validation, unknown-key suggestions and the typed getters share one source
// of truth. Values are held by full dotted key ("image_grounding.vlm.backend").
#ifndef GROUNDCAP_SPEC_H_
#define GROUNDCAP_SPEC_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace groundcap {

enum class FieldType { kString, kInt, kFloat, kBool, kStringList, kObject };

/// One spec key. `key` is relative to the block the list is mounted under.
struct SpecField {
  std::string key;            ///< e.g. "workflow.max_workers"
  FieldType type;
  std::string default_yaml;   ///< default as YAML text ("4", "\"gemini\"", "[\"0\", \"1\"]")
  std::string help;           ///< one line, printed as a comment by default_specs
  bool required = false;      ///< must be non-empty for the active pipeline
  bool secret = false;        ///< redacted in saved specs and logs
  std::vector<std::string> choices;  ///< allowed values for strings (empty = any)
  double min = -1e300;        ///< numeric lower bound
  double max = 1e300;         ///< numeric upper bound
};

/// Builds a field; set `required`, `secret` or `choices` on the result.
SpecField MakeField(std::string key, FieldType type, std::string default_yaml, std::string help,
                    double min = -1e300, double max = 1e300);

// Field lists, each provided by the module that reads them. Keys are
// relative to a pipeline block ("image_grounding." or "region_caption."):
// Workflow, Teacher and ImagePrep lists are mounted under both blocks,
// Grounding only under image_grounding., RegionCaption only under
// region_caption. Top-level keys (results_dir, autolabel_type and TAO's
// ignored gpu_ids/num_gpus/batch_size/num_workers) belong to spec.cc.
std::vector<SpecField> WorkflowSpecFields();       ///< step_runner.cc: workflow.*, data.*
std::vector<SpecField> TeacherSpecFields();        ///< teacher_config.cc: vlm.*
std::vector<SpecField> ImagePrepSpecFields();      ///< image_spec.cc: image.*
std::vector<SpecField> GroundingSpecFields();      ///< grounding_*.cc: image_grounding-only keys
std::vector<SpecField> RegionCaptionSpecFields();  ///< region_caption*.cc: region_caption-only keys
std::vector<SpecField> CostSpecFields();           ///< cost/cost_spec.cc: workflow.budget.*, workflow.price_table

/// Pipeline names accepted in `autolabel_type`.
inline constexpr const char* kImageGrounding = "image_grounding";
inline constexpr const char* kRegionCaption = "region_caption";

/// A validated spec. Getters take full dotted keys and never fail for keys
/// in the schema (values were type-checked at load); an unknown key is a
/// programming error and throws std::logic_error.
class Spec {
 public:
  /// Loads `path` (may be empty: defaults only), applies `overrides`
  /// ("a.b=c", values parsed as YAML, so lists work: steps=["0"]) and
  /// validates. Throws SetupError naming the file, line and key, and for an
  /// unknown key the closest valid one.
  static Spec Load(const std::string& path, const std::vector<std::string>& overrides);
  /// Same from YAML text (tests); `origin` names it in errors.
  static Spec FromYaml(const std::string& yaml, const std::vector<std::string>& overrides,
                       const std::string& origin = "<spec>");

  /// The active pipeline (autolabel_type).
  const std::string& pipeline() const { return pipeline_; }

  std::string Str(const std::string& key) const;
  int64_t Int(const std::string& key) const;
  double Float(const std::string& key) const;
  bool Bool(const std::string& key) const;
  std::vector<std::string> List(const std::string& key) const;
  const nlohmann::json& Json(const std::string& key) const;
  /// True when the key was given in the file or an override (not defaulted).
  bool IsSet(const std::string& key) const;
  /// Sets a value after load (e.g. `demo` filling paths); validated.
  void Set(const std::string& key, const nlohmann::json& value);

  /// The resolved spec as a nested YAML document, secrets replaced by
  /// "<redacted>" when `redact` is true. Saved to results_dir/spec.yaml.
  std::string ResolvedYaml(bool redact = true) const;
  /// The full commented default spec for one pipeline (default_specs).
  static std::string DefaultYaml(const std::string& pipeline);

 private:
  std::string pipeline_;
  std::map<std::string, nlohmann::json> values_;
  std::map<std::string, bool> set_;
};

/// Parses a YAML document that is not a spec (the price table) into JSON,
/// under the same expansion limits as specs. Throws SetupError naming
/// `origin` and the line on a syntax error or a limit.
nlohmann::json YamlToJson(const std::string& yaml, const std::string& origin);

}  // namespace groundcap

#endif  // GROUNDCAP_SPEC_H_
