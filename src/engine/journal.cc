#include "engine/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>
#include <filesystem>

#include <fmt/core.h>

#include "engine/sample_id.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {

namespace {

constexpr const char* kFormat = "groundcap-journal";
constexpr int kVersion = 1;
/// Compaction on open needs at least this many superseded entries (and at
/// least as many as live ones): rewriting is linear in the live entries.
constexpr int64_t kCompactMinSuperseded = 1000;

std::string HeaderLine() {
  nlohmann::ordered_json h;
  h["format"] = kFormat;
  h["version"] = kVersion;
  return DumpJsonLine(h) + "\n";
}

bool WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

/// Parses a journal line into an entry; nullopt when malformed.
std::optional<JournalEntry> ParseEntry(const std::string& line) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto id = j.find("id");
  auto fp = j.find("fp");
  auto st = j.find("status");
  if (id == j.end() || !id->is_string() || fp == j.end() || !fp->is_string() || st == j.end() ||
      !st->is_string())
    return std::nullopt;
  JournalEntry e;
  e.id = id->get<std::string>();
  e.fingerprint = fp->get<std::string>();
  e.status = st->get<std::string>() == "ok" ? JournalStatus::kOk : JournalStatus::kFailed;
  auto rec = j.find("record");
  if (rec != j.end()) e.record = std::move(*rec);
  auto err = j.find("error");
  if (err != j.end()) e.error = Error::FromJson(nlohmann::json(*err));
  return e;
}

uint64_t DefaultIdHash(std::string_view id) { return Fnv1a64(id); }

/// Spreads a hash over the table's low bits (splitmix64's finaliser).
uint64_t Mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

/// How JournalLine starts an entry: {"id":<id as JSON>,"fp":<fp as JSON>,
std::string LinePrefix(std::string_view id, std::string_view fp) {
  return "{\"id\":" + DumpJsonLine(nlohmann::ordered_json(std::string(id))) + ",\"fp\":" +
         DumpJsonLine(nlohmann::ordered_json(std::string(fp))) + ",";
}

/// The start of LinePrefix, up to the fingerprint's opening quote.
std::string IdPrefix(std::string_view id) {
  return "{\"id\":" + DumpJsonLine(nlohmann::ordered_json(std::string(id))) + ",\"fp\":\"";
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string JournalLine(const JournalEntry& entry) {
  nlohmann::ordered_json j;
  j["id"] = entry.id;
  j["fp"] = entry.fingerprint;
  j["status"] = entry.status == JournalStatus::kOk ? "ok" : "failed";
  if (entry.error) j["error"] = nlohmann::ordered_json(entry.error->ToJson());
  j["record"] = entry.record;
  return DumpJsonLine(j) + "\n";
}

Journal::Journal(const std::string& path, double sync_interval_s, JournalIdHash id_hash)
    : path_(path), sync_interval_s_(sync_interval_s), id_hash_(id_hash ? id_hash : DefaultIdHash) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw SetupError(fmt::format("cannot open journal {}: {}", path, std::strerror(errno)));
  Load();
  CompactIfWorthIt();
  last_sync_ = std::chrono::steady_clock::now();
}

Journal::~Journal() {
  if (fd_ >= 0) {
    if (dirty_) ::fdatasync(fd_);
    ::close(fd_);
  }
}

