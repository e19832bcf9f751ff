#include "engine/shard_merge.h"

#include <fmt/core.h>
#include <sys/resource.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "engine/run_lock.h"
#include "engine/sample_id.h"
#include "engine/shard.h"
#include "util/error.h"
#include "util/file_read.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {

namespace {

namespace fs = std::filesystem;

/// One shard directory as found.
struct ShardState {
  std::string name;  ///< shard-i-of-n
  std::string dir;
  bool exists = false;
  std::optional<RunLock> lock;  ///< held by the merge while it runs
  std::string holder;           ///< set when another process holds the lock
  nlohmann::json info;          ///< shard.json (null when unreadable)
  nlohmann::json summary;       ///< run_summary.json (null when unreadable)
  std::string problem;          ///< why it cannot be merged ("" = complete)
};

/// A small JSON file, or null when missing or unreadable.
nlohmann::json ReadJsonFile(const std::string& path) {
  Result<std::string> text = ReadRegularFile(path, int64_t{16} << 20);
  if (!text) return nullptr;
  return nlohmann::json::parse(*text, nullptr, false);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

/// What must agree between shards for their outputs to be one run.
std::string Identity(const nlohmann::json& info) {
  return fmt::format("pipeline {}, spec fingerprint {}, input {}, steps {}", info.value("pipeline", "?"),
                     info.value("spec_fingerprint", "?"), info.value("input_jsonl", "?"),
                     info.contains("steps") ? info["steps"].dump() : "?");
}

/// Allows one descriptor per shard output (the soft limit is often 1024).
void RaiseFileLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/// One shard's step output, read one record ahead.
class ShardCursor {
 public:
  explicit ShardCursor(const std::string& path) : reader_(path) {}
  /// The sample_id of the next record, or nullptr at the end. Throws
  /// SetupError for a line that is not a record with a sample_id.
  const std::string* PeekId() {
    if (!pending_ && reader_.Next(&line_)) {
      Result<nlohmann::ordered_json> rec = ParseJsonObjectLine(line_.text);
      if (line_.too_long || !rec || !rec->contains("sample_id") || !(*rec)["sample_id"].is_string())
        throw SetupError(fmt::format("{}:{}: not an output record with a sample_id", reader_.path(), line_.line));
      id_ = (*rec)["sample_id"].get<std::string>();
      status_ = rec->value("status", "");
      pending_ = true;
    }
    return pending_ ? &id_ : nullptr;
  }
  /// The pending record's text and status; consumes it.
  const std::string& Take(std::string* status) {
    pending_ = false;
    *status = status_;
    return line_.text;
  }
  const std::string& path() const { return reader_.path(); }
  int64_t line() const { return line_.line; }

 private:
  JsonlReader reader_;
  JsonlLine line_;
  std::string id_, status_;
  bool pending_ = false;
};

/// Counters of one merged step.
struct StepMerge {
  int64_t written = 0;
  int64_t missing = 0;        ///< samples of shards left out (--allow-partial)
  int64_t not_in_output = 0;  ///< input records the step did not output (rejected by it)
  std::map<std::string, int64_t> by_status;
};

/// Writes results_dir/<step>/annotations.jsonl from the shards in input order.
StepMerge MergeStep(const std::string& results_dir, const std::string& step, const nlohmann::json& ref,
                    std::vector<ShardState>& shards) {
  const int n = static_cast<int>(shards.size());
  std::vector<std::unique_ptr<ShardCursor>> cursors(shards.size());
  for (int i = 0; i < n; ++i) {
    if (!shards[i].problem.empty()) continue;
    const std::string path = shards[i].dir + "/" + step + "/annotations.jsonl";
    if (std::optional<std::string> why = NotARegularFile(path))
      throw SetupError(fmt::format("{}: {} is marked complete but its output {} {}", shards[i].name, step, path, *why));
    cursors[i] = std::make_unique<ShardCursor>(path);
  }
  std::error_code ec;
  fs::create_directories(results_dir + "/" + step, ec);
  if (ec) throw SetupError(fmt::format("cannot create {}/{}: {}", results_dir, step, ec.message()));
  AtomicFileWriter out(results_dir + "/" + step + "/annotations.jsonl");
  StepMerge m;
  JsonlReader input(ref["input_jsonl"].get<std::string>());
  SampleIdDeriver deriver(ref.value("image_key", "image_path"));
  JsonlLine line;
  std::string status;
  while (input.Next(&line)) {
    if (line.too_long) continue;
    Result<nlohmann::ordered_json> rec = ParseJsonObjectLine(line.text);
    if (!rec) continue;  // rejected by every shard's first step: in no output
    const std::string id = deriver.Derive(*rec);
    ShardCursor* cursor = cursors[ShardOf(id, n)].get();
    if (!cursor) {
      ++m.missing;
      continue;
    }
    const std::string* next = cursor->PeekId();
    if (next == nullptr || *next != id) {  // the step rejected this record: it wrote nothing for it
      ++m.not_in_output;
      continue;
    }
    out.Write(cursor->Take(&status) + "\n");
    ++m.written;
    ++m.by_status[status];
  }
  for (int i = 0; i < n; ++i) {
    if (!cursors[i]) continue;
    if (const std::string* left = cursors[i]->PeekId()) {
      throw SetupError(
          fmt::format("{}:{}: sample '{}' is not in the input {} in this order: was the input changed since {} ran? "
                      "Re-run the shards on the same input",
                      cursors[i]->path(), cursors[i]->line(), *left, input.path(), shards[i].name));
    }
  }
  out.Commit();
  return m;
}

/// Sums the numbers of `from` into `into`, recursively through objects (and
/// arrays of objects by position); other values are kept from the first.
void AddCounters(nlohmann::json& into, const nlohmann::json& from) {
  if (into.is_null()) {
    into = from;
    return;
  }
  if (into.is_object() && from.is_object()) {
    for (auto it = from.begin(); it != from.end(); ++it) AddCounters(into[it.key()], it.value());
  } else if (into.is_array() && from.is_array()) {
    for (size_t i = 0; i < from.size(); ++i) {
      if (i < into.size())
        AddCounters(into[i], from[i]);
      else
        into.push_back(from[i]);
    }
  } else if (into.is_number_integer() && from.is_number_integer()) {
    into = into.get<int64_t>() + from.get<int64_t>();
  } else if (into.is_number() && from.is_number()) {
    into = into.get<double>() + from.get<double>();
  }
}

}  // namespace

nlohmann::json MergeShards(const std::string& results_dir, bool allow_partial) {
  std::error_code ec;
  if (!fs::is_directory(results_dir, ec)) throw SetupError(fmt::format("merge: {} is not a directory", results_dir));
  const RunLock own_lock = RunLock::Acquire(results_dir);  // one merge at a time, no unsharded run meanwhile

  std::set<int> counts;
  std::vector<std::string> names;
  for (fs::directory_iterator it(results_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (std::optional<ShardSpec> s = ParseShardDirName(it->path().filename().string())) {
      counts.insert(s->count);
      names.push_back(it->path().filename().string());
    }
  }
  if (counts.empty())
    throw SetupError(fmt::format("merge: {} holds no shard-i-of-n directories: nothing to merge", results_dir));
  if (counts.size() > 1) {
    throw SetupError(
        fmt::format("merge: {} holds shards of different counts ({}): the shard count must not change "
                    "for one results_dir; remove the stray shards or use another results_dir",
                    results_dir, Join(names)));
  }
  const int n = *counts.begin();
  RaiseFileLimit();

  std::vector<ShardState> shards(static_cast<size_t>(n));
  std::vector<std::string> held, absent;
  for (int i = 0; i < n; ++i) {
    ShardState& s = shards[i];
    s.name = ShardDirName(ShardSpec{i, n});
    s.dir = results_dir + "/" + s.name;
    s.exists = fs::is_directory(s.dir, ec);
    if (!s.exists) {
      s.problem = "missing: never run";
      absent.push_back(s.name + " (" + s.problem + ")");
      continue;
    }
    try {
      s.lock.emplace(RunLock::Acquire(s.dir));
    } catch (const SetupError&) {
      s.holder = RunLock::Holder(s.dir);
      held.push_back(fmt::format("{} ({})", s.name, s.holder));
      s.problem = "running";
      continue;
    }
    s.info = ReadJsonFile(s.dir + "/shard.json");
    s.summary = ReadJsonFile(s.dir + "/run_summary.json");
    if (!s.info.is_object())
      s.problem = "no readable shard.json: never started";
    else if (!s.info.value("complete", false))
      s.problem = "did not finish: re-run it to resume";
    if (!s.problem.empty()) absent.push_back(s.name + " (" + s.problem + ")");
  }
  if (!held.empty()) {
    throw SetupError(fmt::format("merge: runs still hold shards of {}: {}; wait for them to end, then merge",
                                 results_dir, Join(held)));
  }
  // Complete shards must be one run: same pipeline, spec fingerprint, input and steps.
  std::map<std::string, std::vector<std::string>> by_identity;
  const nlohmann::json* ref = nullptr;
  for (const ShardState& s : shards) {
    if (!s.problem.empty()) continue;
    by_identity[Identity(s.info)].push_back(s.name);
    if (!ref) ref = &s.info;
  }
  if (by_identity.size() > 1) {
    std::vector<std::string> groups;
    for (const auto& [identity, members] : by_identity) groups.push_back(Join(members) + ": " + identity);
    throw SetupError(
        fmt::format("merge: the shards of {} ran with different specs or inputs and cannot be merged "
                    "(re-run the odd ones with the same spec):\n  {}",
                    results_dir, [&] {
                      std::string text;
                      for (const std::string& g : groups) text += (text.empty() ? "" : "\n  ") + g;
                      return text;
                    }()));
  }
  if (!absent.empty() && !allow_partial) {
    throw SetupError(
        fmt::format("merge: {} of {} shards of {} are missing or incomplete: {}; run them (same spec, "
                    "workflow.shard=i/{}) or merge what is there with --allow-partial",
                    absent.size(), n, results_dir, Join(absent), n));
  }
  if (!ref) throw SetupError(fmt::format("merge: no shard of {} is complete: {}", results_dir, Join(absent)));

  nlohmann::json summary;
  nlohmann::json merged_steps = nlohmann::json::array();
  StepMerge last;
  std::string last_step;
  for (const auto& step_json : (*ref)["steps"]) {
    const std::string step = step_json.get<std::string>();
    StepMerge m = MergeStep(results_dir, step, *ref, shards);
    merged_steps.push_back({{"step", step},
                            {"written", m.written},
                            {"missing_samples", m.missing},
                            {"not_in_step_output", m.not_in_output},
                            {"by_status", m.by_status}});
    last = m;
    last_step = step;
  }
  if (!last_step.empty())
    CopyFileAtomic(results_dir + "/" + last_step + "/annotations.jsonl", results_dir + "/annotations.jsonl");

  // Shard counters summed (teacher requests, tokens, per-step counters), then
  // the merged output's own counts on top.
  nlohmann::json sums;
  std::vector<std::string> merged_names, left_out;
  for (const ShardState& s : shards) {
    if (!s.problem.empty()) {
      left_out.push_back(s.name);
      continue;
    }
    merged_names.push_back(s.name);
    if (s.summary.is_object()) {
      nlohmann::json counters = s.summary;
      counters.erase("shard");
      AddCounters(sums, counters);
    }
  }
  summary = sums.is_object() ? sums : nlohmann::json::object();
  summary.erase("samples_per_s");  // sums of rates mean nothing
  summary["pipeline"] = (*ref)["pipeline"];
  summary["spec_fingerprint"] = (*ref)["spec_fingerprint"];
  summary["succeeded"] = last.by_status.count("ok") ? last.by_status.at("ok") : 0;
  summary["failed"] = last.by_status.count("failed") ? last.by_status.at("failed") : 0;
  summary["flagged"] = last.by_status.count("flagged") ? last.by_status.at("flagged") : 0;
  summary["stopped"] = false;
  summary["merge"] = {{"shard_count", n},
                      {"merged_shards", merged_names},
                      {"missing_shards", left_out},
                      {"partial", !left_out.empty()},
                      {"steps", merged_steps}};
  Result<bool> written = WriteFileAtomic(results_dir + "/run_summary.json", summary.dump(2) + "\n");
  if (!written) throw SetupError(written.error().message);
  GC_INFO("merge: {} shards of {} into {} ({} records in {}{})", merged_names.size(), n, results_dir, last.written,
          last_step, left_out.empty() ? "" : fmt::format(", left out: {}", Join(left_out)));
  return summary;
}

}  // namespace groundcap
