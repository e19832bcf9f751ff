#include "grounding/grounding_steps.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <utility>

#include <fmt/core.h>

#include "grounding/grounding_prompts.h"
#include "grounding/spans.h"
#include "util/text_util.h"

namespace groundcap {
namespace {

constexpr const char* kSource = "image_grounding";
constexpr const char* kStep0Marker = "step0_expression_extraction";
constexpr const char* kStep1Marker = "step1_grounding";
/// Score written when the reply gives none (TAO's default).
constexpr double kMissingScore = 0.9;

using Json = nlohmann::ordered_json;

Result<PreparedImage> Prepare(const GroundingConfig& c, const std::string& path,
                              const PrepareOptions& options) {
  if (c.prepare_image) return c.prepare_image(path, options);
  return PrepareForTeacher(path, options, c.limits);
}

/// Appends `marker` to record["pipeline_steps"] once.
void MarkStep(Json& record, const char* marker) {
  if (!record.contains("pipeline_steps") || !record["pipeline_steps"].is_array()) {
    record["pipeline_steps"] = Json::array();
  }
  for (const auto& s : record["pipeline_steps"]) {
    if (s.is_string() && s.get<std::string>() == marker) return;
  }
  record["pipeline_steps"].push_back(marker);
}

std::string ExpressionId(const std::string& sample_id, size_t k) {
  return fmt::format("{}:e{}", sample_id, k);
}

/// Last word of `text` without edge punctuation: the head-noun fallback.
std::string LastWord(const std::string& text) {
  std::string norm = NormalizeText(text);
  size_t sp = norm.rfind(' ');
  std::string w = sp == std::string::npos ? norm : norm.substr(sp + 1);
  while (!w.empty() && std::ispunct(static_cast<unsigned char>(w.back()))) w.pop_back();
  return w;
}

/// Every PrepareOptions field that changes the image sent (and so the reply).
std::string PrepareFingerprint(const PrepareOptions& p) {
  return fmt::format("resize={}|max_px={}|min_px={}|factor={}|upscale={}|enc={}:{}",
                     static_cast<int>(p.resize), p.max_pixels, p.min_pixels, p.factor,
                     p.allow_upscale, p.encoding, p.jpeg_quality);
}

Error ReplyError(const TeacherReply& reply) {
  return reply.error ? *reply.error : Error::Make(ErrorKind::kInternal, "reply without error");
}

/// Hint appended to truncation failures: what the user can change.
constexpr const char* kRaiseTokens =
    "raise vlm.openai.max_tokens / vlm.gemini.max_output_tokens, then rerun with "
    "workflow.retry_failed";

/// Per-sample data of step 0 between Begin and Continue.
struct ExtractState {
  Size upright;
};

class ExpressionExtractionStep : public StepLogic {
 public:
  explicit ExpressionExtractionStep(GroundingConfig config) : c_(std::move(config)) {
    if (c_.extraction_prompt.empty()) c_.extraction_prompt = DefaultExtractionPrompt();
  }

  std::string Name() const override { return kExtractionStepName; }

  std::string ConfigFingerprint() const override {
    return fmt::format("{}|extract|prompt={}|schema={}|teacher={}|{}", kGroundingPromptVersion,
                       PromptHash(c_.extraction_prompt), c_.use_schema, c_.teacher_fingerprint,
                       PrepareFingerprint(c_.prepare));
  }

  std::optional<std::string> ValidateInput(const Json& record) const override {
    if (!record.is_object()) return "record is not a JSON object";
    if (!record.contains("image_path")) return "missing field \"image_path\"";
    if (!record["image_path"].is_string() || record["image_path"].get<std::string>().empty()) {
      return "field \"image_path\" must be a non-empty string";
    }
    if (!record.contains("caption")) return "missing field \"caption\"";
    if (!record["caption"].is_string()) return "field \"caption\" must be a string";
    return std::nullopt;
  }

  std::string ImageKey() const override { return "image_path"; }

  std::vector<QualityFlag> Review(const Json& output) const override {
    return ReviewGrounding(output, c_.quality, /*boxes=*/false);
  }

