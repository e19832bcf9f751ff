#include "sim/sim_verify.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "boxes/box_format.h"
#include "sim/eval.h"
#include "sim/synth.h"

namespace groundcap {
namespace {

using nlohmann::json;

/// A crop of `image` around `box` with `margin` of the box size added on
/// every side (clamped to the image), and the box on a 0-1000 grid of it.
struct CropOf {
  RgbImage image;
  std::array<long, 4> grid{};
};

CropOf CropAround(const RgbImage& image, const Box& box, double margin = 0.25) {
  const double mx = margin * box.width(), my = margin * box.height();
  int x0 = std::clamp(static_cast<int>(std::floor(box.x1 - mx)), 0, image.width - 1);
  int y0 = std::clamp(static_cast<int>(std::floor(box.y1 - my)), 0, image.height - 1);
  int x1 = std::clamp(static_cast<int>(std::ceil(box.x2 + mx)), x0 + 1, image.width);
  int y1 = std::clamp(static_cast<int>(std::ceil(box.y2 + my)), y0 + 1, image.height);
  CropOf c;
  c.image = RgbImage::Filled(x1 - x0, y1 - y0);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) std::copy_n(image.at(x, y), 3, c.image.at(x - x0, y - y0));
  }
  const double w = x1 - x0, h = y1 - y0;
  c.grid = {std::lround(std::clamp((box.x1 - x0) / w, 0.0, 1.0) * 1000),
            std::lround(std::clamp((box.y1 - y0) / h, 0.0, 1.0) * 1000),
            std::lround(std::clamp((box.x2 - x0) / w, 0.0, 1.0) * 1000),
            std::lround(std::clamp((box.y2 - y0) / h, 0.0, 1.0) * 1000)};
  return c;
}

/// A square of `side` pixels that no object of the scene comes near.
std::optional<Box> FreeBox(const Scene& s, double side) {
  const double pad = 6;
  for (double y = pad; y + side + pad < s.image.height; y += side / 4) {
    for (double x = pad; x + side + pad < s.image.width; x += side / 4) {
      Box b;
      b.x1 = x, b.y1 = y, b.x2 = x + side, b.y2 = y + side;
      bool free = std::none_of(s.objects.begin(), s.objects.end(), [&](const SceneObject& o) {
        return b.x1 < o.box.x2 + pad && o.box.x1 - pad < b.x2 && b.y1 < o.box.y2 + pad && o.box.y1 - pad < b.y2;
      });
      if (free) return b;
    }
  }
  return std::nullopt;
}

struct Question {
  Box box;                 ///< upright pixels of the scene
  std::string expression;
  bool truth = false;      ///< whether the box shows the expression
};

/// Per object: its own box (yes) and the next object's box under its
/// expression (no: colour+shape pairs are unique in a scene); one
/// background box under the first expression (no).
std::vector<Question> QuestionsFor(const Scene& s) {
  std::vector<Question> qs;
  const size_t n = s.objects.size();
  for (size_t i = 0; i < n; ++i) {
    qs.push_back({s.objects[i].box, s.objects[i].expression, true});
    qs.push_back({s.objects[(i + 1) % n].box, s.objects[i].expression, false});
  }
  if (std::optional<Box> bg = FreeBox(s, 0.15 * std::min(s.image.width, s.image.height))) {
    qs.push_back({*bg, s.objects[0].expression, false});
  }
  return qs;
}

/// A verification request: crop k is the k-th image, JPEG, with EXIF
/// orientations 1-8 in turn (the sim must apply them, as DecodeImage does).
SimRequest VerifyRequest(const Scene& s, const std::vector<Question>& qs) {
  SimRequest req;
  req.api = "openai";
  req.model = "sim";
  req.prompt = "Each image is a crop of a photo with a box drawn by a detector.\n"
               "For each crop, answer whether the box shows the expression.\n";
  for (size_t k = 0; k < qs.size(); ++k) {
    CropOf c = CropAround(s.image, qs[k].box);
    Result<std::string> bytes = EncodeImage(c.image, "jpeg", 90, 1 + static_cast<int>(k % 8));
    EXPECT_TRUE(bytes) << bytes.error().message;
    req.images.push_back(bytes ? *bytes : std::string());
    req.prompt += "Crop " + std::to_string(k + 1) + ": box " + std::to_string(c.grid[0]) + "," +
                  std::to_string(c.grid[1]) + "," + std::to_string(c.grid[2]) + "," + std::to_string(c.grid[3]) +
                  " | " + qs[k].expression + "\n";
  }
  req.prompt += "Reply in JSON.";
  return req;
}

