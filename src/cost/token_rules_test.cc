// Golden values computed by hand from the published formulas (the arithmetic
// is in the comments), so these tests check the rules, not the code against
// itself. Sources: docs/formats.md "Token estimates".
#include "cost/token_rules.h"

#include <gtest/gtest.h>

namespace groundcap {
namespace {

TEST(TokenRules, Qwen25VlSmartResizeThen28PxCells) {
  // 640x480: w 640/28 = 22.86 -> 23 -> 644; h 480/28 = 17.14 -> 17 -> 476;
  // 644*476 = 306544 in [3136, 12845056]; tokens 23*17 = 391.
  EXPECT_EQ(Qwen25VlImageTokens({640, 480}), 391);
  // 1000x1000: 1000/28 = 35.71 -> 36; 36*36 = 1296.
  EXPECT_EQ(Qwen25VlImageTokens({1000, 1000}), 1296);
  // 30x20: rounds to 28x28 = 784 < 3136 -> beta = sqrt(3136/600) = 2.286;
  // h = ceil(20*2.286/28 = 1.63) = 2, w = ceil(30*2.286/28 = 2.45) = 3; 6.
  EXPECT_EQ(Qwen25VlImageTokens({30, 20}), 6);
  // 4000x3000 under the processor default max 12845056: 143*28 x 107*28 =
  // 4004*2996 = 11995984 fits; 143*107 = 15301.
  EXPECT_EQ(Qwen25VlImageTokens({4000, 3000}), 15301);
  // ... and under max_pixels 1280*28*28 = 1003520: beta = sqrt(12e6/1003520)
  // = 3.458; h = floor(3000/3.458/28 = 30.98) = 30, w = floor(4000/3.458/28
  // = 41.31) = 41; 30*41 = 1230.
  EXPECT_EQ(Qwen25VlImageTokens({4000, 3000}, 3136, 1003520), 1230);
}

TEST(TokenRules, Qwen3VlUses32PxCells) {
  // 640x480: 20 x 15 cells of 32 px, 307200 >= 65536; 300.
  EXPECT_EQ(Qwen3VlImageTokens({640, 480}), 300);
  // 1920x1080: w 60 cells; h 1080/32 = 33.75 -> 34; 60*34 = 2040.
  EXPECT_EQ(Qwen3VlImageTokens({1920, 1080}), 2040);
  // 150x100: rounds to 160x96 = 15360 < 65536 -> beta = sqrt(65536/15000) =
  // 2.090; h = ceil(100*2.090/32 = 6.53) = 7, w = ceil(150*2.090/32 = 9.80)
  // = 10; 70.
  EXPECT_EQ(Qwen3VlImageTokens({150, 100}), 70);
}

TEST(TokenRules, Gemini2CountsTilesOf768) {
  EXPECT_EQ(Gemini2ImageTokens({384, 384}), 258);    // both sides <= 384: one image
  EXPECT_EQ(Gemini2ImageTokens({385, 200}), 258);    // 1 x 1 tile
  EXPECT_EQ(Gemini2ImageTokens({1024, 768}), 516);   // ceil(1024/768)=2 x 1 = 2 tiles * 258
  EXPECT_EQ(Gemini2ImageTokens({1920, 1080}), 1548); // 3 x 2 = 6 tiles * 258
}

TEST(TokenRules, Gemini3FixedCountPerMediaResolution) {
  EXPECT_EQ(Gemini3ImageTokens("MEDIA_RESOLUTION_LOW"), 280);
  EXPECT_EQ(Gemini3ImageTokens("MEDIA_RESOLUTION_MEDIUM"), 560);
  EXPECT_EQ(Gemini3ImageTokens("MEDIA_RESOLUTION_HIGH"), 1120);
  EXPECT_EQ(Gemini3ImageTokens(""), 1120) << "images default to high";
  EXPECT_EQ(Gemini3ImageTokens("MEDIA_RESOLUTION_UNSPECIFIED"), 1120);
  EXPECT_EQ(ImageTokens(ImageTokenRule::kGemini3, {4000, 3000}, "MEDIA_RESOLUTION_LOW"), 280)
      << "the size does not matter";
}

TEST(TokenRules, OpenAiTiles) {
  // 1024x1024: shortest side 1024 -> 768x768; 2x2 tiles; 85 + 4*170 = 765.
  EXPECT_EQ(OpenAiTileImageTokens({1024, 1024}), 765);
  // 2048x4096: fit 2048 -> 1024x2048; shortest 768 -> 768x1536; 2x3 = 6
  // tiles; 85 + 6*170 = 1105.
  EXPECT_EQ(OpenAiTileImageTokens({2048, 4096}), 1105);
  EXPECT_EQ(OpenAiTileImageTokens({512, 512}), 255);  // 1 tile, no scaling up
  EXPECT_EQ(OpenAiTileImageTokens({4000, 3000}, "low"), 85);
}

TEST(TokenRules, TextIsOneTokenPerFourBytesRoundedUp) {
  EXPECT_EQ(TextTokens(0), 0);
  EXPECT_EQ(TextTokens(1), 1);
  EXPECT_EQ(TextTokens(4), 1);
  EXPECT_EQ(TextTokens(5), 2);
  EXPECT_EQ(TextTokens(400), 100);
}

TEST(TokenRules, RuleForModelNames) {
  bool assumed = true;
  EXPECT_EQ(ImageTokenRuleFor("Qwen/Qwen2.5-VL-7B-Instruct", "openai", &assumed), ImageTokenRule::kQwen25Vl);
  EXPECT_FALSE(assumed);
  EXPECT_EQ(ImageTokenRuleFor("Qwen/Qwen3-VL-8B-Instruct", "openai", &assumed), ImageTokenRule::kQwen3Vl);
  EXPECT_EQ(ImageTokenRuleFor("gemini-2.5-flash", "gemini", &assumed), ImageTokenRule::kGemini2);
  EXPECT_EQ(ImageTokenRuleFor("gemini-3-flash", "gemini", &assumed), ImageTokenRule::kGemini3);
  EXPECT_EQ(ImageTokenRuleFor("gpt-4o-mini", "openai", &assumed), ImageTokenRule::kOpenAiTiles);
  EXPECT_FALSE(assumed);
  EXPECT_EQ(ImageTokenRuleFor("my-finetune", "openai", &assumed), ImageTokenRule::kQwen25Vl);
  EXPECT_TRUE(assumed) << "an unknown model's rule is a guess and says so";
}

}  // namespace
}  // namespace groundcap