  StepAction Begin(SampleJob& job) override {
    const std::string path =
        ResolveImagePath(c_.image_root, job.record["image_path"].get<std::string>());
    Result<PreparedImage> image = Prepare(c_, path, c_.prepare);
    if (!image) return StepAction::Fail(image.error());
    auto state = std::make_shared<ExtractState>();
    state->upright = image->original.upright;
    WarnOnSizeMismatch(job, state->upright);
    job.state = state;

    TeacherRequest req;
    req.sample_id = job.sample_id;
    req.images.push_back({image->mime, Base64Encode(image->bytes)});
    req.prompt = RenderExtractionPrompt(c_.extraction_prompt, job.record["caption"].get<std::string>());
    if (c_.use_schema) req.response_schema = ExtractionSchema();
    std::vector<TeacherRequest> reqs;
    reqs.push_back(std::move(req));
    return StepAction::Send(std::move(reqs));
  }

  StepAction Continue(SampleJob& job, std::vector<TeacherReply> replies) override {
    if (replies.size() != 1) {
      return StepAction::Fail(Error::Make(ErrorKind::kInternal, "step 0 expects one reply"));
    }
    const TeacherReply& reply = replies[0];
    if (!reply.ok()) return StepAction::Fail(ReplyError(reply));
    // One caption cannot be split into smaller requests, and a cut list may
    // lack expressions that nothing would tell apart from absent ones.
    if (reply.finish == FinishReason::kLength) {
      return StepAction::Fail(Error::Make(
          ErrorKind::kTruncated,
          fmt::format("extraction reply was cut at the token limit after {} bytes, so its "
                      "expression list may be incomplete; {}",
                      reply.text.size(), kRaiseTokens)));
    }
    std::vector<std::string> repairs;
    Result<nlohmann::json> parsed = ParseLenientJson(reply.text, &repairs);
    if (!parsed) {
      return StepAction::Fail(Error::Make(
          ErrorKind::kParse, "extraction reply is not JSON: " + parsed.error().message));
    }
    for (const std::string& r : repairs) job.warnings.push_back("extraction reply repaired: " + r);

    const std::string caption = job.record["caption"].get<std::string>();
    std::string cleaned = caption;
    const nlohmann::json* list = nullptr;
    if (parsed->is_object() && parsed->contains("expressions") && (*parsed)["expressions"].is_array()) {
      list = &(*parsed)["expressions"];
      if (parsed->contains("cleaned_caption") && (*parsed)["cleaned_caption"].is_string()) {
        cleaned = Trim((*parsed)["cleaned_caption"].get<std::string>());
      } else {
        job.warnings.push_back("extraction reply has no cleaned_caption; the caption is kept");
      }
    } else if (parsed->is_array()) {
      list = &*parsed;
      job.warnings.push_back("extraction reply is a bare list; the caption is kept");
    } else {
      return StepAction::Fail(Error::Make(
          ErrorKind::kParse, "extraction reply has no \"expressions\" list"));
    }
    if (cleaned.empty()) {
      job.warnings.push_back("extraction reply has an empty cleaned_caption; the caption is kept");
      cleaned = caption;
    }

    std::vector<std::string> texts, nouns;
    for (const auto& item : *list) {
      std::string text, noun;
      if (item.is_string()) {
        text = item.get<std::string>();
      } else if (item.is_object() && item.contains("text") && item["text"].is_string()) {
        text = item["text"].get<std::string>();
        if (item.contains("noun_chunk") && item["noun_chunk"].is_string()) {
          noun = Trim(item["noun_chunk"].get<std::string>());
        }
      } else {
        job.warnings.push_back("extraction reply: skipped an expression without text");
        continue;
      }
      text = Trim(text);
      if (text.empty()) continue;
      if (noun.empty()) noun = LastWord(text);
      texts.push_back(std::move(text));
      nouns.push_back(std::move(noun));
    }

    std::vector<CharSpan> spans = LocateSpans(cleaned, texts);
    Json expressions = Json::array();
    for (size_t k = 0; k < texts.size(); ++k) {
      Json e;
      e["text"] = texts[k];
      e["instances"] = Json::array();
      e["expression_id"] = ExpressionId(job.sample_id, k);
      if (spans[k].found()) {
        e["char_span"] = Json::array({spans[k].start, spans[k].end});
      } else {
        e["char_span"] = nullptr;
      }
      e["noun_chunk"] = nouns[k];
      if (!spans[k].found()) {
        e["span_found"] = false;
        job.warnings.push_back(fmt::format("expression {} not found in the cleaned caption", k));
      }
      expressions.push_back(std::move(e));
    }

    Json out = job.record;
    if (!out.contains("image_id") || !out["image_id"].is_string()) out["image_id"] = job.sample_id;
    out["cleaned_caption"] = cleaned;
    out["expressions"] = std::move(expressions);
    auto state = std::static_pointer_cast<ExtractState>(job.state);
    out["image_width"] = state->upright.width;
    out["image_height"] = state->upright.height;
    out["source"] = kSource;
    MarkStep(out, kStep0Marker);
    return StepAction::Done(std::move(out));
  }

