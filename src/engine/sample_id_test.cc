#include "engine/sample_id.h"

#include <gtest/gtest.h>

#include <set>

namespace groundcap {
namespace {

using J = nlohmann::ordered_json;

TEST(SampleIdTest, ExplicitIdsUsedAsGiven) {
  SampleIdDeriver d;
  EXPECT_EQ(d.Derive(J{{"id", "abc_1"}}), "abc_1");
  EXPECT_EQ(d.Derive(J{{"sample_id", "s-2"}, {"id", "ignored"}}), "s-2");
  EXPECT_EQ(d.Derive(J{{"id", 42}}), "42");
}

TEST(SampleIdTest, SameImageSeveralCaptionsGetDifferentIds) {
  SampleIdDeriver d;
  std::string a = d.Derive(J{{"image_path", "coco/000123.jpg"}, {"caption", "a dog"}});
  std::string b = d.Derive(J{{"image_path", "coco/000123.jpg"}, {"caption", "a brown dog"}});
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("000123-", 0), 0u) << a;
  EXPECT_EQ(d.duplicates(), 0);
}

TEST(SampleIdTest, SameNameDifferentFolders) {
  SampleIdDeriver d;
  EXPECT_NE(d.Derive(J{{"image_path", "a/img.jpg"}, {"caption", "x"}}),
            d.Derive(J{{"image_path", "b/img.jpg"}, {"caption", "x"}}));
}

TEST(SampleIdTest, DeterministicAndIndependentOfShardAndKeyOrder) {
  J r1 = {{"image_path", "x/y.png"}, {"caption", "c"}};
  J r2 = {{"caption", "c"}, {"image_path", "x/y.png"}};
  SampleIdDeriver shard0, shard1;
  shard0.Derive(J{{"image_path", "other.png"}});  // shard 0 read something else first
  EXPECT_EQ(shard0.Derive(r1), shard1.Derive(r2));
}

TEST(SampleIdTest, ImageIdIsTheBase) {
  SampleIdDeriver d;
  EXPECT_EQ(d.Derive(J{{"image_id", "img7"}, {"image_path", "q.jpg"}}).rfind("img7-", 0), 0u);
}

TEST(SampleIdTest, ExactDuplicatesGetOccurrenceSuffix) {
  SampleIdDeriver d;
  J r = {{"image_path", "a.jpg"}, {"caption", "same"}};
  std::string a = d.Derive(r), b = d.Derive(r), c = d.Derive(r);
  EXPECT_EQ(b, a + "~2");
  EXPECT_EQ(c, a + "~3");
  EXPECT_EQ(d.Derive(J{{"id", "x"}}), "x");
  EXPECT_EQ(d.Derive(J{{"id", "x"}}), "x~2");
  EXPECT_EQ(d.duplicates(), 3);
}

TEST(SampleIdTest, UnsafeCharactersAreReplacedAndStayDistinct) {
  std::set<std::string> ids;
  for (const char* raw : {"a/b", "a\\b", "a b", "a:b", "../etc/passwd", "a/b/"}) {
    std::string s = SafeId(raw);
    EXPECT_EQ(s.find('/'), std::string::npos) << s;
    EXPECT_EQ(s.find('\\'), std::string::npos) << s;
    EXPECT_NE(s[0], '.') << s;
    ids.insert(s);
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(SafeId("plain-id_1.x"), "plain-id_1.x");
  EXPECT_EQ(SafeId(""), "sample");
  EXPECT_LE(SafeId(std::string(500, 'a')).size(), 96u + 9u);
  EXPECT_EQ(SafeId("\xE4\xB8\xAD\xE6\x96\x87").find('\xE4'), std::string::npos);
}

TEST(SampleIdTest, DuplicateSuffixSurvivesTheNextStep) {
  // Step 0 names the second copy of a record "x~2"; step 1 reads that id
  // back as given and must keep it, or the two steps' outputs disagree.
  SampleIdDeriver first("image_path");
  nlohmann::ordered_json rec = {{"image_path", "a/cat.jpg"}, {"caption", "a cat"}};
  std::string id1 = first.Derive(rec);
  std::string id2 = first.Derive(rec);
  ASSERT_EQ(id2, id1 + "~2");
  SampleIdDeriver next("image_path");
  nlohmann::ordered_json carried = rec;
  carried["sample_id"] = id2;
  EXPECT_EQ(next.Derive(carried), id2);
}

// Regression (issue 14.3): an explicit id that looks like a generated
// duplicate suffix collided with it, so two samples shared one id and the
// run could never finish. Every id of a stream is now unique.
TEST(SampleIdTest, ExplicitIdsShapedLikeSuffixesNeverCollide) {
  SampleIdDeriver d;
  EXPECT_EQ(d.Derive(J{{"id", "x~2"}}), "x~2");
  EXPECT_EQ(d.Derive(J{{"id", "x"}}), "x");
  EXPECT_EQ(d.Derive(J{{"id", "x"}}), "x~3");
  EXPECT_EQ(d.Derive(J{{"id", "x~3"}}), "x~3~2");
  EXPECT_EQ(d.Derive(J{{"id", "x"}}), "x~4");
  EXPECT_EQ(d.duplicates(), 3);

  // And the ids of step 0's output, read back by step 1, stay as they are.
  SampleIdDeriver next;
  for (const char* id : {"x~2", "x", "x~3", "x~3~2", "x~4"}) EXPECT_EQ(next.Derive(J{{"sample_id", id}}), id);
}

}  // namespace
}  // namespace groundcap
