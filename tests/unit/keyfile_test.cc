#include "client/keyfile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/temp_dir.h"

namespace duet::client {
namespace {

class KeyFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(crypto::Init()); }
  testing::TempDir dir_;
};

TEST_F(KeyFileTest, RoundTripsWithMode0600) {
  DeviceKeys keys = DeviceKeys::Generate();
  keys.couple_key = crypto::RandomKey();
  const std::string path = dir_.File("keys");
  ASSERT_TRUE(SaveKeys(path, keys, true).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = LoadKeys(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->identity.public_key, keys.identity.public_key);
  EXPECT_EQ(loaded->exchange.public_key, keys.exchange.public_key);
  EXPECT_TRUE(loaded->local_key == keys.local_key);
  ASSERT_TRUE(loaded->couple_key.has_value());
  EXPECT_TRUE(*loaded->couple_key == *keys.couple_key);
  EXPECT_FALSE(loaded->invite_secret.has_value());
}

TEST_F(KeyFileTest, ExclusiveSaveRefusesToOverwrite) {
  const std::string path = dir_.File("keys");
  DeviceKeys first = DeviceKeys::Generate();
  ASSERT_TRUE(SaveKeys(path, first, true).ok());
  EXPECT_FALSE(SaveKeys(path, DeviceKeys::Generate(), true).ok());
  EXPECT_EQ(LoadKeys(path)->identity.public_key, first.identity.public_key);
}

TEST_F(KeyFileTest, RefusesAFileOthersCanRead) {
  const std::string path = dir_.File("keys");
  ASSERT_TRUE(SaveKeys(path, DeviceKeys::Generate(), true).ok());
  chmod(path.c_str(), 0644);
  auto loaded = LoadKeys(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("chmod 600"), std::string::npos);
}

TEST_F(KeyFileTest, RefusesDamagedOrForeignFiles) {
  const std::string path = dir_.File("keys");
  ASSERT_TRUE(SaveKeys(path, DeviceKeys::Generate(), true).ok());
  std::string bytes = testing::ReadFile(path);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes.substr(0, bytes.size() - 1);
  }
  EXPECT_FALSE(LoadKeys(path).ok());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "NOTAKEY!" << bytes.substr(8);
  }
  EXPECT_FALSE(LoadKeys(path).ok());
  auto missing = LoadKeys(dir_.File("none"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("duet init"), std::string::npos);
}

TEST_F(KeyFileTest, LockedFileOpensOnlyWithItsPassphrase) {
  const std::string path = dir_.File("keys");
  DeviceKeys keys = DeviceKeys::Generate();
  keys.lock = crypto::DerivePassphraseKey("correct horse");
  ASSERT_TRUE(keys.lock.has_value());
  ASSERT_TRUE(SaveKeys(path, keys, true).ok());
  const std::string bytes = testing::ReadFile(path);
  EXPECT_EQ(bytes.size(), 281u);
  EXPECT_EQ(bytes.substr(0, 8), "DUETLCK1");
  EXPECT_EQ(bytes.find(keys.local_key.view()), std::string::npos) << "no key in the clear";

  auto none = LoadKeys(path);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("DUET_PASSPHRASE"), std::string::npos);
  auto wrong = LoadKeys(path, [] { return std::optional<std::string>("wrong"); });
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind, ErrorKind::kVerification);
  auto right = LoadKeys(path, [] { return std::optional<std::string>("correct horse"); });
  ASSERT_TRUE(right.ok()) << right.error().message;
  EXPECT_EQ(right->identity.public_key, keys.identity.public_key);
  ASSERT_TRUE(right->lock.has_value()) << "saving again keeps it locked";
}

TEST_F(KeyFileTest, LockedFileWithAbsurdLimitsIsRefusedBeforeDeriving) {
  const std::string path = dir_.File("keys");
  DeviceKeys keys = DeviceKeys::Generate();
  keys.lock = crypto::DerivePassphraseKey("pw");
  ASSERT_TRUE(SaveKeys(path, keys, true).ok());
  std::string bytes = testing::ReadFile(path);
  bytes.replace(16, 8, std::string("\x7f\xff\xff\xff\xff\xff\xff\xff", 8));  // memlimit
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  auto loaded = LoadKeys(path, [] { return std::optional<std::string>("pw"); });
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("damaged"), std::string::npos);
}

}  // namespace
}  // namespace duet::client
