// `groundcap serve-sim` as a process: prints its port, answers a Gemini
// generateContent grounding request from the pixels, stops on SIGTERM.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "boxes/box_format.h"
#include "image/image.h"
#include "sim/synth.h"

namespace groundcap {
namespace {

/// Stops the server process if an assertion leaves the test early.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

TEST(ServeSimTest, AnswersGeminiRequestsFromPixelsAndStopsOnSigterm) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(GROUNDCAP_BINARY, GROUNDCAP_BINARY, "serve-sim", "--imitate", "auto", "--port", "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ChildGuard guard{pid};
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  int port = std::atoi(line.c_str());
  ASSERT_GT(port, 0) << "first stdout line: '" << line << "'";

  Scene s = MakeScene(31, 0);
  Result<std::string> jpeg = EncodeImage(s.image, "jpeg", 90, 6);  // stored rotated
  ASSERT_TRUE(jpeg);
  std::string prompt = "Detect.\n";
  for (size_t k = 0; k < s.objects.size(); ++k) prompt += "E" + std::to_string(k) + ": " + s.objects[k].expression + "\n";
  nlohmann::json body = {
      {"contents",
       {{{"role", "user"},
         {"parts", {{{"inlineData", {{"mimeType", "image/jpeg"}, {"data", Base64Encode(*jpeg)}}}}, {{"text", prompt}}}}}}}};
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post("/v1beta/models/gemini-2.5-flash:generateContent", body.dump(), "application/json");
  ASSERT_TRUE(res) << "no HTTP response";
  ASSERT_EQ(res->status, 200) << res->body;
  nlohmann::json reply = nlohmann::json::parse(res->body);
  std::string text = reply["candidates"][0]["content"]["parts"][0]["text"];
  Result<nlohmann::json> dets = ParseLenientJson(text);
  ASSERT_TRUE(dets && dets->is_array()) << text;
  ASSERT_EQ(dets->size(), s.objects.size()) << text;
  for (const auto& d : *dets) {
    size_t k = std::stoul(d["label"].get<std::string>().substr(1));
    ASSERT_LT(k, s.objects.size());
    double raw[4] = {d["box_2d"][0], d["box_2d"][1], d["box_2d"][2], d["box_2d"][3]};
    Box b = MapQuad(raw, BoxFormat::kGemini, Size{s.image.width, s.image.height}, {});
    EXPECT_GE(IoU(b, s.objects[k].box), 0.95) << s.objects[k].expression << " " << text;
  }

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  guard.pid = -1;
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace groundcap
