// The cost side of one `generate` run: price, spend so far, budget gate and
// per-step estimators, and the run_summary.json "cost" block (estimated vs
// actual). generate.cc holds one of these for the whole run.
#ifndef GROUNDCAP_RUN_COST_H_
#define GROUNDCAP_RUN_COST_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cost/budget.h"
#include "cost/estimate.h"
#include "cost/price_table.h"
#include "spec/spec.h"
#include "teacher/teacher.h"

namespace groundcap {

/// The built-in table, or <pipeline>.workflow.price_table when set.
PriceTable PriceTableFromSpec(const Spec& spec);

class RunCost {
 public:
  /// Reads the price table, results_dir/spend.json and the budget. Throws
  /// SetupError when max_cost is set and the model has no price.
  RunCost(const Spec& spec, const Teacher* teacher);
  /// The admission hook for RunOptions::admission.
  AdmissionControl* gate() { return gate_.get(); }
  /// Estimates the samples admitted to step `index` as step `name`'s.
  void AddStep(int index, const std::string& name);
  /// Writes spend.json.
  void Save() { gate_->Save(); }
  /// run_summary.json "cost": model, rule, price, estimated, actual, spend, budget.
  nlohmann::json SummaryJson() const;
  /// One line for the end-of-run summary on stderr.
  std::string SummaryLine() const;

 private:
  const Spec& spec_;
  const Teacher* teacher_;
  TeacherStats start_;
  PriceTable table_;
  std::optional<ModelPrice> price_;
  TeacherModel model_;
  Budget budget_;
  std::unique_ptr<BudgetGate> gate_;
  std::vector<std::unique_ptr<StepEstimator>> estimators_;
};

}  // namespace groundcap

#endif  // GROUNDCAP_RUN_COST_H_
