#include "grounding/spans.h"

#include <gtest/gtest.h>

namespace groundcap {
namespace {

/// The text Python's caption[start:end] would give.
std::string At(const std::string& caption, const CharSpan& s) {
  return SliceCodePoints(caption, s.start, s.end);
}

TEST(SpansTest, ExactMatchesAreCodePointHalfOpen) {
  std::string caption = "A red car parked near a tall tree.";
  auto spans = LocateSpans(caption, {"A red car", "a tall tree"});
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].start, 0);
  EXPECT_EQ(spans[0].end, 9);
  EXPECT_EQ(spans[0].match, SpanMatch::kExact);
  EXPECT_EQ(spans[1].start, 22);
  EXPECT_EQ(spans[1].end, 33);
  EXPECT_EQ(At(caption, spans[1]), "a tall tree");
}

TEST(SpansTest, RepeatedPhrasesTakeSuccessiveOccurrences) {
  std::string caption = "a dog chases a dog while a cat watches a dog";
  auto spans = LocateSpans(caption, {"a dog", "a cat", "a dog", "a dog", "a dog"});
  EXPECT_EQ(spans[0].start, 0);
  EXPECT_EQ(spans[1].start, 25);
  EXPECT_EQ(spans[2].start, 13);
  EXPECT_EQ(spans[3].start, 39);
  // A fourth "a dog" has no occurrence left: it reuses the first, still found.
  EXPECT_EQ(spans[4].start, 0);
  EXPECT_TRUE(spans[4].found());
}

TEST(SpansTest, WholeWordOccurrencesBeatOccurrencesInsideWords) {
  // "man" first occurs inside "woman"; the span must be the word "man".
  std::string caption = "A woman and a man sit near the Cat statue; a cat sleeps.";
  auto spans = LocateSpans(caption, {"man", "cat", "woman"});
  EXPECT_EQ(At(caption, spans[0]), "man");
  EXPECT_EQ(spans[0].start, 14);
  EXPECT_EQ(spans[0].match, SpanMatch::kExact);
  // "Cat" (normalized) and "cat" (exact) are both whole words: the exact tier wins.
  EXPECT_EQ(spans[1].start, 45);
  EXPECT_EQ(spans[2].start, 2);
  // A case-different whole word beats an exact match inside a word.
  std::string shout = "The mandolin player is a Man in a hat.";
  auto s2 = LocateSpans(shout, {"man"});
  EXPECT_EQ(At(shout, s2[0]), "Man");
  EXPECT_EQ(s2[0].match, SpanMatch::kNormalized);
  // With no whole-word occurrence, the match inside a word is still used.
  auto s3 = LocateSpans("a snowman", {"man"});
  EXPECT_EQ(s3[0].start, 6);
  EXPECT_EQ(s3[0].match, SpanMatch::kExact);
  // Chinese has no spaces: every position is a boundary.
  std::string zh = "一只黑色的猫";
  EXPECT_EQ(LocateSpans(zh, {"猫"})[0].start, 5);
}

TEST(SpansTest, LatinExtendedCaseFoldingPairsTheRightLetters) {
  // Ł/ł and Ż/ż sit in the odd/even ranges of Latin Extended-A.
  std::string caption = "Łódź street with a Żuk van";
  auto spans = LocateSpans(caption, {"łódź street", "żuk van"});
  EXPECT_EQ(spans[0].start, 0);
  EXPECT_EQ(spans[0].match, SpanMatch::kNormalized);
  EXPECT_EQ(spans[1].start, 19);
  EXPECT_EQ(At(caption, spans[1]), "Żuk van");
  // ż is not Ž, ł is not Ń.
  EXPECT_FALSE(LocateSpans("Žaba", {"żaba"})[0].found());
  EXPECT_FALSE(LocateSpans("Ńza", {"łza"})[0].found());
  EXPECT_EQ(NormalizeText("ĀŸĹĽ"), "āÿĺľ");
}

