#include "teacher/backend.h"

#include <random>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "util/jsonl.h"
#include "util/text_util.h"

namespace groundcap {

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kSafety: return "safety";
    case FinishReason::kOther: return "other";
    case FinishReason::kUnknown: break;
  }
  return "unknown";
}

void SplitThinking(const std::string& raw, std::string* text, std::string* thinking) {
  static const std::string kOpen = "<think>";
  static const std::string kClose = "</think>";
  size_t close = raw.rfind(kClose);
  if (close != std::string::npos) {
    std::string before = raw.substr(0, close);
    size_t open = before.find(kOpen);
    *thinking = Trim(open == std::string::npos ? before : before.substr(open + kOpen.size()));
    *text = Trim(raw.substr(close + kClose.size()));
    return;
  }
  size_t open = raw.find(kOpen);
  if (open != std::string::npos) {  // thinking cut off before it closed
    *thinking = Trim(raw.substr(open + kOpen.size()));
    *text = Trim(raw.substr(0, open));
    return;
  }
  thinking->clear();
  *text = raw;
}

void CheckReplyContent(TeacherReply& reply) {
  if (reply.error || !Trim(reply.text).empty()) return;
  switch (reply.finish) {
    case FinishReason::kLength:
      reply.error = Error::Make(ErrorKind::kTruncated,
                                "reply hit the token limit before any visible text");
      break;
    case FinishReason::kSafety:
      reply.error = Error::Make(ErrorKind::kBlocked, "reply blocked (" + reply.finish_raw + ")");
      break;
    default:
      reply.error = Error::Make(ErrorKind::kEmptyReply,
                                "empty reply (finish " + reply.finish_raw + ")");
  }
}

HttpPost JsonPost(std::string url, const std::string& auth_header, const nlohmann::json& body) {
  HttpPost post;
  post.url = std::move(url);
  post.headers = {"Content-Type: application/json", "Accept: application/json", "Expect:"};
  if (!auth_header.empty()) post.headers.push_back(auth_header);
  post.body = DumpJsonLine(body);
  return post;
}

std::string ImagePlaceholder(size_t index) {
  static const std::string nonce = [] {
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
  }();
  return fmt::format("gc-image-{}-{}", nonce, index);
}

HttpPost JsonPostWithImages(std::string url, const std::string& auth_header,
                            const nlohmann::json& body, const std::vector<ImagePart>& images) {
  HttpPost post = JsonPost(std::move(url), auth_header, body);
  if (images.empty()) return post;
  const std::string& dumped = post.body;
  size_t total = dumped.size();
  for (const ImagePart& image : images) total += image.Base64().size();
  std::string spliced;
  spliced.reserve(total);
  size_t from = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string placeholder = ImagePlaceholder(i);
    const size_t at = dumped.find(placeholder, from);
    if (at == std::string::npos) continue;  // the builder sent no such image
    spliced.append(dumped, from, at - from);
    spliced.append(images[i].Base64());
    from = at + placeholder.size();
  }
  spliced.append(dumped, from, std::string::npos);
  post.body = std::move(spliced);
  return post;
}

std::string TrimTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

int64_t JsonInt(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number()) return 0;
  return obj[key].get<int64_t>();
}

std::optional<std::pair<std::string, double>> TokenLogprobOf(const nlohmann::json& entry,
                                                             const char* prob_key) {
  if (!entry.is_object()) return std::nullopt;
  auto token = entry.find("token");
  auto prob = entry.find(prob_key);
  if (token == entry.end() || !token->is_string() || prob == entry.end() || !prob->is_number()) {
    return std::nullopt;
  }
  return std::make_pair(token->get<std::string>(), prob->get<double>());
}

void AppendTokenLogprob(const nlohmann::json& chosen, const nlohmann::json& alternatives,
                        const char* prob_key, std::vector<TokenLogprob>* out) {
  std::optional<std::pair<std::string, double>> c = TokenLogprobOf(chosen, prob_key);
  if (!c) return;
  TokenLogprob token{std::move(c->first), c->second, {}};
  if (alternatives.is_array()) {
    for (const auto& a : alternatives) {
      if (auto alt = TokenLogprobOf(a, prob_key)) token.top.push_back(std::move(*alt));
    }
  }
  out->push_back(std::move(token));
}

}  // namespace groundcap
