#include "client/device.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "base/crash_point.h"
#include "client/model/deletion.h"
#include "client/meta_keys.h"
#include "client/sealing.h"

namespace duet::client {
using namespace meta;
namespace {

// Private records are sealed under the local key with this couple id, so they
// can never be mistaken for (or pushed as) a record of the couple.
const std::string kLocalCoupleId(16, '\0');


Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorKind::kIo, "cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<HomePaths> ResolveHome(const std::string& home_flag) {
  HomePaths paths;
  std::string home = home_flag;
  if (home.empty()) {
    if (const char* env = std::getenv("DUET_HOME"); env != nullptr && *env != '\0') home = env;
  }
  if (!home.empty()) {
    paths.key_dir = paths.data_dir = home;
  } else {
    const char* user_home = std::getenv("HOME");
    const char* config = std::getenv("XDG_CONFIG_HOME");
    const char* data = std::getenv("XDG_DATA_HOME");
    if ((config == nullptr || *config == '\0' || data == nullptr || *data == '\0') &&
        (user_home == nullptr || *user_home == '\0'))
      return MakeError(ErrorKind::kInvalidInput,
                       "cannot tell where to keep duet's files: set --home DIR or DUET_HOME");
    paths.key_dir = (config != nullptr && *config != '\0') ? std::string(config) + "/duet"
                                                           : std::string(user_home) + "/.config/duet";
    paths.data_dir = (data != nullptr && *data != '\0') ? std::string(data) + "/duet"
                                                        : std::string(user_home) + "/.local/share/duet";
  }
  paths.key_file = paths.key_dir + "/keys";
  paths.database = paths.data_dir + "/duet.db";
  return paths;
}

Result<std::unique_ptr<Device>> Device::Create(const HomePaths& home, const std::string& name,
                                               const std::vector<net::Endpoint>& relays,
                                               const std::optional<std::string>& relay_key,
                                               const std::optional<std::string>& passphrase) {
  if (::access(home.key_file.c_str(), F_OK) == 0 || ::access(home.database.c_str(), F_OK) == 0)
    return MakeError(ErrorKind::kAlreadyExists,
                     "duet is already set up here (" + home.key_file +
                         "); use another --home, or remove that folder to start over");
  DUET_RETURN_IF_ERROR(MakeDirs(home.key_dir));
  DUET_RETURN_IF_ERROR(MakeDirs(home.data_dir));
  DeviceKeys keys = DeviceKeys::Generate();
  if (passphrase) {
    keys.lock = crypto::DerivePassphraseKey(*passphrase);
    if (!keys.lock)
      return MakeError(ErrorKind::kInternal, "not enough memory to derive a key from the passphrase");
  }
  // The key file first, created exclusively (link(2) decides): of two inits
  // racing in one home, the loser stops here having touched nothing.
  if (Status saved = SaveKeys(home.key_file, keys, /*exclusive=*/true); !saved.ok()) {
    if (saved.error().kind == ErrorKind::kAlreadyExists)
      return MakeError(ErrorKind::kAlreadyExists,
                       "duet is already set up here (" + home.key_file +
                           "); use another --home, or remove that folder to start over");
    return saved.error();
  }
  auto undo = [&home] {
    RemoveDatabase(home.database);
    ::unlink(home.key_file.c_str());
  };
  auto store = storage::ReplicaStore::Open(home.database, /*create=*/true);
  if (!store.ok()) {
    undo();
    return store.error();
  }
  // Sealed records, but names and keys too: for this user only. SQLite gives
  // the WAL and shm files the database's mode.
  ::chmod(home.database.c_str(), 0600);
  std::vector<std::pair<std::string, std::string>> meta = {{kName, name},
                                                            {kRelay, net::EndpointsToString(relays)}};
  if (relay_key) meta.emplace_back(kRelayKey, *relay_key);
  if (Status status = store.value()->SetMetas(meta); !status.ok()) {
    store.value().reset();
    undo();
    return status.error();
  }
  return std::unique_ptr<Device>(new Device(home, std::move(keys), std::move(store).value()));
}

Result<std::unique_ptr<Device>> Device::Open(const HomePaths& home,
                                             const PassphraseSource& passphrase,
                                             const RememberedKeySource& remembered) {
  auto keys = LoadKeys(home.key_file, passphrase, remembered);
  if (!keys.ok()) return keys.error();
  if (::access(home.database.c_str(), F_OK) != 0)
    return MakeError(ErrorKind::kNotFound, "the local database " + home.database +
                                               " is missing; restore it or run duet init in a new --home");
  auto store = storage::ReplicaStore::Open(home.database, /*create=*/false);
  if (!store.ok()) return store.error();
  // A key file from before checksums gets one now, while it is known good.
  if (keys->older_format) DUET_RETURN_IF_ERROR(SaveKeys(home.key_file, keys.value(), /*exclusive=*/false));
  std::unique_ptr<Device> device(new Device(home, std::move(keys).value(), std::move(store).value()));
  DUET_RETURN_IF_ERROR(device->FinishRekey());
  device->person_me_ = device->Meta(kPersonMe).value_or("");
  // Owed since an interrupted `duet device revoke`; should it fail now (say
  // a full disk), the next open tries again, and nothing else waits on it.
  (void)device->FinishRevocation();
  device->archived_me_ = device->Meta(kArchivedMe).value_or("");
  device->person_me_ = device->Meta(kPersonMe).value_or("");
  return device;
}

Status Device::Lock(const std::string& passphrase) {
  if (keys_.lock)
    return MakeError(ErrorKind::kInvalidInput, "the key file is locked already");
  auto lock = crypto::DerivePassphraseKey(passphrase);
  if (!lock)
    return MakeError(ErrorKind::kInternal, "not enough memory to derive a key from the passphrase");
  DeviceKeys updated = keys_;
  updated.lock = std::move(lock);
  DUET_RETURN_IF_ERROR(SaveKeyFile(updated));
  keys_ = std::move(updated);
  return Status::Ok();
}

Status Device::ChangePassphrase(const std::optional<std::string>& passphrase) {
  if (!keys_.lock) return MakeError(ErrorKind::kInvalidInput, "the key file has no passphrase");
  DeviceKeys updated = keys_;
  updated.lock.reset();
  if (passphrase) {
    updated.lock = crypto::DerivePassphraseKey(*passphrase);
    if (!updated.lock)
      return MakeError(ErrorKind::kInternal, "not enough memory to derive a key from the passphrase");
  }
  DUET_RETURN_IF_ERROR(SaveKeyFile(updated));
  keys_ = std::move(updated);
  return Status::Ok();
}

Status Device::SaveKeyFile(const DeviceKeys& updated) {
  // Another duet may have locked, unlocked or given a new passphrase to the
  // file since this one read it, e.g. `duet passphrase change` while `duet
  // watch` runs: writing this copy over it would silently undo that. A
  // locked file's header names its passphrase key (limits and salt).
  std::string head(40, '\0');
  const int fd = ::open(home_.key_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const ssize_t n = ::read(fd, head.data(), head.size());
    ::close(fd);
    const bool locked_on_disk = n == 40 && head.substr(0, 7) == "DUETLCK";
    std::string mine;
    if (keys_.lock) {
      for (std::uint64_t value : {keys_.lock->opslimit, keys_.lock->memlimit})
        for (int shift = 56; shift >= 0; shift -= 8) mine.push_back(static_cast<char>((value >> shift) & 0xff));
      mine += keys_.lock->salt;
    }
    if (locked_on_disk != keys_.lock.has_value())
      return MakeError(ErrorKind::kInvalidInput,
                       std::string("the key file was ") + (locked_on_disk ? "locked" : "unlocked") +
                           " by another duet while this one ran; nothing was changed: run the command again");
    if (locked_on_disk && head.substr(8, 32) != mine)
      return MakeError(ErrorKind::kInvalidInput,
                       "the key file's passphrase was changed by another duet while this one ran; nothing was "
                       "changed: run the command again");
  }
  return SaveKeys(home_.key_file, updated, /*exclusive=*/false);
}

std::optional<std::string> Device::Meta(const std::string& key) {
  auto value = store_->GetMeta(key);
  if (!value.ok()) return std::nullopt;
  return value.value();
}

std::string Device::name() { return Meta(kName).value_or(""); }

std::vector<net::Endpoint> Device::relays() {
  auto parsed = net::ParseEndpoints(Meta(kRelay).value_or(""));
  return parsed.ok() ? parsed.value() : std::vector<net::Endpoint>{net::Endpoint{}};
}

std::optional<std::string> Device::pinned_relay_key() { return Meta(kRelayKey); }

std::optional<std::string> Device::relay_token() { return Meta(kRelayToken); }

Status Device::SetRelayToken(const std::string& token) { return store_->SetMeta(kRelayToken, token); }

Status Device::PinRelay(const std::vector<net::Endpoint>& relays, const std::string& relay_key) {
  return store_->SetMetas({{kRelay, net::EndpointsToString(relays)}, {kRelayKey, relay_key}, {kRelayNextKey, ""}});
}

std::optional<std::string> Device::next_relay_key() {
  auto key = Meta(kRelayNextKey);
  if (!key || key->empty()) return std::nullopt;
  return key;
}

Status Device::SetNextRelayKey(const std::string& key) { return store_->SetMeta(kRelayNextKey, key); }

std::optional<std::string> Device::couple_id() { return Meta(kCoupleId); }

std::optional<std::int64_t> Device::unpaired_at() {
  auto text = Meta(kCoupleEndedAt);
  if (!text) return std::nullopt;
  return std::strtoll(text->c_str(), nullptr, 10);
}

Status Device::MarkUnpaired(std::int64_t ended_at) { return store_->SetMeta(kCoupleEndedAt, std::to_string(ended_at)); }

std::optional<std::int64_t> Device::unpairing() {
  auto text = Meta(kCoupleEnding);
  if (!text || text->empty()) return std::nullopt;
  return std::strtoll(text->c_str(), nullptr, 10);
}

Status Device::MarkUnpairing(std::int64_t ended_at) { return store_->SetMeta(kCoupleEnding, std::to_string(ended_at)); }

std::string Device::safety_number() {
  auto p = partner();
  return p ? SafetyNumber(my_key(), p->sign_key) : std::string();
}

bool Device::safety_number_verified() {
  const std::string number = safety_number();
  return !number.empty() && Meta(kVerifiedSafetyNumber) == number;
}

Status Device::MarkSafetyNumberVerified() {
  return store_->SetMeta(kVerifiedSafetyNumber, safety_number());
}

std::optional<Partner> Device::partner() {
  auto name = Meta(kPartnerName);
  auto sign_key = Meta(kPartnerSignKey);
  auto kx_key = Meta(kPartnerKxKey);
  if (!name || !sign_key || !kx_key) return std::nullopt;
  return Partner{*name, *sign_key, *kx_key};
}

Status Device::SetPendingInvite(const crypto::SymmetricKey& secret) {
  DeviceKeys updated = keys_;
  updated.invite_secret = secret;
  DUET_RETURN_IF_ERROR(SaveKeyFile(updated));
  keys_ = std::move(updated);
  return Status::Ok();
}

Status Device::ClearPendingInvite() {
  DeviceKeys updated = keys_;
  updated.invite_secret.reset();
  DUET_RETURN_IF_ERROR(SaveKeyFile(updated));
  keys_ = std::move(updated);
  return Status::Ok();
}

Status Device::CompletePairing(const crypto::SymmetricKey& couple_key,
                               const std::string& couple_id, const Partner& partner) {
  // The partner first, the key (and dropping the invite secret) last: a crash
  // between the two leaves a device that is not paired yet and still holds
  // the invite secret, so the next sync completes the same pairing again.
  std::string question_key = crypto::Hash(32, kQuestionContext, couple_key.view());
  DUET_RETURN_IF_ERROR(store_->SetMetas({{kCoupleId, couple_id},
                                         {kPartnerName, partner.name},
                                         {kPartnerSignKey, partner.sign_key},
                                         {kPartnerKxKey, partner.kx_key},
                                         {kQuestionKey, crypto::SecretboxSeal(keys_.local_key, question_key)}}));
  crypto::WipeString(question_key);
  DeviceKeys updated = keys_;
  updated.couple_key = couple_key;
  updated.invite_secret.reset();
  DUET_RETURN_IF_ERROR(SaveKeyFile(updated));
  keys_ = std::move(updated);
  return Status::Ok();
}

Result<std::string> Device::AddRecord(model::v1::RecordBody body, bool shared) {
  body.set_schema(model::SchemaFor(body));
  body.set_created_at_ms(NowMs());
  // What the partner's device would refuse is never saved: the same rules
  // judge it there (OpenRecord), so a record the author kept cannot vanish.
  const model::Verdict verdict = model::ValidateBody(body);
  if (!verdict.valid())
    return MakeError(ErrorKind::kInvalidInput,
                     "cannot save this " + model::RecordKindName(body) + ": " + verdict.problem);
  std::optional<std::string> couple = couple_id();
  if (archive())
    return MakeError(ErrorKind::kInvalidInput,
                     "this home is an archive restored with `duet import`: it is read-only; to write, "
                     "set up a device with `duet init` in another --home");
  if (shared && revoked_at())
    return MakeError(ErrorKind::kInvalidInput,
                     "another device of yours revoked this one, so it shares nothing more; it still shows what "
                     "it has. To use duet here again: duet wipe, duet init, then link it anew (duet device join)");
  if (shared && unpaired_at())
    return MakeError(ErrorKind::kInvalidInput,
                     "your pairing has ended, so nothing new is shared; a check-in kept with --private "
                     "stays possible");
  if (shared && (!couple || !keys_.couple_key))
    return MakeError(ErrorKind::kInvalidInput,
                     "not paired yet, so nothing can be shared; pair first (duet invite / duet "
                     "join) or use --private");
  std::string record_id;
  // Read the chain, seal and store in one transaction: a crash or a second
  // duet running at the same time can never give two records one number.
  Status stored = store_->InTransaction([&]() -> Status {
    if (shared) {
      // Each shared record names the author's previous one, and what the
      // author had of the partner's (docs/protocol.md §4).
      std::uint64_t seq = 0;
      if (auto text = Meta(kChainSeq)) seq = std::strtoull(text->c_str(), nullptr, 10);
      body.set_author_seq(seq + 1);
      body.set_prev_hash(Meta(kChainHead).value_or(""));
      if (auto text = Meta(kPartnerHeadSeq)) body.set_partner_seq(std::strtoull(text->c_str(), nullptr, 10));
      body.set_partner_hash(Meta(kPartnerHeadHash).value_or(""));
      if (auto text = Meta(kPartnerHeadCursor))
        body.set_relay_cursor(std::strtoull(text->c_str(), nullptr, 10));
    }
    bool travels = shared;
    v1::RecordEnvelope envelope =
        shared ? SealRecord(body, *keys_.couple_key, keys_.identity, *couple) : SealKept(body, &travels);
    storage::ReplicaRecord record;
    record.record_id = envelope.record_id();
    record.author_key = envelope.author_key();
    record.envelope = envelope.SerializeAsString();
    record.shared = travels;
    DUET_RETURN_IF_ERROR(store_->AddLocal(record));
    record_id = record.record_id;
    if (!shared) return Status::Ok();
    return store_->SetMetas(
        {{kChainSeq, std::to_string(body.author_seq())}, {kChainHead, EnvelopeHash(envelope)}});
  });
  if (!stored.ok()) return stored.error();
  return record_id;
}

Result<std::string> Device::Delete(const model::OpenedRecord& record) {
  if (record.author_key != my_key())
    return MakeError(ErrorKind::kInvalidInput, "only its author can delete a record");
  // Its Deletion stands in for it in the chain of the device that wrote it.
  if (record.device_key != device_key())
    return MakeError(ErrorKind::kInvalidInput,
                     "this record was written on another of your devices; delete it there");
  // A kept note that never left this device is just forgotten. One that
  // travels to my other devices (protocol.md §5.1) is deleted there too, by
  // a kept Deletion, and erased from the relay like a shared one.
  if (!record.shared && !OwnKey()) {
    DUET_RETURN_IF_ERROR(store_->Forget({record.record_id}));
    (void)store_->EraseLeftovers();
    return std::string();
  }
  std::string deletion_id;
  Status done = store_->InTransaction([&]() -> Status {
    auto added = AddRecord(model::DeletionOf(record), /*shared=*/record.shared);
    if (!added.ok()) return added.error();
    deletion_id = added.value();
    DUET_RETURN_IF_ERROR(store_->Forget({record.record_id}));
    return store_->SetMeta(kPurgesOwed, Meta(kPurgesOwed).value_or("") + record.record_id + deletion_id);
  });
  if (!done.ok()) return done.error();
  (void)store_->EraseLeftovers();  // deleted either way; this only tidies the log
  return deletion_id;
}

std::vector<std::pair<std::string, std::string>> Device::PendingPurges() {
  const std::string owed = Meta(kPurgesOwed).value_or("");
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t at = 0; at + kPurgeEntryBytes <= owed.size(); at += kPurgeEntryBytes)
    out.emplace_back(owed.substr(at, kPurgeEntryBytes / 2), owed.substr(at + kPurgeEntryBytes / 2, kPurgeEntryBytes / 2));
  return out;
}

