// The per-step checkpoint journal: an append-only JSONL file under
// results_dir/step_<N>_<name>/.ckpt/journal.jsonl (layout in docs/formats.md).
//
// One line per finished sample; the last entry for an id wins. The journal
// keeps only an index in memory (hash of the id -> status, file offset: 16
// bytes a slot, 21-43 bytes per id with the table's free slots; the id and
// fingerprint are read from the line; docs/performance.md), so memory grows
// with the number of ids, not with the records. A torn last line (crash
// mid-write) is cut off on open. When superseded entries (failures
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
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace groundcap {

enum class JournalStatus { kOk, kFailed };

/// What the index knows about an id (a copy: the index stores it packed).
struct JournalIndexEntry {
  std::string fingerprint;
  JournalStatus status = JournalStatus::kOk;
  int64_t offset = 0;  ///< byte offset of the entry's line
};

/// Hash of a sample id used by the journal index. Collisions are allowed
/// (they cost a read of the colliding entry's line); tests pass a weak one.
using JournalIdHash = uint64_t (*)(std::string_view id);

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
  /// `id_hash` replaces the id hash (nullptr = FNV-1a 64), for tests.
  explicit Journal(const std::string& path, double sync_interval_s = 1.0,
                   JournalIdHash id_hash = nullptr);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Index lookup; nullopt when the id has no entry. Reads the entry's line
  /// prefix from disk to confirm the id (the index keeps only its hash).
  std::optional<JournalIndexEntry> Find(std::string_view id) const;
  /// Reads a full entry back from disk (thread-safe: pread).
  Result<JournalEntry> Read(int64_t offset) const;
  /// Appends one entry and updates the index. Single writer only. Throws
  /// SetupError when the disk write fails (the run cannot continue safely).
  void Append(const JournalEntry& entry);
  /// fdatasync now.
  void Sync();

  size_t size() const { return live_; }
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

  /// One index slot, 16 bytes, in an open-addressing table (linear
  /// probing): no per-entry allocation, no id or fingerprint strings. The
  /// id is confirmed, and the fingerprint read, from the start of the entry's
  /// line on disk, so hash collisions are harmless. `packed` = offset << 2 |
  /// flags; 0 marks an empty slot (offset 0 is the header, never an entry).
  struct Slot {
    uint64_t id_hash = 0;
    uint64_t packed = 0;  ///< offset << 2 | kFailed | kOtherShape
  };
  static constexpr uint64_t kFailed = 1;      ///< status failed
  static constexpr uint64_t kOtherShape = 2;  ///< line does not start {"id":<id>,"fp":<fp>, : parse it
  static int64_t OffsetOf(const Slot& s) { return static_cast<int64_t>(s.packed >> 2); }

  /// Slot holding `id` (its fingerprint in `*fingerprint` when not null), or -1.
  int64_t Lookup(std::string_view id, uint64_t hash, std::string* fingerprint) const;
  /// Inserts or replaces the entry of `id` (its line starts at `offset`).
  void Upsert(std::string_view id, JournalStatus status, int64_t offset, bool other_shape);
  /// True when the line at the slot's offset is the entry of `id`; then
  /// sets `*fingerprint` (when not null) from that line.
  bool SlotHasId(const Slot& slot, std::string_view id, std::string* fingerprint) const;
  void Grow();

  std::string path_;
  int fd_ = -1;
  int64_t end_ = 0;
  double sync_interval_s_;
  std::chrono::steady_clock::time_point last_sync_;
  bool dirty_ = false;
  JournalIdHash id_hash_;
  std::vector<Slot> slots_;  ///< size 0 or a power of two
  size_t live_ = 0;
  int64_t loaded_lines_ = 0;
  int64_t repaired_bytes_ = 0;
  int64_t bad_lines_ = 0;
  int64_t compacted_lines_ = 0;
};

/// Serialises an entry as one journal line (with the trailing newline).
std::string JournalLine(const JournalEntry& entry);

}  // namespace groundcap

#endif  // GROUNDCAP_JOURNAL_H_
