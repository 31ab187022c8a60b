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

}  // namespace
}  // namespace duet::client
