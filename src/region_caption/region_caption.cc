#include "region_caption/region_caption.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <regex>

#include <fmt/core.h>

#include "boxes/box_format.h"
#include "image/draw.h"
#include "image/proposals.h"
#include "util/jsonl.h"
#include "util/text_util.h"

namespace groundcap {

namespace {

constexpr const char* kStepName = "region_caption";
constexpr const char* kMarksDir = "region_caption_marks";
/// Bump when a prompt, the schema or the reply checks change.
constexpr const char* kPromptVersion = "rc1";
/// PromptedVQAGenerator's max_tokens.
constexpr int kDataflowMaxTokens = 512;
/// PromptedVQAGenerator's default system prompt.
constexpr const char* kDataflowSystem = "You are a helpful assistant.";

/// Emits integral values as JSON integers (pixel boxes read back as given).
nlohmann::json Num(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) {
    return static_cast<int64_t>(v);
  }
  return std::round(v * 100) / 100;
}

nlohmann::json BoxJson(const Box& b) { return {Num(b.x1), Num(b.y1), Num(b.x2), Num(b.y2)}; }

/// One region's progress in structured mode.
struct RegionSlot {
  RegionBox region;
  std::string caption;
  std::string status = "pending";  ///< pending | ok | failed
  std::string reason;              ///< why the last answer was not used
  std::string rejected_caption;    ///< last unusable caption, for inspection
  int attempts = 0;
};

/// Per-sample state kept between rounds.
struct SampleState {
  std::string image;                ///< input path as given
  Size size;
  std::string box_source;           ///< input | grounding | proposals | whole_image
  nlohmann::json raw_boxes;         ///< the boxes as given (dataflow "bbox")
  std::vector<RegionSlot> slots;
  std::vector<RegionBox> dropped;
  std::vector<RejectedBox> rejected;
  std::string marked_path;
  ImagePart marked;
  std::vector<ImagePart> crops;     ///< one per slot when crop_context
  std::vector<std::vector<int>> asked;  ///< region ids per request of the current round
  nlohmann::json answers = nlohmann::json::array();
  std::vector<int> extra_ids;
  std::string first_prompt;
  int reasks = 0;
};

ImagePart ToPart(const PreparedImage& p) { return ImagePart::Shared(p.mime, Base64Encode(p.bytes)); }

nlohmann::ordered_json RegionBoxList(const std::vector<RegionBox>& boxes) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const RegionBox& b : boxes) {
    nlohmann::ordered_json j;
    j["index"] = b.input_index;
    j["box"] = b.raw;
    j["bbox"] = BoxJson(b.box);
    out.push_back(std::move(j));
  }
  return out;
}

class RegionCaptionStep : public StepLogic {
 public:
  RegionCaptionStep(RegionCaptionOptions options, const Teacher& teacher)
      : options_(std::move(options)), teacher_(teacher) {}

  std::string Name() const override { return kStepName; }

  std::string ConfigFingerprint() const override {
    const PrepareOptions& p = options_.prepare;
    return fmt::format(
        "region_caption/{}|mode={}|fmt={}|units={}|max_boxes={}|overflow={}|proposals={}|"
        "reasks={}|crops={}:{}|marks={}:{}|prep={}:{}:{}:{}:{}:{}:{}|teacher={}",
        kPromptVersion, options_.mode == RegionCaptionMode::kDataflow ? "dataflow" : "structured",
        RegionBoxFormatName(options_.bbox_format), RegionBoxUnitsName(options_.bbox_units),
        options_.max_boxes, OverflowPolicyName(options_.overflow),
        options_.proposals == ProposalSource::kContours ? "contours" : "none", options_.max_reasks,
        options_.crop_context, options_.crop_margin, options_.marks_encoding,
        options_.marks_jpeg_quality, static_cast<int>(p.resize), p.max_pixels, p.min_pixels,
        p.factor, p.allow_upscale, p.encoding, p.jpeg_quality, teacher_.Fingerprint());
  }

