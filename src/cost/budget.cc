#include "cost/budget.h"

#include <filesystem>

#include <fmt/core.h>

#include "util/error.h"
#include "util/file_read.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {

nlohmann::json Budget::ToJson() const {
  return {{"max_requests", max_requests},
          {"max_input_tokens", max_input_tokens},
          {"max_output_tokens", max_output_tokens},
          {"max_cost", max_cost}};
}

Budget BudgetFromSpec(const Spec& spec) {
  const std::string p = spec.pipeline() + ".workflow.budget.";
  Budget b;
  b.max_requests = spec.Int(p + "max_requests");
  b.max_input_tokens = spec.Int(p + "max_input_tokens");
  b.max_output_tokens = spec.Int(p + "max_output_tokens");
  b.max_cost = spec.Float(p + "max_cost");
  return b;
}

Spend& Spend::operator+=(const Spend& o) {
  requests += o.requests;
  input_tokens += o.input_tokens;
  output_tokens += o.output_tokens;
  thinking_tokens += o.thinking_tokens;
  cost += o.cost;
  unpriced = unpriced || o.unpriced;
  return *this;
}

nlohmann::json Spend::ToJson() const {
  return {{"requests", requests},         {"input_tokens", input_tokens},
          {"output_tokens", output_tokens}, {"thinking_tokens", thinking_tokens},
          {"cost", cost},                 {"unpriced", unpriced}};
}

Spend Spend::Load(const std::string& results_dir) {
  const std::string path = results_dir + "/spend.json";
  Spend s;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return s;
  Result<std::string> text = ReadRegularFile(path, 1 << 20);
  if (!text) throw SetupError(fmt::format("{} {}", path, text.error().message));
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) throw SetupError(fmt::format("{}: not a JSON object (delete it to reset the spend)", path));
  auto num = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key) || !j[key].is_number())
      throw SetupError(fmt::format("{}: field \"{}\" missing or not a number (delete the file to reset the spend)",
                                   path, key));
    return j[key];
  };
  s.requests = num("requests").get<int64_t>();
  s.input_tokens = num("input_tokens").get<int64_t>();
  s.output_tokens = num("output_tokens").get<int64_t>();
  s.thinking_tokens = num("thinking_tokens").get<int64_t>();
  s.cost = num("cost").get<double>();
  s.unpriced = j.value("unpriced", false);
  return s;
}

Result<bool> Spend::Save(const std::string& results_dir, const std::string& currency) const {
  nlohmann::json j = ToJson();
  j["currency"] = currency;
  return WriteFileAtomic(results_dir + "/spend.json", j.dump(2) + "\n");
}

Spend SpendOf(const TeacherStats& now, const TeacherStats& before, const std::optional<ModelPrice>& price) {
  Spend s;
  s.requests = now.requests - before.requests;
  s.input_tokens = now.usage.input_tokens - before.usage.input_tokens;
  s.thinking_tokens = now.usage.thinking_tokens - before.usage.thinking_tokens;
  s.output_tokens = now.usage.output_tokens - before.usage.output_tokens + s.thinking_tokens;
  if (price) s.cost = CostOf(*price, s.input_tokens, s.output_tokens);
  else s.unpriced = s.input_tokens + s.output_tokens > 0;
  return s;
}

BudgetGate::BudgetGate(Budget budget, Spend before, const Teacher* teacher, std::optional<ModelPrice> price,
                       std::string currency, std::string results_dir)
    : budget_(budget), before_(before), teacher_(teacher), price_(std::move(price)),
      currency_(std::move(currency)), results_dir_(std::move(results_dir)) {
  if (teacher_) start_ = teacher_->Stats();
}

Spend BudgetGate::Total() const {
  Spend total = before_;
  if (teacher_) total += SpendOf(teacher_->Stats(), start_, price_);
  return total;
}

void BudgetGate::Save() {
  last_save_ = std::chrono::steady_clock::now();
  Result<bool> saved = Total().Save(results_dir_, currency_);
  if (!saved) GC_WARN("cannot write {}/spend.json: {}", results_dir_, saved.error().message);
}

std::optional<std::string> BudgetGate::Admit(int step, const SampleJob& job) {
  CostEstimate next;
  auto estimator = estimators_.find(step);
  if (estimator != estimators_.end() && estimator->second) next = estimator->second->Estimate(job.record);
  const Spend spent = Total();
  if (budget_.any()) {
    auto over = [&](const char* field, double limit, double spent_v, double flight_v, double next_v,
                    const char* unit) -> std::optional<std::string> {
      if (limit <= 0 || spent_v + flight_v + next_v <= limit) return std::nullopt;
      return fmt::format(
          "budget: the next sample could exceed workflow.budget.{} = {}{} (spent {:.6g} + in flight {:.6g} + "
          "next {:.6g}); raise it and re-run to continue",
          field, limit, unit, spent_v, flight_v, next_v);
    };
    std::optional<std::string> why =
        over("max_requests", static_cast<double>(budget_.max_requests), static_cast<double>(spent.requests),
             static_cast<double>(reserved_.requests), static_cast<double>(next.requests), "");
    if (!why)
      why = over("max_input_tokens", static_cast<double>(budget_.max_input_tokens),
                 static_cast<double>(spent.input_tokens), static_cast<double>(reserved_.input_tokens()),
                 static_cast<double>(next.input_tokens()), "");
    if (!why)
      why = over("max_output_tokens", static_cast<double>(budget_.max_output_tokens),
                 static_cast<double>(spent.output_tokens), static_cast<double>(reserved_.output_tokens),
                 static_cast<double>(next.output_tokens), "");
    if (!why && budget_.max_cost > 0 && price_) {
      const std::string unit = " " + currency_;
      why = over("max_cost", budget_.max_cost, spent.cost,
                 CostOf(*price_, reserved_.input_tokens(), reserved_.output_tokens),
                 CostOf(*price_, next.input_tokens(), next.output_tokens), unit.c_str());
    }
    if (why) return why;
  }
  in_flight_[{step, job.sample_id}] = next;
  reserved_ += next;
  estimated_ += next;
  return std::nullopt;
}

void BudgetGate::Finished(int step, const std::string& sample_id) {
  auto it = in_flight_.find({step, sample_id});
  if (it != in_flight_.end()) {
    reserved_ -= it->second;
    in_flight_.erase(it);
  }
  if (std::chrono::steady_clock::now() - last_save_ > std::chrono::seconds(1)) Save();
}

}  // namespace groundcap
