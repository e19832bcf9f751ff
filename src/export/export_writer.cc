#include "export/export_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "export/detection_export.h"
#include "export/label_studio.h"
#include "image/image_header.h"
#include "spec/spec.h"
#include "util/error.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

/// Unusable lines are logged one by one up to this many, then only counted.
constexpr int64_t kMaxLoggedUnusable = 20;

/// An anonymous scratch file in `dir` (created and unlinked at once, so it
/// disappears however the process ends); closed by the destructor.
class ScratchFile {
 public:
  explicit ScratchFile(const fs::path& dir) {
    std::string tmpl = (dir / ".groundcap-export-XXXXXX").string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw SetupError(fmt::format("cannot create a scratch file in {}: {}", dir.string(), std::strerror(errno)));
    ::unlink(tmpl.c_str());
    file_ = ::fdopen(fd, "w+b");
    if (!file_) {
      ::close(fd);
      throw SetupError(fmt::format("cannot open a scratch file in {}", dir.string()));
    }
  }
  ~ScratchFile() {
    if (file_) std::fclose(file_);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  void Write(std::string_view data) {
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      throw SetupError(fmt::format("cannot write the export's scratch file: {}", std::strerror(errno)));
    }
  }
  /// Copies everything written so far into `out`, in 1 MiB pieces.
  void CopyTo(AtomicFileWriter* out) {
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
      throw SetupError(fmt::format("cannot read the export's scratch file: {}", std::strerror(errno)));
    }
    std::string buf(1 << 20, '\0');
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), file_)) > 0) out->Write(std::string_view(buf.data(), n));
    if (std::ferror(file_)) throw SetupError("cannot read the export's scratch file");
  }

 private:
  std::FILE* file_ = nullptr;
};

/// Refuses an output that is the input (by device and inode) or a directory.
void CheckOutput(const std::string& input, const std::string& output) {
  if (output.empty()) throw SetupError("export: --out is required");
  std::error_code ec;
  if (fs::is_directory(output, ec)) throw SetupError(fmt::format("export: --out {} is a directory", output));
  if (fs::exists(output, ec) && fs::equivalent(input, output, ec)) {
    throw SetupError(fmt::format("export: --out {} is the input file", output));
  }
}

struct FormatInfo {
  ExportFormat format;
  const char* name;
  RecordKinds kinds;
  bool json_array;  ///< one JSON array document (else JSONL)
};
constexpr FormatInfo kFormats[] = {
    {ExportFormat::kOdvg, "odvg", RecordKinds::kGrounding, false},
    {ExportFormat::kCoco, "coco", RecordKinds::kGrounding, false},  // its own document layout
    {ExportFormat::kOdvgDetection, "odvg_detection", RecordKinds::kEither, false},
    {ExportFormat::kLlava, "llava", RecordKinds::kEither, true},
    {ExportFormat::kQwen25Vl, "qwen2_5_vl", RecordKinds::kEither, false},
    {ExportFormat::kQwen3Vl, "qwen3_vl", RecordKinds::kEither, false},
    {ExportFormat::kInternVl, "internvl", RecordKinds::kEither, false},
    {ExportFormat::kGemini, "gemini", RecordKinds::kEither, false},
    {ExportFormat::kLabelStudio, "label_studio", RecordKinds::kEither, true},
    {ExportFormat::kDenseCaptions, "vg_regions", RecordKinds::kRegionCaption, true},
};

const FormatInfo& Info(ExportFormat f) {
  for (const auto& i : kFormats) {
    if (i.format == f) return i;
  }
  return kFormats[0];
}

/// The run's data.image_root from RESULTS_DIR/spec.yaml, or "" when the
/// input is not a results directory or its spec cannot be read.
std::string SpecImageRoot(const std::string& input) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) return "";
  const fs::path spec_path = fs::path(input) / "spec.yaml";
  if (!fs::is_regular_file(spec_path, ec)) return "";
  try {
    Spec spec = Spec::Load(spec_path.string(), {});
    return spec.Str(spec.pipeline() + ".data.image_root");
  } catch (const std::exception& e) {
    GC_WARN("export: cannot read data.image_root from {}: {}", spec_path.string(), e.what());
    return "";
  }
}

/// Where images are read from and how their paths are written.
struct ImagePaths {
  fs::path data_root;   ///< absolute: relative record paths point here
  fs::path image_root;  ///< absolute, or empty: write absolute paths
  bool check = true;

  /// Rewrites the image's file name to the path to write; false with a
  /// reason code and detail when the image is missing, is no longer the size
  /// its boxes were made on, or is not under image_root.
  bool Place(ExportImage* image, std::string* code, std::string* detail) const {
    fs::path p(image->file_name);
    fs::path resolved = (p.is_absolute() ? p : data_root / p).lexically_normal();
    std::error_code ec;
    if (check && !fs::is_regular_file(resolved, ec)) {
      *code = "missing_image";
      *detail = "image " + resolved.string() + " does not exist";
      return false;
    }
    if (check && !SizeStillFits(resolved, *image, detail)) {
      *code = "image_size_changed";
      return false;
    }
    if (image_root.empty()) {
      image->file_name = resolved.string();
      return true;
    }
    fs::path rel = resolved.lexically_relative(image_root);
    if (rel.empty() || *rel.begin() == "..") {
      *code = "outside_image_root";
      *detail = "image " + resolved.string() + " is not under --image-root " + image_root.string();
      return false;
    }
    image->file_name = rel.string();
    return true;
  }