Status Device::PurgesDone(const std::vector<std::string>& record_ids) {
  return store_->InTransaction([&]() -> Status {
    std::string left;
    for (const auto& [deleted, deletion] : PendingPurges())
      if (std::find(record_ids.begin(), record_ids.end(), deleted) == record_ids.end()) left += deleted + deletion;
    return store_->SetMeta(kPurgesOwed, left);
  });
}

std::vector<std::string> Device::CoupleAuthors() {
  std::vector<std::string> authors;
  for (bool mine : {true, false})
    for (const auto& d : Devices(mine)) authors.push_back(d.sign_key());
  return authors;
}

Result<model::ChainReport> Device::CheckChains() {
  int unreadable = 0;
  auto records = OpenRecords(&unreadable);
  if (!records.ok()) return records.error();
  return CheckChains(records.value());
}

Result<model::ChainReport> Device::CheckChains(const std::vector<model::OpenedRecord>& records) {
  std::vector<model::ChainEntry> entries;
  for (const auto& r : records) {
    if (!r.shared) continue;
    entries.push_back({r.device_key, r.record_id, r.body.author_seq(), r.body.prev_hash(),
                       r.envelope_hash, r.relay_seq, r.body.partner_seq(), r.body.relay_cursor()});
  }
  // A record its author deleted keeps its place by what the Deletion says.
  for (const auto& d : model::Deletions(records))
    if (!d.held) entries.push_back({d.device_key, d.record_id, d.author_seq, "", d.record_hash, std::nullopt, 0, 0, true});
  const auto p = partner();
  const std::string partner_name = p ? p->name : "your partner";
  // Each device keeps its own chain; beyond the two first devices (whose
  // heads the records name) each is checked on its own.
  std::vector<std::pair<std::string, std::string>> other_chains;
  for (bool mine : {true, false}) {
    const auto devices = Devices(mine);
    for (std::size_t i = 1; i < devices.size(); ++i)
      other_chains.emplace_back(devices[i].sign_key(),
                                (mine ? std::string("your") : partner_name + "'s") + " '" + devices[i].label() + "'");
  }
  auto report = model::CheckChains(entries, my_key(), p ? p->sign_key : "", "your", partner_name, other_chains);
  auto cursor = store_->Cursor();
  if (!cursor.ok()) return cursor.error();
  DUET_RETURN_IF_ERROR(store_->SetMetas({{kPartnerHeadSeq, std::to_string(report.partner_head.seq)},
                                         {kPartnerHeadHash, report.partner_head.hash},
                                         {kPartnerHeadCursor, std::to_string(cursor.value())}}));
  return report;
}

