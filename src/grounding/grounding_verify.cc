#include "grounding/grounding_verify.h"

#include <string>
#include <utility>

namespace groundcap {
namespace {

using Json = nlohmann::ordered_json;

class GroundingVerifySubject : public VerifySubject {
 public:
  explicit GroundingVerifySubject(GroundingConfig c) : c_(std::move(c)) {}

  std::string ImageKey() const override { return "image_path"; }

  std::string ImagePath(const Json& record) const override {
    return ResolveImagePath(c_.image_root, record["image_path"].get<std::string>());
  }

  std::optional<std::string> ValidateInput(const Json& record) const override {
    if (!record.contains("image_path") || !record["image_path"].is_string()) {
      return "missing string field \"image_path\"";
    }
    if (!record.contains("expressions") || !record["expressions"].is_array()) {
      return "missing field \"expressions\" (a step-1 record)";
    }
    for (const auto& e : record["expressions"]) {
      if (!e.is_object() || !e.contains("instances") || !e["instances"].is_array()) {
        return "every expression needs an \"instances\" list (a step-1 record)";
      }
    }
    return std::nullopt;
  }

  std::vector<VerifyTarget> Targets(const Json& record) const override {
    std::vector<VerifyTarget> targets;
    const Json& exprs = record["expressions"];
    for (size_t k = 0; k < exprs.size(); ++k) {
      const std::string text = exprs[k].value("text", "");
      for (size_t i = 0; i < exprs[k]["instances"].size(); ++i) {
        const Json& b = exprs[k]["instances"][i].value("bbox", Json());
        if (!b.is_array() || b.size() != 4) continue;
        VerifyTarget t;
        t.where = Json::json_pointer("/expressions/" + std::to_string(k) + "/instances/" + std::to_string(i));
        t.box = Box{b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()};
        t.text = text;
        targets.push_back(std::move(t));
      }
    }
    return targets;
  }

  std::vector<QualityFlag> Review(const Json& output) const override {
    return ReviewGrounding(output, c_.quality, /*boxes=*/true);
  }

  std::string Marker() const override { return "step2_verification"; }

 private:
  GroundingConfig c_;
};

}  // namespace

std::shared_ptr<const VerifySubject> MakeGroundingVerifySubject(GroundingConfig config) {
  return std::make_shared<GroundingVerifySubject>(std::move(config));
}

}  // namespace groundcap
