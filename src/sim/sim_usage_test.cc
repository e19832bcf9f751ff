#include "sim/sim_usage.h"

#include "image/image_header.h"

#include <gtest/gtest.h>

#include "image/image.h"

namespace groundcap {
namespace {

TEST(SimUsage, ReadsSizesFromJpegAndPngHeaders) {
  for (const char* format : {"jpeg", "png"}) {
    Result<std::string> bytes = EncodeImage(RgbImage::Filled(123, 45, 9), format, 90);
    ASSERT_TRUE(bytes.has_value());
    EXPECT_EQ(EncodedImageSize(*bytes), (Size{123, 45})) << format;
  }
  EXPECT_EQ(EncodedImageSize("not an image"), (Size{0, 0}));
  EXPECT_EQ(EncodedImageSize(std::string("\xFF\xD8\xFF", 3)), (Size{0, 0})) << "truncated";
}

TEST(SimUsage, PromptTokensFollowTheModelRule) {
  SimRequest req;
  req.api = "openai";
  req.model = "Qwen/Qwen2.5-VL-7B-Instruct";
  req.prompt = std::string(10, 'x');  // ceil(10/4) = 3
  req.images.push_back(EncodeImage(RgbImage::Filled(640, 480, 9), "jpeg", 90).value());
  EXPECT_EQ(SimPromptTokens(req), 3 + 391);  // 640x480: 23*17 cells of 28 px
  req.api = "gemini";
  req.model = "gemini-3-flash";
  req.body = {{"generationConfig", {{"mediaResolution", "MEDIA_RESOLUTION_LOW"}}}};
  EXPECT_EQ(SimPromptTokens(req), 3 + 280);
}

}  // namespace
}  // namespace groundcap
