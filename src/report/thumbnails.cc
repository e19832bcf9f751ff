// Thumbnail writer: see thumbnails.h.
#include "report/thumbnails.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/core.h>

#include "image/image.h"
#include "util/jsonl.h"

namespace groundcap {
namespace {

/// Jobs waiting at most: a few per worker keeps them busy, never more.
constexpr size_t kQueuePerWorker = 4;

/// Modification time of `path` in nanoseconds, -1 when it cannot be read.
int64_t ModifiedNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

ThumbnailWriter::ThumbnailWriter(std::string dir, int max_side, int threads)
    : dir_(std::move(dir)), max_side_(std::max(16, max_side)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

ThumbnailWriter::~ThumbnailWriter() { Finish(); }

std::string ThumbnailWriter::NameFor(const std::string& source) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : source) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}.jpg", h);
}

std::string ThumbnailWriter::Request(const std::string& source) {
  std::string name = NameFor(source);
  std::unique_lock<std::mutex> lock(mu_);
  if (!requested_.insert(name).second) return name;
  has_room_.wait(lock, [&] { return queue_.size() < kQueuePerWorker * workers_.size(); });
  queue_.push_back(Job{source, dir_ + "/" + name});
  has_work_.notify_one();
  return name;
}

ThumbnailCounts ThumbnailWriter::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  has_work_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

void ThumbnailWriter::Work() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      has_work_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) break;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    has_room_.notify_one();
    Make(job);
  }
  ImageThreadCleanup();
}

void ThumbnailWriter::Make(const Job& job) {
  const int64_t source_time = ModifiedNs(job.source);
  const int64_t target_time = ModifiedNs(job.target);
  if (source_time >= 0 && target_time >= source_time) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_.reused;
    return;
  }
  auto fail = [&](const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (counts_.failed++ == 0) counts_.first_error = message;
  };
  Result<ImageInfo> info = ProbeImage(job.source);
  if (!info) return fail(info.error().message);
  const Size upright = info->upright;
  const double scale =
      std::min(1.0, static_cast<double>(max_side_) / std::max(upright.width, upright.height));
  PrepareOptions options;
  options.resize = PrepareOptions::Resize::kPixelBudget;
  options.max_pixels = std::max<int64_t>(
      1, std::llround(static_cast<double>(upright.width) * upright.height * scale * scale));
  options.encoding = "jpeg";
  options.jpeg_quality = 80;
  Result<PreparedImage> thumb = PrepareForTeacher(job.source, options);
  if (!thumb) return fail(thumb.error().message);
  Result<bool> written = WriteFileAtomic(job.target, thumb->bytes);
  if (!written) return fail(written.error().message);
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.written;
}

}  // namespace groundcap
