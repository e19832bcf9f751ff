// Sample ids: unique within a run, deterministic, independent of which shard
// reads a record, and safe as file names or keys.
#ifndef GROUNDCAP_SAMPLE_ID_H_
#define GROUNDCAP_SAMPLE_ID_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace groundcap {

/// 64-bit FNV-1a; stable across platforms and runs (ids and fingerprints).
uint64_t Fnv1a64(std::string_view data, uint64_t seed = 0xcbf29ce484222325ULL);
/// 16 lower-case hex digits.
std::string Hex64(uint64_t v);

/// Makes `raw` safe as a file name: keeps [A-Za-z0-9._-], replaces anything
/// else by '_', never starts with '.', at most 96 bytes; when anything had to
/// change, appends "-" + 8 hex digits of the raw id's hash so that different
/// raw ids stay different. Empty input gives "sample".
std::string SafeId(std::string_view raw);

/// Derives the ids of one input stream, in order.
///
/// Rules: a record's `sample_id` or `id` (string or number) is used as given
/// (made safe). Otherwise the base is `image_id`, else the stem of the image
/// path (`image_key`), else "sample", followed by "-" and 8 hex digits of a
/// hash of the whole record (keys sorted), so the same image with several
/// captions, or two files with the same name in different folders, get
/// different ids whatever shard reads them. A record whose id was already
/// seen in this stream (an exact duplicate line, or a repeated explicit id)
/// gets "~<n>" appended, n = 2, 3, ... in stream order, skipping any n whose
/// id is already taken (explicit ids may contain '~'): every id returned for
/// one stream is unique.
class SampleIdDeriver {
 public:
  explicit SampleIdDeriver(std::string image_key = "image_path") : image_key_(std::move(image_key)) {}
  std::string Derive(const nlohmann::ordered_json& record);
  /// Number of ids that needed an occurrence suffix.
  int64_t duplicates() const { return duplicates_; }

 private:
  std::string image_key_;
  std::unordered_map<uint64_t, int> seen_;  ///< hash of id -> occurrences
  int64_t duplicates_ = 0;
};

}  // namespace groundcap

#endif  // GROUNDCAP_SAMPLE_ID_H_
