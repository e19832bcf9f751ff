#include "region_caption/region_verify.h"

#include <filesystem>
#include <string>
#include <utility>

namespace groundcap {
namespace {

using Json = nlohmann::ordered_json;

class RegionVerifySubject : public VerifySubject {
 public:
  explicit RegionVerifySubject(RegionCaptionOptions o) : o_(std::move(o)) {}

  std::string ImageKey() const override { return o_.image_key; }

  std::string ImagePath(const Json& record) const override {
    std::string path = record[o_.image_key].get<std::string>();
    if (!o_.image_root.empty() && !std::filesystem::path(path).is_absolute()) {
      path = (std::filesystem::path(o_.image_root) / path).string();
    }
    return path;
  }

  std::optional<std::string> ValidateInput(const Json& record) const override {
    auto image = record.find(o_.image_key);
    if (image == record.end() || !image->is_string()) {
      return "missing string field \"" + o_.image_key + "\"";
    }
    if (!record.contains("regions") || !record["regions"].is_array()) {
      return "missing field \"regions\" (a structured region-caption record)";
    }
    return std::nullopt;
  }

  std::vector<VerifyTarget> Targets(const Json& record) const override {
    std::vector<VerifyTarget> targets;
    const Json& regions = record["regions"];
    for (size_t r = 0; r < regions.size(); ++r) {
      const Json& region = regions[r];
      if (!region.is_object() || region.value("status", "") != "ok") continue;
      const Json& b = region.value("bbox", Json());
      const std::string caption = region.value("caption", "");
      if (!b.is_array() || b.size() != 4 || caption.empty()) continue;
      VerifyTarget t;
      t.where = Json::json_pointer("/regions/" + std::to_string(r));
      t.box = Box{b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()};
      t.text = caption;
      targets.push_back(std::move(t));
    }
    return targets;
  }

  std::vector<QualityFlag> Review(const Json& output) const override {
    return ReviewRegionCaptions(output, o_.blocking_flags);
  }

  std::string Marker() const override { return "region_verification"; }

 private:
  RegionCaptionOptions o_;
};

}  // namespace

std::shared_ptr<const VerifySubject> MakeRegionVerifySubject(RegionCaptionOptions options) {
  return std::make_shared<RegionVerifySubject>(std::move(options));
}

}  // namespace groundcap