json Answers(const SimRequest& req, double noise, uint64_t seed = 1) {
  SimOptions opts;
  opts.noise = noise;
  opts.seed = seed;
  json reply = json::parse(SimRespond(req, opts).text);
  EXPECT_TRUE(reply.contains("answers")) << reply.dump();
  return reply["answers"];
}

TEST(SimVerifyTest, ParsesCropLinesAndDetectsTheTask) {
  std::string prompt =
      "Answer for each crop.\n"
      "Crop 1: box 10,20,300,400 | a red circle\n"
      "  - Crop 2: box 0,0,1000,1000 | the blue square | left\n"
      "Crop 3: box 1,2,3 | too few numbers\n"
      "Crop x: box 1,2,3,4 | not a number\n";
  std::vector<VerifyQuestion> qs = ParseVerifyPrompt(prompt);
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].crop, 1);
  EXPECT_DOUBLE_EQ(qs[0].box.x1, 10);
  EXPECT_DOUBLE_EQ(qs[0].box.y2, 400);
  EXPECT_EQ(qs[0].expression, "a red circle");
  EXPECT_EQ(qs[1].crop, 2);
  EXPECT_EQ(qs[1].expression, "the blue square | left") << "the expression runs to the end of the line";
  EXPECT_EQ(DetectTask(prompt), SimTask::kVerify);
  EXPECT_EQ(DetectTask("E0: a red circle\nCrop 1: box 1,2,3,4 | a red circle"), SimTask::kVerify);
  EXPECT_EQ(DetectTask("Crop the image.\nE0: a red circle"), SimTask::kGrounding);
}

TEST(SimVerifyTest, AnswersFromTheCropPixels) {
  int right = 0, wrong_object = 0, background = 0;
  for (int i = 0; i < 10; ++i) {
    Scene s = MakeScene(31, i);
    std::vector<Question> qs = QuestionsFor(s);
    json answers = Answers(VerifyRequest(s, qs), 0);
    ASSERT_EQ(answers.size(), qs.size()) << answers.dump();
    for (size_t k = 0; k < qs.size(); ++k) {
      const json& a = answers[k];
      EXPECT_EQ(a["crop"], static_cast<int>(k) + 1);
      EXPECT_EQ(a["answer"], qs[k].truth ? "yes" : "no")
          << "scene " << i << " crop " << k + 1 << " '" << qs[k].expression << "': " << a.dump();
      std::string reason = a["reason"];
      if (qs[k].truth) {
        ++right;
        std::vector<Mention> want = FindMentions(qs[k].expression), got = FindMentions(reason);
        ASSERT_EQ(got.size(), 1u) << reason;
        EXPECT_EQ(got[0].color, want[0].color) << reason;
        EXPECT_EQ(got[0].shape, want[0].shape) << reason;
      } else if (reason == "no object in the box") {
        ++background;
      } else {
        ++wrong_object;
        EXPECT_NE(reason.find(", not " + qs[k].expression), std::string::npos) << reason;
      }
    }
  }
  EXPECT_GT(right, 25);
  EXPECT_EQ(wrong_object, right);
  EXPECT_GE(background, 8);
}

TEST(SimVerifyTest, MissingCropsSchemaAndDeterminism) {
  Scene s = MakeScene(32, 0);
  std::vector<Question> qs = QuestionsFor(s);
  SimRequest req = VerifyRequest(s, qs);
  req.prompt += "\nCrop 99: box 0,0,1000,1000 | " + s.objects[0].expression;
  req.images[1] = "not an image";
  req.schema = json::parse(R"({"type": "object", "properties": {"answers": {"type": "array"}}})");
  json answers = Answers(req, 0);
  ASSERT_EQ(answers.size(), qs.size() + 1);
  EXPECT_EQ(answers[0]["answer"], "yes");
  EXPECT_EQ(answers[1]["answer"], "no");
  EXPECT_NE(answers[1]["reason"].get<std::string>().find("cannot be read"), std::string::npos);
  EXPECT_EQ(answers.back()["crop"], 99);
  EXPECT_EQ(answers.back()["answer"], "no");
  SimOptions noisy;
  noisy.noise = 0.5;
  EXPECT_EQ(SimRespond(req, noisy).text, SimRespond(req, noisy).text);
}

TEST(SimVerifyTest, AnswerLogprobsMakeEachAnswerAToken) {
  const std::string text = R"({"answers":[{"crop":1,"answer":"yes","reason":"a red circle"},{"crop":2,"answer":"no","reason":"x"}]})";
  nlohmann::json tokens = AnswerLogprobs(text, {0.9, 0.6});
  std::string joined;
  std::vector<std::string> answers;
  for (const auto& t : tokens) {
    joined += t["token"].get<std::string>();
    if (!t["top_logprobs"].empty()) {
      answers.push_back(t["token"]);
      EXPECT_NEAR(std::exp(t["top_logprobs"][0]["logprob"].get<double>()) +
                      std::exp(t["top_logprobs"][1]["logprob"].get<double>()), 1.0, 1e-9);
    }
  }
  EXPECT_EQ(joined, text) << "the tokens spell the reply";
  EXPECT_EQ(answers, (std::vector<std::string>{"yes", "no"}));
  EXPECT_NEAR(std::exp(tokens[1]["logprob"].get<double>()), 0.9, 1e-9);
}

