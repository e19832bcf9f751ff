#include "util/file_read.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace groundcap {
namespace {

namespace fs = std::filesystem;

class FileReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_file_read_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FileReadTest, ReadsARegularFileUpToTheLimit) {
  fs::path p = dir_ / "a.txt";
  std::ofstream(p) << "hello";
  Result<std::string> r = ReadRegularFile(p.string(), 5);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "hello");
  Result<std::string> small = ReadRegularFile(p.string(), 4);
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message.find("larger than the limit of 4 bytes"), std::string::npos);
  EXPECT_EQ(NotARegularFile(p.string()), std::nullopt);
}

TEST_F(FileReadTest, RefusesEverythingElseByType) {
  fs::path fifo = dir_ / "f";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  struct Case {
    std::string path, phrase;
  } cases[] = {{dir_.string(), "is a directory"},
               {fifo.string(), "is a pipe (FIFO), not a regular file"},
               {"/dev/zero", "is a character device, not a regular file"},
               {(dir_ / "missing").string(), "does not exist"},
               {std::string("a\0b", 3), "contains a NUL character"}};
  for (const Case& c : cases) {
    Result<std::string> r = ReadRegularFile(c.path, 1 << 20);  // never blocks, never reads
    ASSERT_FALSE(r) << c.path;
    EXPECT_EQ(r.error().message, c.phrase) << c.path;
    EXPECT_EQ(NotARegularFile(c.path), c.phrase) << c.path;
  }
}

}  // namespace
}  // namespace groundcap