std::optional<crypto::SymmetricKey> Device::KeyFor(const std::string& key_id) {
  if (keys_.couple_key && KeyId(*keys_.couple_key) == key_id) return keys_.couple_key;
  if (auto own = OwnKey(); own && KeyId(*own) == key_id) return own;
  auto sealed = Meta(kArchivedKeyPrefix + crypto::Hex(key_id));
  if (!sealed) return std::nullopt;
  return crypto::SecretboxOpenKey(keys_.local_key, *sealed);
}

Status Device::SwitchCoupleKey(const crypto::SymmetricKey& key) {
  // Both keys go to the database first, so neither depends on the key file
  // alone (which another duet process holding an older copy could rewrite):
  // a crash after this leaves the old key current and the new one kept.
  std::vector<std::pair<std::string, std::string>> archive = {
      {kArchivedKeyPrefix + crypto::Hex(KeyId(key)), crypto::SecretboxSeal(keys_.local_key, key.view())}};
  if (keys_.couple_key)
    archive.emplace_back(kArchivedKeyPrefix + crypto::Hex(KeyId(*keys_.couple_key)),
                         crypto::SecretboxSeal(keys_.local_key, keys_.couple_key->view()));
  DUET_RETURN_IF_ERROR(store_->SetMetas(archive));
  DeviceKeys updated = keys_;
  updated.couple_key = key;
  DUET_RETURN_IF_ERROR(SaveKeyFile(updated));
  keys_ = std::move(updated);
  return Status::Ok();
}

