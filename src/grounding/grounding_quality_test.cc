// The cheap grounding checks: each one with a record that trips it and one
// that must not (light caption cleaning, legitimate repeats).
#include "grounding/grounding_quality.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace groundcap {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::string> Names(const std::vector<QualityFlag>& flags) {
  std::vector<std::string> names;
  for (const QualityFlag& f : flags) names.push_back(f.name);
  return names;
}

Json Step0(const std::string& caption, const std::string& cleaned, Json expressions) {
  return Json{{"caption", caption}, {"cleaned_caption", cleaned}, {"expressions", expressions},
              {"image_width", 1000}, {"image_height", 500}};
}

Json Expr(const std::string& text, Json span, Json boxes = Json::array()) {
  Json instances = Json::array();
  for (const auto& b : boxes) instances.push_back({{"bbox", b}, {"score", 0.9}});
  return {{"text", text}, {"char_span", span}, {"instances", instances}};
}

TEST(GroundingQualityTest, LightCleaningPassesARewriteIsFlagged) {
  GroundingQuality q;
  Json ok = Step0("in this image we can see a dog", "A dog.", Json::array({Expr("A dog", {0, 5})}));
  EXPECT_EQ(Names(ReviewGrounding(ok, q, false)), std::vector<std::string>{});
  Json plural = Step0("there are two dogs on the grass", "Two dogs on the grass.",
                      Json::array({Expr("Two dogs", {0, 8})}));
  EXPECT_EQ(Names(ReviewGrounding(plural, q, false)), std::vector<std::string>{});
  Json rewritten = Step0("a dog on the grass", "A man rides a bicycle past a red building.",
                         Json::array({Expr("A man", {0, 5})}));
  std::vector<QualityFlag> flags = ReviewGrounding(rewritten, q, false);
  ASSERT_EQ(Names(flags), std::vector<std::string>{"caption_rewritten"});
  EXPECT_TRUE(flags[0].blocking);
  EXPECT_EQ(flags[0].item, -1);
  EXPECT_NE(flags[0].detail.find("0.00"), std::string::npos) << flags[0].detail;
  // CJK: each character is a word.
  Json cjk = Step0("图中有一只猫", "一只猫。", Json::array({Expr("一只猫", {0, 3})}));
  EXPECT_EQ(Names(ReviewGrounding(cjk, q, false)), std::vector<std::string>{});
}

TEST(GroundingQualityTest, MissingSpansNoExpressionsAndDuplicates) {
  GroundingQuality q;
  Json record = Step0("a cat and a cat", "A cat and a cat.",
                      Json::array({Expr("A cat", {0, 5}), Expr("a cat", {11, 16}),
                                   Expr("a cat", {11, 16}), Expr("a unicorn", nullptr)}));
  std::vector<QualityFlag> flags = ReviewGrounding(record, q, false);
  ASSERT_EQ(Names(flags), (std::vector<std::string>{"duplicate_expression", "span_not_found"}));
  EXPECT_EQ(flags[0].item, 2);  // same text and span as 1; 0 has another span
  EXPECT_FALSE(flags[0].blocking);
  EXPECT_EQ(flags[1].item, 3);
  EXPECT_TRUE(flags[1].blocking);

  EXPECT_EQ(Names(ReviewGrounding(Step0("an empty wall", "An empty wall.", Json::array()), q, false)),
            std::vector<std::string>{"no_expressions"});
  // A caption naming nothing may yield nothing.
  EXPECT_EQ(Names(ReviewGrounding(Step0("in this image", "", Json::array()), q, false)),
            std::vector<std::string>{});
}

TEST(GroundingQualityTest, BoxChecksTripOnlyOnDoubtfulBoxes) {
  GroundingQuality q;
  Json good = Step0("two dogs and a ball", "Two dogs and a ball.",
                    Json::array({Expr("Two dogs", {0, 8}, Json::array({{10, 10, 200, 200}, {300, 10, 500, 200}})),
                                 Expr("a ball", {13, 19}, Json::array({{600, 300, 650, 350}}))}));
  EXPECT_EQ(Names(ReviewGrounding(good, q, true)), std::vector<std::string>{});
  // The step-0 checks only when boxes are not asked for.
  Json bad = Step0("two dogs, a ball, a cat and a tree", "Two dogs, a ball, a cat and a tree.",
                   Json::array({Expr("Two dogs", {0, 8},
                                     Json::array({{0, 0, 1000, 500}, {10, 10, 20, 20}, {1, 1, 2, 2}})),
                                Expr("a ball", {10, 16}, Json::array({{10, 10, 20, 20}})),
                                Expr("a cat", {18, 23}, Json::array({{10, 10, 20, 20}})),
                                Expr("a tree", {28, 34}, Json::array({{700, 0, 900, 400}}))}));
  EXPECT_EQ(Names(ReviewGrounding(bad, q, false)), std::vector<std::string>{});
  std::vector<std::string> names = Names(ReviewGrounding(bad, q, true));
  EXPECT_EQ(names, (std::vector<std::string>{"box_covers_image", "tiny_box", "count_exceeded",
                                             "identical_boxes"}));
  // Two expressions on one box (a man / the person) are not flagged.
  Json same = Step0("a man, the person in red", "A man, the person in red.",
                    Json::array({Expr("A man", {0, 5}, Json::array({{10, 10, 200, 400}})),
                                 Expr("the person in red", {7, 24}, Json::array({{10, 10, 200, 400}}))}));
  EXPECT_EQ(Names(ReviewGrounding(same, q, true)), std::vector<std::string>{});
  // What blocks is configurable.
  q.blocking = {"tiny_box"};
  for (const QualityFlag& f : ReviewGrounding(bad, q, true)) EXPECT_EQ(f.blocking, f.name == "tiny_box");
}

TEST(GroundingQualityTest, StatedCountsAndContentWords) {
  EXPECT_EQ(StatedCount("two dogs"), 2);
  EXPECT_EQ(StatedCount("3 red cars"), 3);
  EXPECT_EQ(StatedCount("both cups"), 2);
  EXPECT_EQ(StatedCount("one of the dogs"), 1);
  EXPECT_EQ(StatedCount("a dog"), 0);
  EXPECT_EQ(StatedCount("the someone"), 0);  // "one" inside a word is not a count
  EXPECT_EQ(StatedCount("a 2024 calendar"), 0);
  EXPECT_EQ(ContentWords("In this image we can see two Dogs, a glass."),
            (std::vector<std::string>{"two", "dog", "glass"}));
  EXPECT_EQ(ContentWords("Café au lait"), (std::vector<std::string>{"café", "au", "lait"}));
}

}  // namespace
}  // namespace groundcap
