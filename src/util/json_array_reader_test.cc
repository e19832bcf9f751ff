#include "util/json_array_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

std::vector<std::string> ReadAll(const std::string& text) {
  const std::filesystem::path path = testing_util::UniqueTempDir("groundcap_json_array") / "a.json";
  testing_util::WriteFile(path, text);
  JsonArrayReader reader(path.string());
  std::vector<std::string> out;
  for (std::string e; reader.Next(&e);) out.push_back(e);
  EXPECT_EQ(reader.count(), static_cast<int64_t>(out.size()));
  std::filesystem::remove_all(path.parent_path());
  return out;
}

TEST(JsonArrayReaderTest, YieldsEachElementAsItsText) {
  const std::string text =
      " [\n {\"a\": [1, {\"b\": \"]}, \\\" [\"}]},\n  \"x,y\" , 3.5e2,[] ,{},null\n]\n";
  std::vector<std::string> got = ReadAll(text);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0], R"({"a": [1, {"b": "]}, \" ["}]})");
  EXPECT_EQ(got[1], R"("x,y")");
  EXPECT_EQ(got[2], "3.5e2");
  EXPECT_EQ(got[5], "null");
  // The elements are what a whole-document parse sees, in order.
  nlohmann::json whole = nlohmann::json::parse(text);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(nlohmann::json::parse(got[i]), whole[i]) << i;
  EXPECT_TRUE(ReadAll("[]").empty());
  EXPECT_TRUE(ReadAll(" [ ] \n").empty());
}

TEST(JsonArrayReaderTest, LargeElementsAcrossBufferBoundaries) {
  std::string text = "[";
  for (int i = 0; i < 50; ++i) text += (i ? "," : "") + nlohmann::json{{"i", i}, {"pad", std::string(5000, 'z')}}.dump();
  text += "]";
  std::vector<std::string> got = ReadAll(text);
  ASSERT_EQ(got.size(), 50u);
  EXPECT_EQ(nlohmann::json::parse(got[49])["i"], 49);
}

TEST(JsonArrayReaderTest, ANonArrayOrBrokenFileIsAnErrorNamingTheByte) {
  for (const char* bad : {"", "{\"a\": 1}", "[1, 2", "[\"open", "[1]]", "[1] x", "[1,,2]", "[1,]"}) {
    try {
      ReadAll(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const SetupError& e) {
      EXPECT_NE(std::string(e.what()).find("not one JSON array"), std::string::npos) << bad << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("byte"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace groundcap
