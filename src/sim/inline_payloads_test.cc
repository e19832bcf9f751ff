#include "sim/inline_payloads.h"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "image/image.h"

namespace groundcap {
namespace {

std::string Payload(size_t bytes, char seed) {
  std::string raw(bytes, seed);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(seed + i * 7);
  return Base64Encode(raw);
}

std::string OpenAiBody(const std::string& b64) {
  return nlohmann::json{{"model", "m"},
                        {"messages",
                         {{{"role", "user"},
                           {"content",
                            {{{"type", "text"}, {"text", "Caption: a \"data\": cat;base64,x"}},
                             {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + b64}}}}}}}}}}
      .dump();
}

/// The body the cut one stands for: every placeholder resolved again.
nlohmann::json Restored(const CutBody& cut) {
  nlohmann::json j = nlohmann::json::parse(cut.json);
  for (auto& m : j["messages"])
    for (auto& p : m["content"])
      if (p.contains("image_url")) {
        std::string url = p["image_url"]["url"];
        size_t comma = url.find(',');
        p["image_url"]["url"] = url.substr(0, comma + 1) + std::string(cut.Resolve(url.substr(comma + 1)));
      }
  return j;
}

TEST(InlinePayloads, CutsDataUrlsAndRestoresTheSameBody) {
  const std::string a = Payload(3000, 'a'), b = Payload(500, 'q');
  std::string body = OpenAiBody(a);
  nlohmann::json two = nlohmann::json::parse(body);
  two["messages"][0]["content"].push_back({{"type", "image_url"}, {"image_url", {{"url", "data:image/jpeg;base64," + b}}}});
  body = two.dump();
  std::optional<CutBody> cut = CutInlinePayloads(body);
  ASSERT_TRUE(cut);
  ASSERT_EQ(cut->payloads.size(), 2u);
  EXPECT_EQ(cut->payloads[0], a);
  EXPECT_EQ(cut->payloads[1], b);
  EXPECT_LT(cut->json.size(), 400u);
  EXPECT_EQ(Restored(*cut), two);
  EXPECT_EQ(cut->Resolve("~1"), b);
  EXPECT_EQ(cut->Resolve("~2"), "~2");  // no such payload: the text itself
  EXPECT_EQ(cut->Resolve("abcd"), "abcd");
}

TEST(InlinePayloads, CutsGeminiInlineDataWithSpaces) {
  const std::string a = Payload(1000, 'g');
  const std::string body = "{\"contents\": [{\"parts\": [{\"text\": \"hi\"}, {\"inlineData\": {\"mimeType\": "
                           "\"image/jpeg\", \"data\" :\n \"" + a + "\"}}]}]}";
  std::optional<CutBody> cut = CutInlinePayloads(body);
  ASSERT_TRUE(cut);
  nlohmann::json j = nlohmann::json::parse(cut->json);
  EXPECT_EQ(cut->Resolve(j["contents"][0]["parts"][1]["inlineData"]["data"].get<std::string>()), a);
}

TEST(InlinePayloads, LeavesBodiesItCannotCutExactly) {
  const std::string a = Payload(1000, 'z');
  EXPECT_FALSE(CutInlinePayloads(OpenAiBody(Payload(100, 's'))));  // too small to matter
  EXPECT_FALSE(CutInlinePayloads(OpenAiBody(a) + "~"));             // a tilde could pass for a placeholder
  EXPECT_FALSE(CutInlinePayloads("{\"t\": \"\\u007e0\", \"data\": \"" + a + "\"}"));
  std::string escaped = OpenAiBody(a);  // "\/" inside the payload: not a plain run
  escaped.insert(escaped.find(";base64,") + 100, "\\/");
  EXPECT_FALSE(CutInlinePayloads(escaped));
}

TEST(InlinePayloads, AcceptsExactlyWhatTheFullParseAccepts) {
  // Every truncation of a valid body, and the body with a quote inserted at
  // every position: the cut body parses if and only if the body does.
  const std::string body = OpenAiBody(Payload(600, 'k'));
  int cut_count = 0;
  for (size_t n = 0; n <= body.size(); ++n) {
    for (std::string variant : {body.substr(0, n), body.substr(0, n) + "\"" + body.substr(std::min(n, body.size()))}) {
      std::optional<CutBody> cut = CutInlinePayloads(variant);
      if (!cut) continue;
      ++cut_count;
      const bool whole = !nlohmann::json::parse(variant, nullptr, false).is_discarded();
      const bool part = !nlohmann::json::parse(cut->json, nullptr, false).is_discarded();
      EXPECT_EQ(whole, part) << "at " << n;
    }
  }
  EXPECT_GT(cut_count, 700);
}

}  // namespace
}  // namespace groundcap
