#include "sim/sim_usage.h"

#include "image/image_header.h"
#include "cost/token_rules.h"

namespace groundcap {

int64_t SimPromptTokens(const SimRequest& req) {
  std::string media_resolution;
  for (const char* cfg : {"generationConfig", "generation_config"}) {
    if (req.body.is_object() && req.body.contains(cfg) && req.body[cfg].is_object())
      for (const char* key : {"mediaResolution", "media_resolution"})
        if (req.body[cfg].contains(key) && req.body[cfg][key].is_string())
          media_resolution = req.body[cfg][key].get<std::string>();
  }
  const ImageTokenRule rule = ImageTokenRuleFor(req.model, req.api, nullptr);
  int64_t tokens = TextTokens(req.system.size() + req.prompt.size());
  for (const std::string& image : req.images) tokens += ImageTokens(rule, EncodedImageSize(image), media_resolution);
  return tokens;
}

}  // namespace groundcap