  std::optional<std::string> ValidateInput(const nlohmann::ordered_json& record) const override {
    if (!record.is_object()) return "record is not a JSON object";
    // A failed upstream record (e.g. a grounding sample that failed) is passed
    // through as failed by the engine, not rejected.
    auto status = record.find("status");
    if (status != record.end() && status->is_string() && status->get<std::string>() == "failed") {
      return std::nullopt;
    }
    auto it = record.find(options_.image_key);
    if (it == record.end() || !it->is_string() || it->get<std::string>().empty()) {
      return "missing or empty image path '" + options_.image_key + "'";
    }
    auto bb = record.find(options_.bbox_key);
    const bool has_boxes = bb != record.end() && !bb->is_null() && !(bb->is_array() && bb->empty());
    if (has_boxes && !bb->is_array()) {
      return "'" + options_.bbox_key + "' must be a list of boxes, got " + bb->type_name();
    }
    const bool grounding = !has_boxes && record.contains("expressions");
    if (!has_boxes && !grounding && options_.proposals == ProposalSource::kNone) {
      return "no '" + options_.bbox_key + "' boxes and proposals: none";
    }
    return std::nullopt;
  }

  std::string ImageKey() const override { return options_.image_key; }

  /// Structured mode only: dataflow records keep DataFlow's free-text answer.
  std::vector<QualityFlag> Review(const nlohmann::ordered_json& output) const override {
    if (options_.mode == RegionCaptionMode::kDataflow) return {};
    return ReviewRegionCaptions(output, options_.blocking_flags);
  }

  StepAction Begin(SampleJob& job) override;
  StepAction Continue(SampleJob& job, std::vector<TeacherReply> replies) override;

 private:
  Result<bool> CollectBoxes(const SampleJob& job, const RgbImage& image, SampleState& st) const;
  /// One request per group of region ids (recorded in st.asked).
  StepAction Ask(SampleJob& job, SampleState& st, std::vector<std::vector<int>> groups) const;
  StepAction Finish(SampleJob& job, SampleState& st) const;
  StepAction DataflowDone(SampleJob& job, SampleState& st, const TeacherReply& reply) const;

  RegionCaptionOptions options_;
  const Teacher& teacher_;
};

Result<bool> RegionCaptionStep::CollectBoxes(const SampleJob& job, const RgbImage& image,
                                             SampleState& st) const {
  const nlohmann::ordered_json& rec = job.record;
  auto bb = rec.find(options_.bbox_key);
  ValidatedBoxes v;
  if (bb != rec.end() && bb->is_array() && !bb->empty()) {
    st.box_source = "input";
    st.raw_boxes = nlohmann::json(*bb);
    auto r = ValidateBoxes(st.raw_boxes, options_.bbox_format, options_.bbox_units, st.size);
    if (!r) return tl::unexpected(r.error());
    v = std::move(*r);
  } else if (rec.contains("expressions")) {
    st.box_source = "grounding";
    auto g = BoxesFromGroundingRecord(nlohmann::json(rec));
    if (!g) return tl::unexpected(g.error());
    st.raw_boxes = g->boxes;
    auto r = ValidateBoxes(g->boxes, RegionBoxFormat::kXyxy, RegionBoxUnits::kPixels, st.size);
    if (!r) return tl::unexpected(r.error());
    v = std::move(*r);
    for (RegionBox& b : v.boxes) b.text = g->texts[b.input_index];
  }
  st.rejected = std::move(v.rejected);
  if (v.boxes.empty() && options_.proposals == ProposalSource::kContours) {
    st.box_source = "proposals";
    st.raw_boxes = nlohmann::json::array();
    for (const auto& p : ProposeRegions(image)) st.raw_boxes.push_back(p);
    auto r = ValidateBoxes(st.raw_boxes, RegionBoxFormat::kXywh, RegionBoxUnits::kPixels, st.size);
    if (r) v.boxes = std::move(r->boxes);
    if (v.boxes.empty() && options_.whole_image_fallback) {
      st.box_source = "whole_image";
      st.raw_boxes = nlohmann::json::array({{0, 0, st.size.width, st.size.height}});
      auto whole = ValidateBoxes(st.raw_boxes, RegionBoxFormat::kXywh, RegionBoxUnits::kPixels,
                                 st.size);
      if (whole) v.boxes = std::move(whole->boxes);
    }
  }
  if (v.boxes.empty()) {
    std::string why = st.rejected.empty() ? "no boxes" : "every box was invalid:";
    for (const RejectedBox& r : st.rejected) {
      why += fmt::format(" #{} {}", r.input_index, r.reason);
    }
    if (st.box_source == "proposals") why += "; proposals found no region";
    return Fail(ErrorKind::kInvalidInput, "no usable box (" + why + ")");
  }
  std::vector<RegionBox> kept =
      ApplyMaxBoxes(std::move(v.boxes), options_.max_boxes, options_.overflow, &st.dropped);
  for (RegionBox& b : kept) {
    RegionSlot s;
    s.region = std::move(b);
    st.slots.push_back(std::move(s));
  }
  return true;
}

