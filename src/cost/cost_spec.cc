// workflow.budget.* and workflow.price_table, mounted under each pipeline
// block by spec.cc (CostSpecFields is declared in spec.h).
#include "spec/spec.h"

namespace groundcap {

std::vector<SpecField> CostSpecFields() {
  std::vector<SpecField> v;
  v.push_back(MakeField("workflow.budget.max_requests", FieldType::kInt, "0",
                        "stop admitting samples (exit 3, resumable) before the run directory's HTTP requests "
                        "could exceed this (0 = no limit); counted across resumes (spend.json)",
                        0, 9.2e18));
  v.push_back(MakeField("workflow.budget.max_input_tokens", FieldType::kInt, "0",
                        "the same for input tokens (text and image, as the server reports them)", 0, 9.2e18));
  v.push_back(MakeField("workflow.budget.max_output_tokens", FieldType::kInt, "0",
                        "the same for output tokens (thinking included)", 0, 9.2e18));
  v.push_back(MakeField("workflow.budget.max_cost", FieldType::kFloat, "0",
                        "the same for cost, in the price table's currency (needs a price for the model)", 0));
  v.push_back(MakeField("workflow.price_table", FieldType::kString, "\"\"",
                        "YAML price table to use instead of the built-in one (data/prices.yaml format)"));
  return v;
}

}  // namespace groundcap
