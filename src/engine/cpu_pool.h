// The step runner's CPU workers: a fixed pool of threads running StepLogic
// rounds, with a way out for a round that never returns (a read blocked on a
// hung filesystem, a step stuck in a loop). Such a round is abandoned: its
// thread is detached and retired (it exits if its task ever returns) and,
// when asked, replaced, so a stuck step costs one thread, never the run.
#ifndef GROUNDCAP_CPU_POOL_H_
#define GROUNDCAP_CPU_POOL_H_

#include <cstdint>
#include <functional>
#include <memory>

namespace groundcap {

/// Fixed pool of CPU worker threads. Tasks must own everything they touch
/// (capture shared_ptrs, not the caller's `this`): an abandoned task may run
/// on after the pool and its owner are gone.
class CpuPool {
 public:
  /// Starts `threads` workers (at least one).
  explicit CpuPool(int threads);
  /// Runs the tasks still queued, then joins the workers that are not
  /// abandoned (never the stuck ones).
  ~CpuPool();
  CpuPool(const CpuPool&) = delete;
  CpuPool& operator=(const CpuPool&) = delete;

  /// Queues `task`; returns its ticket (never 0) for Abandon.
  uint64_t Run(std::function<void()> task);
  /// Gives up on the task `ticket`: a queued task is dropped; a running one
  /// keeps its thread, which is detached and exits when the task returns, and
  /// `replace` starts a new worker in its place. Returns true when a thread
  /// was left running the task (a stuck worker), false when the task had not
  /// started or had already returned.
  bool Abandon(uint64_t ticket, bool replace);
  /// This pool's abandoned threads whose task has not returned yet.
  int stuck() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/// Abandoned CPU worker threads of every pool in the process that are still
/// inside their task. While > 0, the process must not tear down global
/// libraries or run static destructors under them: main() then ends with
/// _exit once everything is written (docs/design.md "Stopping").
int StuckCpuWorkers();

}  // namespace groundcap

#endif  // GROUNDCAP_CPU_POOL_H_
