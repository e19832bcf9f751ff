// The verification protocol: the prompt lines the simulated teacher reads,
// the strict schema, and the replies read back.
#include "verify/verify_step.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace groundcap
