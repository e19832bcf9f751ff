// The cheap region-caption checks: boilerplate, repeats, one caption for all.
#include "region_caption/region_quality.h"

#include <gtest/gtest.h>

namespace groundcap {
namespace {

using Json = nlohmann::ordered_json;

Json Record(const std::vector<std::string>& captions) {
  Json regions = Json::array();
  for (const std::string& c : captions) regions.push_back({{"caption", c}, {"status", "ok"}});
  return {{"regions", regions}};
}

std::vector<std::string> Names(const std::vector<QualityFlag>& flags) {
  std::vector<std::string> names;
  for (const QualityFlag& f : flags) names.push_back(f.name + "@" + std::to_string(f.item));
  return names;
}

TEST(RegionQualityTest, BoilerplateIsFlaggedDescriptionsAreNot) {
  for (const char* c : {"N/A", "Unknown.", "an object", "Region 3", "region [2]",
                        "I'm sorry, I cannot see that region.", "Sorry", "As an AI, I cannot"}) {
    EXPECT_TRUE(IsBoilerplateCaption(c)) << c;
  }
  for (const char* c : {"A red mug on a wooden table.", "An object-shaped lamp", "Unknown Pleasures poster",
                        "Sorry sign in a shop window"}) {
    EXPECT_FALSE(IsBoilerplateCaption(c)) << c;
  }
}

TEST(RegionQualityTest, RepeatsAreListedAndOneCaptionForAllBlocks) {
  const std::set<std::string> blocking = DefaultBlockingRegionFlags();
  EXPECT_EQ(Names(ReviewRegionCaptions(Record({"A white chair.", "A white chair", "A table."}), blocking)),
            (std::vector<std::string>{"repeated_caption@0", "repeated_caption@1"}));
  std::vector<QualityFlag> all =
      ReviewRegionCaptions(Record({"A cat.", "a cat", "A CAT!", "N/A"}), blocking);
  // N/A is not ok content, but it is an "ok" region: boilerplate, and the
  // other three do not make "all".
  EXPECT_EQ(Names(all), (std::vector<std::string>{"boilerplate_caption@3", "repeated_caption@0",
                                                  "repeated_caption@1", "repeated_caption@2"}));
  all = ReviewRegionCaptions(Record({"A cat.", "a cat", "A CAT!"}), blocking);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.back().name, "same_caption_for_all");
  EXPECT_TRUE(all.back().blocking);
  EXPECT_FALSE(all.front().blocking);
  // Failed regions are not judged.
  Json rec = Record({"A cat."});
  rec["regions"].push_back({{"caption", ""}, {"status", "failed"}});
  EXPECT_TRUE(ReviewRegionCaptions(rec, blocking).empty());
}

}  // namespace
}  // namespace groundcap
