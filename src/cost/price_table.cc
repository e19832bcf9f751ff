#include "cost/price_table.h"

#include <fmt/core.h>

#include "cost/prices_data.h"
#include "spec/spec.h"
#include "util/error.h"
#include "util/file_read.h"

namespace groundcap {

PriceTable PriceTable::Builtin() {
  static const PriceTable table = FromYaml(kBuiltinPricesYaml, "built-in price table (data/prices.yaml)");
  return table;
}

PriceTable PriceTable::Load(const std::string& path) {
  Result<std::string> text = ReadRegularFile(path, 16 << 20);
  if (!text) throw SetupError(fmt::format("price table {} {}", path, text.error().message));
  return FromYaml(*text, path);
}

PriceTable PriceTable::FromYaml(const std::string& yaml, const std::string& origin) {
  const nlohmann::json doc = YamlToJson(yaml, origin);
  PriceTable t;
  t.origin_ = origin;
  if (!doc.is_object()) throw SetupError(fmt::format("{}: expected a mapping with `currency` and `models`", origin));
  if (doc.contains("currency")) {
    if (!doc["currency"].is_string() || doc["currency"].get<std::string>().empty())
      throw SetupError(fmt::format("{}: currency: expected a non-empty string such as USD", origin));
    t.currency_ = doc["currency"].get<std::string>();
  }
  if (!doc.contains("models") || !doc["models"].is_object())
    throw SetupError(fmt::format("{}: models: expected a mapping of model name -> prices", origin));
  for (const auto& [name, entry] : doc["models"].items()) {
    const std::string where = fmt::format("{}: models.{}", origin, name);
    if (!entry.is_object()) throw SetupError(where + ": expected a mapping");
    ModelPrice p;
    for (const char* key : {"input_per_million", "output_per_million"}) {
      if (!entry.contains(key) || !entry[key].is_number() || entry[key].get<double>() < 0)
        throw SetupError(fmt::format("{}.{}: expected a number >= 0 (price per 1,000,000 tokens)", where, key));
    }
    p.input_per_million = entry["input_per_million"].get<double>();
    p.output_per_million = entry["output_per_million"].get<double>();
    if (!entry.contains("date") || !entry["date"].is_string() || entry["date"].get<std::string>().empty())
      throw SetupError(where + ".date: expected the date the price was read, e.g. \"2025-09-01\"");
    p.date = entry["date"].get<std::string>();
    if (entry.contains("source") && entry["source"].is_string()) p.source = entry["source"].get<std::string>();
    t.prices_[name] = p;
  }
  return t;
}

std::optional<ModelPrice> PriceTable::Find(const std::string& model) const {
  auto it = prices_.find(model);
  if (it != prices_.end()) return it->second;
  const size_t slash = model.find_last_of('/');
  if (slash != std::string::npos) {
    it = prices_.find(model.substr(slash + 1));
    if (it != prices_.end()) return it->second;
  }
  return std::nullopt;
}

double CostOf(const ModelPrice& price, int64_t input_tokens, int64_t output_tokens) {
  return static_cast<double>(input_tokens) * price.input_per_million / 1e6 +
         static_cast<double>(output_tokens) * price.output_per_million / 1e6;
}

}  // namespace groundcap