std::optional<std::string> Device::DailyQuestionKey() {
  if (auto sealed = Meta(kQuestionKey))
    if (auto key = crypto::SecretboxOpen(keys_.local_key, *sealed)) return key;
  if (!keys_.couple_key) return std::nullopt;
  // Paired before the key was kept: derived from the couple key now, and
  // kept from then on.
  std::string key = crypto::Hash(32, kQuestionContext, keys_.couple_key->view());
  (void)store_->SetMeta(kQuestionKey, crypto::SecretboxSeal(keys_.local_key, key));
  return key;
}

Result<std::string> Device::Rekey() {
  auto p = partner();
  if (!paired() || !p)
    return MakeError(ErrorKind::kInvalidInput, "not paired yet; there is no couple key to renew");
  const crypto::SymmetricKey fresh = crypto::RandomKey();
  auto sealed = crypto::SealToPublicKey(p->kx_key, fresh.view());
  if (!sealed)
    return MakeError(ErrorKind::kVerification,
                     "the partner's key exchange key is not usable; pair again to renew it");
  model::v1::RecordBody body;
  body.mutable_rekey()->set_key_id(KeyId(fresh));
  // Every other device of the couple gets it too (protocol.md §5.1), and a
  // revoked one never does, even the partner's first.
  const auto theirs = Devices(false);
  if (!Revoked(theirs.front())) body.mutable_rekey()->set_sealed_key(*sealed);
  for (bool mine : {true, false})
    for (const auto& d : Devices(mine)) {
      if (d.sign_key() == device_key() || Revoked(d) || (!mine && d.sign_key() == p->sign_key)) continue;
      // A key nobody can seal to (ApplyDeviceLinked refuses those) gets
      // nothing rather than stopping the new epoch for everyone.
      auto for_device = crypto::SealToPublicKey(d.kx_key(), fresh.view());
      if (!for_device || body.rekey().sealed_for_size() >= 16) continue;
      auto* entry = body.mutable_rekey()->add_sealed_for();
      entry->set_device_key(d.sign_key());
      entry->set_sealed_key(*for_device);
    }
  // The new key is durable before anything names it: kept (sealed under the
  // local key) in the same transaction that queues the Rekey record, so
  // whenever the partner starts using it, this device can read what they
  // write. Making it current comes after, and is finished by the next
  // Device::Open if a crash comes first.
  std::string id;
  Status queued = store_->InTransaction([&]() -> Status {
    DUET_RETURN_IF_ERROR(store_->SetMetas({{kArchivedKeyPrefix + crypto::Hex(KeyId(fresh)),
                                            crypto::SecretboxSeal(keys_.local_key, fresh.view())},
                                           {kRekeyPending, KeyId(fresh)},
                                           {kRekeyOwed, ""}}));
    auto added = AddRecord(body, /*shared=*/true);
    if (!added.ok()) return added.error();
    id = added.value();
    return Status::Ok();
  });
  if (!queued.ok()) return queued.error();
  CrashPoint("rekey-queued");
  // The record is saved: a failure to make the key current now (a full
  // disk) is finished by the next open, and must not read as "not saved".
  (void)FinishRekey();
  return id;
}

