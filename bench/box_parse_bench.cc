// Speed of reading boxes out of teacher replies (ParseBoxes): a clean
// Gemini reply with 25 boxes, the same reply messy (prose, single quotes,
// trailing commas, truncated), and a tagged DeepSeek-VL2 reply.
#include <string>

#include <benchmark/benchmark.h>

#include "boxes/box_format.h"

namespace {

std::string GeminiReply(int n, bool messy) {
  std::string s = messy ? "Sure! Here are the boxes:\n```json\n[" : "[";
  for (int i = 0; i < n; ++i) {
    int a = (i * 37) % 900, b = (i * 53) % 900;
    if (messy) {
      s += "{'box_2d': ['" + std::to_string(a) + "', " + std::to_string(b) + ", " + std::to_string(a + 80) + ", " +
           std::to_string(b + 90) + "], 'label': 'E" + std::to_string(i % 7) + "', 'score': 0.8},\n";
    } else {
      s += std::string(i ? "," : "") + "{\"box_2d\": [" + std::to_string(a) + ", " + std::to_string(b) + ", " +
           std::to_string(a + 80) + ", " + std::to_string(b + 90) + "], \"label\": \"E" + std::to_string(i % 7) +
           "\", \"score\": 0.8}";
    }
  }
  s += messy ? "{'box_2d': [10, 20, 3" : "]";
  return s;
}

void Run(benchmark::State& state, const std::string& reply, groundcap::BoxFormat format) {
  groundcap::ParseBoxesOptions o;
  o.format = format;
  o.image = groundcap::Size{1920, 1080};
  size_t boxes = 0;
  for (auto _ : state) {
    auto r = groundcap::ParseBoxes(reply, o);
    boxes = r ? r->boxes.size() : 0;
    benchmark::DoNotOptimize(boxes);
  }
  state.counters["boxes"] = static_cast<double>(boxes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * reply.size()));
}

void BM_GeminiClean25(benchmark::State& state) { Run(state, GeminiReply(25, false), groundcap::BoxFormat::kGemini); }
void BM_GeminiMessyTruncated25(benchmark::State& state) {
  Run(state, GeminiReply(25, true), groundcap::BoxFormat::kGemini);
}
void BM_DeepseekTagged10(benchmark::State& state) {
  std::string s;
  for (int i = 0; i < 10; ++i) {
    s += "<|ref|>object " + std::to_string(i) + "<|/ref|><|det|>[[" + std::to_string(i * 50) + ", 10, " +
         std::to_string(i * 50 + 40) + ", 400]]<|/det|> ";
  }
  Run(state, s, groundcap::BoxFormat::kDeepseekVl2);
}

BENCHMARK(BM_GeminiClean25);
BENCHMARK(BM_GeminiMessyTruncated25);
BENCHMARK(BM_DeepseekTagged10);

}  // namespace

BENCHMARK_MAIN();
