#include "spec/spec.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "util/error.h"

namespace groundcap {
namespace {

const char* kBase =
    "results_dir: /tmp/out\n"
    "autolabel_type: image_grounding\n"
    "image_grounding:\n"
    "  data:\n"
    "    input_jsonl: /tmp/in.jsonl\n";

std::string ErrorOf(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    Spec::FromYaml(yaml, overrides, "spec.yaml");
  } catch (const SetupError& e) {
    return e.what();
  }
  return "";
}

TEST(SpecTest, LoadsValuesAndDefaults) {
  Spec s = Spec::FromYaml(kBase, {});
  EXPECT_EQ(s.pipeline(), "image_grounding");
  EXPECT_EQ(s.Str("results_dir"), "/tmp/out");
  EXPECT_EQ(s.Str("image_grounding.data.input_jsonl"), "/tmp/in.jsonl");
  EXPECT_EQ(s.Int("image_grounding.workflow.max_workers"), 4);
  EXPECT_FALSE(s.Bool("image_grounding.workflow.force_reprocess"));
  EXPECT_TRUE(s.IsSet("results_dir"));
  EXPECT_FALSE(s.IsSet("image_grounding.workflow.max_workers"));
  EXPECT_THROW(s.Str("no.such.key"), std::logic_error);
}

TEST(SpecTest, OverridesUseYamlValues) {
  Spec s = Spec::FromYaml(kBase, {"image_grounding.workflow.max_workers=16", "results_dir=/x",
                                  "image_grounding.workflow.retry_failed=true"});
  EXPECT_EQ(s.Int("image_grounding.workflow.max_workers"), 16);
  EXPECT_EQ(s.Str("results_dir"), "/x");
  EXPECT_TRUE(s.Bool("image_grounding.workflow.retry_failed"));
  EXPECT_TRUE(s.IsSet("image_grounding.workflow.max_workers"));
}

TEST(SpecTest, ListOverride) {
  // Any kStringList field will do; find one via the default spec text.
  Spec s = Spec::FromYaml(kBase, {});
  std::string list_key;
  for (const char* k : {"image_grounding.workflow.steps"}) {
    try {
      s.List(k);
      list_key = k;
    } catch (const std::logic_error&) {
    }
  }
  if (list_key.empty()) GTEST_SKIP() << "workflow.steps not declared yet";
  Spec o = Spec::FromYaml(kBase, {list_key + "=[\"0\"]"});
  EXPECT_EQ(o.List(list_key), std::vector<std::string>{"0"});
  Spec o2 = Spec::FromYaml(kBase, {list_key + "=[0, 1]"});
  EXPECT_EQ(o2.List(list_key), (std::vector<std::string>{"0", "1"}));
}

TEST(SpecTest, UnknownKeySuggestsClosest) {
  std::string e = ErrorOf(std::string(kBase) + "  workflow:\n    max_worker: 3\n");
  EXPECT_NE(e.find("spec.yaml:7"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'image_grounding.workflow.max_worker'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'image_grounding.workflow.max_workers'"), std::string::npos) << e;
  e = ErrorOf(kBase, {"image_grounding.workflow.max_wrkers=3"});
  EXPECT_NE(e.find("did you mean 'image_grounding.workflow.max_workers'"), std::string::npos) << e;
}

TEST(SpecTest, BadTypeNamesFileLineKey) {
  std::string e = ErrorOf(std::string(kBase) + "  workflow:\n    max_workers: many\n");
  EXPECT_NE(e.find("spec.yaml:7: image_grounding.workflow.max_workers: expected an integer, got 'many'"),
            std::string::npos)
      << e;
  e = ErrorOf(kBase, {"image_grounding.workflow.force_reprocess=perhaps"});
  EXPECT_NE(e.find("expected true or false"), std::string::npos) << e;
}

TEST(SpecTest, RangeAndChoices) {
  EXPECT_NE(ErrorOf(kBase, {"image_grounding.workflow.max_workers=0"}).find("out of range"), std::string::npos);
  EXPECT_NE(ErrorOf(kBase, {"autolabel_type=mal"}).find("'mal' is not one of"), std::string::npos);
}

TEST(SpecTest, MissingRequiredField) {
  std::string e = ErrorOf("results_dir: /tmp/out\nautolabel_type: image_grounding\n");
  EXPECT_NE(e.find("missing required field 'image_grounding.data.input_jsonl'"), std::string::npos) << e;
  // Only the active pipeline's required fields are checked.
  EXPECT_EQ(ErrorOf(kBase), "");
  e = ErrorOf(kBase, {"results_dir="});
  EXPECT_NE(e.find("missing required field 'results_dir'"), std::string::npos) << e;
}

TEST(SpecTest, AcceptsTaoTopLevelKeys) {
  EXPECT_EQ(ErrorOf(std::string(kBase) + "gpu_ids: [0, 1]\nnum_gpus: 2\nbatch_size: 4\nnum_workers: 8\n"), "");
}

TEST(SpecTest, InvalidYamlHasLine) {
  std::string e = ErrorOf("results_dir: [unclosed\n");
  EXPECT_NE(e.find("spec.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
}

TEST(SpecTest, ResolvedYamlRoundTripsAndRedacts) {
  Spec s = Spec::FromYaml(kBase, {"image_grounding.workflow.max_workers=7"});
  std::string y = s.ResolvedYaml(true);
  Spec again = Spec::FromYaml(y, {}, "resolved");
  EXPECT_EQ(again.Int("image_grounding.workflow.max_workers"), 7);
  EXPECT_EQ(again.Str("image_grounding.data.input_jsonl"), "/tmp/in.jsonl");
  // Secrets: any field marked secret is redacted when non-empty.
  const std::string key = "image_grounding.vlm.gemini.api_key";
  Spec k = Spec::FromYaml(kBase, {key + "=sk-very-secret"});
  EXPECT_EQ(k.ResolvedYaml(true).find("sk-very-secret"), std::string::npos);
  EXPECT_NE(k.ResolvedYaml(false).find("sk-very-secret"), std::string::npos);
}

TEST(SpecTest, DefaultYamlIsCompleteAndLoadable) {
  for (const char* p : {kImageGrounding, kRegionCaption}) {
    std::string y = Spec::DefaultYaml(p);
    EXPECT_NE(y.find("max_workers: 4"), std::string::npos);
    EXPECT_NE(y.find("# "), std::string::npos);
    Spec s = Spec::FromYaml(y, {"results_dir=/r", std::string(p) + ".data.input_jsonl=/i"}, "default");
    EXPECT_EQ(s.pipeline(), p);
  }
}

/// Keys that occur twice in one mapping, anywhere in `node`, as "path.key".
/// yaml-cpp keeps both copies when iterating, so this is a strict reading.
void DuplicateKeys(const YAML::Node& node, const std::string& path, std::vector<std::string>* out) {
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!seen.insert(key).second) out->push_back(path + key);
    DuplicateKeys(kv.second, path + key + ".", out);
  }
}

// Regression (issue 14.7): default_specs wrote `workflow:`, `data:` and
// `vlm:` twice inside one pipeline block; PyYAML keeps the last copy only.
TEST(SpecTest, PrintedSpecsNeverRepeatAKey) {
  for (const char* p : {kImageGrounding, kRegionCaption}) {
    SCOPED_TRACE(p);
    std::vector<std::string> dups;
    DuplicateKeys(YAML::Load(Spec::DefaultYaml(p)), "", &dups);
    EXPECT_EQ(dups, std::vector<std::string>{});
    Spec s = Spec::FromYaml(Spec::DefaultYaml(p), {"results_dir=/r", std::string(p) + ".data.input_jsonl=/i"});
    dups.clear();
    DuplicateKeys(YAML::Load(s.ResolvedYaml()), "", &dups);
    EXPECT_EQ(dups, std::vector<std::string>{});
    // Top-level keys first, as written in TAO's specs.
    EXPECT_EQ(Spec::DefaultYaml(p).find("\nresults_dir:") < Spec::DefaultYaml(p).find("\n" + std::string(p) + ":"), true);
  }
}

TEST(SpecTest, ComplexYamlKeysAreSetupErrorsOrText) {
  EXPECT_THROW(Spec::FromYaml(std::string(kBase) + "? [a, b]\n: 1\n", {}), SetupError);
  Spec s = Spec::FromYaml(std::string(kBase) + "gpu_ids: {[0, 1]: x}\n", {});  // ignored TAO key
  EXPECT_TRUE(s.Json("gpu_ids").is_object());
}

TEST(SpecTest, SetValidates) {
  Spec s = Spec::FromYaml(kBase, {});
  s.Set("image_grounding.workflow.max_workers", 9);
  EXPECT_EQ(s.Int("image_grounding.workflow.max_workers"), 9);
  EXPECT_THROW(s.Set("image_grounding.workflow.max_workers", "x"), SetupError);
}

}  // namespace
}  // namespace groundcap
