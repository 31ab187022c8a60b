#include "daemon/log.h"

#include <gtest/gtest.h>

#include <vector>

namespace duet::daemon {
namespace {

using namespace std::chrono_literals;

TEST(RelayLog, RepeatedLinesOfOneKindAreCountedNotWritten) {
  ManualClock clock;
  std::vector<std::string> lines;
  RelayLog log(clock, [&](const std::string& line) { lines.push_back(line); }, /*burst=*/3);
  for (int i = 0; i < 1000; ++i) log.Write("shed", "shed " + std::to_string(i));
  log.Write("quota", "a different kind is not held back");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "shed 2");
  clock.Advance(61s);
  log.Write("shed", "shed again");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines.back(), "shed again (and 997 similar lines left out)");
}

TEST(RelayLog, UntrustedTextBecomesOnePrintableLine) {
  const std::string agent = std::string("evil\n\x1b[31mduetd: fake line\xff", 28);
  const std::string escaped = RelayLog::Untrusted(agent);
  EXPECT_EQ(escaped.find('\n'), std::string::npos);
  EXPECT_EQ(escaped.find('\x1b'), std::string::npos);
  for (unsigned char c : escaped) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << int(c);
  EXPECT_LE(RelayLog::Untrusted(std::string(10000, 'a')).size(), 200u);
}

}  // namespace
}  // namespace duet::daemon
