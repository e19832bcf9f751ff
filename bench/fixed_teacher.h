// The fixed-reply fake teacher the throughput benchmarks share: step 0 gets
// two expressions, step 1 one box per expression line ("E<n>: ..."), so the
// teacher costs no CPU worth measuring and every run does the same work.
#ifndef GROUNDCAP_BENCH_FIXED_TEACHER_H_
#define GROUNDCAP_BENCH_FIXED_TEACHER_H_

#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/sim_server.h"

namespace groundcap::bench {

inline SimReply FixedReply(const SimRequest& req) {
  SimReply r;
  if (req.prompt.find("\nCaption: ") != std::string::npos) {
    r.text = R"({"cleaned_caption": "A red box and a blue ball.", "expressions": [)"
             R"({"text": "a red box", "noun_chunk": "box"}, {"text": "a blue ball", "noun_chunk": "ball"}]})";
    return r;
  }
  static const std::regex kLine(R"(^E(\d+): (.*)$)");
  nlohmann::json list = nlohmann::json::array();
  std::istringstream lines(req.prompt);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kLine))
      list.push_back({{"label", "E" + m[1].str()}, {"box_2d", {100, 200, 600, 700}}, {"score", 0.8}});
  }
  r.text = list.dump();
  return r;
}

}  // namespace groundcap::bench

#endif  // GROUNDCAP_BENCH_FIXED_TEACHER_H_