  /// Whether the file is still the size the record's boxes refer to, read
  /// from its header (JPEG, PNG; other formats are not checked). Compared
  /// as {short side, long side}: the header gives the stored size and the
  /// record the upright one, which an EXIF rotation swaps.
  static bool SizeStillFits(const fs::path& file, const ExportImage& image, std::string* detail) {
    const Size stored = EncodedFileSize(file.string());
    if (stored.width <= 0 || stored.height <= 0) return true;
    auto sides = [](int a, int b) { return std::make_pair(std::min(a, b), std::max(a, b)); };
    if (sides(stored.width, stored.height) == sides(image.width, image.height)) return true;
    *detail = fmt::format("image {} is {}x{} but the record's boxes are on a {}x{} image (resized or replaced "
                          "since it was labelled): its boxes would be wrong",
                          file.string(), stored.width, stored.height, image.width, image.height);
    return false;
  }
};

fs::path Absolute(const std::string& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return (ec ? fs::path(p) : a).lexically_normal();
}

}  // namespace

ExportFormat ExportFormatFromName(const std::string& name) {
  for (const auto& i : kFormats) {
    if (name == i.name) return i.format;
  }
  std::string all;
  for (const auto& i : kFormats) all += std::string(all.empty() ? "" : " | ") + i.name;
  throw SetupError(fmt::format("export: unknown format '{}' ({})", name, all));
}

const char* ExportFormatName(ExportFormat format) { return Info(format).name; }

std::vector<std::string> ExportFormatNames() {
  std::vector<std::string> out;
  for (const auto& i : kFormats) out.emplace_back(i.name);
  return out;
}

std::string ExportSkippedPath(const std::string& output) {
  return (fs::path(output).parent_path() / "export_skipped.jsonl").string();
}

std::string ExportSidePath(const std::string& output, const std::string& suffix) {
  fs::path p(output);
  return (p.parent_path() / (p.stem().string() + suffix)).string();
}

std::string ResolveExportInput(const std::string& input) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    fs::path p = fs::path(input) / "annotations.jsonl";
    if (!fs::is_regular_file(p, ec)) {
      throw SetupError(fmt::format("export: {} has no annotations.jsonl (is it a results directory?)", input));
    }
    return p.string();
  }
  if (!fs::exists(input, ec)) throw SetupError(fmt::format("export: input {} does not exist", input));
  if (!fs::is_regular_file(input, ec)) {
    throw SetupError(fmt::format("export: input {} is not a regular file or a results directory", input));
  }
  return input;
}

