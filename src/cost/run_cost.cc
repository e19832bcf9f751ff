#include "cost/run_cost.h"

#include <fmt/core.h>

#include "util/error.h"

namespace groundcap {

PriceTable PriceTableFromSpec(const Spec& spec) {
  const std::string path = spec.Str(spec.pipeline() + ".workflow.price_table");
  return path.empty() ? PriceTable::Builtin() : PriceTable::Load(path);
}

RunCost::RunCost(const Spec& spec, const Teacher* teacher)
    : spec_(spec), teacher_(teacher), table_(PriceTableFromSpec(spec)) {
  model_ = TeacherModelFromSpec(spec);
  price_ = table_.Find(model_.model);
  budget_ = BudgetFromSpec(spec);
  if (budget_.max_cost > 0 && !price_) {
    throw SetupError(fmt::format(
        "{}.workflow.budget.max_cost is set but {} has no price for model '{}': add it to a price table "
        "({}.workflow.price_table) or use max_input_tokens / max_output_tokens",
        spec.pipeline(), table_.origin(), model_.model, spec.pipeline()));
  }
  if (teacher_) start_ = teacher_->Stats();
  const std::string results_dir = spec.Str("results_dir");
  gate_ = std::make_unique<BudgetGate>(budget_, Spend::Load(results_dir), teacher, price_, table_.currency(),
                                       results_dir);
}

void RunCost::AddStep(int index, const std::string& name) {
  estimators_.push_back(std::make_unique<StepEstimator>(spec_, name));
  gate_->SetEstimator(index, estimators_.back().get());
}

nlohmann::json RunCost::SummaryJson() const {
  nlohmann::json j;
  j["model"] = model_.model;
  j["image_token_rule"] = ImageTokenRuleName(model_.rule);
  if (model_.rule_assumed) j["image_token_rule_assumed"] = true;
  if (price_) {
    j["price"] = {{"input_per_million", price_->input_per_million},
                  {"output_per_million", price_->output_per_million},
                  {"currency", table_.currency()},
                  {"date", price_->date},
                  {"table", table_.origin()}};
  } else {
    j["price"] = nullptr;
    j["price_note"] = fmt::format("no price for '{}' in {}: tokens are counted, cost is not", model_.model,
                                  table_.origin());
  }
  nlohmann::json est = gate_->estimated().ToJson();
  if (price_) est["cost"] = CostOf(*price_, gate_->estimated().input_tokens(), gate_->estimated().output_tokens);
  j["estimated"] = est;
  Spend actual = teacher_ ? SpendOf(teacher_->Stats(), start_, price_) : Spend();
  nlohmann::json act = actual.ToJson();
  act.erase("unpriced");
  if (!price_) act.erase("cost");
  j["actual"] = act;
  nlohmann::json total = gate_->Total().ToJson();
  total["currency"] = table_.currency();
  j["spend_total"] = total;
  j["budget"] = budget_.ToJson();
  return j;
}

std::string RunCost::SummaryLine() const {
  const Spend total = gate_->Total();
  std::string cost = price_ ? fmt::format(", cost {:.4f} {}", total.cost, table_.currency())
                            : fmt::format(" (no price for '{}')", model_.model);
  return fmt::format("spent in this results_dir so far: requests {}, tokens in {} / out {}{}", total.requests,
                     total.input_tokens, total.output_tokens, cost);
}

}  // namespace groundcap
