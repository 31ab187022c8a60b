#include "daemon/log.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace duet::daemon {
namespace {

using namespace std::chrono_literals;

TEST(RelayLog, RepeatedLinesOfOneKindAreCountedNotWritten) {
  ManualClock clock;
  std::vector<std::string> lines;
  RelayLog log(clock, [&](const std::string& line) { lines.push_back(line); }, /*burst=*/3);
  for (int i = 0; i < 1000; ++i) log.Write(LogLevel::kWarning, "shed", "shed " + std::to_string(i));
  log.Write(LogLevel::kInfo, "quota", "a different kind is not held back");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "duetd: warning: shed 2");
  EXPECT_EQ(lines[3], "duetd: a different kind is not held back");
  clock.Advance(61s);
  log.Write(LogLevel::kWarning, "shed", "shed again");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines.back(), "duetd: warning: shed again (and 997 similar lines left out)");
}

TEST(RelayLog, LinesLessImportantThanTheLevelAreNotWritten) {
  ManualClock clock;
  std::vector<std::string> lines;
  RelayLog log(clock, [&](const std::string& line) { lines.push_back(line); });
  log.Write(LogLevel::kDebug, "connection", "hidden at the default level");
  EXPECT_TRUE(lines.empty());
  log.Configure(LogLevel::kError, LogFormat::kText);
  log.Write(LogLevel::kWarning, "shed", "hidden too");
  log.Write(LogLevel::kError, "store", "disk full");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "duetd: error: disk full");
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("verbose"), std::nullopt);
}

TEST(RelayLog, JsonLinesAreOneObjectEachWithTimeLevelAndEvent) {
  ManualClock clock(1'800'000'000);  // starts 1,000,000 s later: 2027-01-26T21:46:40Z
  std::vector<std::string> lines;
  RelayLog log(clock, [&](const std::string& line) { lines.push_back(line); });
  log.Configure(LogLevel::kInfo, LogFormat::kJson);
  log.Write(LogLevel::kWarning, "refused", "refused a connection from 10.0.0.1: \"too many\"\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find('\n'), std::string::npos) << "one line per event";
  EXPECT_EQ(lines[0],
            R"({"event":"refused","level":"warning","message":"refused a connection from 10.0.0.1: \"too many\"\n","time":"2027-01-26T21:46:40Z"})");
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
