// Device: the key file and the replica together, as two duet processes on
// one home see them.
#include "client/device.h"

#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace duet::client {
namespace {

TEST(Device, AnotherDuetsLockIsNotUndoneByAnOlderCopyOfTheKeys) {
  ASSERT_TRUE(crypto::Init());
  testing::TempDir dir;
  auto home = ResolveHome(dir.path());
  ASSERT_TRUE(home.ok());
  auto created = Device::Create(home.value(), "Alice", net::ParseEndpoint("127.0.0.1:7707").value(), std::nullopt);
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto watching = Device::Open(home.value());  // e.g. `duet watch`, running on
  ASSERT_TRUE(watching.ok());
  ASSERT_TRUE(created.value()->Lock("tea at four").ok());  // `duet lock` meanwhile
  auto saved = watching.value()->SetPendingInvite(crypto::RandomKey());
  ASSERT_FALSE(saved.ok()) << "the older, unlocked copy would be written over the locked file";
  EXPECT_NE(saved.error().message.find("locked by another duet"), std::string::npos) << saved.error().message;
  EXPECT_EQ(testing::ReadFile(home->key_file).substr(0, 8), "DUETLCK2");
  EXPECT_FALSE(watching.value()->pending_invite().has_value()) << "nothing changed in memory either";
}

TEST(Device, AnotherDuetsNewPassphraseIsNotUndoneByAnOlderCopyOfTheKeys) {
  ASSERT_TRUE(crypto::Init());
  testing::TempDir dir;
  auto home = ResolveHome(dir.path());
  ASSERT_TRUE(home.ok());
  ASSERT_TRUE(Device::Create(home.value(), "Alice", net::ParseEndpoint("127.0.0.1:7707").value(), std::nullopt,
                             std::string("tea at four"))
                  .ok());
  auto old = [] { return std::optional<std::string>("tea at four"); };
  auto watching = Device::Open(home.value(), old);  // still holds the old passphrase's key
  ASSERT_TRUE(watching.ok()) << watching.error().message;
  auto changing = Device::Open(home.value(), old);
  ASSERT_TRUE(changing.ok());
  ASSERT_TRUE(changing.value()->ChangePassphrase(std::string("harbor violet lamp")).ok());
  const std::string after_change = testing::ReadFile(home->key_file);
  auto saved = watching.value()->SetPendingInvite(crypto::RandomKey());
  ASSERT_FALSE(saved.ok()) << "the old passphrase would open the file again";
  EXPECT_NE(saved.error().message.find("passphrase was changed by another duet"), std::string::npos)
      << saved.error().message;
  EXPECT_EQ(testing::ReadFile(home->key_file), after_change);
  EXPECT_FALSE(Device::Open(home.value(), old).ok());
}

TEST(Device, OfTwoInitsInOneHomeTheSecondTouchesNothing) {
  ASSERT_TRUE(crypto::Init());
  testing::TempDir dir;
  auto home = ResolveHome(dir.path());
  const auto relay = net::ParseEndpoint("127.0.0.1:7707").value();
  auto first = Device::Create(home.value(), "Alice", relay, std::nullopt);
  ASSERT_TRUE(first.ok());
  const std::string keys = testing::ReadFile(home->key_file);
  auto second = Device::Create(home.value(), "Mallory", relay, std::nullopt);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::kAlreadyExists);
  EXPECT_EQ(testing::ReadFile(home->key_file), keys);
  EXPECT_EQ(first.value()->name(), "Alice");
}

}  // namespace
}  // namespace duet::client
