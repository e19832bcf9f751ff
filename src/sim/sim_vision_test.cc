#include "sim/sim_vision.h"

#include <algorithm>
#include <cstdio>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/draw.h"
#include "sim/eval.h"

namespace groundcap {
namespace {

const FoundShape* Match(const std::vector<FoundShape>& found, const SceneObject& o) {
  for (const FoundShape& f : found) {
    if (f.color == o.color && f.shape == o.shape) return &f;
  }
  return nullptr;
}

std::string Describe(const SceneObject& o) {
  return std::string(ObjectPalette()[o.color].name) + " " + ShapeName(o.shape);
}

TEST(SimVisionTest, FindsEveryShapeOfRawScenes) {
  int objects = 0;
  for (int i = 0; i < 16; ++i) {
    Scene s = MakeScene(3, i);
    std::vector<FoundShape> found = FindShapes(s.image);
    EXPECT_EQ(found.size(), s.objects.size()) << "scene " << i;
    for (const SceneObject& o : s.objects) {
      const FoundShape* f = Match(found, o);
      ASSERT_NE(f, nullptr) << "scene " << i << ": " << Describe(o);
      EXPECT_GE(IoU(f->box, o.box), 0.99) << "scene " << i << ": " << Describe(o);
      ++objects;
    }
  }
  EXPECT_GT(objects, 40);
}

TEST(SimVisionTest, FindsShapesThroughCodecsAndExifOrientation) {
  for (int i = 0; i < 16; ++i) {
    Scene s = MakeScene(4, i);
    int orientation = 1 + i % 8;  // every tag, on both codecs
    std::string format = i % 3 == 2 ? "png" : "jpeg";
    Result<std::string> bytes = EncodeImage(s.image, format, 90, format == "jpeg" ? orientation : 1);
    ASSERT_TRUE(bytes) << bytes.error().message;
    Result<RgbImage> img = DecodeImage(*bytes);
    ASSERT_TRUE(img) << img.error().message;
    ASSERT_EQ(img->width, s.image.width) << "decode applies the orientation";
    std::vector<FoundShape> found = FindShapes(*img);
    for (const SceneObject& o : s.objects) {
      const FoundShape* f = Match(found, o);
      ASSERT_NE(f, nullptr) << "scene " << i << " orientation " << orientation << ": " << Describe(o);
      EXPECT_GE(IoU(f->box, o.box), 0.95) << "scene " << i << ": " << Describe(o);
    }
  }
}

/// Sends a scene through the simulated teacher as a grounding request and
/// maps the reply back with MapQuad, as a client would.
struct Grounded {
  std::vector<double> ious;  ///< per object, 0 when not boxed
  std::string reply;
};

Grounded GroundScene(const Scene& s, BoxFormat format, const PrepareOptions& prep, bool map_with_smart_size,
                     double noise = 0) {
  Grounded g;
  Result<PreparedImage> sent = PrepareForTeacher(s.image, prep);
  EXPECT_TRUE(sent) << sent.error().message;
  if (!sent) return g;
  SimRequest req;
  req.api = "openai";
  req.model = "test-model";
  req.images.push_back(sent->bytes);
  req.prompt = "Find these objects.\n";
  for (size_t k = 0; k < s.objects.size(); ++k) req.prompt += "E" + std::to_string(k) + ": " + s.objects[k].expression + "\n";
  SimOptions opts;
  opts.imitate = BoxFormatName(format);
  opts.noise = noise;
  g.reply = SimRespond(req, opts).text;
  Result<nlohmann::json> dets = ParseLenientJson(g.reply);
  EXPECT_TRUE(dets) << g.reply;
  g.ious.assign(s.objects.size(), 0.0);
  if (!dets || !dets->is_array()) return g;
  Size input = map_with_smart_size ? SmartResize(sent->sent) : sent->sent;
  for (const auto& d : *dets) {
    std::string label = d["label"];
    size_t k = std::stoul(label.substr(1));
    const nlohmann::json& q = d.contains("box_2d") ? d["box_2d"] : d.contains("bbox_2d") ? d["bbox_2d"] : d["bbox"];
    double raw[4] = {q[0].get<double>(), q[1].get<double>(), q[2].get<double>(), q[3].get<double>()};
    Box b = MapQuad(raw, format, Size{s.image.width, s.image.height}, input);
    if (k < s.objects.size()) g.ious[k] = std::max(g.ious[k], IoU(b, s.objects[k].box));
  }
  return g;
}

TEST(SimVisionTest, GroundingRepliesInEachFamilyConventionMapBackExactly) {
  struct Case {
    BoxFormat format;
    double min_iou;
  };
  const Case cases[] = {{BoxFormat::kGemini, 0.95},      {BoxFormat::kQwen25Vl, 0.95},
                        {BoxFormat::kQwen3Vl, 0.95},     {BoxFormat::kXyxyNorm1000, 0.95},
                        {BoxFormat::kXyxyPixels, 0.95},  {BoxFormat::kXyxyNorm1, 0.95},
                        {BoxFormat::kDeepseekVl2, 0.95}, {BoxFormat::kPaliGemma, 0.93},
                        {BoxFormat::kFlorence2, 0.93}};
  for (const Case& c : cases) {
    for (int i = 0; i < 6; ++i) {
      Scene s = MakeScene(11, i);
      PrepareOptions prep;
      prep.encoding = i % 2 ? "png" : "jpeg";
      if (c.format == BoxFormat::kQwen25Vl) {
        prep.resize = PrepareOptions::Resize::kSmartResize;  // a fixed point of the processor
      } else {
        prep.max_pixels = static_cast<int64_t>(s.image.width) * s.image.height * 6 / 10;  // downscaled
      }
      Grounded g = GroundScene(s, c.format, prep, false);
      for (size_t k = 0; k < s.objects.size(); ++k) {
        EXPECT_GE(g.ious[k], c.min_iou) << BoxFormatName(c.format) << " scene " << i << " "
                                        << s.objects[k].expression << "\n" << g.reply;
      }
    }
  }
}

TEST(SimVisionTest, Qwen25AppliesItsOwnSmartResizeToOddSizes) {
  Scene s = MakeScene(12, 1);
  PrepareOptions prep;
  prep.resize = PrepareOptions::Resize::kPixelBudget;
  prep.max_pixels = 300 * 220;  // far from a multiple of 28
  Size sent = PreparedSize(Size{s.image.width, s.image.height}, prep);
  ASSERT_NE(SmartResize(sent), sent);
  Grounded g = GroundScene(s, BoxFormat::kQwen25Vl, prep, true);
  for (double iou : g.ious) EXPECT_GE(iou, 0.85) << g.reply;  // 300 px wide: a pixel is 2-3 original pixels
}

TEST(SimVisionTest, ClientMistakesShowAsWrongBoxes) {
  Scene s = MakeScene(13, 2);
  // 1. Orientation dropped: the stored (rotated) pixels sent without their
  // EXIF tag, boxes then read as upright.
  RgbImage rotated;
  rotated.width = s.image.height;
  rotated.height = s.image.width;
  rotated.pixels.resize(s.image.pixels.size());
  for (int y = 0; y < s.image.height; ++y) {
    for (int x = 0; x < s.image.width; ++x) {
      std::copy_n(s.image.at(x, y), 3, rotated.at(s.image.height - 1 - y, x));  // 90 degrees clockwise
    }
  }
  Result<std::string> bytes = EncodeImage(rotated, "png");
  ASSERT_TRUE(bytes);
  SimRequest req;
  req.images.push_back(*bytes);
  for (size_t k = 0; k < s.objects.size(); ++k) req.prompt += "E" + std::to_string(k) + ": " + s.objects[k].expression + "\n";
  nlohmann::json dets = nlohmann::json::parse(SimRespond(req, SimOptions{}).text);
  ASSERT_FALSE(dets.empty()) << "the shapes are still found";
  int good = 0;
  for (const auto& d : dets) {
    double raw[4] = {d["box_2d"][0], d["box_2d"][1], d["box_2d"][2], d["box_2d"][3]};
    Box b = MapQuad(raw, BoxFormat::kGemini, Size{s.image.width, s.image.height}, {});
    good += IoU(b, s.objects[std::stoul(d["label"].get<std::string>().substr(1))].box) >= 0.5;
  }
  EXPECT_EQ(good, 0);
  // 2. Qwen2.5-VL pixels of a downscaled image read as original pixels.
  PrepareOptions prep;
  prep.max_pixels = 320 * 240;
  Grounded g = GroundScene(s, BoxFormat::kQwen25Vl, prep, true);
  for (double iou : g.ious) EXPECT_GE(iou, 0.8);
  Result<PreparedImage> sent = PrepareForTeacher(s.image, prep);
  ASSERT_TRUE(sent);
  Result<nlohmann::json> q = ParseLenientJson(g.reply);
  ASSERT_TRUE(q);
  for (const auto& d : *q) {
    double raw[4] = {d["bbox_2d"][0], d["bbox_2d"][1], d["bbox_2d"][2], d["bbox_2d"][3]};
    Box wrong = MapQuad(raw, BoxFormat::kQwen25Vl, Size{s.image.width, s.image.height},
                        Size{s.image.width, s.image.height});
    EXPECT_LT(IoU(wrong, s.objects[std::stoul(d["label"].get<std::string>().substr(1))].box), 0.5);
  }
}

TEST(SimVisionTest, AutoImitationFollowsTheModelName) {
  Scene s = MakeScene(2, 0);
  Result<PreparedImage> sent = PrepareForTeacher(s.image, PrepareOptions{});
  ASSERT_TRUE(sent);
  SimRequest req;
  req.images.push_back(sent->bytes);
  req.prompt = "E0: " + s.objects[0].expression;
  SimOptions opts;
  opts.imitate = "auto";
  req.model = "gemini-2.5-flash";
  EXPECT_NE(SimRespond(req, opts).text.find("box_2d"), std::string::npos);
  req.model = "Qwen/Qwen3-VL-8B-Instruct";
  EXPECT_NE(SimRespond(req, opts).text.find("bbox_2d"), std::string::npos);
  EXPECT_THROW(MakeSimResponder(SimOptions{"no-such-family", 0, 1}), SetupError);
}

TEST(SimVisionTest, ExtractionCleansCaptionAndNamesVisibleShapes) {
  Scene s = MakeScene(5, 2);
  Result<PreparedImage> sent = PrepareForTeacher(s.image, PrepareOptions{});
  ASSERT_TRUE(sent);
  SimRequest req;
  req.images.push_back(sent->bytes);
  req.prompt = "Extract expressions.\nCaption: " + s.caption + " there is also a pink hexagon.";
  nlohmann::json reply = nlohmann::json::parse(SimRespond(req, SimOptions{}).text);
  std::string cleaned = reply["cleaned_caption"];
  EXPECT_EQ(cleaned.find("we can see"), std::string::npos) << cleaned;
  EXPECT_EQ(cleaned.find("there is"), std::string::npos) << cleaned;
  std::vector<std::string> got, want;
  for (const auto& e : reply["expressions"]) {
    std::string text = e["text"];
    EXPECT_NE(cleaned.find(text), std::string::npos) << text;
    got.push_back(NormalizeExpression(text));
  }
  for (const SceneObject& o : s.objects) want.push_back(NormalizeExpression(o.expression));
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST(SimVisionTest, CaptionCleaningAndMentions) {
  EXPECT_EQ(CleanCaption("in this image we can see a red circle. there is also a blue star."),
            "A red circle. A blue star.");
  std::string text = "the small red circle near an orange cross and stars";
  std::vector<Mention> m = FindMentions(text);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(text.substr(m[0].begin, m[0].end - m[0].begin), "the small red circle");
  EXPECT_EQ(m[0].color, PaletteIndex("red"));
  EXPECT_EQ(text.substr(m[1].begin, m[1].end - m[1].begin), "an orange cross");
  EXPECT_EQ(m[2].color, -1);
  EXPECT_EQ(m[2].shape, ShapeKind::kStar);
  EXPECT_EQ(DetectTask("x\nE0: a red circle\nE1: b"), SimTask::kGrounding);
  EXPECT_EQ(DetectTask("Caption: a red circle"), SimTask::kExtraction);
  EXPECT_EQ(DetectTask("Region [1]: box 1,2,3,4"), SimTask::kRegionStructured);
  EXPECT_EQ(DetectTask("Describe the content of each marked region in the image. There are 2 regions: "
                       "<region1> to <region2>."),
            SimTask::kRegionDataflow);
  EXPECT_EQ(DetectTask("hello"), SimTask::kUnknown);
}

TEST(SimVisionTest, DescribesNumberedRegions) {
  for (int i = 0; i < 6; ++i) {
    Scene s = MakeScene(6, i);
    std::vector<Box> boxes;
    for (const SceneObject& o : s.objects) boxes.push_back(o.box);
    RgbImage marked = DrawMarks(s.image, boxes, MarkStyle::kNumbered);
    Result<PreparedImage> sent = PrepareForTeacher(marked, PrepareOptions{});
    ASSERT_TRUE(sent);
    SimRequest req;
    req.images.push_back(sent->bytes);
    for (size_t k = 0; k < boxes.size(); ++k) {
      const Box& b = boxes[k];
      req.prompt += "Region [" + std::to_string(k + 1) + "]: box " +
                    std::to_string(std::lround(b.x1 * 1000 / s.image.width)) + "," +
                    std::to_string(std::lround(b.y1 * 1000 / s.image.height)) + "," +
                    std::to_string(std::lround(b.x2 * 1000 / s.image.width)) + "," +
                    std::to_string(std::lround(b.y2 * 1000 / s.image.height)) + "\n";
    }
    nlohmann::json reply = nlohmann::json::parse(SimRespond(req, SimOptions{}).text);
    ASSERT_EQ(reply["regions"].size(), boxes.size());
    for (size_t k = 0; k < boxes.size(); ++k) {
      EXPECT_EQ(reply["regions"][k]["region_id"], static_cast<int>(k) + 1);
      std::string caption = reply["regions"][k]["caption"];
      EXPECT_TRUE(CaptionNames(caption, ObjectPalette()[s.objects[k].color].name, ShapeName(s.objects[k].shape)))
          << "scene " << i << " region " << k + 1 << ": " << caption << " vs " << Describe(s.objects[k]);
    }
  }
}

TEST(SimVisionTest, AnswersDataflowPromptFromGreenMarks) {
  for (int i = 0; i < 6; ++i) {
    Scene s = MakeScene(7, i);
    // Largest first, as DataFlow orders its proposals: not reading order,
    // so only the digits drawn on the marks say which region is which.
    std::vector<SceneObject> objs = s.objects;
    std::sort(objs.begin(), objs.end(), [](const SceneObject& a, const SceneObject& b) {
      return a.box.width() * a.box.height() > b.box.width() * b.box.height();
    });
    std::vector<Box> boxes;
    for (const SceneObject& o : objs) boxes.push_back(o.box);
    RgbImage marked = DrawMarks(s.image, boxes, MarkStyle::kDataflow);
    PrepareOptions prep;
    prep.encoding = i % 2 ? "png" : "jpeg";  // JPEG smears the thin green lines
    Result<PreparedImage> sent = PrepareForTeacher(marked, prep);
    ASSERT_TRUE(sent);
    SimRequest req;
    req.images.push_back(sent->bytes);
    int n = static_cast<int>(boxes.size());
    req.prompt = "Describe the content of each marked region in the image. There are " + std::to_string(n) +
                 " regions: <region1> to <region" + std::to_string(n) + ">.";
    std::string answer = SimRespond(req, SimOptions{}).text;
    for (int k = 0; k < n; ++k) {
      std::string tag = "<region" + std::to_string(k + 1) + ">: ";
      size_t pos = answer.find(tag);
      ASSERT_NE(pos, std::string::npos) << answer;
      std::string part = answer.substr(pos + tag.size(), answer.find('.', pos) - pos - tag.size());
      EXPECT_TRUE(CaptionNames(part, ObjectPalette()[objs[k].color].name, ShapeName(objs[k].shape)))
          << "scene " << i << " region " << k + 1 << " want " << Describe(objs[k]) << ": " << answer;
    }
  }
}

/// Prediction records as the grounding pipeline writes them, from the
/// simulated teacher's replies, with the truth of their scenes.
struct SimulatedRun {
  std::vector<nlohmann::json> preds;
  std::vector<TruthImage> truth;
};

SimulatedRun GroundSimulatedRun(double noise, int scenes = 10, uint64_t scene_seed = 21) {
  SimulatedRun run;
  for (int i = 0; i < scenes; ++i) {
    Scene s = MakeScene(scene_seed, i);
    std::string path = "images/" + std::to_string(i) + ".jpg";
    Result<TruthImage> t = ParseTruthRecord(SceneTruth(s, path));
    run.truth.push_back(*t);
    Result<PreparedImage> sent = PrepareForTeacher(s.image, PrepareOptions{});
    SimRequest req;
    req.images.push_back(sent->bytes);
    for (size_t k = 0; k < s.objects.size(); ++k) req.prompt += "E" + std::to_string(k) + ": " + s.objects[k].expression + "\n";
    SimOptions opts{"gemini", noise, 3};
    nlohmann::json dets = nlohmann::json::parse(SimRespond(req, opts).text);
    nlohmann::json rec = {{"image_path", path}, {"expressions", nlohmann::json::array()}};
    for (size_t k = 0; k < s.objects.size(); ++k) {
      nlohmann::json e = {{"text", s.objects[k].expression}, {"instances", nlohmann::json::array()}};
      for (const auto& d : dets) {
        if (d["label"] != "E" + std::to_string(k)) continue;
        double raw[4] = {d["box_2d"][0], d["box_2d"][1], d["box_2d"][2], d["box_2d"][3]};
        Box b = MapQuad(raw, BoxFormat::kGemini, Size{s.image.width, s.image.height}, sent->sent);
        e["instances"].push_back({{"bbox", {b.x1, b.y1, b.x2, b.y2}}, {"score", d["score"]}});
      }
      rec["expressions"].push_back(e);
    }
    run.preds.push_back(rec);
  }
  return run;
}

EvalReport ScoreSimulatedRun(double noise) {
  SimulatedRun run = GroundSimulatedRun(noise);
  return Evaluate(run.preds, run.truth, 0.5);
}

TEST(SimVisionTest, NoiseDegradesTheScoresAsConfigured) {
  EvalReport clean = ScoreSimulatedRun(0);
  EvalReport noisy = ScoreSimulatedRun(0.8);
  EXPECT_GT(clean.grounding.expressions, 20);
  EXPECT_DOUBLE_EQ(clean.grounding.accuracy(), 1.0);
  EXPECT_GT(clean.grounding.mean_iou(), 0.95);
  EXPECT_EQ(clean.grounding.missing, 0);
  // noise 0.8: ~28% missed, ~20% confused, edges jitter by up to 20%.
  EXPECT_LT(noisy.grounding.accuracy(), 0.85);
  EXPECT_GT(noisy.grounding.accuracy(), 0.2);
  EXPECT_GT(noisy.grounding.missing, 0);
  EXPECT_LT(noisy.grounding.mean_iou(), clean.grounding.mean_iou() - 0.1);
}

TEST(SimVisionTest, NoiseAddsWrongBoxesOnOtherObjectsAndBackground) {
  SimulatedRun clean_run = GroundSimulatedRun(0, 40);
  SimulatedRun run = GroundSimulatedRun(0.2, 40);
  EvalReport clean = Evaluate(clean_run.preds, clean_run.truth, 0.5);
  EvalReport noisy = Evaluate(run.preds, run.truth, 0.5);
  ASSERT_GT(noisy.grounding.objects, 120);
  EXPECT_EQ(clean.grounding.boxes_all.correct, clean.grounding.boxes_all.boxes) << "noise 0: every box is right";
  // noise 0.2: ~12% of objects missed or confused, one wrong box on ~20% of
  // the expressions: precision ~0.8.
  double precision = *noisy.grounding.boxes_all.precision();
  EXPECT_GT(precision, 0.7);
  EXPECT_LT(precision, 0.9);
  double recall = static_cast<double>(noisy.grounding.boxes_all.objects_hit) / noisy.grounding.objects;
  EXPECT_GT(recall, 0.82) << "wrong boxes come on top of the right ones, they replace none";
  std::printf("noise 0.2 over %lld objects: box precision %.3f, recall %.3f\n",
              static_cast<long long>(noisy.grounding.objects), precision, recall);
  // Each wrong box lies on another object or on background (touching no
  // object), and is scored like the right boxes.
  int on_object = 0, on_background = 0, wrong_top_score = 0, right_top_score = 0;
  for (size_t i = 0; i < run.preds.size(); ++i) {
    const TruthImage& t = run.truth[i];
    for (const auto& e : run.preds[i]["expressions"]) {
      for (const auto& inst : e["instances"]) {
        Box b;
        b.x1 = inst["bbox"][0].get<double>(), b.y1 = inst["bbox"][1].get<double>();
        b.x2 = inst["bbox"][2].get<double>(), b.y2 = inst["bbox"][3].get<double>();
        const std::string text = NormalizeExpression(e["text"].get<std::string>());
        double own = 0, other = 0, any_overlap = 0;
        for (const TruthObject& o : t.objects) {
          double iou = IoU(b, o.box);
          double& slot = NormalizeExpression(o.expression) == text ? own : other;
          slot = std::max(slot, iou);
          any_overlap = std::max(any_overlap, iou);
        }
        bool top = inst["score"].get<double>() >= 0.95;
        if (own >= 0.5) {
          right_top_score += top;
          continue;
        }
        if (other >= 0.5) {
          ++on_object;
        } else {
          EXPECT_EQ(any_overlap, 0.0) << "a wrong box on background touches no object";
          ++on_background;
        }
        wrong_top_score += top;
      }
    }
  }
  EXPECT_GT(on_object, 5);
  EXPECT_GT(on_background, 5);
  EXPECT_GT(wrong_top_score, (on_object + on_background) / 4) << "a score threshold cannot separate them";
  EXPECT_GT(right_top_score, 0);
}

}  // namespace
}  // namespace groundcap