ExportCounts RunExport(const ExportRequest& request) {
  const std::string input = ResolveExportInput(request.input);
  CheckOutput(input, request.output);
  const FormatInfo& info = Info(request.format);
  ExportFilters filters = request.filters;
  filters.kinds = info.kinds;
  if (info.kinds == RecordKinds::kGrounding) filters.drop_unlocated = true;  // spans are the point
  SftStudent student = request.student;
  switch (request.format) {
    case ExportFormat::kQwen25Vl: student.format = BoxFormat::kQwen25Vl; break;
    case ExportFormat::kQwen3Vl: student.format = BoxFormat::kQwen3Vl; break;
    case ExportFormat::kInternVl: student.format = BoxFormat::kInternVl; break;
    case ExportFormat::kGemini: student.format = BoxFormat::kGemini; break;
    default: break;
  }
  ImagePaths paths;
  std::string data_root = request.data_root.empty() ? SpecImageRoot(request.input) : request.data_root;
  if (data_root.empty()) data_root = request.image_root.empty() ? "." : request.image_root;
  paths.data_root = Absolute(data_root);
  if (!request.image_root.empty()) paths.image_root = Absolute(request.image_root);
  paths.check = request.check_images;

  JsonlReader reader(input);  // throws SetupError before any output exists
  fs::path out_dir = fs::path(request.output).parent_path();
  if (out_dir.empty()) out_dir = ".";

  ExportCounts counts;
  AtomicFileWriter out(request.output);
  AtomicFileWriter skipped(ExportSkippedPath(request.output));
  std::unique_ptr<ScratchFile> annotations;
  const bool coco = request.format == ExportFormat::kCoco;
  if (coco) {
    annotations = std::make_unique<ScratchFile>(out_dir);
    out.Write("{\"images\": [\n");
  } else if (info.json_array) {
    out.Write("[\n");
  }
  LabelMap labels;
  int64_t next_annotation_id = 0;
  int64_t next_region_id = 0;
  JsonlLine line;
  ExportImage image;
  std::string reason;
  std::vector<SkipNote> skips;
  while (reader.Next(&line)) {
    ++counts.records_read;
    skips.clear();
    image = ExportImage{};
    RecordVerdict verdict;
    if (line.too_long) {
      ++counts.records_unusable;
      verdict = RecordVerdict::kUnusable;
      reason = "line too long";
      skips.push_back(SkipNote{"record", "", "unusable", reason});
    } else {
      auto record = ParseJsonObjectLine(line.text);
      if (!record) {
        ++counts.records_unusable;
        verdict = RecordVerdict::kUnusable;
        reason = record.error().message;
        skips.push_back(SkipNote{"record", "", "unusable", reason});
      } else {
        verdict = ReadExportRecord(*record, filters, &image, &counts, &skips, &reason);
      }
    }
    if (verdict == RecordVerdict::kUnusable && counts.records_unusable <= kMaxLoggedUnusable) {
      GC_WARN("export: {}:{}: left out: {}", input, line.line, reason);
    }
    if (verdict == RecordVerdict::kExport) {
      std::string code, detail;
      if (!paths.Place(&image, &code, &detail)) {
        ++(code == "missing_image"        ? counts.records_missing_image
           : code == "image_size_changed" ? counts.records_image_size_changed
                                          : counts.records_outside_image_root);
        skips.push_back(SkipNote{"record", image.sample_id, code, detail});
        verdict = RecordVerdict::kNoRegions;
      }
    }
    for (const SkipNote& s : skips) {
      ojson note{{"line", line.line}, {"level", s.level}, {"id", s.id}, {"reason", s.reason}, {"detail", s.detail}};
      skipped.Write(DumpJsonLine(note));
      skipped.Write("\n");
    }
    if (verdict != RecordVerdict::kExport) continue;

    // Ids follow the order of the written images (0, 1, ...), so the same
    // input gives the same ids every time.
    const int64_t image_id = counts.records_written;
    const std::string sep = image_id == 0 ? "" : ",\n";
    switch (request.format) {
      case ExportFormat::kCoco:
        out.Write(sep + DumpJsonLine(ToCocoImage(image, image_id)));
        for (const auto& ann : ToCocoAnnotations(image, image_id, next_annotation_id)) {
          annotations->Write(fmt::format("{}{}", next_annotation_id == 0 ? "" : ",\n", DumpJsonLine(ann)));
          ++next_annotation_id;
        }
        break;
      case ExportFormat::kOdvg:
        out.Write(DumpJsonLine(ToOdvgLine(image)) + "\n");
        break;
      case ExportFormat::kOdvgDetection:
        out.Write(DumpJsonLine(ToOdvgDetectionLine(image, &labels)) + "\n");
        break;
      case ExportFormat::kLlava: {
        std::string id = image.sample_id.empty() ? std::to_string(image_id) : image.sample_id;
        out.Write(sep + DumpJsonLine(ToLlavaEntry(image, id, SftTurns(image, student), false)));
        break;
      }
      case ExportFormat::kQwen25Vl:
      case ExportFormat::kQwen3Vl:
      case ExportFormat::kInternVl: {
        std::string id = image.sample_id.empty() ? std::to_string(image_id) : image.sample_id;
        out.Write(DumpJsonLine(ToLlavaEntry(image, id, SftTurns(image, student), true)) + "\n");
        break;
      }
      case ExportFormat::kGemini:
        out.Write(DumpJsonLine(ToGeminiLine(image, SftTurns(image, student))) + "\n");
        break;
      case ExportFormat::kLabelStudio:
        for (const auto& e : image.expressions) labels.Id(e.category);
        out.Write(sep + DumpJsonLine(ToLabelStudioTask(image)));
        break;
      case ExportFormat::kDenseCaptions:
        out.Write(sep + DumpJsonLine(ToDenseCaptionEntry(image, image_id, &next_region_id)));
        break;
    }
    ++counts.records_written;
    counts.regions_written += image.box_count();
  }
  if (coco) {
    out.Write("\n],\n\"annotations\": [\n");
    annotations->CopyTo(&out);
    out.Write(fmt::format("\n],\n\"categories\": {}}}\n", DumpJsonLine(CocoCategories())));
  } else if (info.json_array) {
    out.Write(counts.records_written == 0 ? "]\n" : "\n]\n");
  }
  if (request.format == ExportFormat::kOdvgDetection) {
    AtomicFileWriter map(ExportSidePath(request.output, "_label_map.json"));
    map.Write(labels.ToJson().dump(2) + "\n");
    map.Commit();
  }
  if (request.format == ExportFormat::kLabelStudio) {
    std::vector<std::string> names;
    const ojson map = labels.ToJson();
    for (const auto& item : map.items()) names.push_back(item.value().get<std::string>());
    AtomicFileWriter config(ExportSidePath(request.output, "_config.xml"));
    config.Write(LabelStudioConfig(names));
    config.Commit();
  }
  skipped.Commit();
  out.Commit();
  return counts;
}

}  // namespace groundcap
