#include "export/export_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "util/error.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {

namespace {

namespace fs = std::filesystem;

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

}  // namespace

ExportFormat ExportFormatFromName(const std::string& name) {
  if (name == "odvg") return ExportFormat::kOdvg;
  if (name == "coco") return ExportFormat::kCoco;
  throw SetupError(fmt::format("export: unknown format '{}' (odvg | coco)", name));
}

const char* ExportFormatName(ExportFormat format) { return format == ExportFormat::kOdvg ? "odvg" : "coco"; }

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
  JsonlReader reader(input);  // throws SetupError before any output exists
  fs::path out_dir = fs::path(request.output).parent_path();
  if (out_dir.empty()) out_dir = ".";

  ExportCounts counts;
  AtomicFileWriter out(request.output);
  std::unique_ptr<ScratchFile> annotations;
  const bool coco = request.format == ExportFormat::kCoco;
  if (coco) {
    annotations = std::make_unique<ScratchFile>(out_dir);
    out.Write("{\"images\": [\n");
  }
  int64_t next_annotation_id = 0;
  JsonlLine line;
  ExportImage image;
  std::string reason;
  while (reader.Next(&line)) {
    ++counts.records_read;
    RecordVerdict verdict;
    if (line.too_long) {
      ++counts.records_unusable;
      verdict = RecordVerdict::kUnusable;
      reason = "line too long";
    } else {
      auto record = ParseJsonObjectLine(line.text);
      if (!record) {
        ++counts.records_unusable;
        verdict = RecordVerdict::kUnusable;
        reason = record.error().message;
      } else {
        verdict = ReadGroundingRecord(*record, &image, &counts, &reason);
      }
    }
    if (verdict == RecordVerdict::kUnusable && counts.records_unusable <= kMaxLoggedUnusable) {
      GC_WARN("export: {}:{}: left out: {}", input, line.line, reason);
    }
    if (verdict != RecordVerdict::kExport) continue;

    // Ids follow the order of the written images (0, 1, ...), so the same
    // input gives the same ids every time.
    const int64_t image_id = counts.records_written;
    if (coco) {
      out.Write(fmt::format("{}{}", image_id == 0 ? "" : ",\n", DumpJsonLine(ToCocoImage(image, image_id))));
      for (const auto& ann : ToCocoAnnotations(image, image_id, next_annotation_id)) {
        annotations->Write(fmt::format("{}{}", next_annotation_id == 0 ? "" : ",\n", DumpJsonLine(ann)));
        ++next_annotation_id;
      }
    } else {
      out.Write(DumpJsonLine(ToOdvgLine(image)));
      out.Write("\n");
    }
    ++counts.records_written;
    counts.regions_written += image.box_count();
  }
  if (coco) {
    out.Write("\n],\n\"annotations\": [\n");
    annotations->CopyTo(&out);
    out.Write(fmt::format("\n],\n\"categories\": {}}}\n", DumpJsonLine(CocoCategories())));
  }
  out.Commit();
  return counts;
}

}  // namespace groundcap