Status Device::FinishRekey() {
  const std::string pending = Meta(kRekeyPending).value_or("");
  if (pending.empty()) return Status::Ok();
  if (!keys_.couple_key || KeyId(*keys_.couple_key) != pending) {
    auto key = KeyFor(pending);
    if (!key)
      return MakeError(ErrorKind::kDamaged, "the new couple key of an interrupted `duet rekey` is missing "
                                            "from the local database; restore it from a backup");
    DUET_RETURN_IF_ERROR(SwitchCoupleKey(*key));
  }
  CrashPoint("rekey-switched");
  return store_->SetMeta(kRekeyPending, "");
}

Status Device::ApplyRekey(const model::v1::RecordBody& body, const std::string& author_key) {
  if (!body.has_rekey() || author_key == device_key()) return Status::Ok();
  if (KeyFor(body.rekey().key_id())) return Status::Ok();  // applied already
  std::string sealed = body.rekey().sealed_key();
  for (const auto& entry : body.rekey().sealed_for())
    if (entry.device_key() == device_key()) sealed = entry.sealed_key();
  auto key = crypto::OpenSealedKey(keys_.exchange, sealed);
  if (!key || KeyId(*key) != body.rekey().key_id())
    return MakeError(ErrorKind::kVerification,
                     std::string("a new couple key from ") +
                         (PersonOf(author_key) == my_key() ? "another device of yours" : "your partner") +
                         " was not sealed for this device; what is sealed under it cannot be shown here (if this "
                         "device was just linked, link it again)");
  return SwitchCoupleKey(*key);
}

