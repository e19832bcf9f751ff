// Prompt files named by the spec are read bounded: a device, a directory, a
// FIFO or an oversized file fails at setup with the field and the file named,
// without reading it whole (a prompt file of /dev/zero once grew to 8 GB).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "grounding/grounding_steps.h"
#include "spec/spec.h"
#include "teacher/teacher.h"
#include "util/error.h"
#include "util/file_read.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;

class QuietTeacher : public Teacher {
 public:
  void Submit(TeacherRequest, Callback done) override {
    TeacherReply r;
    r.error = Error::Make(ErrorKind::kCancelled, "quiet teacher");
    done(std::move(r));
  }
  void Stop() override {}
  TeacherStats Stats() const override { return {}; }
  std::string ModelName() const override { return "gemini-2.5-flash"; }
  std::string Fingerprint() const override { return "quiet"; }
  bool SupportsSchema() const override { return false; }
};

class PromptFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_prompt_file_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// The SetupError of building the config with `key`=`path`, "" if none.
  std::string ErrorOf(const std::string& key, const std::string& path) {
    std::string yaml = "results_dir: " + (dir_ / "results").string() +
                       "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n"
                       "    input_jsonl: /nonexistent/in.jsonl\n";
    Spec spec = Spec::FromYaml(yaml, {"image_grounding." + key + "=\"" + path + "\""});
    QuietTeacher teacher;
    try {
      GroundingConfigFromSpec(spec, teacher);
    } catch (const SetupError& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

TEST_F(PromptFileTest, DeviceIsRefusedNamingFieldAndFile) {
  std::string err = ErrorOf("prompts.extraction_file", "/dev/zero");
  EXPECT_NE(err.find("image_grounding.prompts.extraction_file"), std::string::npos) << err;
  EXPECT_NE(err.find("/dev/zero"), std::string::npos) << err;
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
}

TEST_F(PromptFileTest, FifoIsRefusedWithoutBlocking) {
  fs::path fifo = dir_ / "prompt.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string err = ErrorOf("prompts.grounding_file", fifo.string());
  EXPECT_NE(err.find("image_grounding.prompts.grounding_file"), std::string::npos) << err;
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
}

TEST_F(PromptFileTest, DirectoryIsRefused) {
  std::string err = ErrorOf("prompts.grounding_file", dir_.string());
  EXPECT_NE(err.find("image_grounding.prompts.grounding_file"), std::string::npos) << err;
  EXPECT_NE(err.find("is a directory"), std::string::npos) << err;
}

TEST_F(PromptFileTest, OversizedFileIsRefused) {
  fs::path p = dir_ / "big.txt";
  {
    std::ofstream out(p);
    out << "{caption}\n" << std::string(static_cast<size_t>(kMaxPromptFileBytes), 'p');
  }
  std::string err = ErrorOf("prompts.extraction_file", p.string());
  EXPECT_NE(err.find("image_grounding.prompts.extraction_file"), std::string::npos) << err;
  EXPECT_NE(err.find("larger than"), std::string::npos) << err;
}

TEST_F(PromptFileTest, OrdinaryPromptFileIsRead) {
  fs::path p = dir_ / "extract.txt";
  std::ofstream(p) << "List the phrases of: {caption}\n";
  EXPECT_EQ(ErrorOf("prompts.extraction_file", p.string()), "");
}

}  // namespace
}  // namespace groundcap