TEST(SpansTest, CaseAndWhitespaceDifferences) {
  std::string caption = "Two  people\nstand by The Fountain.";
  auto spans = LocateSpans(caption, {"two people", "the fountain", "  THE   fountain  "});
  EXPECT_EQ(spans[0].match, SpanMatch::kNormalized);
  EXPECT_EQ(At(caption, spans[0]), "Two  people");
  EXPECT_EQ(spans[1].match, SpanMatch::kNormalized);
  EXPECT_EQ(At(caption, spans[1]), "The Fountain");
  // Same text again: only one occurrence, so it is reused.
  EXPECT_EQ(At(caption, spans[2]), "The Fountain");
}

TEST(SpansTest, PunctuationAtEdgesAndTypographicQuotes) {
  std::string caption = "The man\u2019s hat, a \u201Cstop\u201D sign, and a bike.";
  auto spans = LocateSpans(caption, {"the man's hat", "a bike.", "\"stop\" sign", "(a bike)"});
  EXPECT_EQ(At(caption, spans[0]), "The man\u2019s hat");
  EXPECT_EQ(spans[0].match, SpanMatch::kNormalized);
  // "a bike." occurs verbatim (with the period).
  EXPECT_EQ(spans[1].match, SpanMatch::kExact);
  EXPECT_EQ(At(caption, spans[1]), "a bike.");
  EXPECT_EQ(At(caption, spans[2]), "\u201Cstop\u201D sign");
  EXPECT_EQ(At(caption, spans[3]), "a bike");
}

TEST(SpansTest, ChineseCaptionUsesCodePoints) {
  std::string caption = "一只黑色的猫坐在红色的沙发上，旁边有一只猫。";
  auto spans = LocateSpans(caption, {"黑色的猫", "红色的沙发", "一只猫"});
  EXPECT_EQ(spans[0].start, 2);
  EXPECT_EQ(spans[0].end, 6);
  EXPECT_EQ(At(caption, spans[0]), "黑色的猫");
  EXPECT_EQ(spans[1].start, 8);
  EXPECT_EQ(spans[1].end, 13);
  EXPECT_EQ(At(caption, spans[2]), "一只猫");
  EXPECT_EQ(spans[2].start, 18);
  EXPECT_EQ(CodePointLength(caption), 22);
}

TEST(SpansTest, EmojiCountAsCodePoints) {
  // 👍🏽 is two code points (thumbs up + skin tone), 🐶 one.
  std::string caption = "👍🏽 a happy 🐶 dog on grass";
  auto spans = LocateSpans(caption, {"happy 🐶 dog", "grass"});
  EXPECT_EQ(spans[0].start, 5);
  EXPECT_EQ(spans[0].end, 16);
  EXPECT_EQ(spans[1].start, 20);
  EXPECT_EQ(spans[1].end, 25);
  EXPECT_EQ(At(caption, spans[0]), "happy 🐶 dog");
}

TEST(SpansTest, TolerantAlignmentForSmallRewrites) {
  std::string caption = "a woman holding a colourful umbrella near the station";
  auto spans = LocateSpans(caption, {"colorful umbrella", "the statoin"});
  EXPECT_EQ(spans[0].match, SpanMatch::kFuzzy);
  EXPECT_EQ(At(caption, spans[0]), "colourful umbrella");
  EXPECT_EQ(spans[1].match, SpanMatch::kFuzzy);
  EXPECT_EQ(At(caption, spans[1]), "the station");
}

TEST(SpansTest, UnlocatablePhrasesAreFlagged) {
  std::string caption = "a cat on a mat";
  auto spans = LocateSpans(caption, {"a dog", "bicycle wheel", "", "cat"});
  EXPECT_FALSE(spans[0].found());
  EXPECT_EQ(spans[0].start, -1);
  EXPECT_FALSE(spans[1].found());
  EXPECT_FALSE(spans[2].found());
  EXPECT_TRUE(spans[3].found());
  EXPECT_STREQ(SpanMatchName(spans[0].match), "not_found");
}

TEST(SpansTest, Utf8RoundTripAndInvalidBytes) {
  std::string s = "é猫🐶";
  EXPECT_EQ(EncodeUtf8(DecodeUtf8(s)), s);
  EXPECT_EQ(CodePointLength(s), 3);
  EXPECT_EQ(CodePointLength("a\xff" "b"), 3);
  EXPECT_EQ(SliceCodePoints(s, 1, 99), "猫🐶");
}

}  // namespace
}  // namespace groundcap