Result<OpenedBody> Device::VerifyIncoming(const v1::RecordEnvelope& envelope) {
  auto couple = couple_id();
  if (!couple || !keys_.couple_key)
    return MakeError(ErrorKind::kInvalidInput, "not paired yet");
  auto key = KeyFor(envelope.key_id());
  if (!key)
    return MakeError(ErrorKind::kVerification,
                     "record is sealed under key " + crypto::Hex(envelope.key_id()) +
                         ", which this device does not have");
  return OpenRecord(envelope, *key, *couple, CoupleAuthors());
}

Status Device::Restore(const std::string& me_key, const std::optional<Partner>& partner,
                       const std::vector<Restored>& records) {
  std::vector<storage::ArchivedRecord> rows;
  rows.reserve(records.size());
  for (const auto& r : records) {
    std::string plain = r.content.SerializeAsString();
    rows.push_back({r.record_id, r.author_key, r.shared, r.relay_seq, crypto::SecretboxSeal(keys_.local_key, plain)});
    crypto::WipeString(plain);
  }
  std::vector<std::pair<std::string, std::string>> meta = {{kArchivedMe, me_key}};
  if (partner) {
    meta.emplace_back(kPartnerName, partner->name);
    meta.emplace_back(kPartnerSignKey, partner->sign_key);
    meta.emplace_back(kPartnerKxKey, partner->kx_key);
  }
  DUET_RETURN_IF_ERROR(store_->InTransaction([&]() -> Status {
    DUET_RETURN_IF_ERROR(store_->SetMetas(meta));
    return store_->AddArchived(rows);
  }));
  archived_me_ = me_key;
  return Status::Ok();
}