 private:
  static void WarnOnSizeMismatch(SampleJob& job, Size upright) {
    const Json& r = job.record;
    if (r.contains("width") && r.contains("height") && r["width"].is_number() &&
        r["height"].is_number()) {
      int w = static_cast<int>(r["width"].get<double>());
      int h = static_cast<int>(r["height"].get<double>());
      if (w != upright.width || h != upright.height) {
        job.warnings.push_back(fmt::format(
            "input width/height {}x{} differ from the image's upright size {}x{}; boxes use the "
            "image's size",
            w, h, upright.width, upright.height));
      }
    }
  }

  GroundingConfig c_;
};

/// Per-sample data of step 1 between rounds.
struct GroundState {
  Size upright;
  Size sent;
  ImagePart image;                         ///< kept for re-asks
  std::vector<std::vector<int>> chunks;    ///< expression indices per request in flight
  std::vector<std::vector<Box>> per_expr;  ///< boxes of every expression answered in full
};

/// "E12", "e12", "E12: text", "12" -> 12; -1 otherwise.
int LabelIndex(const std::string& label) {
  size_t i = 0;
  while (i < label.size() && std::isspace(static_cast<unsigned char>(label[i]))) ++i;
  if (i < label.size() && (label[i] == 'E' || label[i] == 'e')) ++i;
  size_t digits = i;
  while (digits < label.size() && std::isdigit(static_cast<unsigned char>(label[digits]))) ++digits;
  if (digits == i || digits - i > 6) return -1;
  if (digits < label.size() && std::isalnum(static_cast<unsigned char>(label[digits]))) return -1;
  return std::stoi(label.substr(i, digits - i));
}

class PhraseGroundingStep : public StepLogic {
 public:
  explicit PhraseGroundingStep(GroundingConfig config) : c_(std::move(config)) {
    c_.box_format = GroundingPromptFormat(c_.box_format);
    if (c_.grounding_prompt.empty()) c_.grounding_prompt = DefaultGroundingPrompt(c_.box_format);
    c_.expressions_per_request = std::max(1, c_.expressions_per_request);
    c_.max_instances = std::max(1, c_.max_instances);
  }

  std::string Name() const override { return kGroundingStepName; }

  std::string ConfigFingerprint() const override {
    return fmt::format("{}|ground|prompt={}|format={}|chunk={}|max={}|min={}|iou={}|teacher={}|{}",
                       kGroundingPromptVersion, PromptHash(c_.grounding_prompt),
                       BoxFormatName(c_.box_format), c_.expressions_per_request, c_.max_instances,
                       c_.hygiene.min_size, c_.hygiene.dedupe_iou, c_.teacher_fingerprint,
                       PrepareFingerprint(ImageOptions())) +
           RangeFingerprint();
  }

