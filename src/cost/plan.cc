#include "cost/plan.h"

#include <filesystem>
#include <memory>

#include <fmt/core.h>

#include "cost/budget.h"
#include "cost/estimate.h"
#include "cost/run_cost.h"
#include "engine/journal.h"
#include "engine/sample_id.h"
#include "engine/step_output.h"
#include "engine/step_runner.h"
#include "util/jsonl.h"

namespace groundcap {

namespace {

struct StepCount {
  int64_t records = 0, done = 0, rejected = 0;
  CostEstimate est;
};

}  // namespace

nlohmann::json PlanRun(const Spec& spec, const std::vector<StepPlan>& plans, bool fingerprints_known,
                       std::optional<ShardSpec> shard) {
  const std::string p = spec.pipeline() + ".";
  const std::string results_dir = spec.Str("results_dir");
  const RunOptions run = RunOptionsFromSpec(spec);
  const PriceTable table = PriceTableFromSpec(spec);
  const TeacherModel model = TeacherModelFromSpec(spec);
  const std::optional<ModelPrice> price = table.Find(model.model);

  nlohmann::json out;
  out["pipeline"] = spec.pipeline();
  out["model"] = model.model;
  out["image_token_rule"] = ImageTokenRuleName(model.rule);
  if (model.rule_assumed) out["image_token_rule_assumed"] = true;
  if (price) {
    out["price"] = {{"input_per_million", price->input_per_million},
                    {"output_per_million", price->output_per_million},
                    {"currency", table.currency()},
                    {"date", price->date},
                    {"table", table.origin()}};
  } else {
    out["price"] = nullptr;
    out["price_note"] =
        fmt::format("no price for '{}' in {}: tokens are estimated, cost is not", model.model, table.origin());
  }
  if (run.limit > 0) out["limit"] = run.limit;
  if (shard) out["shard"] = fmt::format("{}/{}", shard->index, shard->count);

  CostEstimate total;
  nlohmann::json steps = nlohmann::json::array();
  for (const StepPlan& plan : plans) {
    const std::string name = plan.logic->Name();
    StepEstimator estimator(spec, name);
    std::string input = plan.input_jsonl;
    bool from_captions = false;
    std::error_code ec;
    if (!std::filesystem::exists(input, ec)) {  // a later step's input, not written yet
      input = spec.Str(p + "data.input_jsonl");
      from_captions = true;
    }
    const std::string journal_path = StepDir(results_dir, plan) + "/.ckpt/journal.jsonl";
    std::unique_ptr<Journal> journal;
    if (!run.force_reprocess && std::filesystem::exists(journal_path, ec))
      journal = std::make_unique<Journal>(journal_path);
    const std::string config_fp = plan.logic->ConfigFingerprint();
    SampleIdDeriver deriver(from_captions ? std::string("image_path") : plan.logic->ImageKey());

    StepCount c;
    JsonlReader reader(input);
    JsonlLine line;
    int64_t lines_seen = 0;
    while ((run.limit <= 0 || lines_seen < run.limit) && reader.Next(&line)) {
      ++lines_seen;
      Result<nlohmann::ordered_json> rec = line.too_long ? Result<nlohmann::ordered_json>(tl::unexpected(
                                                               Error::Make(ErrorKind::kInvalidInput, "too long")))
                                                         : ParseJsonObjectLine(line.text);
      // From the pipeline's input, the lines its first step would reject never reach this one.
      if (!rec || InputRejectReason(from_captions ? *plans.front().logic : *plan.logic, *rec)) {
        // A line without an id is counted by one shard only, as the run reports it.
        if (!shard || ShardOfLine(line.text, shard->count) == shard->index) ++c.rejected;
        continue;
      }
      const std::string id = deriver.Derive(*rec);  // every record: ids are those of the whole input
      if (shard && ShardOf(id, shard->count) != shard->index) continue;
      ++c.records;
      if (IsUpstreamFailure(*rec) || IsUpstreamFlagged(*rec)) {
        ++c.done;
        continue;
      }
      if (journal) {
        std::optional<JournalIndexEntry> e = journal->Find(id);
        const bool same =
            e && (!fingerprints_known || from_captions || e->fingerprint == Fingerprint(config_fp, *rec));
        if (same && (e->status == JournalStatus::kOk || !run.retry_failed)) {
          ++c.done;
          continue;
        }
      }
      c.est += estimator.Estimate(*rec);
    }
    total += c.est;
    nlohmann::json s = c.est.ToJson();
    s["name"] = name;
    s["input"] = input;
    s["records"] = c.records;
    s["done"] = c.done;
    s["to_do"] = c.est.samples;
    s["rejected"] = c.rejected;
    s.erase("samples");
    if (price) s["cost"] = CostOf(*price, c.est.input_tokens(), c.est.output_tokens);
    if (from_captions) s["note"] = "estimated from the pipeline's input: the previous step has not written its output";
    steps.push_back(s);
  }
  out["steps"] = steps;
  nlohmann::json t = total.ToJson();
  t.erase("samples");
  if (price) t["cost"] = CostOf(*price, total.input_tokens(), total.output_tokens);
  out["total"] = t;
  out["budget"] = BudgetFromSpec(spec).ToJson();
  nlohmann::json spent = Spend::Load(results_dir).ToJson();
  spent["currency"] = table.currency();
  out["spend_so_far"] = spent;
  return out;
}

std::string PlanText(const nlohmann::json& plan) {
  std::string s = fmt::format("groundcap plan: {} with {} (image tokens: {}{})\n", plan["pipeline"].get<std::string>(),
                              plan["model"].get<std::string>(), plan["image_token_rule"].get<std::string>(),
                              plan.value("image_token_rule_assumed", false) ? ", assumed: model not recognised" : "");
  const bool priced = !plan["price"].is_null();
  std::string currency = priced ? plan["price"]["currency"].get<std::string>() : "";
  if (priced) {
    s += fmt::format("price: {} in / {} out per million tokens ({}, {}, {})\n",
                     plan["price"]["input_per_million"].get<double>(),
                     plan["price"]["output_per_million"].get<double>(), currency,
                     plan["price"]["date"].get<std::string>(), plan["price"]["table"].get<std::string>());
  } else {
    s += "price: " + plan["price_note"].get<std::string>() + "\n";
  }
  if (plan.contains("limit")) s += fmt::format("pilot: the first {} input records\n", plan["limit"].get<int64_t>());
  if (plan.contains("shard")) s += fmt::format("shard {}: only the samples of this shard\n", plan["shard"].get<std::string>());
  auto row = [&](const nlohmann::json& j) {
    std::string line = fmt::format("  requests {}, input tokens {} (text {}, image {}), output tokens {}",
                                   j["requests"].get<int64_t>(), j["input_tokens"].get<int64_t>(),
                                   j["input_text_tokens"].get<int64_t>(), j["input_image_tokens"].get<int64_t>(),
                                   j["output_tokens"].get<int64_t>());
    if (j.contains("cost")) line += fmt::format(", cost {:.4f} {}", j["cost"].get<double>(), currency);
    return line + "\n";
  };
  for (const auto& st : plan["steps"]) {
    s += fmt::format("step {}: {} records, {} done, {} to do, {} rejected lines, {} images refused\n",
                     st["name"].get<std::string>(), st["records"].get<int64_t>(), st["done"].get<int64_t>(),
                     st["to_do"].get<int64_t>(), st["rejected"].get<int64_t>(), st["refused_images"].get<int64_t>());
    s += row(st);
    if (st.contains("note")) s += "  (" + st["note"].get<std::string>() + ")\n";
  }
  s += "total:\n" + row(plan["total"]);
  const auto& sp = plan["spend_so_far"];
  if (sp["requests"].get<int64_t>() > 0)
    s += fmt::format("spent in this results_dir so far: requests {}, tokens in {} / out {}\n",
                     sp["requests"].get<int64_t>(), sp["input_tokens"].get<int64_t>(),
                     sp["output_tokens"].get<int64_t>());
  // workflow.budget: would spent + this plan fit?
  const auto& b = plan["budget"];
  const auto& tot = plan["total"];
  auto check = [&](const char* field, double limit, double spent_v, double planned, const std::string& unit) {
    if (limit <= 0) return;
    s += fmt::format("budget {} = {}{}: spent {:.6g} + planned {:.6g} {}\n", field, limit, unit, spent_v, planned,
                     spent_v + planned <= limit ? "fits" : "EXCEEDS it: the run will stop (exit 3) before the end");
  };
  check("max_requests", b["max_requests"].get<double>(), sp["requests"].get<double>(), tot["requests"].get<double>(),
        "");
  check("max_input_tokens", b["max_input_tokens"].get<double>(), sp["input_tokens"].get<double>(),
        tot["input_tokens"].get<double>(), "");
  check("max_output_tokens", b["max_output_tokens"].get<double>(), sp["output_tokens"].get<double>(),
        tot["output_tokens"].get<double>(), "");
  if (priced)
    check("max_cost", b["max_cost"].get<double>(), sp["cost"].get<double>(), tot["cost"].get<double>(),
          " " + currency);
  s += "Nothing was sent. Output tokens are a heuristic (docs/formats.md \"Token estimates\"); compare\n"
       "run_summary.json cost.estimated with cost.actual after a pilot (--limit 20).\n";
  return s;
}

}  // namespace groundcap
