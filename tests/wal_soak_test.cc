// Soak (label "soak", not in the default run): many rounds of concurrent
// writers with rotations, checkpoints and proofs, cut at random points by a
// failed write, a failed fsync or a power loss; after each, every
// acknowledged record must come back and the log must verify.
//   ctest --test-dir build/release -L soak     (HANSHIRO_SOAK_ROUNDS, default 200)
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "env/fault_injection_env.h"
#include "env/test_dir.h"
#include "wal/log.h"

namespace hanshiro::wal {
namespace {

TEST(WalSoakTest, RandomCrashesUnderConcurrentWrites) {
  const char* env_rounds = std::getenv("HANSHIRO_SOAK_ROUNDS");
  const int rounds = env_rounds != nullptr ? std::atoi(env_rounds) : 200;
  std::mt19937_64 rng(std::random_device{}());
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    testing::TestDir dir;
    FaultInjectionEnv env(Env::Default());
    Options options;
    options.env = &env;
    options.sync_on_write = true;
    options.max_file_size = 4096 + rng() % 32768;
    std::map<uint64_t, std::string> acked;
    // Several lives of the same directory, each ending in a crash.
    for (int life = 0; life < 3 && !HasFailure(); ++life) {
      std::map<uint64_t, std::string> replayed;
      auto log = Log::Open(options, dir.path(), 0, [&](uint64_t seq, uint8_t, std::string_view p) {
        replayed[seq] = std::string(p);
        return Status::OK();
      });
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      ASSERT_TRUE((*log)->recovery().broken.ok()) << (*log)->recovery().broken.ToString();
      for (const auto& [seq, payload] : acked) {
        ASSERT_EQ(replayed[seq], payload) << "round " << round << " life " << life << " seq " << seq;
      }
      ASSERT_TRUE((*log)->Verify().intact()) << (*log)->Verify().error.ToString();
      const int mode = static_cast<int>(rng() % 3);
      if (mode == 0) env.FailWriteAt(1 + rng() % 200);
      if (mode == 1) env.FailSyncAt(1 + rng() % 50);
      std::mutex mu;
      std::atomic<bool> stop{false};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          std::mt19937_64 local(rng() + t);
          for (int i = 0; !stop; ++i) {
            const std::string p = std::to_string(round) + "/" + std::to_string(t) + "/" +
                                  std::to_string(i) + std::string(local() % 300, 'p');
            if (local() % 50 == 0) (void)(*log)->Checkpoint();
            auto seq = (*log)->Write(1 + local() % 3, p);
            if (!seq.ok()) return;
            std::lock_guard lock(mu);
            acked[*seq] = p;
          }
        });
      }
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30000));
      ASSERT_TRUE(env.SimulatePowerLoss().ok());
      stop = true;
      for (auto& th : threads) th.join();
      log->reset();
      env.ClearFaults();
    }
  }
}

}  // namespace
}  // namespace hanshiro::wal