  std::optional<std::string> ValidateInput(const Json& record) const override {
    if (!record.is_object()) return "record is not a JSON object";
    if (!record.contains("image_path")) return "missing field \"image_path\"";
    if (!record["image_path"].is_string() || record["image_path"].get<std::string>().empty()) {
      return "field \"image_path\" must be a non-empty string";
    }
    // A sample that failed in step 0 has no expressions; the engine passes it
    // through as failed (IsUpstreamFailure, engine/step_output.h), so it is not rejected.
    auto status = record.find("status");
    if (status != record.end() && status->is_string() && status->get<std::string>() == "failed") {
      return std::nullopt;
    }
    if (!record.contains("expressions")) return "missing field \"expressions\" (a step-0 record)";
    if (!record["expressions"].is_array()) return "field \"expressions\" must be a list";
    for (const auto& e : record["expressions"]) {
      if (!e.is_object() || !e.contains("text") || !e["text"].is_string()) {
        return "every item of \"expressions\" needs a string field \"text\"";
      }
    }
    return std::nullopt;
  }

  std::string ImageKey() const override { return "image_path"; }

  std::vector<QualityFlag> Review(const Json& output) const override {
    return ReviewGrounding(output, c_.quality, /*boxes=*/true);
  }

  StepAction Begin(SampleJob& job) override {
    // Keep step 0's warnings: the engine replaces the record's list with ours.
    auto prior = job.record.find("warnings");
    if (prior != job.record.end() && prior->is_array()) {
      std::vector<std::string> merged;
      for (const auto& w : *prior) {
        if (w.is_string()) merged.push_back(w.get<std::string>());
      }
      merged.insert(merged.end(), job.warnings.begin(), job.warnings.end());
      job.warnings = std::move(merged);
    }
    const Json& exprs = job.record["expressions"];
    auto state = std::make_shared<GroundState>();
    std::vector<int> groundable;
    for (size_t k = 0; k < exprs.size(); ++k) {
      if (!Trim(exprs[k]["text"].get<std::string>()).empty()) groundable.push_back(static_cast<int>(k));
    }
    if (groundable.empty()) {
      job.state = state;
      return StepAction::Done(BuildOutput(job, {}));
    }
    const std::string path =
        ResolveImagePath(c_.image_root, job.record["image_path"].get<std::string>());
    Result<PreparedImage> image = Prepare(c_, path, ImageOptions());
    if (!image) return StepAction::Fail(image.error());
    state->upright = image->original.upright;
    state->sent = image->sent;
    state->image = ImagePart::Shared(image->mime, Base64Encode(image->bytes));
    state->per_expr.resize(exprs.size());
    job.state = state;
    return Ask(job, *state, groundable, c_.expressions_per_request);
  }

