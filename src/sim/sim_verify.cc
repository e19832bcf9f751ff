// The simulated teacher's verification answers: see sim_verify.h.
#include "sim/sim_verify.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "util/rng.h"

namespace groundcap {
namespace {

uint64_t Fnv1a(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

double Intersection(const Box& a, const Box& b) {
  double ix = std::max(0.0, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  double iy = std::max(0.0, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  return ix * iy;
}

}  // namespace

std::vector<VerifyQuestion> ParseVerifyPrompt(std::string_view prompt) {
  std::vector<VerifyQuestion> out;
  size_t pos = 0;
  while (pos <= prompt.size()) {
    size_t nl = prompt.find('\n', pos);
    std::string_view line = prompt.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? prompt.size() + 1 : nl + 1;
    line = Trim(line);
    while (!line.empty() && line.front() == '-') line = Trim(line.substr(1));
    if (!line.starts_with("Crop ")) continue;
    size_t bar = line.find('|');
    if (bar == std::string_view::npos) continue;
    std::string head(line.substr(0, bar));
    VerifyQuestion q;
    double v[4];
    int consumed = 0;
    if (std::sscanf(head.c_str(), "Crop %d: box %lf,%lf,%lf,%lf%n", &q.crop, &v[0], &v[1], &v[2], &v[3],
                    &consumed) != 5 ||
        !Trim(std::string_view(head).substr(static_cast<size_t>(consumed))).empty() || q.crop < 1) {
      continue;
    }
    q.box.x1 = v[0], q.box.y1 = v[1], q.box.x2 = v[2], q.box.y2 = v[3];
    q.expression = std::string(Trim(line.substr(bar + 1)));
    out.push_back(std::move(q));
  }
  return out;
}

VerifyAnswer JudgeCrop(const RgbImage& crop, const Box& box, std::string_view expression) {
  VerifyAnswer answer;
  const std::string expr(Trim(expression));
  const FoundShape* best = nullptr;
  double best_overlap = 0;
  std::vector<FoundShape> shapes = FindShapes(crop);
  for (const FoundShape& s : shapes) {
    double overlap = Intersection(s.box, box);
    if (overlap > best_overlap) best_overlap = overlap, best = &s;
  }
  if (best == nullptr || best_overlap < 0.3 * std::min(best->box.area(), box.area())) {
    answer.reason = "no object in the box";
    return answer;
  }
  std::vector<Mention> mentions = FindMentions(expr);
  const std::string seen = DescribeShape(*best);
  if (!mentions.empty()) {
    const Mention& m = mentions.front();
    answer.yes = best->shape == m.shape && (m.color < 0 || best->color == m.color);
  }
  answer.reason = answer.yes ? seen : seen + ", not " + expr;
  return answer;
}

nlohmann::json AnswerLogprobs(const std::string& text, const std::vector<double>& confidence) {
  static const std::string kKey = "\"answer\":\"";
  nlohmann::json tokens = nlohmann::json::array();
  const auto plain = [&](std::string piece) {
    if (!piece.empty()) tokens.push_back({{"token", piece}, {"logprob", 0.0}, {"top_logprobs", nlohmann::json::array()}});
  };
  size_t pos = 0;
  for (double p : confidence) {
    size_t at = text.find(kKey, pos);
    if (at == std::string::npos) break;
    at += kKey.size();
    plain(text.substr(pos, at - pos));
    const bool yes = text.compare(at, 3, "yes") == 0;
    const std::string chosen = yes ? "yes" : "no", other = yes ? "no" : "yes";
    tokens.push_back({{"token", chosen},
                      {"logprob", std::log(p)},
                      {"top_logprobs", {{{"token", chosen}, {"logprob", std::log(p)}},
                                        {{"token", other}, {"logprob", std::log(1 - p)}}}}});
    pos = at + chosen.size();
  }
  plain(text.substr(pos));
  return tokens;
}

SimReply SimVerify(const SimRequest& request, const SimOptions& options) {
  uint64_t h = Fnv1a(request.prompt, options.seed * 31 + 11);
  for (const std::string& image : request.images) {
    h = Fnv1a(image.substr(0, 4096), h) ^ image.size();
  }
  Rng rng(h);
  std::map<int, std::optional<RgbImage>> crops;  // decoded on first use
  nlohmann::json answers = nlohmann::json::array();
  std::vector<double> confidence;  // of each answer, in order
  for (const VerifyQuestion& q : ParseVerifyPrompt(request.prompt)) {
    VerifyAnswer a;
    auto [it, fresh] = crops.try_emplace(q.crop);
    if (fresh && static_cast<size_t>(q.crop) <= request.images.size()) {
      if (Result<RgbImage> img = DecodeImage(request.images[static_cast<size_t>(q.crop) - 1])) {
        it->second = std::move(*img);
      }
    }
    if (static_cast<size_t>(q.crop) > request.images.size()) {
      a.reason = "crop " + std::to_string(q.crop) + " is not in the request";
    } else if (!it->second) {
      a.reason = "crop " + std::to_string(q.crop) + " cannot be read";
    } else {
      const RgbImage& img = *it->second;
      Box px;
      px.x1 = q.box.x1 / 1000 * img.width, px.y1 = q.box.y1 / 1000 * img.height;
      px.x2 = q.box.x2 / 1000 * img.width, px.y2 = q.box.y2 / 1000 * img.height;
      a = JudgeCrop(img, px, q.expression);
    }
    // The noise model's confusion rate: a wrong answer, with a reason that
    // backs it, as a confidently wrong model would give. Its probability is
    // lower, though: the simulated verifier is calibrated (sure 0.85-0.99
    // when right, 0.55-0.80 when wrong), which real teachers may not be.
    double sure = 0.85 + 0.14 * rng.Uniform();
    if (options.noise > 0 && rng.Uniform() < 0.25 * options.noise) {
      a.yes = !a.yes;
      a.reason = a.yes ? std::string(Trim(q.expression)) : "does not look like " + std::string(Trim(q.expression));
      sure = 0.55 + 0.25 * rng.Uniform();
    }
    answers.push_back({{"crop", q.crop}, {"answer", a.yes ? "yes" : "no"}, {"reason", a.reason}});
    confidence.push_back(sure);
  }
  SimReply reply;
  reply.text = nlohmann::json{{"answers", std::move(answers)}}.dump();
  const nlohmann::json& body = request.body;
  const bool openai_logprobs = body.is_object() && body.value("logprobs", false) == true;
  const bool gemini_logprobs = body.is_object() && body.contains("generationConfig") &&
                               body["generationConfig"].is_object() &&
                               body["generationConfig"].value("responseLogprobs", false);
  if (openai_logprobs || gemini_logprobs) {
    reply.logprobs = AnswerLogprobs(reply.text, confidence);
  }
  return reply;
}

}  // namespace groundcap
