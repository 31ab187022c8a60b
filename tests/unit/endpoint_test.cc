#include <gtest/gtest.h>

#include "net/net.h"

namespace duet::net {
namespace {

TEST(Endpoint, ParsesHostPortForms) {
  auto a = ParseEndpoint("127.0.0.1:7707");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7707);
  auto b = ParseEndpoint("relay.example");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, kDefaultPort);
  auto c = ParseEndpoint("[::1]:9000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->ToString(), "[::1]:9000");
}

TEST(Endpoint, RejectsBadInputWithAHint) {
  for (const char* bad : {"", ":7707", "host:", "host:0", "host:65536", "host:12ab", "::1",
                          "[::1", "a b:1", "host:-1"}) {
    auto parsed = ParseEndpoint(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("HOST:PORT"), std::string::npos);
    }
  }
  EXPECT_TRUE(ParseEndpoint("127.0.0.1:0", /*allow_port_zero=*/true).ok());
}

TEST(Endpoint, AuthTranscriptIsTheSpecifiedLayout) {
  std::string t = AuthTranscript(std::string(32, 'h'), std::string(32, 'c'), std::string(32, 'r'),
                                 std::string(32, 'd'));
  ASSERT_EQ(t.size(), 140u);
  EXPECT_EQ(t.substr(0, 12), "duet/v1/auth");
  EXPECT_EQ(t.substr(12, 32), std::string(32, 'h'));
  EXPECT_EQ(t.substr(44, 32), std::string(32, 'c'));
  EXPECT_EQ(t.substr(76, 32), std::string(32, 'r'));
  EXPECT_EQ(t.substr(108, 32), std::string(32, 'd'));
}

}  // namespace
}  // namespace duet::net
