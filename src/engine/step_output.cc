#include "engine/step_output.h"

#include <memory>
#include <string>
#include <utility>

#include "engine/sample_id.h"
#include "engine/shard.h"
#include "util/error.h"
#include "util/jsonl.h"

namespace groundcap {

std::string Fingerprint(const std::string& config_fp, const nlohmann::ordered_json& record) {
  // An earlier step's flags are a judgement, re-made at every output; new
  // thresholds must not make this step ask the teacher again.
  nlohmann::json canonical_record(record);
  canonical_record.erase("flags");
  std::string canonical = DumpJsonLine(canonical_record);
  return Hex64(Fnv1a64(canonical, Fnv1a64(config_fp)));
}

bool IsUpstreamFailure(const nlohmann::ordered_json& record) {
  auto it = record.find("status");
  return it != record.end() && it->is_string() && it->get<std::string>() == "failed";
}

bool IsUpstreamFlagged(const nlohmann::ordered_json& record) {
  auto it = record.find("status");
  return it != record.end() && it->is_string() && it->get<std::string>() == "flagged";
}

namespace {

/// Judges an ok record with the step's quality checks: writes its "flags"
/// (when any) and makes its status "flagged" when one of them blocks.
void ApplyReview(const StepLogic& logic, nlohmann::ordered_json& record, StepStats& stats) {
  if (record.value("status", "") != "ok") return;
  record.erase("flags");
  std::vector<QualityFlag> flags = logic.Review(record);
  if (flags.empty()) return;
  bool blocked = false;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const QualityFlag& f : flags) {
    nlohmann::ordered_json j;
    j["flag"] = f.name;
    if (f.item >= 0) j["item"] = f.item;
    j["detail"] = f.detail;
    j["blocking"] = f.blocking;
    list.push_back(std::move(j));
    blocked |= f.blocking;
    ++stats.flags_by_name[f.name];
  }
  record["flags"] = std::move(list);
  if (blocked) record["status"] = "flagged";
}

/// Counts the flags an earlier step left on a passed-through record.
void CountUpstreamFlags(const nlohmann::ordered_json& record, StepStats& stats) {
  auto flags = record.find("flags");
  if (flags == record.end() || !flags->is_array()) return;
  for (const auto& f : *flags) {
    if (f.is_object() && f.contains("flag") && f["flag"].is_string()) {
      ++stats.flags_by_name[f["flag"].get<std::string>()];
    }
  }
}

}  // namespace

std::optional<std::string> InputRejectReason(const StepLogic& logic, const nlohmann::ordered_json& record) {
  const std::string key = logic.ImageKey();
  auto path = record.find(key);
  if (path != record.end() && path->is_string() && path->get<std::string>().find('\0') != std::string::npos) {
    return "field \"" + key + "\" contains a NUL character (\\u0000): a path would end there and name another file";
  }
  return logic.ValidateInput(record);
}

nlohmann::ordered_json JudgedRecord(const StepLogic& logic, nlohmann::ordered_json record) {
  StepStats scratch;
  ApplyReview(logic, record, scratch);
  return record;
}

nlohmann::ordered_json PassThroughRecord(nlohmann::ordered_json record, const std::string& sample_id) {
  if (!IsUpstreamFlagged(record)) return UpstreamFailureRecord(std::move(record), sample_id);
  record["sample_id"] = sample_id;
  return record;
}

nlohmann::ordered_json UpstreamFailureRecord(nlohmann::ordered_json record, const std::string& sample_id) {
  record["sample_id"] = sample_id;
  auto err = record.find("error");
  const bool has_kind = err != record.end() && err->is_object() && err->contains("kind") && (*err)["kind"].is_string();
  if (!has_kind) {
    std::string message = "the input record was already failed (status \"failed\")";
    if (err == record.end()) {
      message += " and carried no error";
    } else {
      std::string given = DumpJsonLine(*err);
      if (given.size() > 200) given = given.substr(0, 200) + "...";
      message += " and its error was not an object with a \"kind\": " + given;
    }
    Error e = Error::Make(ErrorKind::kUpstream, std::move(message));
    record["error"] = nlohmann::ordered_json(e.ToJson());
  } else if (!err->contains("message") || !(*err)["message"].is_string()) {
    (*err)["message"] = "the input record was already failed (status \"failed\"); its error had no message";
  }
  return record;
}

void WriteStepOutput(const StepPlan& plan, const RunOptions& options, const Journal& journal,
                     const std::string& config_fp, StepStats& stats) {
  // Re-stream the input: the output follows input order, records come from
  // the journal by offset, so memory stays bounded.
  std::string dir = StepDir(options.results_dir, plan);
  std::string path = dir + "/annotations.jsonl";
  JsonlReader reader(plan.input_jsonl);
  SampleIdDeriver deriver(plan.logic->ImageKey());
  std::unique_ptr<AtomicFileWriter> out;
  if (!stats.stopped) out = std::make_unique<AtomicFileWriter>(path);
  stats.succeeded = stats.failed = stats.failed_upstream = stats.unrecorded = stats.flagged = 0;
  stats.failed_by_kind.clear();
  stats.flags_by_name.clear();
  JsonlLine line;
  int64_t lines_seen = 0;  // workflow.limit: the same first lines the runner read
  while ((options.limit <= 0 || lines_seen < options.limit) && reader.Next(&line)) {
    ++lines_seen;
    if (line.too_long) continue;
    Result<nlohmann::ordered_json> rec = ParseJsonObjectLine(line.text);
    if (!rec || InputRejectReason(*plan.logic, *rec)) continue;
    std::string id = deriver.Derive(*rec);
    if (options.shard_count > 0 && ShardOf(id, options.shard_count) != options.shard_index) continue;
    nlohmann::ordered_json record;
    if (IsUpstreamFlagged(*rec) || IsUpstreamFailure(*rec)) {
      if (IsUpstreamFlagged(*rec)) CountUpstreamFlags(*rec, stats);
      else ++stats.failed_upstream;
      record = PassThroughRecord(std::move(*rec), id);
    } else {
      std::optional<JournalIndexEntry> e = journal.Find(id);
      if (!e || (e->fingerprint != Fingerprint(config_fp, *rec))) {
        ++stats.unrecorded;
        continue;
      }
      Result<JournalEntry> entry = journal.Read(e->offset);
      if (!entry) throw SetupError(entry.error().message);
      record = std::move(entry->record);
      ApplyReview(*plan.logic, record, stats);
    }
    const std::string status = record.value("status", "");
    if (status == "ok") {
      ++stats.succeeded;
    } else if (status == "flagged") {
      ++stats.flagged;
    } else {
      ++stats.failed;
      // Upstream records are user input: "kind" may be anything.
      std::string kind = "internal";
      auto err = record.find("error");
      if (err != record.end() && err->is_object() && err->contains("kind") && (*err)["kind"].is_string())
        kind = (*err)["kind"].get<std::string>();
      ++stats.failed_by_kind[kind];
    }
    if (out) out->Write(DumpJsonLine(record) + "\n");
  }
  if (stats.unrecorded > 0 && !stats.stopped) {
    stats.stopped = true;
    stats.stop_reason = "samples left unfinished";
    out.reset();
  }
  if (out) {
    out->Commit();
    stats.output_path = path;
  }
}

}  // namespace groundcap
