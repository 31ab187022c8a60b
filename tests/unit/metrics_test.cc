// The relay's metrics text and the HTTP request parser of /metrics.
#include "daemon/metrics.h"
#include "daemon/metrics_server.h"

#include <gtest/gtest.h>

namespace duet::daemon {
namespace {

TEST(Histogram, BucketsAreCumulativeAndCountIsTheInfBucket) {
  Histogram h({1, 5});
  h.Observe(0.5);
  h.Observe(1);
  h.Observe(3);
  h.Observe(100);
  std::string out;
  h.Render(out, "x_seconds", "help text");
  EXPECT_EQ(out,
            "# HELP x_seconds help text\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"1\"} 2\n"
            "x_seconds_bucket{le=\"5\"} 3\n"
            "x_seconds_bucket{le=\"+Inf\"} 4\n"
            "x_seconds_sum 104.5\n"
            "x_seconds_count 4\n");
}

TEST(CounterFamily, OneSamplePerLabelInAStableOrder) {
  CounterFamily c;
  c.Add("quota_exceeded");
  c.Add("deadline", 3);
  c.Add("quota_exceeded");
  std::string out;
  c.Render(out, "duetd_refusals_total", "reason", "Refusals.");
  EXPECT_EQ(out,
            "# HELP duetd_refusals_total Refusals.\n"
            "# TYPE duetd_refusals_total counter\n"
            "duetd_refusals_total{reason=\"deadline\"} 3\n"
            "duetd_refusals_total{reason=\"quota_exceeded\"} 2\n");
  EXPECT_EQ(c.Get("deadline"), 3u);
  EXPECT_EQ(c.Get("never"), 0u);
}

TEST(HttpRequest, AGetIsReadOnceItsHeadIsWhole) {
  EXPECT_EQ(ParseHttpRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n").state, HttpRequest::State::kNeedMore);
  const auto r = ParseHttpRequest("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(r.state, HttpRequest::State::kGood);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/metrics");
}

TEST(HttpRequest, AnythingElseIsBad) {
  for (const char* bad : {"GET\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n", "GET /metrics SPDY/3\r\n\r\n",
                          "\r\n\r\n"})
    EXPECT_EQ(ParseHttpRequest(bad).state, HttpRequest::State::kBad) << bad;
  EXPECT_EQ(ParseHttpRequest(std::string(5000, 'a')).state, HttpRequest::State::kBad)
      << "a head longer than 4 KiB is refused, not buffered";
}

}  // namespace
}  // namespace duet::daemon
