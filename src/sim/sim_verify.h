// The simulated teacher's answers to verification requests (docs/formats.md
// "Prompt protocol"): each image of the request is a crop around a box the
// teacher drew, and the prompt asks per crop whether the box shows an
// expression. The answer comes from the crop's pixels, never from the truth,
// so a verification pass can be measured against `groundcap synth` scenes.
#ifndef GROUNDCAP_SIM_VERIFY_H_
#define GROUNDCAP_SIM_VERIFY_H_

#include <string>
#include <string_view>
#include <vector>

#include "image/image.h"
#include "sim/sim_server.h"
#include "sim/sim_vision.h"
#include "util/geometry.h"

namespace groundcap {

/// One `Crop <k>: box <x1>,<y1>,<x2>,<y2> | <expression>` line.
struct VerifyQuestion {
  int crop = 0;            ///< 1-based index of the crop among the request's images
  Box box;                 ///< the teacher's box on a 0-1000 grid of the crop
  std::string expression;  ///< the rest of the line after '|', trimmed
};

/// The questions of a verification prompt, in prompt order; other lines
/// (prose) are ignored, as are `Crop` lines that do not parse.
std::vector<VerifyQuestion> ParseVerifyPrompt(std::string_view prompt);

/// OpenAI logprobs `content` tokens for a verification reply `text`: every
/// answer value ("yes"/"no") is a token of its own with probability
/// confidence[i] and the other word as the alternative; the rest of the text
/// comes as certain tokens. Pure.
nlohmann::json AnswerLogprobs(const std::string& text, const std::vector<double>& confidence);

/// A verifier's judgement of one crop.
struct VerifyAnswer {
  bool yes = false;
  std::string reason;  ///< "a red circle", "a blue square, not a red circle", "no object in the box"
};

/// Judges one crop from its pixels: among the shapes FindShapes sees, the
/// one whose box overlaps `box` (pixels of `crop`) most is the box's
/// object, when the overlap covers at least 30% of the smaller of the two
/// boxes; "yes" iff its shape is the expression's shape (FindMentions) and
/// its colour the expression's colour when it names one. Nothing there, or
/// an expression naming no shape, is "no".
VerifyAnswer JudgeCrop(const RgbImage& crop, const Box& box, std::string_view expression);

/// Answers a verification request with JSON `{"answers": [{"crop": k,
/// "answer": "yes"|"no", "reason": str}]}`, one answer per question in
/// prompt order. With noise, each answer is flipped with probability
/// 0.25 * noise (the noise model's confusion rate), deterministically per
/// (seed, prompt, images).
SimReply SimVerify(const SimRequest& request, const SimOptions& options);

}  // namespace groundcap

#endif  // GROUNDCAP_SIM_VERIFY_H_