void Journal::Load() {
  // Stream the file. The first line must be the header. Entry lines are
  // indexed; everything after the last good line (a partial line without
  // '\n', or complete lines that do not parse) is a torn tail and is cut.
  // Bad lines followed by good ones are skipped and counted.
  std::string line;
  int64_t line_start = 0, pos = 0, good_end = 0, bad_pending = 0;
  bool header_seen = false;
  std::vector<char> buf(1 << 20);
  auto handle_line = [&]() {
    if (!header_seen) {
      // Compare as JSON values: value<T>() would throw type_error on a foreign file.
      nlohmann::json h = nlohmann::json::parse(line, nullptr, false);
      if (h.is_discarded() || !h.is_object() || h["format"] != kFormat)
        throw SetupError(fmt::format("{} is not a groundcap journal (bad first line)", path_));
      if (h["version"] != kVersion)
        throw SetupError(fmt::format("{}: unsupported journal version {}", path_, DumpJsonLine(h["version"])));
      header_seen = true;
      good_end = pos;
      return;
    }
    std::optional<JournalEntry> e = ParseEntry(line);
    if (!e) {
      ++bad_pending;
      return;
    }
    bad_lines_ += bad_pending;
    bad_pending = 0;
    ++loaded_lines_;
    Upsert(e->id, e->status, line_start, !StartsWith(line, LinePrefix(e->id, e->fingerprint)));
    good_end = pos;
  };
  while (true) {
    ssize_t n = ::pread(fd_, buf.data(), buf.size(), pos);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SetupError(fmt::format("cannot read journal {}: {}", path_, std::strerror(errno)));
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      ++pos;
      if (buf[i] == '\n') {
        handle_line();
        line.clear();
        line_start = pos;
      } else {
        line.push_back(buf[i]);
      }
    }
  }
  int64_t size = pos;
  if (good_end < size) {
    repaired_bytes_ = size - good_end;
    if (::ftruncate(fd_, good_end) != 0)
      throw SetupError(fmt::format("cannot repair journal {}: {}", path_, std::strerror(errno)));
    GC_WARN("journal {}: cut {} bytes of a torn last entry", path_, repaired_bytes_);
  }
  if (bad_lines_ > 0) GC_WARN("journal {}: skipped {} unreadable lines", path_, bad_lines_);
  end_ = good_end;
  if (end_ == 0) {
    std::string h = HeaderLine();
    if (!WriteAll(fd_, h)) throw SetupError(fmt::format("cannot write journal {}", path_));
    end_ = static_cast<int64_t>(h.size());
    ::fdatasync(fd_);
  }
}

std::optional<JournalIndexEntry> Journal::Find(std::string_view id) const {
  JournalIndexEntry e;
  const int64_t i = Lookup(id, id_hash_(id), &e.fingerprint);
  if (i < 0) return std::nullopt;
  const Slot& slot = slots_[static_cast<size_t>(i)];
  e.offset = OffsetOf(slot);
  e.status = (slot.packed & kFailed) ? JournalStatus::kFailed : JournalStatus::kOk;
  return e;
}

int64_t Journal::Lookup(std::string_view id, uint64_t hash, std::string* fingerprint) const {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  for (size_t i = Mix(hash) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.packed == 0) return -1;
    if (s.id_hash == hash && SlotHasId(s, id, fingerprint)) return static_cast<int64_t>(i);
  }
}

bool Journal::SlotHasId(const Slot& slot, std::string_view id, std::string* fingerprint) const {
  const int64_t offset = OffsetOf(slot);
  if (!(slot.packed & kOtherShape)) {
    // The line starts {"id":<id>,"fp":"<fp>", (checked when indexed): compare
    // the id there and take the fingerprint that follows, from one small read.
    const std::string want = IdPrefix(id);
    std::string got(want.size() + 64, '\0');
    size_t done = 0;
    while (done < got.size()) {
      ssize_t n = ::pread(fd_, got.data() + done, got.size() - done, offset + static_cast<int64_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    got.resize(done);
    if (!StartsWith(got, want)) return false;
    if (!fingerprint) return true;
    const size_t close = got.find('"', want.size());
    if (close != std::string::npos && got.find('\\', want.size()) > close) {
      fingerprint->assign(got, want.size(), close - want.size());
      return true;
    }
    // A long or escaped fingerprint: read the whole line below.
  }
  std::optional<JournalEntry> e = ParseEntry(ReadLine(offset));
  if (!e || e->id != id) return false;
  if (fingerprint) *fingerprint = std::move(e->fingerprint);
  return true;
}

void Journal::Upsert(std::string_view id, JournalStatus status, int64_t offset, bool other_shape) {
  if ((live_ + 1) * 4 > slots_.size() * 3) Grow();  // load factor <= 3/4
  Slot fresh;
  fresh.id_hash = id_hash_(id);
  fresh.packed = static_cast<uint64_t>(offset) << 2;
  if (status == JournalStatus::kFailed) fresh.packed |= kFailed;
  if (other_shape) fresh.packed |= kOtherShape;
  const size_t mask = slots_.size() - 1;
  for (size_t i = Mix(fresh.id_hash) & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.packed == 0) {
      s = fresh;
      ++live_;
      return;
    }
    if (s.id_hash == fresh.id_hash && SlotHasId(s, id, nullptr)) {
      s = fresh;  // the last entry of an id wins
      return;
    }
  }
}

void Journal::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<size_t>(1024, old.size() * 2), Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.packed == 0) continue;
    size_t i = Mix(s.id_hash) & mask;
    while (slots_[i].packed != 0) i = (i + 1) & mask;
    slots_[i] = s;  // ids in the table are distinct: no comparison needed
  }
}

