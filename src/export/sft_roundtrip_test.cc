// The SFT round trip, through the real command path: `groundcap export --to
// <family>` (CmdExport) writes the answers, `groundcap parse-reply --format
// <family>` (CmdParseReply) reads each answer back, and the boxes must be
// the records' boxes within 1 px, for every student family and for the
// EXIF-rotated image (whose records carry the upright 900x1200).
#include <cmath>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "boxes/box_format.h"
#include "cli/commands.h"
#include "export/export_test_util.h"
#include "util/error.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

using nlohmann::json;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
namespace fs = std::filesystem;

class SftRoundTripTest : public export_test::MixedResults {
 protected:
  /// sample_id -> (image size, expression text -> boxes) from mixed.jsonl's exportable boxes.
  struct Truth {
    Size size;
    std::map<std::string, std::vector<std::array<double, 4>>> boxes;
  };
  std::map<std::string, Truth> ReadTruth() {
    std::map<std::string, Truth> out;
    for (const auto& r : ReadJsonl<json>(results() / "annotations.jsonl")) {
      if (r.value("status", "") != "ok" || !r.contains("expressions")) continue;
      Truth t;
      t.size = Size{r["image_width"], r["image_height"]};
      for (const auto& e : r["expressions"]) {
        for (const auto& inst : e["instances"]) {
          std::array<double, 4> b{inst["bbox"][0], inst["bbox"][1], inst["bbox"][2], inst["bbox"][3]};
          if (b[2] > t.size.width || b[3] > t.size.height) continue;  // left out: outside the image
          t.boxes[e["text"]].push_back(b);
        }
      }
      out[r["sample_id"]] = t;
    }
    return out;
  }

  /// Runs `groundcap parse-reply` on `answer`; returns its JSON output.
  json ParseReply(const std::string& format, const std::string& answer, Size image, Size input) {
    const fs::path reply = dir_ / "reply.txt";
    testing_util::WriteFile(reply, answer);
    ParseReplyOptions o;
    o.format = format;
    o.image_size = std::to_string(image.width) + "x" + std::to_string(image.height);
    o.input_size = std::to_string(input.width) + "x" + std::to_string(input.height);
    o.file = reply.string();
    ::testing::internal::CaptureStdout();
    int rc = CmdParseReply(o);
    std::string printed = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(rc, kExitOk) << printed;
    return json::parse(printed);
  }
};

TEST_F(SftRoundTripTest, EveryFamilysAnswersParseBackToTheOriginalBoxesWithinOnePixel) {
  const auto truth = ReadTruth();
  ASSERT_EQ(truth.at("rotated-4e5f6a7b").size, (Size{900, 1200})) << "upright size of the EXIF-rotated image";
  for (const std::string family : {"qwen2_5_vl", "qwen3_vl", "internvl", "gemini"}) {
    ExportOptions o;
    o.to = family;
    o.input = results().string();
    o.out = out(family + ".jsonl").string();
    o.image_root = data().string();
    ASSERT_EQ(CmdExport(o), kExitSomeFailed) << "the missing image makes the export exit 1";
    int checked = 0;
    bool saw_rotated = false;
    for (const auto& line : ReadJsonl<json>(o.out)) {
      // Gemini lines carry no id: find the sample by image and turns.
      std::vector<std::pair<std::string, std::string>> turns;
      std::string image;
      if (family == "gemini") {
        image = line["contents"][0]["parts"][0]["fileData"]["fileUri"];
        for (size_t i = 0; i + 1 < line["contents"].size(); i += 2) {
          turns.emplace_back(line["contents"][i]["parts"].back()["text"], line["contents"][i + 1]["parts"][0]["text"]);
        }
      } else {
        image = line["image"];
        for (size_t i = 0; i + 1 < line["conversations"].size(); i += 2) {
          turns.emplace_back(line["conversations"][i]["value"], line["conversations"][i + 1]["value"]);
        }
      }
      // Region-caption lines share the images; their turns describe regions.
      if (turns.front().first.find("Describe region") != std::string::npos) continue;
      const Truth* t = &truth.at(image == "images/rotated.jpg" ? "rotated-4e5f6a7b" : "street-0a1b2c3d");
      saw_rotated |= t->size.width == 900;
      const Size input = family == "qwen2_5_vl" ? SmartResize(t->size, 28, o.min_pixels, o.max_pixels) : t->size;
      for (const auto& [question, answer] : turns) {
        std::string expr;
        for (const auto& [text, boxes] : t->boxes) {
          if (question.find(text) != std::string::npos) expr = text;
        }
        ASSERT_FALSE(expr.empty()) << question;
        json parsed = ParseReply(family, answer, t->size, input);
        const auto& want = t->boxes.at(expr);
        ASSERT_EQ(parsed["boxes"].size(), want.size()) << family << ": " << answer;
        for (size_t i = 0; i < want.size(); ++i) {
          for (int k = 0; k < 4; ++k) {
            EXPECT_LE(std::fabs(parsed["boxes"][i]["bbox"][k].get<double>() - want[i][k]), 1.0)
                << family << " '" << expr << "' coordinate " << k << ": " << answer;
          }
          EXPECT_EQ(parsed["boxes"][i]["label"], expr) << family << ": " << answer;
        }
        ++checked;
      }
    }
    EXPECT_EQ(checked, 5) << family << ": every exported expression was checked";
    EXPECT_TRUE(saw_rotated) << family;
  }
}

TEST_F(SftRoundTripTest, ReadingTheRotatedImageAtItsStoredSizeWouldMissByFarMoreThanOnePixel) {
  // The check above can fail: the same Qwen2.5-VL answer read with the
  // stored (not upright) 1200x900 size lands hundreds of pixels away.
  const Size upright{900, 1200}, stored{1200, 900};
  Box b;
  b.x1 = 150, b.y1 = 700, b.x2 = 760, b.y2 = 1150;
  const std::string answer = FormatBoxAnswer({b}, BoxFormat::kQwen25Vl, upright, SmartResize(upright, 28, 3136, 12845056));
  json right = ParseReply("qwen2_5_vl", answer, upright, SmartResize(upright, 28, 3136, 12845056));
  json wrong = ParseReply("qwen2_5_vl", answer, stored, SmartResize(stored, 28, 3136, 12845056));
  const double want[4] = {150, 700, 760, 1150};
  double right_err = 0, wrong_err = 0;
  for (int k = 0; k < 4; ++k) {
    right_err = std::max(right_err, std::fabs(right["boxes"][0]["bbox"][k].get<double>() - want[k]));
    wrong_err = std::max(wrong_err, std::fabs(wrong["boxes"][0]["bbox"][k].get<double>() - want[k]));
  }
  EXPECT_LE(right_err, 1.0);
  EXPECT_GT(wrong_err, 100.0) << "y2 = 1150 cannot exist in a 900-pixel-high image";
}

}  // namespace
}  // namespace groundcap
