#include "util/jsonl.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace groundcap {
namespace {

std::string TempFile(const std::string& name, const std::string& content) {
  std::string dir = testing::TempDir() + "/jsonl_test";
  std::filesystem::create_directories(dir);
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(JsonlTest, LineNumbersSkipBlankAndMissingFinalNewline) {
  std::string p = TempFile("a.jsonl", "{\"a\":1}\n\n   \n{\"a\":2}\r\n{\"a\":3}");
  JsonlReader r(p);
  JsonlLine l;
  std::vector<int64_t> lines;
  std::vector<std::string> texts;
  while (r.Next(&l)) {
    lines.push_back(l.line);
    texts.push_back(l.text);
  }
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 4, 5}));
  EXPECT_EQ(texts, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"}));
  EXPECT_EQ(r.bytes_read(), r.file_size());
}

TEST(JsonlTest, OffsetsPointAtLines) {
  std::string p = TempFile("b.jsonl", "{}\n{\"x\":1}\n");
  JsonlReader r(p);
  JsonlLine l;
  ASSERT_TRUE(r.Next(&l));
  EXPECT_EQ(l.offset, 0);
  ASSERT_TRUE(r.Next(&l));
  EXPECT_EQ(l.offset, 3);
  EXPECT_FALSE(r.Next(&l));
}

TEST(JsonlTest, MalformedLinesAreErrorsWithReason) {
  auto bad = ParseJsonObjectLine("{\"a\": [1, 2}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(bad.error().message.find("not valid JSON"), std::string::npos);
  auto arr = ParseJsonObjectLine("[1,2]");
  ASSERT_FALSE(arr);
  EXPECT_NE(arr.error().message.find("expected a JSON object, got array"), std::string::npos);
  EXPECT_FALSE(ParseJsonObjectLine("{} {}"));
  EXPECT_TRUE(ParseJsonObjectLine(" {\"k\": \"v\"} "));
  // nlohmann throws out_of_range (not parse_error) for this: still a value.
  auto overflow = ParseJsonObjectLine("{\"x\": 1e999}");
  ASSERT_FALSE(overflow);
  EXPECT_EQ(overflow.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(overflow.error().message.find("number overflow"), std::string::npos);
  EXPECT_NE(bad.error().message.find("not valid JSON: parse error"), std::string::npos);
}

// Regression (issue 14.1): a record nested 100,000 levels deep overflowed
// the stack in the recursive walks that derive ids; such lines are now
// rejected before parsing, with the limit in the reason.
TEST(JsonlTest, NestingDeeperThanTheLimitIsRejected) {
  auto nested = [](int depth, const std::string& inner = "1") {
    return "{\"image_path\": \"a.jpg\", \"caption\": \"x\", \"extra\": " + std::string(depth, '[') + inner +
           std::string(depth, ']') + "}";
  };
  EXPECT_TRUE(ParseJsonObjectLine(nested(kMaxJsonDepth - 1)).has_value());  // the object adds a level
  auto deep = ParseJsonObjectLine(nested(100000));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(deep.error().message, "nested deeper than 64 levels (the limit for input records)");
  EXPECT_FALSE(ParseJsonObjectLine(nested(kMaxJsonDepth)).has_value());
  // Brackets inside strings, escaped quotes included, do not count.
  EXPECT_TRUE(ParseJsonObjectLine(nested(3, "\"" + std::string(500, '[') + "\\\"[[[\"")).has_value());
  EXPECT_FALSE(JsonNestsDeeperThan("[[[]]]", 3));
  EXPECT_TRUE(JsonNestsDeeperThan("[[[[]]]]", 3));
  EXPECT_FALSE(JsonNestsDeeperThan("[\"[[[[\"]", 3));
}

TEST(JsonlTest, HugeLinesReadOrFlagged) {
  std::string big(3 << 20, 'x');
  std::string p = TempFile("c.jsonl", "{\"big\":\"" + big + "\"}\n{\"a\":1}\n");
  {
    JsonlReader r(p);
    JsonlLine l;
    ASSERT_TRUE(r.Next(&l));
    EXPECT_FALSE(l.too_long);
    auto j = ParseJsonObjectLine(l.text);
    ASSERT_TRUE(j);
    EXPECT_EQ((*j)["big"].get<std::string>().size(), big.size());
  }
  JsonlReader r(p, 1024);
  JsonlLine l;
  ASSERT_TRUE(r.Next(&l));
  EXPECT_TRUE(l.too_long);
  EXPECT_TRUE(l.text.empty());
  ASSERT_TRUE(r.Next(&l));  // the reader resynchronises on the next line
  EXPECT_EQ(l.line, 2);
  EXPECT_EQ(l.text, "{\"a\":1}");
}

TEST(JsonlTest, InvalidUtf8IsRepairedNotDropped) {
  bool repaired = false;
  auto j = ParseJsonObjectLine("{\"caption\":\"caf\xff\xfe dog\"}", &repaired);
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_TRUE(repaired);
  EXPECT_EQ((*j)["caption"].get<std::string>(), "caf\xEF\xBF\xBD\xEF\xBF\xBD dog");
  // Valid multi-byte text is untouched.
  std::string ok = "{\"c\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"}";
  ASSERT_TRUE(ParseJsonObjectLine(ok, &repaired));
  EXPECT_FALSE(repaired);
  // Overlong encodings and surrogates are invalid.
  std::string s = "\xC0\xAF|\xED\xA0\x80";
  EXPECT_TRUE(SanitizeUtf8(&s));
  EXPECT_EQ(s.find('\xC0'), std::string::npos);
}

TEST(JsonlTest, DumpNeverThrowsOnInvalidUtf8) {
  nlohmann::ordered_json j;
  j["t"] = std::string("bad\xff");
  std::string line;
  EXPECT_NO_THROW(line = DumpJsonLine(j));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_TRUE(ParseJsonObjectLine(line));
}

TEST(JsonlTest, AtomicWriterReplacesOnlyOnCommit) {
  std::string p = TempFile("d.txt", "old");
  {
    AtomicFileWriter w(p);
    w.Write("new");
  }  // not committed
  std::ifstream in1(p);
  std::string s1((std::istreambuf_iterator<char>(in1)), {});
  EXPECT_EQ(s1, "old");
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
  ASSERT_TRUE(WriteFileAtomic(p, "new"));
  std::ifstream in2(p);
  std::string s2((std::istreambuf_iterator<char>(in2)), {});
  EXPECT_EQ(s2, "new");
}

TEST(JsonlTest, WriteFileAtomicReplacesAndLeavesNoTemporaries) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "groundcap_write_atomic";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "out.bin").string();
  ASSERT_TRUE(WriteFileAtomic(path, "first"));
  ASSERT_TRUE(WriteFileAtomic(path, "second"));
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "second");
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
  Result<bool> bad = WriteFileAtomic((dir / "no_such_dir" / "x").string(), "x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kInternal);
  EXPECT_NE(bad.error().message.find("no_such_dir"), std::string::npos);
  std::filesystem::remove_all(dir);
}

int OpenFds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(JsonlTest, CopyFileAtomicFailureLeaksNoDescriptor) {
  std::string from = TempFile("copy_src.txt", "payload");
  int before = OpenFds();
  EXPECT_THROW(CopyFileAtomic(from, testing::TempDir() + "/no_such_dir_x/out.txt"), SetupError);
  EXPECT_EQ(OpenFds(), before);
  std::string to = TempFile("copy_dst.txt", "old");
  CopyFileAtomic(from, to);
  std::ifstream in(to);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "payload");
}

}  // namespace
}  // namespace groundcap
