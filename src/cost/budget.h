// workflow.budget: spend kept per results directory (spend.json, written
// atomically), and the admission gate that stops a run before the next
// sample could exceed the budget. docs/formats.md "Budget and spend".
#ifndef GROUNDCAP_BUDGET_H_
#define GROUNDCAP_BUDGET_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cost/estimate.h"
#include "cost/price_table.h"
#include "engine/admission.h"
#include "teacher/teacher.h"

namespace groundcap {

/// <pipeline>.workflow.budget.*; 0 = no limit.
struct Budget {
  int64_t max_requests = 0;
  int64_t max_input_tokens = 0;
  int64_t max_output_tokens = 0;  ///< visible + thinking
  double max_cost = 0;            ///< in the price table's currency
  bool any() const { return max_requests > 0 || max_input_tokens > 0 || max_output_tokens > 0 || max_cost > 0; }
  nlohmann::json ToJson() const;
};
Budget BudgetFromSpec(const Spec& spec);

/// What a results directory has spent, over every run that wrote it.
struct Spend {
  int64_t requests = 0;         ///< HTTP requests, retries included
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;    ///< visible + thinking
  int64_t thinking_tokens = 0;
  double cost = 0;              ///< of the priced part
  bool unpriced = false;        ///< some tokens were spent on a model without a price
  Spend& operator+=(const Spend& o);
  nlohmann::json ToJson() const;
  /// results_dir/spend.json, or zero when absent. Throws SetupError naming
  /// the file when it is unreadable.
  static Spend Load(const std::string& results_dir);
  /// Writes results_dir/spend.json atomically.
  Result<bool> Save(const std::string& results_dir, const std::string& currency) const;
};

/// The spend of teacher counters (`now` minus `before`) at `price` (null:
/// unpriced when any token was spent).
Spend SpendOf(const TeacherStats& now, const TeacherStats& before, const std::optional<ModelPrice>& price);

/// The gate: before each sample, spent (spend.json + this run's counters)
/// + the estimates of the samples in flight + the next sample's estimate
/// must stay within the budget; else admission stops. Also adds up the
/// estimates of every sample admitted (run_summary "cost.estimated").
class BudgetGate : public AdmissionControl {
 public:
  BudgetGate(Budget budget, Spend before, const Teacher* teacher, std::optional<ModelPrice> price,
             std::string currency, std::string results_dir);
  /// The estimator of step `step`'s samples (not owned; none = no estimates).
  void SetEstimator(int step, const StepEstimator* estimator) { estimators_[step] = estimator; }
  std::optional<std::string> Admit(int step, const SampleJob& job) override;
  void Finished(int step, const std::string& sample_id) override;
  /// Spend of the run directory now (before + this run's counters).
  Spend Total() const;
  /// Writes spend.json (also done at most once a second as samples finish).
  void Save();
  const CostEstimate& estimated() const { return estimated_; }

 private:
  Budget budget_;
  Spend before_;
  const Teacher* teacher_;
  TeacherStats start_;
  std::optional<ModelPrice> price_;
  std::string currency_;
  std::string results_dir_;
  std::map<int, const StepEstimator*> estimators_;
  std::map<std::pair<int, std::string>, CostEstimate> in_flight_;  ///< by step and sample id
  CostEstimate reserved_;   ///< sum over in_flight_
  CostEstimate estimated_;  ///< every sample admitted this run
  std::chrono::steady_clock::time_point last_save_{};
};

}  // namespace groundcap

#endif  // GROUNDCAP_BUDGET_H_