StepAction RegionCaptionStep::Begin(SampleJob& job) {
  auto st = std::make_shared<SampleState>();
  job.state = st;
  st->image = job.record[options_.image_key].get<std::string>();
  std::string path = st->image;
  if (!options_.image_root.empty() && !std::filesystem::path(path).is_absolute()) {
    path = (std::filesystem::path(options_.image_root) / path).string();
  }
  auto image = LoadImage(path, options_.limits);
  if (!image) return StepAction::Fail(image.error());
  st->size = Size{image->width, image->height};

  auto boxes = CollectBoxes(job, *image, *st);
  if (!boxes) return StepAction::Fail(boxes.error());
  for (const RejectedBox& r : st->rejected) {
    job.warnings.push_back(fmt::format("box #{} skipped: {}", r.input_index, r.reason));
  }
  for (const RegionSlot& s : st->slots) {
    if (s.region.clamped) {
      job.warnings.push_back(fmt::format("box #{} clamped to the image", s.region.input_index));
    }
  }
  if (!st->dropped.empty()) {
    job.warnings.push_back(fmt::format("{} box(es) over max_boxes={} dropped ({})",
                                       st->dropped.size(), options_.max_boxes,
                                       OverflowPolicyName(options_.overflow)));
  }

  const bool dataflow = options_.mode == RegionCaptionMode::kDataflow;
  std::vector<Box> drawn;
  for (const RegionSlot& s : st->slots) drawn.push_back(s.region.box);
  RgbImage marked = DrawMarks(*image, drawn, dataflow ? MarkStyle::kDataflow : MarkStyle::kNumbered);

  // The marked image, kept for inspection, named by sample id in a folder
  // only this pipeline writes.
  const std::string ext = options_.marks_encoding == "png" ? "png" : "jpg";
  const std::filesystem::path dir = std::filesystem::path(options_.results_dir) / kMarksDir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // Recorded relative to results_dir, so a results folder can be moved or
  // shared as a whole; written at its absolute place.
  st->marked_path = std::string(kMarksDir) + "/" + job.sample_id + "." + ext;
  auto encoded = EncodeImage(marked, options_.marks_encoding, options_.marks_jpeg_quality);
  if (!encoded) return StepAction::Fail(encoded.error());
  auto written = WriteFileAtomic((dir / (job.sample_id + "." + ext)).string(), *encoded);
  if (!written) return StepAction::Fail(written.error());

  auto prepared = PrepareForTeacher(marked, options_.prepare);
  if (!prepared) return StepAction::Fail(prepared.error());
  st->marked = ToPart(*prepared);

  if (dataflow) {
    TeacherRequest req;
    req.sample_id = job.sample_id;
    req.system = kDataflowSystem;
    req.images.push_back(st->marked);
    req.prompt = DataflowPrompt(static_cast<int>(st->slots.size()));
    req.temperature = 0.7;
    req.top_p = 0.9;
    req.max_tokens = kDataflowMaxTokens;
    st->first_prompt = req.prompt;
    std::vector<TeacherRequest> reqs;
    reqs.push_back(std::move(req));
    return StepAction::Send(std::move(reqs));
  }

  if (options_.crop_context) {
    for (const RegionSlot& s : st->slots) {
      auto crop = PrepareForTeacher(CropAround(*image, s.region.box, options_.crop_margin),
                                    options_.prepare);
      if (!crop) return StepAction::Fail(crop.error());
      st->crops.push_back(ToPart(*crop));
    }
  }
  std::vector<int> all;
  for (size_t i = 0; i < st->slots.size(); ++i) all.push_back(static_cast<int>(i) + 1);
  return Ask(job, *st, {std::move(all)});
}

