// The spec's resource limits: a hostile spec (an alias bomb, huge repeated
// scalars, deep nesting, a device or a directory as the spec file) fails at
// setup with a SetupError naming the key or file, before memory grows.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spec/spec.h"
#include "spec/spec_limits.h"
#include "util/error.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;

const char* kBase =
    "results_dir: /tmp/out\n"
    "autolabel_type: image_grounding\n"
    "image_grounding:\n"
    "  data:\n"
    "    input_jsonl: /tmp/in.jsonl\n"
    "  vlm:\n"
    "    openai:\n"
    "      extra_body:\n";

std::string ErrorOf(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    Spec::FromYaml(yaml, overrides, "spec.yaml");
  } catch (const SetupError& e) {
    return e.what();
  }
  return "";
}

std::string LoadErrorOf(const std::string& path) {
  try {
    Spec::Load(path, {});
  } catch (const SetupError& e) {
    return e.what();
  }
  return "";
}

/// "Billion laughs": each level is a list of ten aliases of the one above,
/// so `levels` levels expand to 10^levels scalars from a few hundred bytes.
std::string AliasBomb(int levels, const std::string& indent) {
  std::string y = indent + "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= levels; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    y += indent + "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) y += (k ? ", " : "") + prev;
    y += "]\n";
  }
  return y;
}

TEST(SpecLimitsTest, AliasBombInExtraBodyFailsAtSetupNamingTheKey) {
  std::string err = ErrorOf(std::string(kBase) + AliasBomb(9, "        "));
  EXPECT_NE(err.find("image_grounding.vlm.openai.extra_body"), std::string::npos) << err;
  EXPECT_NE(err.find("nodes"), std::string::npos) << err;
  EXPECT_NE(err.find(std::to_string(kMaxSpecNodes)), std::string::npos) << err;
}

TEST(SpecLimitsTest, AliasBombInAnOverrideFails) {
  std::string bomb = "{a: &a [x, x, x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], "
                     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b], d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c], "
                     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d], f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]}";
  std::string err = ErrorOf(std::string(kBase) + "        {}\n",
                            {"image_grounding.vlm.openai.extra_body=" + bomb});
  EXPECT_NE(err.find("image_grounding.vlm.openai.extra_body"), std::string::npos) << err;
  EXPECT_NE(err.find("nodes"), std::string::npos) << err;
}

TEST(SpecLimitsTest, RepeatedLargeScalarFailsOnExpandedSize) {
  // Few nodes, but each alias repeats 200 KB: 500 of them are 100 MB.
  std::string y = std::string(kBase) + "        big: &big \"" + std::string(200 * 1024, 'x') + "\"\n" +
                  "        many: [";
  for (int i = 0; i < 500; ++i) y += (i ? ", " : "") + std::string("*big");
  y += "]\n";
  std::string err = ErrorOf(y);
  EXPECT_NE(err.find("image_grounding.vlm.openai.extra_body"), std::string::npos) << err;
  EXPECT_NE(err.find("bytes"), std::string::npos) << err;
}

TEST(SpecLimitsTest, DeepNestingFails) {
  std::string y = std::string(kBase) + "        deep: " + std::string(200, '[') + std::string(200, ']') + "\n";
  std::string err = ErrorOf(y);
  EXPECT_NE(err.find("image_grounding.vlm.openai.extra_body"), std::string::npos) << err;
  EXPECT_NE(err.find("deep"), std::string::npos) << err;
}

TEST(SpecLimitsTest, OrdinaryAnchorsAndExtraBodyStillLoad) {
  Spec s = Spec::FromYaml(std::string(kBase) +
                              "        chat_template_kwargs: &kw {enable_thinking: false}\n"
                              "        again: *kw\n"
                              "        stop: [\"</answer>\", \"<|im_end|>\"]\n",
                          {});
  EXPECT_EQ(s.Json("image_grounding.vlm.openai.extra_body")["again"]["enable_thinking"], false);
}

TEST(SpecLimitsTest, NulInAStringValueIsRejected) {
  std::string err = ErrorOf(
      "results_dir: \"/tmp/out\\0/../../etc\"\nautolabel_type: image_grounding\n"
      "image_grounding:\n  data:\n    input_jsonl: /tmp/in.jsonl\n");
  EXPECT_NE(err.find("results_dir"), std::string::npos) << err;
  EXPECT_NE(err.find("NUL"), std::string::npos) << err;
}

TEST(SpecLimitsTest, HugeUnknownKeyIsReportedQuickly) {
  // The closest-key suggestion is an edit distance against every key: a
  // megabyte key must not make it take minutes, nor fill the message.
  std::string err = ErrorOf("results_dir: /tmp/out\n? " + std::string(512 * 1024, 'k') + "\n: 1\n");
  EXPECT_NE(err.find("unknown key"), std::string::npos) << err.substr(0, 200);
  EXPECT_LT(err.size(), 1000u);
}

class SpecFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_spec_file_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SpecFileTest, DirectoryIsReportedAsADirectory) {
  std::string err = LoadErrorOf(dir_.string());
  EXPECT_NE(err.find("is a directory"), std::string::npos) << err;
  EXPECT_EQ(err.find("results_dir"), std::string::npos) << err;
}

TEST_F(SpecFileTest, DeviceIsRefusedWithoutReadingIt) {
  std::string err = LoadErrorOf("/dev/zero");
  EXPECT_NE(err.find("/dev/zero"), std::string::npos) << err;
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
}

TEST_F(SpecFileTest, OversizedFileIsRefused) {
  fs::path p = dir_ / "big.yaml";
  {
    std::ofstream out(p);
    std::string comment = "# " + std::string(1000, 'c') + "\n";
    for (int64_t n = 0; n <= kMaxSpecFileBytes / 1000; ++n) out << comment;
    out << "results_dir: /tmp/out\n";
  }
  std::string err = LoadErrorOf(p.string());
  EXPECT_NE(err.find(p.string()), std::string::npos) << err;
  EXPECT_NE(err.find("larger than"), std::string::npos) << err;
}

TEST_F(SpecFileTest, MissingFileIsNamed) {
  std::string err = LoadErrorOf((dir_ / "nope.yaml").string());
  EXPECT_NE(err.find("nope.yaml"), std::string::npos) << err;
  EXPECT_NE(err.find("does not exist"), std::string::npos) << err;
}

}  // namespace
}  // namespace groundcap
