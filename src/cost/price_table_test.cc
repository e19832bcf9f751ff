#include "cost/price_table.h"

#include <gtest/gtest.h>

#include "spec/spec.h"
#include "util/error.h"

namespace groundcap {
namespace {

TEST(PriceTable, BuiltinKnowsTheGeminiGaModelsAndNothingSelfHosted) {
  const PriceTable t = PriceTable::Builtin();
  EXPECT_EQ(t.currency(), "USD");
  for (const char* m : {"gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite"}) {
    std::optional<ModelPrice> p = t.Find(m);
    ASSERT_TRUE(p) << m;
    EXPECT_GT(p->input_per_million, 0);
    EXPECT_GT(p->output_per_million, p->input_per_million);
    EXPECT_FALSE(p->date.empty());
  }
  EXPECT_TRUE(t.Find("models/gemini-2.5-flash")) << "a path prefix is ignored";
  EXPECT_FALSE(t.Find("Qwen/Qwen2.5-VL-7B-Instruct")) << "self-hosted: tokens, no price";
}

TEST(PriceTable, BuiltinPricesTheDefaultGeminiModel) {
  // A plan with the defaults must not say "no price": the default model id
  // (teacher config) and the table are kept in step by this test.
  const Spec spec = Spec::FromYaml(
      "autolabel_type: region_caption\nresults_dir: r\nregion_caption:\n  data:\n    input_jsonl: in.jsonl\n", {});
  const std::string model = spec.Str("region_caption.vlm.gemini.model");
  std::optional<ModelPrice> p = PriceTable::Builtin().Find(model);
  ASSERT_TRUE(p) << model << " is the default Gemini model but data/prices.yaml has no price for it";
  EXPECT_GT(p->output_per_million, p->input_per_million);
}

TEST(PriceTable, CostIsPerMillionTokens) {
  ModelPrice p;
  p.input_per_million = 0.30;
  p.output_per_million = 2.50;
  // 1,000,000 in at 0.30 + 200,000 out at 2.50 = 0.30 + 0.50 = 0.80.
  EXPECT_NEAR(CostOf(p, 1000000, 200000), 0.80, 1e-12);
}

TEST(PriceTable, BadFilesNameTheField) {
  try {
    PriceTable::FromYaml("models:\n  m:\n    input_per_million: 1\n    date: \"2026-01-01\"\n", "p.yaml");
    FAIL();
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("p.yaml: models.m.output_per_million"), std::string::npos) << e.what();
  }
  try {
    PriceTable::FromYaml("models:\n  m:\n    input_per_million: 1\n    output_per_million: 2\n", "p.yaml");
    FAIL();
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("models.m.date"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PriceTable::FromYaml("models: [", "p.yaml"), SetupError);
  EXPECT_THROW(PriceTable::Load("/nonexistent/prices.yaml"), SetupError);
}

}  // namespace
}  // namespace groundcap
