// The verification protocol: the prompt lines the simulated teacher reads,
// the strict schema, and the replies read back.
#include "verify/verify_step.h"

#include <gtest/gtest.h>

#include <cmath>

#include "teacher/openai_backend.h"

namespace groundcap {
namespace {

TEST(VerifyPromptTest, OneLinePerCropWithItsBoxAndClaim) {
  std::string p = VerifyPrompt({{{0, 0, 800, 800}, "a red car"}, {{167, 167, 833, 833}, "two\ndogs"}});
  EXPECT_NE(p.find("\nCrop 1: box 0,0,800,800 | a red car\nCrop 2: box 167,167,833,833 | two dogs\n"),
            std::string::npos) << p;
}

TEST(VerifyReplyTest, ParsesShapesAndSchemaIsStrict) {
  auto r = ParseVerifyReply("```json\n{\"answers\": [{\"crop\": \"Crop 3\", \"answer\": true}, "
                            "{\"crop\": 1, \"answer\": \"NO\", \"reason\": \" background \"}, "
                            "{\"crop\": 2, \"answer\": \"maybe\"}]}\n```");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE(r->at(3).yes);
  EXPECT_FALSE(r->at(1).yes);
  EXPECT_EQ(r->at(1).reason, "background");
  EXPECT_FALSE(ParseVerifyReply("{\"answers\": []}"));
  EXPECT_FALSE(ParseVerifyReply("no idea"));
  EXPECT_EQ(StrictSchemaViolations(VerifySchema()), std::vector<std::string>{});
}

TEST(VerifyReplyTest, AnswerProbabilitiesFollowTheAnswerKeys) {
  const auto tok = [](std::string t, double lp, std::vector<std::pair<std::string, double>> top = {}) {
    return TokenLogprob{std::move(t), lp, std::move(top)};
  };
  // {"answers":[{"crop":1,"answer":"yes","reason":"no doubt"},{"crop":2,"answer": "no"}]}
  std::vector<TokenLogprob> tokens = {
      tok("{\"answers\":[{\"crop\":1,\"answer\":\"", 0),
      tok("yes", std::log(0.9), {{"yes", std::log(0.9)}, {"no", std::log(0.05)}}),
      tok("\",\"reason\":\"", 0), tok("no", std::log(0.99)),  // "no" inside a reason: not an answer
      tok(" doubt\"},{\"crop\":2,\"answer\": \"", 0),
      tok("no", std::log(0.7)),  // no alternatives given: P(yes) = 1 - 0.7
      tok("\"}]}", 0)};
  std::vector<double> p = AnswerProbabilities(tokens);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NEAR(p[0], 0.9 / 0.95, 1e-9);
  EXPECT_NEAR(p[1], 0.3, 1e-9);
  EXPECT_TRUE(AnswerProbabilities({}).empty());
  // Positions let a reply's probabilities be matched to its answers.
  auto r = ParseVerifyReply(
      R"({"answers": [{"crop": 2, "answer": "no"}, "junk", {"crop": 3, "answer": true}, {"crop": 1, "answer": "yes"}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at(2).position, 0);
  EXPECT_EQ(r->at(3).position, -1);
  EXPECT_EQ(r->at(1).position, 1);
}

}  // namespace
}  // namespace groundcap