StepAction RegionCaptionStep::Ask(SampleJob& job, SampleState& st,
                                  std::vector<std::vector<int>> groups) const {
  std::vector<TeacherRequest> reqs;
  for (const std::vector<int>& ids : groups) {
    TeacherRequest req;
    req.sample_id = job.sample_id;
    req.images.push_back(st.marked);
    std::vector<std::array<int, 4>> grid;
    for (int id : ids) {
      RegionSlot& s = st.slots[id - 1];
      ++s.attempts;
      grid.push_back(ToGrid1000(s.region.box, st.size));
      if (options_.crop_context) req.images.push_back(st.crops[id - 1]);
    }
    req.prompt = StructuredRegionPrompt(ids, grid, static_cast<int>(st.slots.size()),
                                        options_.crop_context);
    req.response_schema = RegionReplySchema();
    if (st.first_prompt.empty()) st.first_prompt = req.prompt;
    reqs.push_back(std::move(req));
  }
  st.asked = std::move(groups);
  return StepAction::Send(std::move(reqs));
}

/// True when `caption` was written out in full in a reply cut at the token
/// limit: its closing quote is in the text (JSON repair would otherwise have
/// closed a string the teacher never finished).
bool FinishedInCutReply(const std::string& text, const std::string& caption) {
  return text.find(nlohmann::json(caption).dump()) != std::string::npos;
}

/// Regions whose caption was unusable are asked again together, up to
/// max_reasks rounds; regions a reply did not finish before the token limit
/// are asked again in groups of half the size, and fail as `truncated` when
/// cut even when asked alone.
StepAction RegionCaptionStep::Continue(SampleJob& job, std::vector<TeacherReply> replies) {
  auto st = std::static_pointer_cast<SampleState>(job.state);
  const size_t expected = options_.mode == RegionCaptionMode::kDataflow ? 1 : st ? st->asked.size() : 0;
  if (!st || replies.size() != expected) {
    return StepAction::Fail(Error::Make(ErrorKind::kInternal, "region_caption: lost sample state"));
  }
  if (options_.mode == RegionCaptionMode::kDataflow) return DataflowDone(job, *st, replies[0]);

  std::vector<int> bad;
  std::vector<std::vector<int>> cut_groups;
  std::optional<Error> failure;
  for (size_t r = 0; r < replies.size(); ++r) {
    const TeacherReply& reply = replies[r];
    const std::vector<int>& ids = st->asked[r];
    if (!reply.ok()) {
      for (int id : ids) st->slots[id - 1].reason = ErrorKindName(reply.error->kind);
      if (!failure || reply.error->fatal_for_run()) failure = *reply.error;
      continue;
    }
    const bool cut = reply.finish == FinishReason::kLength;
    st->answers.push_back(reply.text);
    auto parsed = ParseRegionReply(reply.text, ids);
    std::vector<int> unfinished;
    for (int id : ids) {
      RegionSlot& s = st->slots[id - 1];
      auto it = parsed ? parsed->captions.find(id) : std::map<int, std::string>::const_iterator();
      const bool found = parsed && it != parsed->captions.end();
      if (cut && (!found || !FinishedInCutReply(reply.text, it->second))) {
        s.reason = "truncated";
        unfinished.push_back(id);
      } else if (!parsed) {
        s.reason = "unparseable";
        bad.push_back(id);
      } else if (!found) {
        s.reason = "missing";
        bad.push_back(id);
      } else if (std::string(Trim(it->second)).empty()) {
        s.reason = "empty";
        bad.push_back(id);
      } else if (DescribesMark(it->second, id)) {
        s.reason = "describes_mark";
        s.rejected_caption = std::string(Trim(it->second));
        bad.push_back(id);
      } else {
        s.caption = std::string(Trim(it->second));
        s.status = "ok";
        s.reason.clear();
      }
    }
    if (parsed) {
      for (int id : parsed->extra_ids) {
        if (std::find(st->extra_ids.begin(), st->extra_ids.end(), id) == st->extra_ids.end()) {
          st->extra_ids.push_back(id);
        }
      }
    }
    if (unfinished.empty() || ids.size() == 1) continue;
    const size_t half = std::max<size_t>(1, ids.size() / 2);
    job.warnings.push_back(fmt::format(
        "region reply cut at the token limit after {} of {} regions; {} asked again in groups of {}",
        ids.size() - unfinished.size(), ids.size(), unfinished.size(), half));
    for (size_t i = 0; i < unfinished.size(); i += half) {
      cut_groups.emplace_back(unfinished.begin() + i,
                              unfinished.begin() + std::min(unfinished.size(), i + half));
    }
  }
  if (failure) {
    const bool any_ok = std::any_of(st->slots.begin(), st->slots.end(),
                                    [](const RegionSlot& s) { return s.status == "ok"; });
    if (failure->fatal_for_run() || !any_ok) return StepAction::Fail(*failure);
    return Finish(job, *st);
  }
  if (!bad.empty() && st->reasks < options_.max_reasks) {
    ++st->reasks;
    cut_groups.push_back(std::move(bad));
  }
  if (!cut_groups.empty()) return Ask(job, *st, std::move(cut_groups));
  return Finish(job, *st);
}

