#include "teacher/teacher_endpoints.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "util/error.h"

namespace groundcap {
namespace {

using nlohmann::json;

std::string SetupMessage(const json& v) {
  try {
    ParseOpenAiEndpoints(v, "p.vlm.openai.base_url", "k");
  } catch (const SetupError& e) {
    return e.what();
  }
  return "";
}

TEST(TeacherEndpointsTest, StringOrListOfStringsAndMaps) {
  EXPECT_TRUE(ParseOpenAiEndpoints("", "x", "k").empty());
  std::vector<EndpointConfig> one = ParseOpenAiEndpoints("http://u:pw@h:1/v1?q=1", "x", "key");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].url, "http://u:pw@h:1/v1?q=1");
  EXPECT_EQ(one[0].name, "http://h:1/v1");
  EXPECT_EQ(one[0].api_key, "key");
  EXPECT_EQ(one[0].max_in_flight, 0);

  setenv("GC_POOL_TEST_KEY", " other \n", 1);
  std::vector<EndpointConfig> two = ParseOpenAiEndpoints(
      json::parse(R"(["http://a/v1", {"url": "https://b/v1", "max_in_flight": 8, "api_key_env": "GC_POOL_TEST_KEY"}])"),
      "x", "key");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].api_key, "key");
  EXPECT_EQ(two[1].url, "https://b/v1");
  EXPECT_EQ(two[1].max_in_flight, 8);
  EXPECT_EQ(two[1].api_key, "other");
}

TEST(TeacherEndpointsTest, BadItemsNameTheItem) {
  EXPECT_EQ(SetupMessage(json::parse(R"(["http://a/v1", {"url": "http://b/v1", "max_in_flight": 0}])")),
            "p.vlm.openai.base_url[1].max_in_flight: expected an integer from 1 to 100000, got 0");
  EXPECT_EQ(SetupMessage(json::parse(R"([{"url": "http://b/v1", "weight": 2}])")),
            "p.vlm.openai.base_url[0]: unknown key 'weight' (expected url, max_in_flight, api_key_env)");
  EXPECT_EQ(SetupMessage(json::parse(R"([{"max_in_flight": 2}])")), "p.vlm.openai.base_url[0]: missing url");
  EXPECT_EQ(SetupMessage(json::parse(R"(["ftp://a/v1"])")),
            "p.vlm.openai.base_url[0] must be an http:// or https:// URL with a host, got \"ftp://a/v1\"");
  EXPECT_EQ(SetupMessage(json::array()), "p.vlm.openai.base_url: expected a URL or a non-empty list of URLs, got []");
  EXPECT_EQ(SetupMessage(json::parse("[3]")),
            "p.vlm.openai.base_url[0]: expected a URL or a map {url, max_in_flight, api_key_env}, got 3");
  unsetenv("GC_POOL_TEST_UNSET");
  EXPECT_EQ(SetupMessage(json::parse(R"([{"url": "http://b/v1", "api_key_env": "GC_POOL_TEST_UNSET"}])")),
            "p.vlm.openai.base_url[0].api_key_env: environment variable GC_POOL_TEST_UNSET is not set");
}

TEST(TeacherEndpointsTest, GeminiKeysAreEndpointsAndNeverQuoted) {
  std::vector<EndpointConfig> keys = ParseGeminiKeys(json::parse(R"(["ka", " kb "])"), "g.api_key", "https://g");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].api_key, "kb");
  EXPECT_EQ(keys[1].name, "https://g (key 1)");
  EXPECT_EQ(ParseGeminiKeys("solo", "g", "https://g")[0].name, "https://g");
  EXPECT_TRUE(ParseGeminiKeys("", "g", "https://g").empty());
  try {
    ParseGeminiKeys(json::parse(R"(["secret-key-1", ""])"), "g.api_key", "https://g");
    FAIL();
  } catch (const SetupError& e) {
    EXPECT_EQ(std::string(e.what()), "g.api_key[1]: expected a non-empty API key string");
  }
}

}  // namespace
}  // namespace groundcap
