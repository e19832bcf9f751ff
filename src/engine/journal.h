// The per-step checkpoint journal: an append-only JSONL file under
// results_dir/step_<N>_<name>/.ckpt/journal.jsonl (layout in docs/formats.md).
//
// One line per finished sample; the last entry for an id wins. The journal
// keeps only an index in memory (id -> fingerprint, status, file offset), so
// memory grows with the number of ids, not with the records. A torn last line
// (crash mid-write) is cut off on open. When superseded entries (failures
// retried, samples redone) outnumber the live ones on open, the file is
// rewritten with the live entries only, atomically (a new file renamed over
// the old), so repeated runs do not grow it without bound.
//
// Durability: each entry is one write(2) on an O_APPEND descriptor, so a
// killed process (kill -9) loses nothing that Append returned for. Against
// power loss, the file is fdatasync'ed at most every `sync_interval_s`
// seconds (default 1 s) and on Sync()/Close(): at most that much finished
// work can be lost, and a partial tail is repaired on the next open.
#ifndef GROUNDCAP_JOURNAL_H_
#define GROUNDCAP_JOURNAL_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace groundcap {

enum class JournalStatus { kOk, kFailed };

/// What the index knows about an id.
struct JournalIndexEntry {
  std::string fingerprint;
  JournalStatus status = JournalStatus::kOk;
  int64_t offset = 0;  ///< byte offset of the entry's line
};

/// One journal line.
struct JournalEntry {
  std::string id;
  std::string fingerprint;
  JournalStatus status = JournalStatus::kOk;
  nlohmann::ordered_json record;  ///< the output record (ok or failed)
  std::optional<Error> error;     ///< set when status is kFailed
};

class Journal {
 public:
  /// Opens (creating directories and the file as needed) and loads the index.
  /// Throws SetupError when the file cannot be opened or is not a journal.
  explicit Journal(const std::string& path, double sync_interval_s = 1.0);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Index lookup; nullptr when the id has no entry.
  const JournalIndexEntry* Find(const std::string& id) const;
  /// Reads a full entry back from disk (thread-safe: pread).
  Result<JournalEntry> Read(int64_t offset) const;
  /// Appends one entry and updates the index. Single writer only. Throws
  /// SetupError when the disk write fails (the run cannot continue safely).
  void Append(const JournalEntry& entry);
  /// fdatasync now.
  void Sync();

  size_t size() const { return index_.size(); }
  /// Lines found on open (valid entries, superseded ones included).
  int64_t loaded_lines() const { return loaded_lines_; }
  /// Bytes cut off a torn tail on open (0 when the file was clean).
  int64_t repaired_bytes() const { return repaired_bytes_; }
  /// Complete but unparseable lines skipped on open.
  int64_t bad_lines() const { return bad_lines_; }
  /// Superseded entries dropped by compaction on open (0 when none was due).
  int64_t compacted_lines() const { return compacted_lines_; }
  const std::string& path() const { return path_; }

 private:
  void Load();
  void CompactIfWorthIt();
  /// The raw line at `offset`, without its newline ("" at end of file).
  std::string ReadLine(int64_t offset) const;

  std::string path_;
  int fd_ = -1;
  int64_t end_ = 0;
  double sync_interval_s_;
  std::chrono::steady_clock::time_point last_sync_;
  bool dirty_ = false;
  std::unordered_map<std::string, JournalIndexEntry> index_;
  int64_t loaded_lines_ = 0;
  int64_t repaired_bytes_ = 0;
  int64_t bad_lines_ = 0;
  int64_t compacted_lines_ = 0;
};

/// Serialises an entry as one journal line (with the trailing newline).
std::string JournalLine(const JournalEntry& entry);

}  // namespace groundcap

#endif  // GROUNDCAP_JOURNAL_H_
