// Tests of the lenient JSON reader (ParseLenientJson and its helpers).
#include "boxes/json_repair.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "boxes/box_format.h"

namespace groundcap {
namespace {

nlohmann::json Lenient(std::string_view text, std::vector<std::string>* repairs = nullptr) {
  auto j = ParseLenientJson(text, repairs);
  EXPECT_TRUE(j.has_value()) << text << ": " << (j ? "" : j.error().message);
  return j ? *j : nlohmann::json();
}

bool HasRepair(const std::vector<std::string>& r, std::string_view what) {
  for (const auto& s : r) {
    if (s.find(what) != std::string::npos) return true;
  }
  return false;
}

TEST(JsonRepair, StrictJsonPassesUnchanged) {
  std::vector<std::string> r;
  EXPECT_EQ(Lenient(R"([{"a": 1, "b": [1.5, -2e3, "x\"y"]}])", &r),
            nlohmann::json::parse(R"([{"a": 1, "b": [1.5, -2e3, "x\"y"]}])"));
  EXPECT_TRUE(r.empty());
}

TEST(JsonRepair, MarkdownFenceTakesTheLastJsonBlock) {
  std::vector<std::string> r;
  auto j = Lenient("Draft:\n```json\n[1]\n```\nFinal:\n```JSON\n[2, 3]\n```\nThanks", &r);
  EXPECT_EQ(j, nlohmann::json({2, 3}));
  EXPECT_TRUE(HasRepair(r, "markdown fence"));
  // An unclosed fence (truncated reply) runs to the end.
  EXPECT_EQ(Lenient("```json\n{\"k\": true}"), nlohmann::json({{"k", true}}));
}

TEST(JsonRepair, ProseAndThinkingAroundTheJson) {
  std::vector<std::string> r;
  auto j = Lenient("<think>maybe [1, 2]?</think>Sure! Here is the list: [{\"x\": 1}] Hope this helps.", &r);
  EXPECT_EQ(j, nlohmann::json::parse(R"([{"x": 1}])"));
  EXPECT_TRUE(HasRepair(r, "reasoning"));
  EXPECT_TRUE(HasRepair(r, "text around"));
  // Bracketed prose before the data ranks below real data.
  EXPECT_EQ(Lenient("The [target] objects are: [[1, 2, 3, 4]]"), nlohmann::json::parse("[[1,2,3,4]]"));
}

TEST(JsonRepair, PythonLiteralsAndSingleQuotes) {
  std::vector<std::string> r;
  auto j = Lenient(R"([{'bbox_2d': [10, 20, 110, 120], 'label': 'it\'s a "cat"', 'ok': True, 'x': None}])", &r);
  EXPECT_EQ(j[0]["label"], "it's a \"cat\"");
  EXPECT_EQ(j[0]["ok"], true);
  EXPECT_TRUE(j[0]["x"].is_null());
  EXPECT_TRUE(HasRepair(r, "single quotes"));
  EXPECT_TRUE(HasRepair(r, "Python literals"));
}

TEST(JsonRepair, TrailingExtraAndMissingCommas) {
  std::vector<std::string> r;
  EXPECT_EQ(Lenient("[{\"a\": 1,}, {\"a\": 2},,]", &r), nlohmann::json::parse(R"([{"a":1},{"a":2}])"));
  EXPECT_TRUE(HasRepair(r, "trailing comma"));
  r.clear();
  EXPECT_EQ(Lenient("[{\"a\": 1} {\"a\": 2}]", &r), nlohmann::json::parse(R"([{"a":1},{"a":2}])"));
  EXPECT_TRUE(HasRepair(r, "missing comma"));
}