  /// A reply cut at the token limit is trusted only for the expressions it
  /// finished: those whose boxes are followed by another expression's box.
  /// The rest are asked again in chunks of half the size; an expression cut
  /// even when asked alone fails the sample with kind `truncated` (never ok
  /// with boxes missing).
  StepAction Continue(SampleJob& job, std::vector<TeacherReply> replies) override {
    auto state = std::static_pointer_cast<GroundState>(job.state);
    if (!state || replies.size() != state->chunks.size()) {
      return StepAction::Fail(Error::Make(ErrorKind::kInternal, "step 1: reply count mismatch"));
    }
    const Json& exprs = job.record["expressions"];
    std::vector<std::vector<int>> redo;
    for (size_t r = 0; r < replies.size(); ++r) {
      const TeacherReply& reply = replies[r];
      const std::vector<int>& chunk = state->chunks[r];
      if (!reply.ok()) return StepAction::Fail(ReplyError(reply));
      const bool cut = reply.finish == FinishReason::kLength;
      const std::string tag = job.round <= 1 ? fmt::format("grounding reply {}", r)
                                             : fmt::format("grounding re-ask {}.{}", job.round - 1, r);
      ParseBoxesOptions opts;
      opts.format = c_.box_format;
      opts.image = state->upright;
      opts.input = state->sent;
      opts.hygiene = c_.hygiene;
      Result<ParsedBoxes> parsed = ParseBoxes(reply.text, opts);
      if (!parsed && !cut) {
        return StepAction::Fail(Error::Make(
            ErrorKind::kParse, fmt::format("{} could not be parsed: {}", tag, parsed.error().message)));
      }
      std::map<int, std::vector<Box>> found;
      std::vector<int> order;  // expressions in the order their boxes appear
      if (parsed) {
        for (const std::string& d : parsed->diagnostics) job.warnings.push_back(tag + ": " + d);
        for (Box& box : parsed->boxes) {
          int k = MatchExpression(box.label, chunk, exprs);
          if (k < 0) {
            job.warnings.push_back(
                fmt::format("{}: box with unknown label \"{}\" dropped", tag, box.label));
            continue;
          }
          if (!box.score) {
            job.warnings.push_back(
                fmt::format("{}: box for E{} has no score; {} used", tag, k, kMissingScore));
          }
          if (order.empty() || order.back() != k) order.push_back(k);
          found[k].push_back(std::move(box));
        }
      }
      std::vector<int> unfinished;
      for (int k : chunk) {
        const bool seen = std::find(order.begin(), order.end(), k) != order.end();
        if (!cut || (seen && k != order.back())) {
          state->per_expr[k] = std::move(found[k]);
        } else {
          unfinished.push_back(k);
        }
      }
      if (unfinished.empty()) continue;
      if (chunk.size() == 1) {
        return StepAction::Fail(Error::Make(
            ErrorKind::kTruncated,
            fmt::format("{} for E{} (\"{}\") was cut at the token limit even when asked alone; {}",
                        tag, chunk[0], exprs[chunk[0]]["text"].get<std::string>(), kRaiseTokens)));
      }
      const size_t half = std::max<size_t>(1, chunk.size() / 2);
      job.warnings.push_back(fmt::format(
          "{} was cut at the token limit after {} of {} expressions; {} asked again in chunks of {}",
          tag, chunk.size() - unfinished.size(), chunk.size(), unfinished.size(), half));
      for (size_t i = 0; i < unfinished.size(); i += half) {
        redo.emplace_back(unfinished.begin() + i,
                          unfinished.begin() + std::min(unfinished.size(), i + half));
      }
    }
    if (redo.empty()) return StepAction::Done(BuildOutput(job, state->per_expr));
    state->chunks.clear();
    std::vector<TeacherRequest> reqs;
    for (std::vector<int>& chunk : redo) reqs.push_back(Request(job, *state, std::move(chunk)));
    return StepAction::Send(std::move(reqs));
  }

 private:
  /// Requests for `expressions` in chunks of `chunk_size`.
  StepAction Ask(const SampleJob& job, GroundState& state, const std::vector<int>& expressions,
                 size_t chunk_size) const {
    state.chunks.clear();
    std::vector<TeacherRequest> reqs;
    for (size_t i = 0; i < expressions.size(); i += chunk_size) {
      std::vector<int> chunk(expressions.begin() + i,
                             expressions.begin() + std::min(expressions.size(), i + chunk_size));
      reqs.push_back(Request(job, state, std::move(chunk)));
    }
    return StepAction::Send(std::move(reqs));
  }

  /// One request for the expressions of `chunk`, recorded in state.chunks so
  /// that Continue knows which reply answers what.
  TeacherRequest Request(const SampleJob& job, GroundState& state, std::vector<int> chunk) const {
    const Json& exprs = job.record["expressions"];
    std::vector<std::pair<int, std::string>> lines;
    for (int k : chunk) lines.emplace_back(k, Trim(exprs[k]["text"].get<std::string>()));
    TeacherRequest req;
    req.sample_id = job.sample_id;
    req.images.push_back(state.image);
    req.prompt = RenderGroundingPrompt(c_.grounding_prompt, lines, state.sent, c_.max_instances);
    state.chunks.push_back(std::move(chunk));
    return req;
  }

  /// The box range tolerance joins the fingerprint only when it is not the
  /// default, so runs made before it existed keep their checkpoints.
  std::string RangeFingerprint() const {
    if (c_.hygiene.range_tolerance == kDefaultRangeTolerance) return "";
    return fmt::format("|range={}", c_.hygiene.range_tolerance);
  }