void Journal::CompactIfWorthIt() {
  const int64_t live = static_cast<int64_t>(live_);
  const int64_t superseded = loaded_lines_ - live;
  if (superseded < kCompactMinSuperseded || superseded < live) return;
  std::vector<std::pair<int64_t, Slot*>> order;  // (offset, slot), in file order
  order.reserve(live_);
  for (Slot& s : slots_) {
    if (s.packed != 0) order.emplace_back(OffsetOf(s), &s);
  }
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Write the live lines, in their order, to a new file; only a complete,
  // synced file replaces the journal. Any failure keeps the old one.
  const std::string tmp = path_ + ".compact";
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    GC_WARN("journal {}: not compacted, cannot create {}: {}", path_, tmp, std::strerror(errno));
    return;
  }
  std::string text = HeaderLine();
  std::vector<int64_t> offsets;
  offsets.reserve(order.size());
  int64_t written = 0;
  bool ok = true;
  for (const auto& [offset, entry] : order) {
    offsets.push_back(written + static_cast<int64_t>(text.size()));
    text += ReadLine(offset);
    text += '\n';
    if (text.size() >= (1u << 20)) {  // write in ~1 MB pieces
      ok = ok && WriteAll(out, text);
      written += static_cast<int64_t>(text.size());
      text.clear();
    }
  }
  ok = ok && WriteAll(out, text) && ::fdatasync(out) == 0;
  written += static_cast<int64_t>(text.size());
  ::close(out);
  if (!ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    GC_WARN("journal {}: not compacted: {}", path_, std::strerror(errno));
    std::remove(tmp.c_str());
    return;
  }
  int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    throw SetupError(fmt::format("cannot reopen compacted journal {}: {}", path_,
                                 std::strerror(errno)));
  }
  ::close(fd_);
  fd_ = fd;
  for (size_t i = 0; i < order.size(); ++i) {
    Slot& s = *order[i].second;
    s.packed = static_cast<uint64_t>(offsets[i]) << 2 | (s.packed & 3);
  }
  end_ = written;
  compacted_lines_ = superseded;
  GC_INFO("journal {}: compacted, dropped {} superseded entries, kept {}", path_, superseded,
          live);
}

std::string Journal::ReadLine(int64_t offset) const {
  std::string line;
  std::vector<char> buf(1 << 16);
  int64_t pos = offset;
  while (true) {
    ssize_t n = ::pread(fd_, buf.data(), buf.size(), pos);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const char* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', static_cast<size_t>(n)));
    if (nl) {
      line.append(buf.data(), static_cast<size_t>(nl - buf.data()));
      break;
    }
    line.append(buf.data(), static_cast<size_t>(n));
    pos += n;
  }
  return line;
}

Result<JournalEntry> Journal::Read(int64_t offset) const {
  std::string line = ReadLine(offset);
  std::optional<JournalEntry> e = ParseEntry(line);
  if (!e) return Fail(ErrorKind::kInternal, fmt::format("{}: no valid entry at offset {}", path_, offset));
  return std::move(*e);
}

void Journal::Append(const JournalEntry& entry) {
  std::string line = JournalLine(entry);
  if (!WriteAll(fd_, line))
    throw SetupError(fmt::format("cannot append to journal {}: {}", path_, std::strerror(errno)));
  Upsert(entry.id, entry.status, end_, !StartsWith(line, LinePrefix(entry.id, entry.fingerprint)));
  end_ += static_cast<int64_t>(line.size());
  dirty_ = true;
  auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_sync_).count() >= sync_interval_s_) Sync();
}

void Journal::Sync() {
  if (dirty_) ::fdatasync(fd_);
  dirty_ = false;
  last_sync_ = std::chrono::steady_clock::now();
}

}  // namespace groundcap