StepAction RegionCaptionStep::Finish(SampleJob& job, SampleState& st) const {
  nlohmann::ordered_json out = job.record;  // input fields pass through unchanged
  out["image"] = st.image;
  out["width"] = st.size.width;
  out["height"] = st.size.height;
  out["box_source"] = st.box_source;
  out["marked_image"] = st.marked_path;
  nlohmann::ordered_json regions = nlohmann::ordered_json::array();
  int ok = 0;
  std::string reasons;
  for (size_t i = 0; i < st.slots.size(); ++i) {
    RegionSlot& s = st.slots[i];
    if (s.status != "ok") s.status = "failed";
    nlohmann::ordered_json r;
    r["region_id"] = static_cast<int>(i) + 1;
    r["bbox"] = BoxJson(s.region.box);
    r["caption"] = s.caption;
    r["status"] = s.status;
    if (s.status == "failed") {
      r["reason"] = s.reason.empty() ? "missing" : s.reason;
      if (!s.rejected_caption.empty()) r["rejected_caption"] = s.rejected_caption;
      reasons += fmt::format(" [{}] {}", i + 1, r["reason"].get<std::string>());
    } else {
      ++ok;
    }
    r["attempts"] = s.attempts;
    r["input_index"] = s.region.input_index;
    if (!s.region.text.empty()) r["expression"] = s.region.text;
    regions.push_back(std::move(r));
  }
  out["regions"] = std::move(regions);
  out["answers"] = st.answers;
  out["prompt"] = st.first_prompt;
  if (!st.extra_ids.empty()) out["extra_region_ids"] = st.extra_ids;
  if (!st.dropped.empty()) out["dropped_boxes"] = RegionBoxList(st.dropped);
  if (!st.rejected.empty()) {
    out["invalid_boxes"] = nlohmann::ordered_json::array();
    for (const RejectedBox& r : st.rejected) out["invalid_boxes"].push_back(nlohmann::ordered_json(r.ToJson()));
  }
  if (ok == 0) {
    const bool all_cut = std::all_of(st.slots.begin(), st.slots.end(),
                                     [](const RegionSlot& s) { return s.reason == "truncated"; });
    return StepAction::Fail(Error::Make(all_cut ? ErrorKind::kTruncated : ErrorKind::kParse,
                                        "no region got a usable caption:" + reasons));
  }
  if (ok < static_cast<int>(st.slots.size())) {
    job.warnings.push_back(fmt::format("{} of {} regions failed:{}", st.slots.size() - ok,
                                       st.slots.size(), reasons));
  }
  return StepAction::Done(std::move(out));
}