Result<std::vector<model::OpenedRecord>> Device::OpenRecords(int* unreadable) {
  *unreadable = 0;
  // Read before anything it stands for: a change after this point means
  // what is opened below is not kept (replica_store.h).
  auto kept = store_->CurrentOpened();
  if (!kept.ok()) return kept.error();
  auto archived = store_->Archived();
  if (!archived.ok()) return archived.error();
  const std::vector<std::string> authors = CoupleAuthors();
  std::map<std::string, std::string> person;
  for (const auto& key : authors) person[key] = PersonOf(key);
  // Every own key this device has held seals kept notes, the current one too.
  std::set<std::string> own_ids;
  const std::string listed = OwnKeyIds();
  for (std::size_t at = 0; at + 8 <= listed.size(); at += 8) own_ids.insert(listed.substr(at, 8));
  if (const auto own = OwnKey()) own_ids.insert(KeyId(*own));
  std::vector<model::OpenedRecord> out;
  for (const auto& row : archived.value()) {
    auto plain = crypto::SecretboxOpen(keys_.local_key, row.sealed);
    model::v1::ArchivedBody content;
    if (!plain || !content.ParseFromString(*plain)) {
      ++*unreadable;
      continue;
    }
    crypto::WipeString(*plain);
    model::OpenedRecord opened;
    opened.record_id = row.record_id;
    opened.author_key = row.author_key;
    opened.device_key = row.author_key;
    opened.shared = row.shared;
    opened.relay_seq = row.relay_seq;
    opened.body = std::move(*content.mutable_body());
    // What the exporting duet judged: a newer record's unknown kind did not
    // survive the JSON, so it is not judged again.
    if (!content.shown())
      opened.verdict = {content.newer() ? model::Validity::kNewer : model::Validity::kInvalid, "",
                        content.not_shown_because()};
    out.push_back(std::move(opened));
  }

  // Decrypting every record is most of what a command costs; what they
  // decrypt to is kept, sealed under the local key, until they change.
  local::v1::OpenedRows decrypted;
  const std::string couple_key_id = keys_.couple_key ? KeyId(*keys_.couple_key) : std::string();
  if (!kept->sealed || !OpenKeptRows(*kept->sealed, couple_key_id, &decrypted)) {
    auto rows = DecryptRows(authors);
    if (!rows.ok()) return rows.error();
    decrypted = std::move(rows).value();
    decrypted.set_couple_key_id(couple_key_id);
    std::string plain = decrypted.SerializeAsString();
    // Not kept when another duet is writing: the next command tries again.
    (void)store_->KeepOpened(kept->generation, crypto::SecretboxSeal(keys_.local_key, plain));
    crypto::WipeString(plain);
  }
  *unreadable += static_cast<int>(decrypted.unreadable());
  out.reserve(out.size() + static_cast<std::size_t>(decrypted.rows_size()));
  for (auto& row : *decrypted.mutable_rows()) {
    std::optional<std::string> plain;
    if (row.has_plaintext()) plain = std::move(*row.mutable_plaintext());
    OpenedBody body = ReadRecordBody(plain);
    if (plain) crypto::WipeString(*plain);
    model::OpenedRecord opened;
    opened.record_id = std::move(*row.mutable_record_id());
    opened.device_key = std::move(*row.mutable_device_key());
    const auto who = person.find(opened.device_key);
    opened.author_key = who != person.end() ? who->second : opened.device_key;
    // A kept note that travels between my devices is still kept.
    opened.shared = row.shared() && !own_ids.count(row.key_id());
    if (row.has_relay_seq()) opened.relay_seq = row.relay_seq();
    opened.envelope_hash = std::move(*row.mutable_envelope_hash());
    opened.body = std::move(body.body);
    opened.verdict = std::move(body.verdict);
    out.push_back(std::move(opened));
  }
  return out;
}

