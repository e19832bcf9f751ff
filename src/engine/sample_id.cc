#include "engine/sample_id.h"

#include <fmt/core.h>

#include "util/jsonl.h"

namespace groundcap {

uint64_t Fnv1a64(std::string_view data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Hex64(uint64_t v) { return fmt::format("{:016x}", v); }

std::string SafeId(std::string_view raw) {
  constexpr size_t kMaxLen = 96;
  if (raw.empty()) return "sample";
  std::string out;
  bool changed = false;
  for (char c : raw) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '~';  // '~': duplicate suffix (Derive)
    out.push_back(ok ? c : '_');
    changed |= !ok;
  }
  if (out[0] == '.') {
    out[0] = '_';
    changed = true;
  }
  if (out.size() > kMaxLen) {
    out.resize(kMaxLen);
    changed = true;
  }
  if (changed) out += "-" + Hex64(Fnv1a64(raw)).substr(0, 8);
  return out;
}

namespace {

std::string ScalarText(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return "";
}

std::string Stem(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return name;
}

}  // namespace

std::string SampleIdDeriver::Derive(const nlohmann::ordered_json& record) {
  std::string id;
  for (const char* key : {"sample_id", "id"}) {
    auto it = record.find(key);
    if (it != record.end() && !ScalarText(*it).empty()) {
      id = SafeId(ScalarText(*it));
      break;
    }
  }
  if (id.empty()) {
    std::string base;
    auto it = record.find("image_id");
    if (it != record.end()) base = ScalarText(*it);
    if (base.empty()) {
      auto img = record.find(image_key_);
      if (img != record.end() && img->is_string()) base = Stem(img->get<std::string>());
    }
    if (base.empty()) base = "sample";
    // nlohmann::json (not ordered) sorts keys: the hash ignores key order.
    std::string canonical = DumpJsonLine(nlohmann::json(record));
    id = SafeId(base) + "-" + Hex64(Fnv1a64(canonical)).substr(0, 8);
  }
  // Every id handed out is registered, suffixed ones included, so a suffix
  // never collides with an id given explicitly (input "x~2" then "x" twice
  // gives x~2, x, x~3) and each id of the stream is unique.
  int& last = seen_[Fnv1a64(id)];  // last occurrence number given to `id`
  if (++last == 1) return id;
  ++duplicates_;
  std::string candidate = id + "~" + std::to_string(last);
  while (seen_.count(Fnv1a64(candidate)) != 0) candidate = id + "~" + std::to_string(++last);
  seen_[Fnv1a64(candidate)] = 1;  // references stay valid across rehashing
  return candidate;
}

}  // namespace groundcap
