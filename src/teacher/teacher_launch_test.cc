#include "teacher/teacher_launch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "spec/spec.h"
#include "util/error.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;

TEST(TeacherLaunchTest, SubstitutesEveryPortToken) {
  EXPECT_EQ(SubstitutePort("srv --port {port} --metrics {port}x", 8123), "srv --port 8123 --metrics 8123x");
  EXPECT_EQ(SubstitutePort("no token", 1), "no token");
}

TEST(TeacherLaunchTest, FileTailKeepsTheLastLines) {
  const fs::path p = fs::temp_directory_path() / ("gc_tail_" + std::to_string(::getpid()));
  std::ofstream(p) << "a\nb\nc\nd\n\n";
  EXPECT_EQ(FileTail(p.string(), 2), "c\nd");
  EXPECT_EQ(FileTail(p.string(), 10), "a\nb\nc\nd");
  EXPECT_EQ(FileTail((p / "missing").string(), 3), "");
  fs::remove(p);
}

TEST(TeacherLaunchTest, ServerThatNeverAnswersTimesOutAndIsStopped) {
  const fs::path dir = fs::temp_directory_path() / ("gc_launch_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Listens nowhere: sleeps, printing its port, until stopped.
  LaunchedTeachers servers({"echo waiting-on-{port}; exec sleep 30"}, 0.5);
  try {
    servers.Start(dir.string());
    FAIL() << "expected SetupError";
  } catch (const SetupError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("did not answer"), std::string::npos) << m;
    EXPECT_NE(m.find("waiting-on-"), std::string::npos) << m;
  }
  fs::remove_all(dir);
}

std::string PlanError(const std::vector<std::string>& overrides) {
  Spec spec = Spec::FromYaml("autolabel_type: image_grounding\nresults_dir: /tmp/x\n"
                             "image_grounding:\n  data:\n    input_jsonl: in.jsonl\n",
                             overrides);
  try {
    LaunchedTeachers t = LaunchedTeachers::Plan(spec, kImageGrounding);
    return t.empty() ? "empty" : "planned " + std::to_string(t.Urls().size());
  } catch (const SetupError& e) {
    return e.what();
  }
}

TEST(TeacherLaunchTest, PlanChecksTheCommands) {
  const std::string k = "image_grounding.vlm.openai.launch";
  EXPECT_EQ(PlanError({}), "empty");
  EXPECT_EQ(PlanError({"image_grounding.vlm.backend=openai", k + "=[\"a --port {port}\", \"b {port}\"]"}),
            "planned 2");
  EXPECT_EQ(PlanError({"image_grounding.vlm.backend=openai", k + "=serve --port 80"}),
            k + ": the command must contain {port} (replaced by a free loopback port the server must listen on), "
                "got \"serve --port 80\"");
  EXPECT_EQ(PlanError({k + "=serve --port {port}"}),
            k + " needs image_grounding.vlm.backend=openai (launched servers speak the OpenAI API)");
  EXPECT_EQ(PlanError({"image_grounding.vlm.backend=openai", k + "=[3]"}), k + "[0]: expected a command line, got 3");
}

}  // namespace
}  // namespace groundcap
