// Thumbnails for the review report: each image decoded with shrink-on-load,
// EXIF orientation applied, downscaled and written as a small JPEG beside
// the page, on a few worker threads fed through a bounded queue (memory
// stays at a few images whatever the dataset size). Names are a hash of
// the source path, so a re-run reuses a thumbnail newer than its image and
// a dataset naming one image many times encodes it once.
#ifndef GROUNDCAP_THUMBNAILS_H_
#define GROUNDCAP_THUMBNAILS_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace groundcap {

/// What the thumbnail writer did.
struct ThumbnailCounts {
  int64_t written = 0;  ///< encoded now
  int64_t reused = 0;   ///< already there, newer than the source image
  int64_t failed = 0;   ///< the source could not be read or decoded
  std::string first_error;  ///< the first failure's message, for the log
};

class ThumbnailWriter {
 public:
  /// Thumbnails go to `dir` (created); the longer side is at most
  /// `max_side` pixels; `threads` <= 0 means the hardware's.
  ThumbnailWriter(std::string dir, int max_side, int threads);
  /// Waits for the queued work (Finish()).
  ~ThumbnailWriter();
  ThumbnailWriter(const ThumbnailWriter&) = delete;
  ThumbnailWriter& operator=(const ThumbnailWriter&) = delete;

  /// The file name (no directory) the thumbnail of `source` gets, and
  /// queues it unless it was already queued. Blocks while the queue is full.
  std::string Request(const std::string& source);
  /// Waits until every queued thumbnail is written; returns the counts.
  ThumbnailCounts Finish();

  /// The name a thumbnail of `source` gets: 16 hex digits of FNV-1a 64 of
  /// the path, ".jpg". Pure.
  static std::string NameFor(const std::string& source);

 private:
  struct Job {
    std::string source, target;
  };
  void Work();
  void Make(const Job& job);

  std::string dir_;
  int max_side_;
  std::mutex mu_;
  std::condition_variable has_work_, has_room_;
  std::deque<Job> queue_;
  bool closing_ = false;
  std::set<std::string> requested_;  ///< names queued this run (one entry per distinct image)
  ThumbnailCounts counts_;
  std::vector<std::thread> workers_;
};

}  // namespace groundcap

#endif  // GROUNDCAP_THUMBNAILS_H_
