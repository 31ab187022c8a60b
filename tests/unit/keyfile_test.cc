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
  static void WriteFile(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
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
  EXPECT_EQ(bytes.size(), 345u);
  EXPECT_EQ(bytes.substr(0, 8), "DUETLCK2");
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

TEST_F(KeyFileTest, LockedFileWithAbsurdLimitsIsRefusedBeforeAskingOrDeriving) {
  const std::string path = dir_.File("keys");
  DeviceKeys keys = DeviceKeys::Generate();
  keys.lock = crypto::DerivePassphraseKey("pw");
  ASSERT_TRUE(SaveKeys(path, keys, true).ok());
  std::string bytes = testing::ReadFile(path);
  bytes.replace(16, 8, std::string("\x7f\xff\xff\xff\xff\xff\xff\xff", 8));  // memlimit
  // A crafted file, not a damaged one: its checksum is made to match.
  bytes.replace(bytes.size() - 32, 32, KeyFileChecksum(std::string_view(bytes).substr(0, bytes.size() - 32)));
  WriteFile(path, bytes);
  bool asked = false;
  auto loaded = LoadKeys(path, [&] {
    asked = true;
    return std::optional<std::string>("pw");
  });
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::kDamaged);
  EXPECT_NE(loaded.error().message.find("limits"), std::string::npos) << loaded.error().message;
  EXPECT_FALSE(asked) << "refused before the passphrase is asked for, let alone derived";
}

TEST_F(KeyFileTest, OneFlippedByteAnywhereIsReportedAsDamage) {
  const std::string path = dir_.File("keys");
  DeviceKeys keys = DeviceKeys::Generate();
  keys.couple_key = crypto::RandomKey();
  ASSERT_TRUE(SaveKeys(path, keys, true).ok());
  const std::string plain = testing::ReadFile(path);
  ASSERT_EQ(plain.size(), 233u);
  for (std::size_t at : {std::size_t{9}, std::size_t{100}, std::size_t{180}, plain.size() - 1}) {
    std::string flipped = plain;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    WriteFile(path, flipped);
    auto loaded = LoadKeys(path);
    ASSERT_FALSE(loaded.ok()) << "byte " << at;
    EXPECT_EQ(loaded.error().kind, ErrorKind::kDamaged) << "byte " << at;
    EXPECT_NE(loaded.error().message.find("checksum"), std::string::npos) << loaded.error().message;
  }

  keys.lock = crypto::DerivePassphraseKey("pw");
  std::filesystem::remove(path);
  ASSERT_TRUE(SaveKeys(path, keys, true).ok());
  std::string locked = testing::ReadFile(path);
  locked[200] = static_cast<char>(locked[200] ^ 0x01);  // inside the sealed box
  WriteFile(path, locked);
  auto loaded = LoadKeys(path, [] { return std::optional<std::string>("pw"); });
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().kind, ErrorKind::kDamaged) << "damage is not a wrong passphrase: "
                                                      << loaded.error().message;
}

TEST_F(KeyFileTest, AVersionOneFileIsStillReadAndMarkedForRewriting) {
  const std::string path = dir_.File("keys");
  DeviceKeys keys = DeviceKeys::Generate();
  ASSERT_TRUE(SaveKeys(path, keys, true).ok());
  std::string v2 = testing::ReadFile(path);
  std::string v1 = "DUETKEY1" + v2.substr(8, 201 - 8);  // version 1: no checksum
  WriteFile(path, v1);
  auto loaded = LoadKeys(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->older_format);
  EXPECT_EQ(loaded->identity.public_key, keys.identity.public_key);
  ASSERT_TRUE(SaveKeys(path, loaded.value(), false).ok());
  EXPECT_EQ(testing::ReadFile(path).substr(0, 8), "DUETKEY2");
  EXPECT_FALSE(LoadKeys(path)->older_format);
}

TEST_F(KeyFileTest, SavingLeavesNoTemporaryFileBehind) {
  const std::string path = dir_.File("keys");
  ASSERT_TRUE(SaveKeys(path, DeviceKeys::Generate(), true).ok());
  ASSERT_TRUE(SaveKeys(path, DeviceKeys::Generate(), false).ok());
  EXPECT_FALSE(SaveKeys(path, DeviceKeys::Generate(), true).ok());
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace duet::client