StepAction RegionCaptionStep::DataflowDone(SampleJob& job, SampleState& st,
                                           const TeacherReply& reply) const {
  if (!reply.ok()) return StepAction::Fail(*reply.error);
  // DataFlow keeps a cut answer; here it would be a caption of some regions
  // only, recorded as a success. It fails instead, and retry_failed redoes it.
  if (reply.finish == FinishReason::kLength) {
    return StepAction::Fail(Error::Make(
        ErrorKind::kTruncated,
        fmt::format("answer cut at the token limit ({} max_tokens, as DataFlow asks) after {} bytes",
                    kDataflowMaxTokens, reply.text.size())));
  }
  std::vector<Box> boxes;
  for (const RegionSlot& s : st.slots) boxes.push_back(s.region.box);
  nlohmann::ordered_json out;
  out["image"] = st.image;
  out["type"] = st.box_source == "proposals" || st.box_source == "whole_image" ? "without_bbox"
                                                                               : "with_bbox";
  out["bbox"] = st.raw_boxes;
  out["normalized_bbox"] = DataflowNormalize(boxes, st.size, std::max(options_.max_boxes,
                                                                     static_cast<int>(boxes.size())));
  // As in DataFlow, the folder the results go to (not a file), as configured.
  out["result_file"] = options_.results_dir;
  out["image_with_bbox"] = st.marked_path;
  out["valid_bboxes_num"] = static_cast<int>(boxes.size());
  out["prompt"] = st.first_prompt;
  out["answer"] = reply.text;
  if (!st.dropped.empty()) out["dropped_boxes"] = RegionBoxList(st.dropped);
  if (!st.rejected.empty()) {
    out["invalid_boxes"] = nlohmann::ordered_json::array();
    for (const RejectedBox& r : st.rejected) out["invalid_boxes"].push_back(nlohmann::ordered_json(r.ToJson()));
  }
  // DataFlow's fields first, in its order; other input fields pass through.
  for (const auto& [key, value] : job.record.items()) {
    if (!out.contains(key)) out[key] = value;
  }
  return StepAction::Done(std::move(out));
}

}  // namespace

std::unique_ptr<StepLogic> MakeRegionCaptionLogic(RegionCaptionOptions options,
                                                  const Teacher& teacher) {
  return std::make_unique<RegionCaptionStep>(std::move(options), teacher);
}

// ---- pure helpers ----

std::string StructuredRegionPrompt(const std::vector<int>& ids,
                                   const std::vector<std::array<int, 4>>& grid, int total,
                                   bool crops) {
  const bool one = ids.size() == 1;
  const bool reask = static_cast<int>(ids.size()) < total;
  std::string label1 = RegionLabel(MarkStyle::kNumbered, ids.empty() ? 1 : ids[0]);
  std::string p;
  if (total == 1) {
    p += "The image has one region drawn on it: a coloured outline with the label " + label1 +
         " next to it.\n";
  } else {
    p += fmt::format(
        "The image has {} regions drawn on it, each outlined in its own colour with its label "
        "({}, {}, ...) next to the outline.\n",
        total, RegionLabel(MarkStyle::kNumbered, 1), RegionLabel(MarkStyle::kNumbered, 2));
  }
  if (reask) {
    p += one ? "Describe region " + label1 + " again; the previous answer for it was missing or "
                                             "described the drawn mark.\n"
             : "Describe only the regions listed below; the previous answer for them was missing "
               "or described the drawn marks.\n";
  }
  p += one ? "Describe what is inside the region: the main object or objects, their visible "
             "attributes (colour, material, shape, text) and what they are doing.\n"
           : "Describe what is inside each region: the main object or objects, their visible "
             "attributes (colour, material, shape, text) and what they are doing.\n";
  p += "Describe the image content itself, never the drawn outline, its colour or the label.\n";
  if (crops) {
    p += one ? "After the marked image comes a close-up crop of the region with some context "
               "around it.\n"
             : "After the marked image come close-up crops, one per region in the order listed "
               "below, each with some context around it.\n";
  }
  p += "Boxes are x1,y1,x2,y2 on a 0-1000 grid of the image (0,0 = top-left).\n";
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& g = grid[i];
    p += fmt::format("Region {}: box {},{},{},{}\n", RegionLabel(MarkStyle::kNumbered, ids[i]),
                     g[0], g[1], g[2], g[3]);
  }
  p += one ? fmt::format(
                 "Answer with JSON only: {{\"regions\": [{{\"region_id\": {}, \"caption\": "
                 "\"...\"}}]}}, region_id being the number in the label.",
                 ids.empty() ? 1 : ids[0])
           : "Answer with JSON only: {\"regions\": [{\"region_id\": <n>, \"caption\": \"...\"}]}, "
             "one entry per region listed above, region_id being the number in its label.";
  return p;
}

}  // namespace groundcap
