#include "engine/cpu_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace groundcap {

namespace {

std::atomic<int>& ProcessStuck() {
  static std::atomic<int> n{0};
  return n;
}

}  // namespace

int StuckCpuWorkers() { return ProcessStuck().load(); }

struct CpuPool::State {
  struct Task {
    uint64_t ticket = 0;
    std::function<void()> fn;
  };
  /// One thread; its fields are guarded by State::mu.
  struct Worker {
    std::thread thread;
    uint64_t running = 0;  ///< ticket of the task being run, 0 = idle
    bool retired = false;  ///< abandoned: exit when the task returns
  };

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Task> tasks;
  std::vector<std::shared_ptr<Worker>> workers;  ///< not retired
  uint64_t next_ticket = 1;
  bool done = false;
  std::atomic<int> stuck{0};

  /// Starts a worker; mu must be held. The thread keeps the state alive, so
  /// a retired thread outliving the pool still has its mutex and counters.
  static void Spawn(const std::shared_ptr<State>& self) {
    auto w = std::make_shared<Worker>();
    w->thread = std::thread([self, w] { self->Loop(*w); });
    self->workers.push_back(std::move(w));
  }

  void Loop(Worker& w) {
    while (true) {
      Task task;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return done || !tasks.empty(); });
        if (tasks.empty()) return;  // done, and every queued task has run
        task = std::move(tasks.front());
        tasks.pop_front();
        w.running = task.ticket;
      }
      task.fn();
      task.fn = nullptr;  // release the task's captures before going idle
      std::lock_guard<std::mutex> lock(mu);
      w.running = 0;
      if (w.retired) {
        stuck.fetch_sub(1);
        ProcessStuck().fetch_sub(1);
        return;  // detached: nothing joins this thread
      }
    }
  }
};

CpuPool::CpuPool(int threads) : state_(std::make_shared<State>()) {
  std::lock_guard<std::mutex> lock(state_->mu);
  for (int i = 0; i < std::max(1, threads); ++i) State::Spawn(state_);
}

CpuPool::~CpuPool() {
  std::vector<std::shared_ptr<State::Worker>> workers;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->done = true;
    workers.swap(state_->workers);
  }
  state_->cv.notify_all();
  for (const std::shared_ptr<State::Worker>& w : workers) w->thread.join();
}

uint64_t CpuPool::Run(std::function<void()> task) {
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    ticket = state_->next_ticket++;
    state_->tasks.push_back({ticket, std::move(task)});
  }
  state_->cv.notify_one();
  return ticket;
}

bool CpuPool::Abandon(uint64_t ticket, bool replace) {
  std::lock_guard<std::mutex> lock(state_->mu);
  auto& tasks = state_->tasks;
  auto queued = std::find_if(tasks.begin(), tasks.end(), [&](const State::Task& t) { return t.ticket == ticket; });
  if (queued != tasks.end()) {
    tasks.erase(queued);
    return false;
  }
  auto& workers = state_->workers;
  auto running = std::find_if(workers.begin(), workers.end(),
                              [&](const std::shared_ptr<State::Worker>& w) { return w->running == ticket; });
  if (running == workers.end()) return false;  // already returned
  std::shared_ptr<State::Worker> w = *running;
  workers.erase(running);
  w->retired = true;
  w->thread.detach();
  state_->stuck.fetch_add(1);
  ProcessStuck().fetch_add(1);
  if (replace) State::Spawn(state_);
  return true;
}

int CpuPool::stuck() const { return state_->stuck.load(); }

}  // namespace groundcap
