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

TEST(Endpoint, ARelaysAddressesAreAListThatReadsBackAsWritten) {
  auto two = ParseEndpoints("relay-a.example:7707,[::1]:7708");
  ASSERT_TRUE(two.ok()) << two.error().message;
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ(two.value()[1].host, "::1");
  EXPECT_EQ(EndpointsToString(two.value()), "relay-a.example:7707,[::1]:7708");
  EXPECT_EQ(ParseEndpoints("relay.example").value().size(), 1u) << "one address is a list of one";

  auto twice = ParseEndpoints("a:1,a:1");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("a:1 is given twice"), std::string::npos);
  for (const char* bad : {"", "a:1,", ",a:1", "a:1,,b:2", "a:1,b:99999"}) {
    auto parsed = ParseEndpoints(bad);
    EXPECT_FALSE(parsed.ok()) << "'" << bad << "'";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidInput);
    }
  }
  std::string nine;
  for (int i = 0; i < 9; ++i) nine += (i ? ",h" : "h") + std::to_string(i) + ":1";
  EXPECT_FALSE(ParseEndpoints(nine).ok()) << "at most " << kMaxRelayAddresses;
  std::string long_list = std::string(130, 'a') + ":1," + std::string(130, 'b') + ":1,c:1";
  auto too_long = ParseEndpoints(long_list);
  ASSERT_FALSE(too_long.ok()) << "an invite code holds 255 characters";
  EXPECT_NE(too_long.error().message.find("255"), std::string::npos);
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
