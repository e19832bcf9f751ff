// Input records the engine must not take at face value: a NUL inside the
// image path (a C path would end there and name another file) and records
// already failed upstream, which must keep the output promise of an `error`.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/step_runner.h"
#include "engine/step_runner_test_util.h"
#include "util/jsonl.h"

namespace groundcap {
namespace {

using testing_util::Captions;
using testing_util::FakeTeacher;
using testing_util::Fixture;
using testing_util::J;
using testing_util::MakeInput;
using testing_util::ReadOutput;
using testing_util::RunEcho;

TEST(StepInputTest, NulInImagePathRejectsTheLine) {
  std::vector<std::string> lines = Captions(2);
  // Written by hand: the JSON escape \u0000 inside the path.
  lines.insert(lines.begin() + 1, R"({"image_path": "img/0.jpg\u0000/../../etc/passwd", "caption": "nul"})");
  Fixture f = MakeInput("nul_path", lines);
  FakeTeacher t;
  StepStats s = RunEcho(f, &t);
  EXPECT_EQ(s.rejected, 1);
  EXPECT_EQ(s.read, 2);
  EXPECT_EQ(t.requests(), 2);
  std::vector<J> rej = ReadOutput(f.dir + "/results/rejects.jsonl");
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0]["line"], 2);
  const std::string reason = rej[0]["reason"].get<std::string>();
  EXPECT_NE(reason.find("image_path"), std::string::npos) << reason;
  EXPECT_NE(reason.find("NUL"), std::string::npos) << reason;
  std::vector<J> out = ReadOutput(s.output_path);
  ASSERT_EQ(out.size(), 2u);  // the output skips the rejected line too
  EXPECT_EQ(out[1]["caption"], "cap1");
}

TEST(StepInputTest, UpstreamFailureAlwaysCarriesAnError) {
  std::vector<std::string> lines = {
      DumpJsonLine(J{{"id", "bare"}, {"caption", "x"}, {"status", "failed"}}),
      DumpJsonLine(J{{"id", "kept"}, {"caption", "x"}, {"status", "failed"},
                     {"error", {{"kind", "timeout"}, {"message", "slow"}, {"attempts", 3}}}}),
      DumpJsonLine(J{{"id", "junk"}, {"caption", "x"}, {"status", "failed"}, {"error", "boom"}}),
      DumpJsonLine(J{{"id", "nomsg"}, {"caption", "x"}, {"status", "failed"}, {"error", {{"kind", "parse"}}}}),
  };
  Fixture f = MakeInput("upstream_error", lines);
  FakeTeacher t;
  StepStats s = RunEcho(f, &t);
  EXPECT_EQ(t.requests(), 0);
  EXPECT_EQ(s.failed_upstream, 4);
  std::vector<J> out = ReadOutput(s.output_path);
  ASSERT_EQ(out.size(), 4u);
  for (const J& r : out) {
    EXPECT_EQ(r["status"], "failed");
    ASSERT_TRUE(r.contains("error") && r["error"].is_object()) << r.dump();
    EXPECT_TRUE(r["error"]["kind"].is_string()) << r.dump();
    EXPECT_TRUE(r["error"]["message"].is_string()) << r.dump();
  }
  EXPECT_EQ(out[0]["error"]["kind"], "upstream");
  EXPECT_NE(out[0]["error"]["message"].get<std::string>().find("already failed"), std::string::npos);
  EXPECT_EQ(out[1]["error"], (J{{"kind", "timeout"}, {"message", "slow"}, {"attempts", 3}}));  // unchanged
  EXPECT_EQ(out[2]["error"]["kind"], "upstream");
  EXPECT_NE(out[2]["error"]["message"].get<std::string>().find("boom"), std::string::npos);
  EXPECT_EQ(out[3]["error"]["kind"], "parse");
  EXPECT_EQ(s.failed_by_kind["upstream"], 2);
  EXPECT_EQ(s.failed_by_kind["timeout"], 1);
}

}  // namespace
}  // namespace groundcap
