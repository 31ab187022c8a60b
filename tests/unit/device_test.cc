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
  auto created = Device::Create(home.value(), "Alice", {net::ParseEndpoint("127.0.0.1:7707").value()}, std::nullopt);
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
  ASSERT_TRUE(Device::Create(home.value(), "Alice", {net::ParseEndpoint("127.0.0.1:7707").value()}, std::nullopt,
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
  const auto relay = {net::ParseEndpoint("127.0.0.1:7707").value()};
  auto first = Device::Create(home.value(), "Alice", {relay}, std::nullopt);
  ASSERT_TRUE(first.ok());
  const std::string keys = testing::ReadFile(home->key_file);
  auto second = Device::Create(home.value(), "Mallory", {relay}, std::nullopt);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::kAlreadyExists);
  EXPECT_EQ(testing::ReadFile(home->key_file), keys);
  EXPECT_EQ(first.value()->name(), "Alice");
}

// Three check-ins kept on an unpaired device, written by one Device and
// read by another, as two duet commands would.
class KeptOpenedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init());
    auto created = Device::Create(home_, "Alice", {net::ParseEndpoint("127.0.0.1:7707").value()}, std::nullopt);
    ASSERT_TRUE(created.ok()) << created.error().message;
    for (const char* note : {"slept well", "long day", "tea with Sam"}) {
      model::v1::RecordBody body;
      body.mutable_checkin()->set_mood(3);
      body.mutable_checkin()->set_note(note);
      ASSERT_TRUE(created.value()->AddRecord(body, /*shared=*/false).ok());
    }
  }
  std::vector<std::string> Notes(Device& device) {
    int unreadable = 0;
    auto records = device.OpenRecords(&unreadable);
    EXPECT_TRUE(records.ok());
    EXPECT_EQ(unreadable, 0);
    std::vector<std::string> notes;
    for (const auto& r : records.value()) notes.push_back(r.body.checkin().note());
    return notes;
  }
  std::unique_ptr<Device> Open() { return std::move(Device::Open(home_)).value(); }

  testing::TempDir dir_;
  HomePaths home_ = ResolveHome(dir_.path()).value();
  const std::vector<std::string> notes_ = {"slept well", "long day", "tea with Sam"};
};

TEST_F(KeptOpenedTest, WhatTheRecordsDecryptToIsKeptSealedAndReadByTheNextCommand) {
  auto first = Open();
  EXPECT_FALSE(first->store().CurrentOpened().value().sealed);
  EXPECT_EQ(Notes(*first), notes_);
  const auto kept = first->store().CurrentOpened().value();
  ASSERT_TRUE(kept.sealed) << "opening every record keeps what they decrypt to";
  EXPECT_EQ(kept.sealed->find("tea with Sam"), std::string::npos) << "kept sealed, never as plaintext";

  // The next command reads the kept copy rather than the records: change
  // what it says (sealed under the local key, as only this device can) and
  // the change shows.
  auto next = Open();
  auto plain = crypto::SecretboxOpen(next->keys().local_key, *kept.sealed);
  ASSERT_TRUE(plain);
  local::v1::OpenedRows rows;
  ASSERT_TRUE(rows.ParseFromString(*plain));
  model::v1::RecordBody body;
  ASSERT_TRUE(body.ParseFromString(rows.rows(0).plaintext()));
  body.mutable_checkin()->set_note("from the kept copy");
  rows.mutable_rows(0)->set_plaintext(body.SerializeAsString());
  ASSERT_TRUE(next->store().KeepOpened(kept.generation, crypto::SecretboxSeal(next->keys().local_key,
                                                                                rows.SerializeAsString())).ok());
  EXPECT_EQ(Notes(*next)[0], "from the kept copy");

  // Any new record drops it, and the records are decrypted again.
  model::v1::RecordBody more;
  more.mutable_checkin()->set_mood(4);
  more.mutable_checkin()->set_note("a walk");
  ASSERT_TRUE(next->AddRecord(more, false).ok());
  auto notes = notes_;
  notes.push_back("a walk");
  EXPECT_EQ(Notes(*Open()), notes);
}

TEST_F(KeptOpenedTest, AKeptCopyThatDoesNotOpenOrFitsAnotherCoupleKeyIsMadeAgain) {
  auto device = Open();
  const auto generation = device->store().CurrentOpened().value().generation;
  ASSERT_TRUE(device->store().KeepOpened(generation, "not sealed by this device").ok());
  EXPECT_EQ(Notes(*device), notes_);
  auto remade = device->store().CurrentOpened().value();
  ASSERT_TRUE(remade.sealed);
  EXPECT_NE(*remade.sealed, "not sealed by this device");

  // Made with a couple key this device no longer uses (a rekey by another
  // duet on this home): left alone.
  local::v1::OpenedRows other_key;
  other_key.set_couple_key_id("8 bytes!");
  ASSERT_TRUE(device->store().KeepOpened(remade.generation, crypto::SecretboxSeal(device->keys().local_key,
                                                                                  other_key.SerializeAsString())).ok());
  EXPECT_EQ(Notes(*Open()), notes_);
}

}  // namespace
}  // namespace duet::client
