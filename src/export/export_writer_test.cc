// `groundcap export` through the built binary: the summary on stderr, the
// exit status, results directories as input, and atomic output (no partial
// or temporary file when the export cannot run).
#include "export/export_writer.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using testing_util::ReadFile;
using testing_util::WriteFile;

const fs::path kData = fs::path(GROUNDCAP_SOURCE_DIR) / "tests" / "data" / "export";

class ExportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gc_export_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "results");
    fs::copy_file(kData / "results.jsonl", dir_ / "results" / "annotations.jsonl");
    fs::create_directories(dir_ / "images");
    for (const char* name : {"street.jpg", "猫.jpg", "crowd.jpg", "missing.jpg", "blur.jpg"}) {
      WriteFile(dir_ / "images" / name, "jpeg bytes");
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Runs the binary with `args`; returns the exit status, stderr in *err.
  int Run(const std::string& args, std::string* err) {
    const fs::path err_file = dir_ / "stderr.txt";
    std::string cmd = std::string(GROUNDCAP_BINARY) + " export --image-root " + dir_.string() + " " + args + " 2> " +
                      err_file.string();
    int rc = std::system(cmd.c_str());
    *err = ReadFile(err_file);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  /// Names in dir_ other than the ones the fixture made.
  std::vector<std::string> StrayFiles() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      std::string name = e.path().filename().string();
      if (name != "results" && name != "stderr.txt" && name != "out.jsonl" && name != "out.json" && name != "images" &&
          name != "export_skipped.jsonl") {
        out.push_back(name);
      }
    }
    return out;
  }

  fs::path dir_;
};

TEST_F(ExportCliTest, ResultsDirToOdvgPrintsTheSummaryAndMatchesTheGolden) {
  std::string err;
  const fs::path out = dir_ / "out.jsonl";
  ASSERT_EQ(Run("--to odvg " + (dir_ / "results").string() + " --out " + out.string(), &err), kExitOk) << err;
  EXPECT_EQ(ReadFile(out), ReadFile(kData / "expected_odvg.jsonl"));
  EXPECT_NE(err.find("export odvg: 5 records read, 2 written (6 regions)"), std::string::npos) << err;
  EXPECT_NE(err.find("records left out by status: 2 (1 failed, 1 flagged)"), std::string::npos) << err;
  EXPECT_NE(err.find("instances left out, rejected by verification: 2"), std::string::npos) << err;
  EXPECT_NE(err.find("expressions left out, no span in the caption: 1"), std::string::npos) << err;
  EXPECT_TRUE(StrayFiles().empty());
}

TEST_F(ExportCliTest, AnnotationsFileToCocoMatchesTheGolden) {
  std::string err;
  const fs::path out = dir_ / "out.json";
  ASSERT_EQ(Run("--to coco " + (dir_ / "results" / "annotations.jsonl").string() + " --out " + out.string(), &err),
            kExitOk)
      << err;
  EXPECT_EQ(ReadFile(out), ReadFile(kData / "expected_coco.json"));
  EXPECT_NE(err.find("export coco: 5 records read, 2 written"), std::string::npos) << err;
  EXPECT_TRUE(StrayFiles().empty()) << "the scratch file of annotations is gone";
}

TEST_F(ExportCliTest, MissingInputLeavesTheOldOutputAndNoTemporary) {
  const fs::path out = dir_ / "out.jsonl";
  WriteFile(out, "previous export\n");
  for (const char* to : {"odvg", "coco"}) {
    std::string err;
    EXPECT_EQ(Run(std::string("--to ") + to + " " + (dir_ / "nope.jsonl").string() + " --out " + out.string(), &err),
              kExitSetupError);
    EXPECT_NE(err.find("does not exist"), std::string::npos) << err;
    EXPECT_EQ(ReadFile(out), "previous export\n");
    EXPECT_TRUE(StrayFiles().empty());
  }
  // A directory that is not a results directory.
  std::string err;
  fs::create_directories(dir_ / "empty");
  EXPECT_EQ(Run("--to odvg " + (dir_ / "empty").string() + " --out " + (dir_ / "new.jsonl").string(), &err),
            kExitSetupError);
  EXPECT_NE(err.find("no annotations.jsonl"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "new.jsonl"));
  EXPECT_FALSE(fs::exists(dir_ / "new.jsonl.tmp"));
}

TEST_F(ExportCliTest, OutputThatIsTheInputIsRefused) {
  std::string err;
  const fs::path in = dir_ / "results" / "annotations.jsonl";
  EXPECT_EQ(Run("--to odvg " + in.string() + " --out " + in.string(), &err), kExitSetupError);
  EXPECT_NE(err.find("is the input file"), std::string::npos) << err;
  EXPECT_EQ(ReadFile(in), ReadFile(kData / "results.jsonl"));
}

TEST_F(ExportCliTest, UnusableLinesAreCountedAndExitOne) {
  const fs::path in = dir_ / "results" / "annotations.jsonl";
  WriteFile(in, ReadFile(kData / "results.jsonl") + "not json\n" +
                    R"({"status":"ok","image_path":"r.jpg","regions":[{"bbox":[0,0,1,1],"caption":"a cup"}]})" + "\n");
  std::string err;
  const fs::path out = dir_ / "out.jsonl";
  EXPECT_EQ(Run("--to odvg " + in.string() + " --out " + out.string(), &err), kExitSomeFailed);
  EXPECT_NE(err.find("records unusable (not JSON / wrong pipeline for this format): 2 (1 of the other pipeline)"), std::string::npos) << err;
  EXPECT_NE(err.find(":7: left out"), std::string::npos) << "the line is named: " << err;
  EXPECT_EQ(ReadFile(out), ReadFile(kData / "expected_odvg.jsonl"));
}

TEST_F(ExportCliTest, UnknownFormatNamesTheChoicesAndStatusWidensTheRecords) {
  std::string err;
  const fs::path out = dir_ / "out.jsonl";
  EXPECT_EQ(Run("--to yolo " + (dir_ / "results").string() + " --out " + out.string(), &err), kExitSetupError);
  EXPECT_NE(err.find("odvg | coco | odvg_detection"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
  ASSERT_EQ(Run("--to odvg --status ok,flagged " + (dir_ / "results").string() + " --out " + out.string(), &err),
            kExitOk)
      << err;
  EXPECT_NE(err.find("records left out by status: 1 (1 failed)"), std::string::npos) << err;
  EXPECT_NE(ReadFile(out).find("crowd.jpg"), std::string::npos) << "the flagged record goes out";
}

TEST(ExportWriter, EmptyCocoIsStillAValidDocument) {
  const fs::path dir = fs::temp_directory_path() / ("gc_export_empty_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  WriteFile(dir / "in.jsonl", R"({"status":"failed","error":{"kind":"image"}})" "\n");
  ExportRequest req;
  req.format = ExportFormat::kCoco;
  req.input = (dir / "in.jsonl").string();
  req.output = (dir / "out.json").string();
  ExportCounts c = RunExport(req);
  EXPECT_EQ(c.records_written, 0);
  auto doc = nlohmann::json::parse(ReadFile(dir / "out.json"));
  EXPECT_TRUE(doc["images"].empty());
  EXPECT_TRUE(doc["annotations"].empty());
  EXPECT_EQ(doc["categories"].size(), 1u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace groundcap
