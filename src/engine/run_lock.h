// One writer per results directory: an advisory flock(2) on
// results_dir/LOCK, held for the life of the process. The kernel releases it
// when the process ends, however it ends (kill -9 included), so a crashed run
// never leaves a stale lock behind; the file only records who holds it, for
// the message a second process prints.
#ifndef GROUNDCAP_RUN_LOCK_H_
#define GROUNDCAP_RUN_LOCK_H_

#include <string>

#include "util/error.h"

namespace groundcap {

class RunLock {
 public:
  /// Takes the lock on `dir` (which must exist) without waiting. Throws
  /// SetupError naming the holder's pid and host when another process holds
  /// it, or why the lock file cannot be opened.
  static RunLock Acquire(const std::string& dir);

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

  /// "pid <n> on <host>" of whoever holds `dir`'s lock file, as recorded.
  static std::string Holder(const std::string& dir);

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace groundcap

#endif  // GROUNDCAP_RUN_LOCK_H_
