#include "verify/verify_step.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

#include <fmt/core.h>

#include "boxes/box_format.h"
#include "image/draw.h"
#include "image/image.h"
#include "util/text_util.h"

namespace groundcap {
namespace {

using Json = nlohmann::ordered_json;

/// Bump when the prompt, the schema or the reading of replies changes.
constexpr const char* kVerifyPromptVersion = "v1";

/// One box to verify and what became of it.
struct Target {
  VerifyTarget target;
  ImagePart crop;
  VerifyItem item;
  std::optional<VerifyAnswer> answer;
  std::optional<double> p_yes;  ///< from logprobs, when returned
};

struct VerifyState {
  std::vector<Target> targets;
  std::vector<std::vector<int>> asked;  ///< target indices per request in flight
  int reasks = 0;
};

/// "3", 3, "Crop 3", "crop_3" -> 3; 0 otherwise.
int CropNumber(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int>();
  if (!v.is_string()) return 0;
  const std::string s = v.get<std::string>();
  size_t i = s.find_first_of("0123456789");
  if (i == std::string::npos || s.size() - i > 6) return 0;
  return std::atoi(s.c_str() + i);
}

/// "yes"/"no"/true/false -> the verdict; nullopt for anything else.
std::optional<bool> YesNo(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (!v.is_string()) return std::nullopt;
  const std::string s = AsciiLower(Trim(v.get<std::string>(), " .!\"'"));
  if (s == "yes" || s == "true" || s == "y") return true;
  if (s == "no" || s == "false" || s == "n") return false;
  return std::nullopt;
}

class VerificationStep : public StepLogic {
 public:
  VerificationStep(std::shared_ptr<const VerifySubject> subject, VerifyConfig v, VerifyContext c)
      : subject_(std::move(subject)), v_(v), c_(std::move(c)) {
    v_.crops_per_request = std::max(1, v_.crops_per_request);
  }

  std::string Name() const override { return kVerificationStepName; }

  std::string ConfigFingerprint() const override {
    return fmt::format("{}|verify|per={}|margin={}|px={}:{}|reasks={}|lp={}|teacher={}",
                       kVerifyPromptVersion, v_.crops_per_request, v_.margin, v_.min_crop_pixels,
                       v_.max_crop_pixels, v_.max_reasks, v_.logprobs, c_.teacher_fingerprint);
  }

  std::optional<std::string> ValidateInput(const Json& record) const override {
    if (!record.is_object()) return "record is not a JSON object";
    auto status = record.find("status");
    if (status != record.end() && status->is_string() && status->get<std::string>() == "failed") {
      return std::nullopt;  // passed through by the engine
    }
    return subject_->ValidateInput(record);
  }

  std::string ImageKey() const override { return subject_->ImageKey(); }

  std::vector<QualityFlag> Review(const Json& output) const override {
    return subject_->Review(output);
  }

