// The Label Studio round trip through the commands: export tasks, correct
// them as a reviewer would (Label Studio's export puts the submitted result
// under `annotations`), and import-review folds them back: moved boxes get
// source human, unchanged ones source teacher, deletions and additions are
// kept and counted.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "export/export_test_util.h"
#include "export/label_studio.h"
#include "util/error.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

using nlohmann::json;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
namespace fs = std::filesystem;

class LabelStudioTest : public export_test::MixedResults {};

json* FindResult(json& result, const std::string& id, const std::string& type) {
  for (auto& r : result) {
    if (r["id"] == id && r["type"] == type) return &r;
  }
  return nullptr;
}

TEST_F(LabelStudioTest, CorrectedTasksFoldBackIntoTheRecords) {
  ExportOptions ex;
  ex.to = "label_studio";
  ex.input = results().string();
  ex.out = out("tasks.json").string();
  ex.image_root = data().string();
  ASSERT_EQ(CmdExport(ex), kExitSomeFailed);  // the missing image
  json tasks = json::parse(ReadFile(ex.out));
  ASSERT_EQ(tasks.size(), 4u);

  // The reviewer: on the street photo, moves the man's box 20 px right
  // (640 px wide: 3.125 %), deletes the leash box, leaves the dog and draws
  // a second dog; on the rotated region record, rewrites region 1's caption.
  json exported = json::array();
  for (auto& task : tasks) {
    json result = task["predictions"][0]["result"];
    const std::string sid = task["data"]["groundcap_sample_id"];
    if (sid == "street-0a1b2c3d") {
      for (const char* type : {"rectanglelabels", "textarea"}) {
        json* man = FindResult(result, "e0b0", type);
        ASSERT_NE(man, nullptr);
        (*man)["value"]["x"] = (*man)["value"]["x"].get<double>() + 3.125;
      }
      json kept = json::array();
      for (auto& r : result) {
        if (r["id"] != "e2b0") kept.push_back(r);
      }
      result = kept;
      json rect = *FindResult(result, "e1b0", "rectanglelabels");
      json text = *FindResult(result, "e1b0", "textarea");
      rect["id"] = text["id"] = "hand1";
      rect["value"]["x"] = 10.0, rect["value"]["y"] = 10.0, rect["value"]["width"] = 5.0, rect["value"]["height"] = 5.0;
      result.push_back(rect);
      result.push_back(text);
    }
    if (sid == "regrot-55667788") (*FindResult(result, "r1", "textarea"))["value"]["text"] = {"A café sign."};
    json t = task;
    t["id"] = exported.size() + 1;
    t["annotations"] = json::array({json{{"id", 7}, {"result", result}, {"was_cancelled", false}}});
    exported.push_back(t);
  }
  // A task never submitted stays as the teacher left it.
  exported[1].erase("annotations");
  testing_util::WriteFile(out("ls_export.json"), exported.dump());

  ImportReviewOptions ir{out("ls_export.json").string(), results().string(), out("merged.jsonl").string()};
  ASSERT_EQ(CmdImportReview(ir), kExitOk);
  auto merged = ReadJsonl<json>(out("merged.jsonl"));
  ASSERT_EQ(merged.size(), 6u) << "every record passes, reviewed or not";
  const json& street = merged[0];
  EXPECT_TRUE(street["reviewed"].get<bool>());
  const json& man = street["expressions"][0]["instances"][0];
  EXPECT_EQ(man["source"], "human");
  EXPECT_EQ(man["bbox"], json({60, 20, 320, 470}));
  EXPECT_EQ(man["teacher_bbox"], json({40, 20, 300, 470}));
  const json& dogs = street["expressions"][1]["instances"];
  EXPECT_EQ(dogs[0]["source"], "teacher") << "unchanged: percent -> pixels lands within 0.5 px";
  EXPECT_EQ(dogs[0]["bbox"], json({310, 300, 420, 470}));
  ASSERT_EQ(dogs.size(), 3u) << "the outside box (never shown) is kept as it was, the drawn one added";
  EXPECT_EQ(dogs[2]["source"], "human");
  EXPECT_EQ(dogs[2]["bbox"], json({64, 48, 96, 72}));
  EXPECT_TRUE(street["expressions"][2]["instances"].empty());
  EXPECT_EQ(street["expressions"][2]["review_deleted"].size(), 1u);
  EXPECT_FALSE(merged[1].contains("reviewed")) << "the rotated grounding task was never submitted";
  const json& regrot = merged[4];
  EXPECT_EQ(regrot["regions"][0]["caption"], "A café sign.");
  EXPECT_EQ(regrot["regions"][0]["caption_source"], "human");
  EXPECT_EQ(regrot["regions"][0]["source"], "teacher");
  EXPECT_EQ(regrot["regions"][1]["status"], "failed") << "failed regions pass unchanged";
}

TEST(LabelStudioImport, NotAnArrayIsASetupErrorNamingTheFile) {
  ReviewCounts c;
  const std::filesystem::path dir = testing_util::UniqueTempDir("groundcap_ls_not_array");
  testing_util::WriteFile(dir / "ls.json", "{\"data\": {}}");
  try {
    ReadLabelStudioExport((dir / "ls.json").string(), &c);
    ADD_FAILURE() << "accepted an object";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("ls.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("an array of tasks"), std::string::npos) << e.what();
  }
  testing_util::WriteFile(dir / "ls.json", "[{\"data\": {}}, 7]");
  EXPECT_THROW(ReadLabelStudioExport((dir / "ls.json").string(), &c), SetupError) << "task 1 is not an object";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace groundcap