  PrepareOptions ImageOptions() const {
    PrepareOptions p = c_.prepare;
    if (c_.box_format == BoxFormat::kQwen25Vl) p.resize = PrepareOptions::Resize::kSmartResize;
    return p;
  }

  /// Index of the expression a box belongs to, within this chunk: the
  /// expression whose normalised text is the whole label (checked first, so
  /// that the label "2 dogs" is not read as E2), else the E<k> label, else
  /// the text after a colon ("E3: the red car" with a wrong index); -1 if none.
  static int MatchExpression(const std::string& label, const std::vector<int>& chunk,
                             const Json& exprs) {
    const std::string norm = NormalizeText(label);
    const auto by_text = [&](const std::string& wanted) {
      for (int j : chunk) {
        if (!wanted.empty() && NormalizeText(exprs[j]["text"].get<std::string>()) == wanted) {
          return j;
        }
      }
      return -1;
    };
    if (int j = by_text(norm); j >= 0) return j;
    int k = LabelIndex(label);
    if (k >= 0 && std::find(chunk.begin(), chunk.end(), k) != chunk.end()) return k;
    size_t colon = label.find(':');
    return colon == std::string::npos ? -1 : by_text(NormalizeText(label.substr(colon + 1)));
  }

  Json BuildOutput(const SampleJob& job, const std::vector<std::vector<Box>>& per_expr) const {
    auto state = std::static_pointer_cast<GroundState>(job.state);
    Json out = job.record;
    Json& exprs = out["expressions"];
    for (size_t k = 0; k < exprs.size(); ++k) {
      Json& e = exprs[k];
      if (!e.contains("expression_id") || !e["expression_id"].is_string()) {
        e["expression_id"] = ExpressionId(job.sample_id, k);
      }
      Json instances = Json::array();
      if (k < per_expr.size()) {
        std::vector<Box> boxes = per_expr[k];
        for (Box& b : boxes) {
          double s = b.score.value_or(kMissingScore);
          if (!std::isfinite(s)) s = kMissingScore;
          b.score = std::round(std::clamp(s, 0.0, 1.0) * 10000.0) / 10000.0;
        }
        std::stable_sort(boxes.begin(), boxes.end(),
                         [](const Box& a, const Box& b) { return *a.score > *b.score; });
        for (const Box& b : boxes) {
          if (static_cast<int>(instances.size()) >= c_.max_instances) break;
          long x1 = std::clamp<long>(std::lround(b.x1), 0, state->upright.width);
          long y1 = std::clamp<long>(std::lround(b.y1), 0, state->upright.height);
          long x2 = std::clamp<long>(std::lround(b.x2), 0, state->upright.width);
          long y2 = std::clamp<long>(std::lround(b.y2), 0, state->upright.height);
          if (x2 <= x1 || y2 <= y1) continue;
          Json inst;
          inst["bbox"] = Json::array({x1, y1, x2, y2});
          inst["score"] = *b.score;
          inst["bbox_score"] = *b.score;
          inst["bbox_id"] = fmt::format("{}:e{}:b{}", job.sample_id, k, instances.size());
          instances.push_back(std::move(inst));
        }
      }
      e["instances"] = std::move(instances);
    }
    if (!out.contains("image_id") || !out["image_id"].is_string()) out["image_id"] = job.sample_id;
    if (state->upright.width > 0) {
      out["image_width"] = state->upright.width;
      out["image_height"] = state->upright.height;
    }
    out["source"] = kSource;
    MarkStep(out, kStep1Marker);
    return out;
  }

  GroundingConfig c_;
};

}  // namespace

std::string ResolveImagePath(const std::string& root, const std::string& path) {
  if (root.empty() || path.empty() || path[0] == '/') return path;
  return (std::filesystem::path(root) / path).string();
}

std::unique_ptr<StepLogic> MakeExpressionExtractionStep(GroundingConfig config) {
  return std::make_unique<ExpressionExtractionStep>(std::move(config));
}

std::unique_ptr<StepLogic> MakePhraseGroundingStep(GroundingConfig config) {
  return std::make_unique<PhraseGroundingStep>(std::move(config));
}

}  // namespace groundcap
