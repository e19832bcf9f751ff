#include "engine/step_output.h"

#include <memory>
#include <string>
#include <utility>

#include "engine/sample_id.h"
#include "util/error.h"
#include "util/jsonl.h"

namespace groundcap {

std::string Fingerprint(const std::string& config_fp, const nlohmann::ordered_json& record) {
  std::string canonical = DumpJsonLine(nlohmann::json(record));
  return Hex64(Fnv1a64(canonical, Fnv1a64(config_fp)));
}

bool IsUpstreamFailure(const nlohmann::ordered_json& record) {
  auto it = record.find("status");
  return it != record.end() && it->is_string() && it->get<std::string>() == "failed";
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
  stats.succeeded = stats.failed = stats.failed_upstream = stats.unrecorded = 0;
  stats.failed_by_kind.clear();
  JsonlLine line;
  while (reader.Next(&line)) {
    if (line.too_long) continue;
    Result<nlohmann::ordered_json> rec = ParseJsonObjectLine(line.text);
    if (!rec || plan.logic->ValidateInput(*rec)) continue;
    std::string id = deriver.Derive(*rec);
    nlohmann::ordered_json record;
    if (IsUpstreamFailure(*rec)) {
      record = std::move(*rec);
      record["sample_id"] = id;
      ++stats.failed_upstream;
    } else {
      std::optional<JournalIndexEntry> e = journal.Find(id);
      if (!e || (e->fingerprint != Fingerprint(config_fp, *rec))) {
        ++stats.unrecorded;
        continue;
      }
      Result<JournalEntry> entry = journal.Read(e->offset);
      if (!entry) throw SetupError(entry.error().message);
      record = std::move(entry->record);
    }
    if (record.value("status", "") == "ok") {
      ++stats.succeeded;
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
