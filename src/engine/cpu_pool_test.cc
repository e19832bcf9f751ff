#include "engine/cpu_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace groundcap {
namespace {

/// A latch a task blocks on until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false, entered = false;
  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
};

TEST(CpuPoolTest, AbandonedTaskKeepsItsThreadAndAReplacementRunsTheRest) {
  auto gate = std::make_shared<Gate>();
  auto done = std::make_shared<std::atomic<int>>(0);
  {
    CpuPool pool(1);
    uint64_t stuck = pool.Run([gate, done] {
      gate->Wait();
      ++*done;
    });
    gate->WaitEntered();
    uint64_t queued = pool.Run([done] { *done += 100; });
    EXPECT_FALSE(pool.Abandon(queued, true));  // not started: dropped, no thread left
    EXPECT_TRUE(pool.Abandon(stuck, true));
    EXPECT_EQ(pool.stuck(), 1);
    EXPECT_EQ(StuckCpuWorkers(), 1);
    auto ran = std::make_shared<std::atomic<bool>>(false);
    pool.Run([ran] { *ran = true; });
    while (!*ran) std::this_thread::yield();  // the replacement runs it
    EXPECT_FALSE(pool.Abandon(stuck, true));  // already abandoned
  }  // the destructor does not wait for the stuck task
  EXPECT_EQ(*done, 0);
  EXPECT_EQ(StuckCpuWorkers(), 1);
  gate->Open();  // the stuck task returns after its pool is gone
  while (StuckCpuWorkers() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(*done, 1);
}

}  // namespace
}  // namespace groundcap