TEST(JsonRepair, UnquotedKeysCommentsTuplesNumbers) {
  auto j = Lenient("{bbox: (1, 2, 3, 4), // a comment\n score: .5, n: +3, big: 1e2}");
  EXPECT_EQ(j["bbox"], nlohmann::json({1, 2, 3, 4}));
  EXPECT_DOUBLE_EQ(j["score"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["n"].get<double>(), 3);
  EXPECT_DOUBLE_EQ(j["big"].get<double>(), 100);
}

TEST(JsonRepair, UnwrapsJsonEncodedAsAString) {
  std::vector<std::string> r;
  EXPECT_EQ(Lenient(R"("[{\"bbox\": [1, 2, 3, 4]}]")", &r), nlohmann::json::parse(R"([{"bbox": [1, 2, 3, 4]}])"));
  EXPECT_TRUE(HasRepair(r, "encoded as a string"));
}

TEST(JsonRepair, NanAndInfinityBecomeNull) {
  std::vector<std::string> r;
  auto j = Lenient("[NaN, Infinity, -Infinity, 1e999, 4]", &r);
  ASSERT_EQ(j.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(j[i].is_null()) << i;
  EXPECT_EQ(j[4], 4);
  EXPECT_TRUE(HasRepair(r, "NaN"));
}

TEST(JsonRepair, TruncationSalvagesCompleteLeadingElements) {
  std::vector<std::string> r;
  auto j = Lenient(R"([{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7, 8], "label": "b"}, {"bbox_2d": [30, 40, 2)",
                   &r);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["label"], "b");
  EXPECT_TRUE(HasRepair(r, "kept 2 complete leading elements"));
  // A truncated label does not leak a half element.
  auto k = Lenient(R"({"objects": [{"box": [1, 2, 3, 4]}, {"box": [5, 6, 7, 8], "label": "ca)");
  ASSERT_EQ(k["objects"].size(), 1u);
  // A number cut at the end is not trusted.
  EXPECT_EQ(Lenient("[[1, 2, 3, 4], [5, 6, 7, 8"), nlohmann::json::parse("[[1,2,3,4]]"));
}

TEST(JsonRepair, NothingSalvageableIsAnError) {
  auto j = ParseLenientJson(R"([{"box_2d": [10, 20, )");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().kind, ErrorKind::kParse);
  EXPECT_NE(j.error().message.find("truncated"), std::string::npos);
  EXPECT_FALSE(ParseLenientJson("no json here at all").has_value());
  EXPECT_FALSE(ParseLenientJson("").has_value());
}

TEST(JsonRepair, MismatchedClosersAndControlCharacters) {
  EXPECT_EQ(Lenient("[{\"a\": [1, 2}]"), nlohmann::json::parse(R"([{"a":[1,2]}])"));
  auto j = Lenient("[\"line\nbreak\", \"bad\xff\"]");
  EXPECT_EQ(j[0], "line\nbreak");
  EXPECT_EQ(j[1], "bad?");
}

TEST(JsonRepair, DepthIsBounded) {
  std::string deep(200, '[');
  EXPECT_FALSE(ParseLenientJson(deep + "1" + std::string(200, ']')).has_value());
  std::string ok(30, '[');
  EXPECT_TRUE(ParseLenientJson(ok + "1" + std::string(30, ']')).has_value());
}

TEST(JsonRepair, StripReasoningVariants) {
  bool unclosed = false;
  EXPECT_EQ(StripReasoning("<think>a</think>b<think>c</think>d", &unclosed), "d");
  EXPECT_FALSE(unclosed);
  EXPECT_EQ(StripReasoning("only close</think> answer"), " answer");
  EXPECT_EQ(StripReasoning("x <think> never closed", &unclosed), "x ");
  EXPECT_TRUE(unclosed);
  EXPECT_EQ(StripReasoning("<think>t</think><answer>A</answer> tail"), "A");
}

TEST(JsonRepair, ReplaceInvalidUtf8) {
  EXPECT_EQ(ReplaceInvalidUtf8("caf\xc3\xa9 \xff\xfe ok"), "caf\xc3\xa9 ?? ok");
  EXPECT_EQ(ReplaceInvalidUtf8("cut \xe2\x82"), "cut ??");
}

TEST(JsonRepair, SaysNothingFound) {
  EXPECT_TRUE(SaysNothingFound("No objects found."));
  EXPECT_TRUE(SaysNothingFound("None"));
  EXPECT_TRUE(SaysNothingFound("I'm sorry, I can't help with that."));
  EXPECT_FALSE(SaysNothingFound("The cat is on the left."));
}

}  // namespace
}  // namespace groundcap
