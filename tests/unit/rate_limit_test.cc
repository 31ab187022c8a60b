#include "daemon/rate_limit.h"

#include <gtest/gtest.h>

namespace duet::daemon {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, AllowsABurstThenOnePerInterval) {
  RateLimiter limiter(3, 1s);
  const auto t0 = RateLimiter::Clock::time_point{} + 100s;
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_FALSE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("b", t0)) << "each address has its own bucket";
  EXPECT_FALSE(limiter.Allow("a", t0 + 500ms));
  EXPECT_TRUE(limiter.Allow("a", t0 + 1s));
  EXPECT_FALSE(limiter.Allow("a", t0 + 1s));
  EXPECT_TRUE(limiter.Allow("a", t0 + 10s));
  EXPECT_TRUE(limiter.Allow("a", t0 + 10s));
  EXPECT_TRUE(limiter.Allow("a", t0 + 10s));
  EXPECT_FALSE(limiter.Allow("a", t0 + 10s)) << "refills only up to the burst";
}

TEST(RateLimiter, ARequestCostingSeveralTokensIsToldHowLongToWait) {
  RateLimiter limiter(10, 500ms);
  const auto t0 = RateLimiter::Clock::time_point{} + 100s;
  EXPECT_EQ(limiter.Take("couple", t0, 8), RateLimiter::Clock::duration::zero());
  EXPECT_EQ(limiter.Take("couple", t0, 5), 1500ms) << "3 tokens short, one per 500 ms";
  EXPECT_EQ(limiter.Take("couple", t0 + 1s, 5), 500ms) << "a refusal takes nothing";
  EXPECT_EQ(limiter.Take("couple", t0 + 1500ms, 5), RateLimiter::Clock::duration::zero());
  EXPECT_EQ(limiter.Take("other", t0, 50), RateLimiter::Clock::duration::zero())
      << "more than the burst waits for a full bucket, no longer";
}

TEST(RateLimiter, ForgetsAddressesThatWentQuiet) {
  RateLimiter limiter(2, 1s);
  const auto t0 = RateLimiter::Clock::time_point{} + 100s;
  for (int i = 0; i < 100; ++i) limiter.Allow("addr" + std::to_string(i), t0);
  EXPECT_EQ(limiter.tracked(), 100u);
  limiter.Allow("late", t0 + 5s);
  EXPECT_EQ(limiter.tracked(), 1u);
}

}  // namespace
}  // namespace duet::daemon
