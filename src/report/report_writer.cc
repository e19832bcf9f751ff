// Streaming report writer: see report_writer.h.
#include "report/report_writer.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>

#include <fmt/core.h>

#include "image/image.h"
#include "report/report_page.h"
#include "util/error.h"
#include "util/file_read.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

/// Largest run_summary.json read (they are a few kilobytes).
constexpr int64_t kMaxSummaryBytes = int64_t{4} << 20;
/// Unreadable line numbers kept for the page and the log.
constexpr size_t kKeptLineNumbers = 20;

std::string UtcNow() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

/// `target` as a URL relative to the page's folder `page_dir` (both made
/// absolute first), percent-encoded.
std::string RelativeUrl(const fs::path& target, const fs::path& page_dir) {
  fs::path rel = fs::absolute(target).lexically_normal().lexically_relative(page_dir);
  if (rel.empty()) return "file://" + PathToUrl(fs::absolute(target).lexically_normal().string());
  return PathToUrl(rel.generic_string());
}

/// run_summary.json, or null with a note when it cannot be read.
Json ReadRunSummary(const std::string& path, Json* notes) {
  if (path.empty()) return nullptr;
  Result<std::string> text = ReadRegularFile(path, kMaxSummaryBytes);
  if (!text) {
    notes->push_back(fmt::format("run_summary.json not shown: {} {}", path, text.error().message));
    return nullptr;
  }
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    notes->push_back(fmt::format("run_summary.json not shown: {} is not a JSON object", path));
    return nullptr;
  }
  return j;
}

}  // namespace

std::string ReportCounts::ToText() const {
  std::string s = fmt::format("report ({}): {} samples", ReportKindName(kind), samples);
  if (unreadable > 0) {
    s += fmt::format(", {} unreadable lines skipped (line", unreadable);
    for (int64_t line : unreadable_lines) s += fmt::format(" {}", line);
    s += unreadable > static_cast<int64_t>(unreadable_lines.size()) ? " ...)" : ")";
  }
  s += "\n";
  if (!thumbs_dir.empty()) {
    s += fmt::format("  thumbnails: {} written, {} reused, {} failed, in {}\n", thumbnails.written,
                     thumbnails.reused, thumbnails.failed, thumbs_dir);
    if (thumbnails.failed > 0) s += "  first thumbnail failure: " + thumbnails.first_error + "\n";
  }
  return s;
}

ReportCounts WriteReport(const ReportRequest& request) {
  ReportCounts counts;
  JsonlReader reader(request.annotations);  // SetupError when it cannot be read
  const fs::path out = fs::absolute(request.out).lexically_normal();
  if (fs::is_directory(out)) throw SetupError(fmt::format("--out {} is a directory", out.string()));
  const fs::path page_dir = out.parent_path();
  const fs::path results_dir =
      request.results_dir.empty() ? fs::absolute(request.annotations).parent_path() : fs::absolute(request.results_dir);
  const std::string thumbs_name = out.stem().string() + "_thumbs";
  std::unique_ptr<ThumbnailWriter> thumbs;
  if (request.thumbnails) {
    counts.thumbs_dir = (page_dir / thumbs_name).string();
    thumbs = std::make_unique<ThumbnailWriter>(counts.thumbs_dir, request.thumb_side, request.threads);
  }
  const std::string thumbs_url = PathToUrl(thumbs_name) + "/";

  AtomicFileWriter page(out.string());
  page.Write(PageHead());
  page.Write("[");
  ReportStats stats;
  std::optional<ReportKind> page_kind = request.kind;
  JsonlLine line;
  bool cut = false;  // --limit left records out
  while (reader.Next(&line)) {
    if (request.limit > 0 && counts.samples >= request.limit) {
      cut = true;
      break;
    }
    Result<Json> record = line.too_long ? Result<Json>(Fail(ErrorKind::kInvalidInput, "line too long"))
                                        : ParseJsonObjectLine(line.text);
    if (!record) {
      if (counts.unreadable_lines.size() < kKeptLineNumbers) counts.unreadable_lines.push_back(line.line);
      ++counts.unreadable;
      continue;
    }
    std::optional<ReportKind> detected = DetectReportKind(*record);
    if (!page_kind) page_kind = detected;
    const ReportKind kind = detected.value_or(page_kind.value_or(ReportKind::kGrounding));

    SampleContext context;
    context.index = counts.samples;
    context.line = line.line;
    const std::string image = RecordImagePath(*record, request.image_key);
    if (!image.empty() && image.find('\0') == std::string::npos) {
      const fs::path resolved =
          fs::path(image).is_absolute() || request.image_root.empty() ? fs::path(image) : fs::path(request.image_root) / image;
      context.image_url = RelativeUrl(resolved, page_dir);
      bool readable = true;
      if (RecordImageSize(*record).first == 0) {
        // Failed samples and DataFlow records do not state the size: read it
        // from the header (a missing image gets no thumbnail request).
        Result<ImageInfo> info = ProbeImage(resolved.string());
        readable = info.has_value();
        if (info) context.width = info->upright.width, context.height = info->upright.height;
      }
      if (thumbs && readable) context.thumb_url = thumbs_url + thumbs->Request(resolved.string());
    }
    for (const char* key : {"marked_image", "image_with_bbox"}) {
      auto it = record->find(key);
      if (it != record->end() && it->is_string() && !it->get<std::string>().empty()) {
        fs::path marked = it->get<std::string>();
        context.marked_url = RelativeUrl(marked.is_absolute() ? marked : results_dir / marked, page_dir);
        break;
      }
    }
    if (request.eval) context.eval = request.eval(*record);
    Json sample = SampleJson(*record, kind, context);
    stats.Add(sample);
    if (counts.samples > 0) page.Write(",\n");
    page.Write(ScriptSafeJson(sample));
    ++counts.samples;
  }
  page.Write("]");
  if (thumbs) counts.thumbnails = thumbs->Finish();
  counts.kind = page_kind.value_or(ReportKind::kGrounding);

  Json notes = Json::array();
  if (counts.unreadable > 0) {
    std::string lines;
    for (int64_t l : counts.unreadable_lines) lines += (lines.empty() ? "" : ", ") + std::to_string(l);
    notes.push_back(fmt::format("{} line(s) of {} are not JSON records and are not shown (line {}{}).",
                                counts.unreadable, request.annotations, lines,
                                counts.unreadable > static_cast<int64_t>(counts.unreadable_lines.size()) ? ", ..." : ""));
  }
  if (cut) {
    notes.push_back(fmt::format("Only the first {} records are shown (--limit).", request.limit));
  }
  if (counts.thumbnails.failed > 0) {
    notes.push_back(fmt::format("{} image(s) could not be read for thumbnails; the first: {}",
                                counts.thumbnails.failed, counts.thumbnails.first_error));
  }
  Json summary = Json::object();
  summary["kind"] = ReportKindName(counts.kind);
  summary["title"] = request.title;
  summary["source"] = request.annotations;
  summary["generated"] = UtcNow();
  summary["stats"] = stats.ToJson();
  summary["run"] = ReadRunSummary(request.run_summary, &notes);
  summary["eval"] = request.eval_summary ? request.eval_summary() : Json(nullptr);
  summary["notes"] = std::move(notes);
  page.Write(kPageMiddle);
  page.Write(ScriptSafeJson(summary));
  page.Write(PageTail());
  page.Commit();
  return counts;
}

}  // namespace groundcap