TEST(SimVerifyTest, NoiseFlipsAQuarterOfTheNoiseRate) {
  // Noise 0.2: each answer flipped with probability 0.25 * 0.2 = 5%.
  int answers = 0, flips = 0, to_yes = 0, to_no = 0;
  for (int i = 0; i < 30; ++i) {
    Scene s = MakeScene(33, i);
    SimRequest req = VerifyRequest(s, QuestionsFor(s));
    json clean = Answers(req, 0);
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      json noisy = Answers(req, 0.2, seed);
      ASSERT_EQ(noisy.size(), clean.size());
      for (size_t k = 0; k < clean.size(); ++k) {
        ++answers;
        if (noisy[k]["answer"] == clean[k]["answer"]) continue;
        ++flips;
        (noisy[k]["answer"] == "yes" ? to_yes : to_no)++;
      }
    }
  }
  double rate = static_cast<double>(flips) / answers;
  std::printf("verification at noise 0.2: %d of %d answers flipped (%.3f)\n", flips, answers, rate);
  EXPECT_GT(answers, 1500);
  EXPECT_GT(rate, 0.03);
  EXPECT_LT(rate, 0.07);
  EXPECT_GT(to_yes, 0);
  EXPECT_GT(to_no, 0);
}

TEST(SimVerifyTest, VerifyingNoisyGroundingKeepsTheRightBoxes) {
  // The sim side of the issue's measure: ground at noise 0.2 (wrong boxes on
  // ~20% of expressions), verify a crop of every box at noise 0.2, score
  // before and after filtering.
  std::vector<json> preds;
  std::vector<TruthImage> truth;
  for (int i = 0; i < 40; ++i) {
    Scene s = MakeScene(34, i);
    std::string path = "images/" + std::to_string(i) + ".png";
    truth.push_back(*ParseTruthRecord(SceneTruth(s, path)));
    Result<std::string> png = EncodeImage(s.image, "png");
    ASSERT_TRUE(png);
    SimRequest ground;
    ground.images.push_back(*png);
    for (size_t k = 0; k < s.objects.size(); ++k) {
      ground.prompt += "E" + std::to_string(k) + ": " + s.objects[k].expression + "\n";
    }
    SimOptions opts;
    opts.noise = 0.2;
    json dets = json::parse(SimRespond(ground, opts).text);
    std::vector<Question> qs;
    std::vector<size_t> expr_of;
    for (const json& d : dets) {
      double raw[4] = {d["box_2d"][0], d["box_2d"][1], d["box_2d"][2], d["box_2d"][3]};
      Size size{s.image.width, s.image.height};
      size_t k = std::stoul(d["label"].get<std::string>().substr(1));
      qs.push_back({MapQuad(raw, BoxFormat::kGemini, size, size), s.objects[k].expression, false});
      expr_of.push_back(k);
    }
    json rec = {{"image_path", path}, {"expressions", json::array()}};
    for (const SceneObject& o : s.objects) rec["expressions"].push_back({{"text", o.expression}, {"instances", json::array()}});
    json answers = qs.empty() ? json::array() : Answers(VerifyRequest(s, qs), 0.2);
    ASSERT_EQ(answers.size(), qs.size());
    for (size_t q = 0; q < qs.size(); ++q) {
      const Box& b = qs[q].box;
      rec["expressions"][expr_of[q]]["instances"].push_back(
          {{"bbox", {b.x1, b.y1, b.x2, b.y2}}, {"verified", answers[q]["answer"] == "yes"}});
    }
    preds.push_back(rec);
  }
  GroundingScore g = Evaluate(preds, truth, 0.5).grounding;
  double before = *g.boxes_all.precision(), after = *g.boxes_verified.precision();
  double kept = static_cast<double>(g.boxes_verified.correct) / g.boxes_all.correct;
  std::printf("noise 0.2, %lld boxes: precision %.3f before verification, %.3f after; %.3f of the right boxes kept\n",
              static_cast<long long>(g.boxes_all.boxes), before, after, kept);
  EXPECT_LT(before, 0.9);
  EXPECT_GE(after, 0.95);
  EXPECT_GE(kept, 0.9);
}

}  // namespace
}  // namespace groundcap
