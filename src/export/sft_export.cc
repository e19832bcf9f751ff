#include "export/sft_export.h"

#include <algorithm>
#include <cctype>

namespace groundcap {

namespace {

using ojson = nlohmann::ordered_json;

std::string LocateQuestion(BoxFormat f, const std::string& expr) {
  switch (f) {
    case BoxFormat::kQwen25Vl:
    case BoxFormat::kQwen3Vl:
      return "Locate " + expr + " in the image and output the bbox coordinates in JSON format.";
    case BoxFormat::kInternVl:
      return "Please provide the bounding box coordinate of the region this sentence describes: <ref>" + expr +
             "</ref>";
    case BoxFormat::kGemini:
      return "Locate " + expr +
             " in the image. Answer in JSON: a list of {\"box_2d\": [ymin, xmin, ymax, xmax], \"label\"} "
             "normalized to 0-1000.";
    default:
      return "Locate " + expr + " in the image.";
  }
}

std::string MimeType(const std::string& path) {
  std::string ext = path.substr(std::min(path.size(), path.rfind('.') == std::string::npos ? path.size()
                                                                                            : path.rfind('.') + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "png") return "image/png";
  if (ext == "webp") return "image/webp";
  if (ext == "gif") return "image/gif";
  return "image/jpeg";
}

Box ToBox(const XyxyBox& b, const std::string& label) {
  Box out;
  out.x1 = b[0], out.y1 = b[1], out.x2 = b[2], out.y2 = b[3];
  out.label = label;
  return out;
}

}  // namespace

Size StudentInputSize(const SftStudent& student, Size image) {
  if (student.format == BoxFormat::kQwen25Vl) return SmartResize(image, 28, student.min_pixels, student.max_pixels);
  return image;
}

std::vector<SftTurn> SftTurns(const ExportImage& image, const SftStudent& student) {
  const Size size{image.width, image.height};
  const Size input = StudentInputSize(student, size);
  std::vector<SftTurn> turns;
  for (const auto& e : image.expressions) {
    if (image.region_caption) {
      std::string where = FormatBoxAnswer({ToBox(e.boxes.front(), "")}, student.format, size, input);
      turns.push_back({"Describe region " + where + " in one sentence.", e.text});
      continue;
    }
    std::vector<Box> boxes;
    for (const auto& b : e.boxes) boxes.push_back(ToBox(b, e.text));
    turns.push_back({LocateQuestion(student.format, e.text), FormatBoxAnswer(boxes, student.format, size, input)});
  }
  return turns;
}

ojson ToLlavaEntry(const ExportImage& image, const std::string& id, const std::vector<SftTurn>& turns,
                   bool with_size) {
  ojson conv = ojson::array();
  for (size_t i = 0; i < turns.size(); ++i) {
    conv.push_back(ojson{{"from", "human"}, {"value", (i == 0 ? "<image>\n" : "") + turns[i].question}});
    conv.push_back(ojson{{"from", "gpt"}, {"value", turns[i].answer}});
  }
  ojson out{{"id", id}, {"image", image.file_name}};
  if (with_size) {
    out["width"] = image.width;
    out["height"] = image.height;
  }
  out["conversations"] = std::move(conv);
  return out;
}

ojson ToGeminiLine(const ExportImage& image, const std::vector<SftTurn>& turns) {
  ojson contents = ojson::array();
  for (size_t i = 0; i < turns.size(); ++i) {
    ojson parts = ojson::array();
    if (i == 0) parts.push_back(ojson{{"fileData", ojson{{"mimeType", MimeType(image.file_name)}, {"fileUri", image.file_name}}}});
    parts.push_back(ojson{{"text", turns[i].question}});
    contents.push_back(ojson{{"role", "user"}, {"parts", std::move(parts)}});
    contents.push_back(ojson{{"role", "model"}, {"parts", ojson::array({ojson{{"text", turns[i].answer}}})}});
  }
  return ojson{{"contents", std::move(contents)}};
}

}  // namespace groundcap
