// Reading a teacher's structured region-caption reply, and telling a
// caption of the content from a caption of the drawn mark (pure functions).
#ifndef GROUNDCAP_REGION_REPLY_H_
#define GROUNDCAP_REGION_REPLY_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace groundcap {

/// {"regions":[{"region_id": int, "caption": string}]} as a JSON schema
/// (written to OpenAI's strict-mode rules, as ExtractionSchema).
nlohmann::json RegionReplySchema();

/// Captions read from one reply.
struct RegionReply {
  std::map<int, std::string> captions;  ///< by region id, for every id found
  std::vector<int> extra_ids;           ///< ids found but not asked for
  std::vector<std::string> repairs;     ///< JSON repairs applied
};

/// Parses a structured reply (also tolerates a bare list of entries, an
/// {"<id>": caption} map, also as the value of "regions", ids written "3",
/// "[3]" or "Region 3" (ids over a million are not ids), and
/// "description"/"text" for "caption"). kParse when no entry can be read.
Result<RegionReply> ParseRegionReply(std::string_view text, const std::vector<int>& asked);

/// Words a teacher may use for the colour of region `number`'s drawn mark
/// (MarkColor in draw.h), lower case, e.g. 6 -> {"purple", "violet"}.
std::vector<std::string> MarkColorNames(int number);

/// True when a caption describes the drawn mark instead of the content: the
/// outline, box, frame, border, rectangle, label, number or bounding box
/// ("the green box", "a thin red outline", "the label [2]", "a box drawn
/// around nothing"). Object descriptions that merely share a colour or a
/// shape word pass ("a red square", "a blue box-shaped gift", "a red box full
/// of apples"). `region_id` (1-based, as drawn) narrows colour matches to the
/// colour of that region's own mark and number matches to its own label;
/// 0 = unknown region, any mark colour or label counts.
bool DescribesMark(std::string_view caption, int region_id = 0);

}  // namespace groundcap

#endif  // GROUNDCAP_REGION_REPLY_H_