  StepAction Begin(SampleJob& job) override {
    auto state = std::make_shared<VerifyState>();
    job.state = state;
    for (VerifyTarget& t : subject_->Targets(job.record)) {
      state->targets.push_back({std::move(t), {}, {}, std::nullopt});
    }
    if (state->targets.empty()) return StepAction::Done(Output(job, *state));
    Result<RgbImage> image = LoadImage(subject_->ImagePath(job.record), c_.limits);
    if (!image) return StepAction::Fail(image.error());
    for (Target& t : state->targets) {
      const Box& box = t.target.box;
      Box rect;
      RgbImage crop = CropAround(*image, box, v_.margin, &rect);
      const auto grid = [](double v, double origin, double side) {
        return static_cast<int>(std::clamp(std::lround((v - origin) / side * 1000), 0L, 1000L));
      };
      t.item.box1000 = {grid(box.x1, rect.x1, rect.width()), grid(box.y1, rect.y1, rect.height()),
                        grid(box.x2, rect.x1, rect.width()), grid(box.y2, rect.y1, rect.height())};
      t.item.text = t.target.text;
      PrepareOptions p;
      p.resize = PrepareOptions::Resize::kPixelBudget;
      const int64_t pixels = static_cast<int64_t>(crop.width) * crop.height;
      p.allow_upscale = pixels < v_.min_crop_pixels;
      p.max_pixels = p.allow_upscale ? v_.min_crop_pixels : v_.max_crop_pixels;
      Result<PreparedImage> prepared = PrepareForTeacher(crop, p);
      if (!prepared) return StepAction::Fail(prepared.error());
      t.crop = ImagePart::Shared(prepared->mime, Base64Encode(prepared->bytes));
    }
    std::vector<int> all(state->targets.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    return Ask(job, *state, all, static_cast<size_t>(v_.crops_per_request));
  }

  /// Crops a reply did not answer (missing, unreadable, or cut at the token
  /// limit) are asked again in groups of half the size, up to max_reasks
  /// rounds; still unanswered, they count as not verified.
  StepAction Continue(SampleJob& job, std::vector<TeacherReply> replies) override {
    auto state = std::static_pointer_cast<VerifyState>(job.state);
    if (!state || replies.size() != state->asked.size()) {
      return StepAction::Fail(Error::Make(ErrorKind::kInternal, "verification: reply count mismatch"));
    }
    std::vector<int> unanswered;
    size_t group = 1;
    for (size_t r = 0; r < replies.size(); ++r) {
      const TeacherReply& reply = replies[r];
      if (!reply.ok()) return StepAction::Fail(*reply.error);
      group = std::max(group, state->asked[r].size());
      Result<std::map<int, VerifyAnswer>> answers = ParseVerifyReply(reply.text);
      std::vector<double> p_yes = AnswerProbabilities(reply.logprobs);
      if (answers && !answers->empty()) {
        // Matched by order: only when the tokens hold exactly one answer per worded entry.
        int last = -1;
        for (const auto& [crop, a] : *answers) last = std::max(last, a.position);
        if (p_yes.size() != static_cast<size_t>(last + 1)) p_yes.clear();
      }
      for (size_t j = 0; j < state->asked[r].size(); ++j) {
        Target& t = state->targets[state->asked[r][j]];
        auto it = answers ? answers->find(static_cast<int>(j) + 1) : std::map<int, VerifyAnswer>::iterator();
        if (answers && it != answers->end()) {
          t.answer = it->second;
          const int at = it->second.position;
          t.p_yes = at >= 0 && static_cast<size_t>(at) < p_yes.size() ? std::optional<double>(p_yes[at])
                                                                       : std::nullopt;
        } else {
          unanswered.push_back(state->asked[r][j]);
        }
      }
    }
    if (!unanswered.empty() && state->reasks < v_.max_reasks) {
      ++state->reasks;
      job.warnings.push_back(fmt::format("verification: {} crop(s) unanswered, asked again",
                                         unanswered.size()));
      return Ask(job, *state, unanswered, std::max<size_t>(1, group / 2));
    }
    return StepAction::Done(Output(job, *state));
  }

 private:
  StepAction Ask(const SampleJob& job, VerifyState& state, const std::vector<int>& targets,
                 size_t group) const {
    state.asked.clear();
    std::vector<TeacherRequest> reqs;
    for (size_t i = 0; i < targets.size(); i += group) {
      std::vector<int> ids(targets.begin() + i, targets.begin() + std::min(targets.size(), i + group));
      TeacherRequest req;
      req.sample_id = job.sample_id;
      std::vector<VerifyItem> items;
      for (int id : ids) {
        req.images.push_back(state.targets[id].crop);
        items.push_back(state.targets[id].item);
      }
      req.prompt = VerifyPrompt(items);
      if (c_.use_schema) req.response_schema = VerifySchema();
      if (v_.logprobs) req.top_logprobs = 5;
      reqs.push_back(std::move(req));
      state.asked.push_back(std::move(ids));
    }
    return StepAction::Send(std::move(reqs));
  }

  Json Output(const SampleJob& job, const VerifyState& state) const {
    Json out = job.record;
    for (const Target& t : state.targets) {
      Json& item = out[t.target.where];
      const bool yes = t.answer && t.answer->yes;
      item["verified"] = yes;
      // P(yes) from the answer token's logprobs; else the verdict itself.
      const double score = t.p_yes ? *t.p_yes : (yes ? 1.0 : 0.0);
      item["verify_score"] = std::round(score * 10000) / 10000;
      item["verify_reason"] = t.answer ? t.answer->reason : "no answer";
    }
    auto steps = out.find("pipeline_steps");
    if (steps == out.end() || !steps->is_array()) out["pipeline_steps"] = Json::array();
    out["pipeline_steps"].push_back(subject_->Marker());
    return out;
  }

  std::shared_ptr<const VerifySubject> subject_;
  VerifyConfig v_;
  VerifyContext c_;
};

}  // namespace

std::string VerifyPrompt(const std::vector<VerifyItem>& items) {
  std::string lines;
  for (size_t k = 0; k < items.size(); ++k) {
    const auto& b = items[k].box1000;
    std::string text = items[k].text;
    std::replace(text.begin(), text.end(), '\n', ' ');
    lines += fmt::format("Crop {}: box {},{},{},{} | {}\n", k + 1, b[0], b[1], b[2], b[3], text);
  }
  return fmt::format(
      "Each image is a crop of one photo (image 1 = crop 1, ...). In each crop a box is given as "
      "x1,y1,x2,y2 on a 0-1000 grid of that crop (0,0 = top-left).\n"
      "For each crop, say whether the text after its box describes the object inside the box: "
      "the right kind of object with the stated colour and attributes, and the box around it. "
      "Answer no when the box holds something else, only background, or a small part of the "
      "object.\n"
      "{}"
      "Answer with JSON only: {{\"answers\": [{{\"crop\": <n>, \"answer\": \"yes\" or \"no\", "
      "\"reason\": \"<what is in the box, a few words>\"}}]}}, one entry per crop.",
      lines);
}

nlohmann::json VerifySchema() {
  nlohmann::json item = {
      {"type", "object"},
      {"properties",
       {{"crop", {{"type", "integer"}}},
        {"answer", {{"type", "string"}, {"enum", {"yes", "no"}}}},
        {"reason", {{"type", "string"}}}}},
      {"required", {"crop", "answer", "reason"}},
      {"additionalProperties", false}};
  return {{"type", "object"},
          {"properties", {{"answers", {{"type", "array"}, {"items", item}}}}},
          {"required", {"answers"}},
          {"additionalProperties", false}};
}

Result<std::map<int, VerifyAnswer>> ParseVerifyReply(std::string_view text) {
  Result<nlohmann::json> parsed = ParseLenientJson(text);
  if (!parsed) return tl::unexpected(parsed.error());
  const nlohmann::json* list = nullptr;
  if (parsed->is_array()) list = &*parsed;
  if (parsed->is_object() && parsed->contains("answers") && (*parsed)["answers"].is_array()) {
    list = &(*parsed)["answers"];
  }
  if (!list) return Fail(ErrorKind::kParse, "verification reply has no \"answers\" list");
  std::map<int, VerifyAnswer> out;
  int worded = 0;  // answers written as the words yes/no: one answer token each
  for (const auto& a : *list) {
    if (!a.is_object()) continue;
    const int crop = a.contains("crop") ? CropNumber(a["crop"]) : 0;
    std::optional<bool> yes = a.contains("answer") ? YesNo(a["answer"]) : std::nullopt;
    const int position = yes && a["answer"].is_string() ? worded++ : -1;
    if (crop <= 0 || !yes) continue;
    VerifyAnswer v;
    v.yes = *yes;
    v.position = position;
    if (a.contains("reason") && a["reason"].is_string()) v.reason = Trim(a["reason"].get<std::string>());
    out.emplace(crop, std::move(v));
  }
  if (out.empty()) return Fail(ErrorKind::kParse, "verification reply has no readable answer");
  return out;
}

std::vector<double> AnswerProbabilities(const std::vector<TokenLogprob>& tokens) {
  const auto word = [](const std::string& token) {
    return AsciiLower(Trim(token, " \"'\t\n"));
  };
  std::vector<double> out;
  std::string before;  // the text so far, for the "answer" key
  for (const TokenLogprob& t : tokens) {
    const std::string w = word(t.token);
    const size_t key = before.rfind("answer");
    const bool after_key = key != std::string::npos &&
                           Trim(std::string_view(before).substr(key + 6), " \"':\t\n").empty();
    if ((w == "yes" || w == "no") && after_key) {
      std::optional<double> yes, no;
      for (const auto& [alt, lp] : t.top) {
        const std::string a = word(alt);
        if (a == "yes" && !yes) yes = std::exp(lp);
        if (a == "no" && !no) no = std::exp(lp);
      }
      const double own = std::exp(t.logprob);
      if (w == "yes" && !yes) yes = own;
      if (w == "no" && !no) no = own;
      if (yes && no && *yes + *no > 0) {
        out.push_back(*yes / (*yes + *no));
      } else {
        out.push_back(w == "yes" ? own : 1 - own);
      }
    }
    before += t.token;
  }
  return out;
}

std::vector<SpecField> VerifySpecFields() {
  VerifyConfig d;
  std::vector<SpecField> v;
  v.push_back(MakeField("verify.enabled", FieldType::kBool, "false",
                        "a last step asks the teacher about a crop of every box (extra requests)"));
  v.push_back(MakeField("verify.crops_per_request", FieldType::kInt,
                        std::to_string(d.crops_per_request), "crops batched into one request", 1, 64));
  v.push_back(MakeField("verify.margin", FieldType::kFloat, fmt::format("{}", d.margin),
                        "crop margin around a box, as a fraction of its width/height", 0, 5));
  v.push_back(MakeField("verify.min_crop_pixels", FieldType::kInt, std::to_string(d.min_crop_pixels),
                        "smaller crops are upscaled to this many pixels", 1, 1e8));
  v.push_back(MakeField("verify.max_crop_pixels", FieldType::kInt, std::to_string(d.max_crop_pixels),
                        "larger crops are downscaled to this many pixels", 1, 1e8));
  v.push_back(MakeField("verify.max_reasks", FieldType::kInt, std::to_string(d.max_reasks),
                        "rounds for crops a reply left unanswered", 0, 10));
  v.push_back(MakeField("verify.logprobs", FieldType::kBool, "false",
                        "ask for token logprobs (OpenAI-compatible servers) and score each verdict by "
                        "P(yes); else the score is 1 or 0"));
  return v;
}

VerifyConfig VerifyConfigFromSpec(const Spec& spec) {
  const std::string p = spec.pipeline() + ".verify.";
  VerifyConfig v;
  v.enabled = spec.Bool(p + "enabled");
  v.crops_per_request = static_cast<int>(spec.Int(p + "crops_per_request"));
  v.margin = spec.Float(p + "margin");
  v.min_crop_pixels = spec.Int(p + "min_crop_pixels");
  v.max_crop_pixels = spec.Int(p + "max_crop_pixels");
  v.max_reasks = static_cast<int>(spec.Int(p + "max_reasks"));
  v.logprobs = spec.Bool(p + "logprobs");
  if (v.min_crop_pixels > v.max_crop_pixels) {
    throw SetupError(fmt::format("{}min_crop_pixels ({}) is above {}max_crop_pixels ({})", p,
                                 v.min_crop_pixels, p, v.max_crop_pixels));
  }
  return v;
}

std::unique_ptr<StepLogic> MakeVerificationStep(std::shared_ptr<const VerifySubject> subject,
                                                VerifyConfig config, VerifyContext context) {
  return std::make_unique<VerificationStep>(std::move(subject), config, std::move(context));
}

}  // namespace groundcap