bool Device::OpenKeptRows(const std::string& sealed, const std::string& couple_key_id,
                          local::v1::OpenedRows* rows) {
  auto plain = crypto::SecretboxOpen(keys_.local_key, sealed);
  if (!plain) return false;
  const bool fits = rows->ParseFromString(*plain) && rows->couple_key_id() == couple_key_id;
  crypto::WipeString(*plain);
  if (!fits) rows->Clear();
  return fits;
}

Result<local::v1::OpenedRows> Device::DecryptRows(const std::vector<std::string>& authors) {
  auto rows = store_->AllRecords();
  if (!rows.ok()) return rows.error();
  const std::vector<std::string> self = {keys_.identity.public_key};
  // Looked up once, not per record.
  const std::optional<std::string> couple = couple_id();
  std::map<std::string, std::optional<crypto::SymmetricKey>> keys;
  auto key_for = [&](const std::string& key_id) -> const std::optional<crypto::SymmetricKey>& {
    auto it = keys.find(key_id);
    if (it == keys.end()) it = keys.emplace(key_id, KeyFor(key_id)).first;
    return it->second;
  };
  local::v1::OpenedRows out;
  for (const auto& row : rows.value()) {
    v1::RecordEnvelope envelope;
    if (!envelope.ParseFromString(row.envelope)) {
      out.set_unreadable(out.unreadable() + 1);
      continue;
    }
    // Every stored record was verified when it was stored (pulled or
    // written here): its signature is not checked again.
    Result<std::optional<std::string>> plain = MakeError(ErrorKind::kVerification, "not paired");
    if (!row.shared) {
      plain = DecryptRecord(envelope, keys_.local_key, kLocalCoupleId, self, SignatureCheck::kVerifiedOnReceipt);
    } else if (couple) {
      const auto& key = key_for(envelope.key_id());
      if (key) plain = DecryptRecord(envelope, *key, *couple, authors, SignatureCheck::kVerifiedOnReceipt);
    }
    if (!plain.ok()) {
      out.set_unreadable(out.unreadable() + 1);
      continue;
    }
    auto* opened = out.add_rows();
    opened->set_record_id(row.record_id);
    opened->set_device_key(row.author_key);
    opened->set_shared(row.shared);
    if (row.relay_seq) opened->set_relay_seq(*row.relay_seq);
    opened->set_key_id(envelope.key_id());
    opened->set_envelope_hash(EnvelopeHash(envelope));
    if (plain.value()) {
      opened->set_plaintext(*plain.value());
      crypto::WipeString(*plain.value());
    }
  }
  return out;
}

}  // namespace duet::client
