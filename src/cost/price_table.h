// What a hosted teacher charges: the price table shipped with groundcap
// (data/prices.yaml, compiled in) or the user's own file in the same format
// (<pipeline>.workflow.price_table). docs/formats.md "Price table".
#ifndef GROUNDCAP_PRICE_TABLE_H_
#define GROUNDCAP_PRICE_TABLE_H_

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace groundcap {

/// One model's prices.
struct ModelPrice {
  double input_per_million = 0;   ///< per 1,000,000 input tokens (text and image)
  double output_per_million = 0;  ///< per 1,000,000 output tokens, thinking included
  std::string date;               ///< when the price was read
  std::string source;             ///< where it was read
};

/// The table: one currency, prices by model name.
class PriceTable {
 public:
  /// The table compiled into groundcap (data/prices.yaml).
  static PriceTable Builtin();
  /// A user's table; throws SetupError naming the file and field when unusable.
  static PriceTable Load(const std::string& path);
  /// From YAML text; `origin` names it in errors.
  static PriceTable FromYaml(const std::string& yaml, const std::string& origin);

  /// The price of `model` (exact name, else the name after the last '/',
  /// else without a "models/" prefix); nullopt for a model not in the table.
  std::optional<ModelPrice> Find(const std::string& model) const;
  const std::string& currency() const { return currency_; }
  const std::string& origin() const { return origin_; }

 private:
  std::string currency_ = "USD";
  std::string origin_;
  std::map<std::string, ModelPrice> prices_;
};

/// Cost of the given tokens at `price` (output includes thinking).
double CostOf(const ModelPrice& price, int64_t input_tokens, int64_t output_tokens);

}  // namespace groundcap

#endif  // GROUNDCAP_PRICE_TABLE_H_
