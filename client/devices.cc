// Several devices of one partner (docs/protocol.md §5.1): which devices are
// whose, the own key that carries kept notes between one's own devices, and
// the keys a linking device hands a new one.
#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "base/crash_point.h"
#include "client/device.h"
#include "client/meta_keys.h"
#include "client/sealing.h"
#include "proto/envelope.h"

namespace duet::client {
using namespace meta;
namespace {

constexpr char kFirstDeviceLabel[] = "first device";
constexpr std::string_view kLinkKeysLabel = "duet/v1/link-keys";
// What one partner's devices may number at once: the relay holds 8 for a couple.
constexpr std::size_t kMaxDevicesPerSide = 8;

model::v1::DeviceIdentity Identity(const std::string& sign_key, const std::string& kx_key, const std::string& label) {
  model::v1::DeviceIdentity d;
  d.set_sign_key(sign_key);
  d.set_kx_key(kx_key);
  d.set_label(label);
  return d;
}

bool Holds(const std::vector<model::v1::DeviceIdentity>& devices, const std::string& key) {
  return std::any_of(devices.begin(), devices.end(), [&](const auto& d) { return d.sign_key() == key; });
}

// The body holds keys: it is hashed in place, never copied into the message.
std::string LinkKeysSigned(const std::string& invite_id, const std::string& new_device, const std::string& body) {
  std::string message(kLinkKeysLabel);
  message += invite_id;
  message += new_device;
  message += crypto::Hash(32, body);
  return message;
}

// 8-byte key ids, concatenated, as the meta table keeps them.
bool NamesKeyId(const std::string& ids, const std::string& id) {
  for (std::size_t at = 0; at + 8 <= ids.size(); at += 8)
    if (ids.compare(at, 8, id) == 0) return true;
  return false;
}

// A key others can seal to: crypto_box_seal refuses low-order points.
bool UsableKxKey(const std::string& kx_key) {
  return kx_key.size() == 32 && crypto::SealToPublicKey(kx_key, "probe").has_value();
}

void WipeKeys(model::v1::LinkKeys& keys) {
  for (auto& key : *keys.mutable_couple_keys()) crypto::WipeString(key);
  crypto::WipeString(*keys.mutable_own_key());
  crypto::WipeString(*keys.mutable_question_key());
}

}  // namespace

std::vector<model::v1::DeviceIdentity> Device::Devices(bool mine) {
  auto& kept = kept_devices_[mine ? 0 : 1];
  if (keeping_devices_ > 0 && kept) return *kept;
  std::vector<model::v1::DeviceIdentity> out;
  if (mine && person_me_.empty()) out.push_back(Identity(device_key(), keys_.exchange.public_key, kFirstDeviceLabel));
  if (!mine) {
    auto p = partner();
    if (!p) return out;
    out.push_back(Identity(p->sign_key, p->kx_key, kFirstDeviceLabel));
  }
  // The list may name a first device too (once it was revoked): its entry wins.
  model::v1::DeviceList listed;
  if (auto list = Meta(mine ? kMyDevices : kPartnerDevices); list && listed.ParseFromString(*list))
    for (const auto& d : listed.devices()) {
      auto same = std::find_if(out.begin(), out.end(), [&](const auto& o) { return o.sign_key() == d.sign_key(); });
      if (same != out.end()) *same = d;
      else out.push_back(d);
    }
  if (keeping_devices_ > 0) kept = out;
  return out;
}

std::string Device::PersonOf(const std::string& key) {
  if (Holds(Devices(true), key)) return my_key();
  if (Holds(Devices(false), key)) return partner()->sign_key;
  return std::string();
}

std::string Device::OwnKeyIds() { return Meta(kOwnKeyIds).value_or(""); }

Status Device::KeepOwnKey(const crypto::SymmetricKey& key, bool current) {
  std::string ids = OwnKeyIds();
  if (!NamesKeyId(ids, KeyId(key))) ids += KeyId(key);
  std::vector<std::pair<std::string, std::string>> meta = {
      {kOwnKeyIds, ids}, {kArchivedKeyPrefix + crypto::Hex(KeyId(key)), crypto::SecretboxSeal(keys_.local_key, key.view())}};
  if (current) meta.emplace_back(kOwnKey, crypto::SecretboxSeal(keys_.local_key, key.view()));
  return store_->SetMetas(meta);
}

std::optional<crypto::SymmetricKey> Device::OwnKey() {
  auto sealed = Meta(kOwnKey);
  if (!sealed) return std::nullopt;
  return crypto::SecretboxOpenKey(keys_.local_key, *sealed);
}

v1::RecordEnvelope Device::SealKept(const model::v1::RecordBody& body, bool* travels, const std::string& record_id) {
  const auto couple = couple_id();
  const auto own = OwnKey();
  *travels = own && couple && !unpaired_at() && !revoked_at();
  if (*travels) return SealRecord(body, *own, keys_.identity, *couple, record_id);
  return SealRecord(body, keys_.local_key, keys_.identity, std::string(16, '\0'), record_id);
}

bool Device::IsPartnersOwnNote(const v1::RecordEnvelope& envelope) {
  return NamesKeyId(Meta(kPartnerOwnKeyIds).value_or(""), envelope.key_id()) &&
         proto::EnvelopeShapeError(envelope).empty() && envelope.couple_id() == couple_id() &&
         Holds(Devices(false), envelope.author_key()) &&
         crypto::Verify(envelope.author_key(), proto::EnvelopeSignedBytes(envelope), envelope.signature());
}

Status Device::ApplyDeviceLinked(const model::v1::RecordBody& body, const std::string& author_device) {
  if (!body.has_device_linked()) return Status::Ok();
  ForgetDeviceLists();
  const auto& linked = body.device_linked();
  const bool by_me = Holds(Devices(true), author_device);
  if (!by_me && !Holds(Devices(false), author_device)) return Status::Ok();
  // A device belongs to one partner: naming one of the other's changes
  // nothing. Nor does a key nobody can seal to, or a device past what one
  // couple holds: either would stop every later rekey.
  const auto side = Devices(by_me);
  const auto active = std::count_if(side.begin(), side.end(), [](const auto& d) { return !Revoked(d); });
  const bool known = Holds(Devices(true), linked.sign_key()) || Holds(Devices(false), linked.sign_key());
  if (known || !UsableKxKey(linked.kx_key()) || static_cast<std::size_t>(active) >= kMaxDevicesPerSide) {
    if (by_me) return Status::Ok();
  } else {
    model::v1::DeviceList list;
    if (auto stored = Meta(by_me ? kMyDevices : kPartnerDevices)) list.ParseFromString(*stored);
    *list.add_devices() = Identity(linked.sign_key(), linked.kx_key(), linked.label());
    DUET_RETURN_IF_ERROR(store_->SetMeta(by_me ? kMyDevices : kPartnerDevices, list.SerializeAsString()));
    ForgetDeviceLists();
  }
  if (by_me) return Status::Ok();
  const std::string ids = Meta(kPartnerOwnKeyIds).value_or("");
  if (NamesKeyId(ids, linked.own_key_id())) return Status::Ok();
  return store_->SetMeta(kPartnerOwnKeyIds, ids + linked.own_key_id());
}

Status Device::AddLinkedDevice(const model::v1::PairingIdentity& added) {
  ForgetDeviceLists();
  if (Holds(Devices(true), added.sign_key())) return Status::Ok();
  if (Holds(Devices(false), added.sign_key()))
    return MakeError(ErrorKind::kInvalidInput, "that device is your partner's; a link code is for your own devices");
  if (!UsableKxKey(added.kx_key()))
    return MakeError(ErrorKind::kVerification, "the device that answered has an unusable key; link it again");
  return store_->InTransaction([&]() -> Status {
    std::optional<crypto::SymmetricKey> own = OwnKey();
    const bool first_link = !own;
    if (first_link) {
      own = crypto::RandomKey();
      DUET_RETURN_IF_ERROR(KeepOwnKey(*own, /*current=*/true));
    }
    model::v1::RecordBody body;
    auto* linked = body.mutable_device_linked();
    linked->set_sign_key(added.sign_key());
    linked->set_kx_key(added.kx_key());
    linked->set_label(added.name());
    linked->set_own_key_id(KeyId(*own));
    auto id = AddRecord(body, /*shared=*/true);
    if (!id.ok()) return id.error();
    model::v1::DeviceList list;
    if (auto stored = Meta(kMyDevices)) list.ParseFromString(*stored);
    *list.add_devices() = Identity(added.sign_key(), added.kx_key(), added.name());
    DUET_RETURN_IF_ERROR(store_->SetMeta(kMyDevices, list.SerializeAsString()));
    ForgetDeviceLists();
    if (!first_link) return Status::Ok();
    // The kept notes so far travel from now on, after the record that
    // tells the partner's devices to skip them: sealed again, same ids.
    auto rows = store_->AllRecords();
    if (!rows.ok()) return rows.error();
    for (const auto& row : rows.value()) {
      if (row.shared) continue;
      v1::RecordEnvelope envelope;
      if (!envelope.ParseFromString(row.envelope)) continue;
      auto opened = OpenRecord(envelope, keys_.local_key, std::string(16, '\0'), {device_key()},
                               SignatureCheck::kVerifiedOnReceipt);
      if (!opened.ok()) continue;
      bool travels = false;
      v1::RecordEnvelope resealed = SealKept(opened->body, &travels, row.record_id);
      DUET_RETURN_IF_ERROR(store_->Forget({row.record_id}));
      storage::ReplicaRecord record{row.record_id, row.author_key, resealed.SerializeAsString(), travels, {}};
      DUET_RETURN_IF_ERROR(store_->AddLocal(record));
    }
    return Status::Ok();
  });
}

Result<std::string> Device::SealLinkKeys(const model::v1::PairingIdentity& added, const std::string& invite_id) {
  auto p = partner();
  auto couple = couple_id();
  auto own = OwnKey();
  auto question = DailyQuestionKey();
  if (!p || !couple || !keys_.couple_key || !own || !question)
    return MakeError(ErrorKind::kInvalidInput, "this device is not paired, so it has no keys to hand on");
  model::v1::LinkKeys keys;
  keys.set_name(name());
  keys.set_person_key(my_key());
  keys.set_couple_id(*couple);
  auto archived = store_->MetasWithPrefix(kArchivedKeyPrefix);
  if (!archived.ok()) return archived.error();
  const std::string current_id = KeyId(*keys_.couple_key);
  const std::string own_ids = OwnKeyIds();
  for (const auto& [name, sealed] : archived.value()) {
    auto key = crypto::SecretboxOpenKey(keys_.local_key, sealed);
    if (!key || KeyId(*key) == current_id) continue;
    // Earlier own keys open my older kept notes; they are not couple keys.
    if (NamesKeyId(own_ids, KeyId(*key))) keys.add_own_keys(std::string(key->view()));
    else keys.add_couple_keys(std::string(key->view()));
  }
  keys.set_partner_own_key_ids(Meta(kPartnerOwnKeyIds).value_or(""));
  keys.add_couple_keys(std::string(keys_.couple_key->view()));
  keys.set_own_key(std::string(own->view()));
  keys.set_question_key(*question);
  crypto::WipeString(*question);
  keys.mutable_partner()->set_name(p->name);
  keys.mutable_partner()->set_sign_key(p->sign_key);
  keys.mutable_partner()->set_kx_key(p->kx_key);
  for (const auto& d : Devices(true))
    if (d.sign_key() != added.sign_key()) *keys.add_my_devices() = d;
  for (const auto& d : Devices(false)) *keys.add_partner_devices() = d;
  keys.set_verified_safety_number(Meta(kVerifiedSafetyNumber).value_or(""));
  model::v1::SignedLinkKeys signed_keys;
  signed_keys.set_body(keys.SerializeAsString());
  WipeKeys(keys);
  signed_keys.set_signature(
      crypto::Sign(keys_.identity, LinkKeysSigned(invite_id, added.sign_key(), signed_keys.body())));
  std::string plain = signed_keys.SerializeAsString();
  crypto::WipeString(*signed_keys.mutable_body());
  auto sealed = crypto::SealToPublicKey(added.kx_key(), plain);
  crypto::WipeString(plain);
  if (!sealed) return MakeError(ErrorKind::kVerification, "the new device's key exchange key is not usable");
  if (sealed->size() > proto::kMaxSealedLinkKeysBytes)
    return MakeError(ErrorKind::kInvalidInput, "this couple has more keys than one link can carry");
  return std::move(*sealed);
}

Status Device::AdoptLinkKeys(const std::string& sealed, const std::string& invite_id, const std::string& linker_key) {
  ForgetDeviceLists();
  auto plain = crypto::OpenSealed(keys_.exchange, sealed);
  model::v1::SignedLinkKeys signed_keys;
  const bool parsed = plain && signed_keys.ParseFromString(*plain);
  if (plain) crypto::WipeString(*plain);
  if (!parsed ||
      !crypto::Verify(linker_key, LinkKeysSigned(invite_id, device_key(), signed_keys.body()), signed_keys.signature()))
    return MakeError(ErrorKind::kVerification,
                     "the keys from your other device did not verify; run `duet device link` there again");
  model::v1::LinkKeys keys;
  const bool read = keys.ParseFromString(signed_keys.body());
  crypto::WipeString(*signed_keys.mutable_body());
  struct Wipe {
    model::v1::LinkKeys& k;
    ~Wipe() { WipeKeys(k); }
  } wipe{keys};
  if (!read || keys.couple_keys_size() == 0 || keys.own_key().size() != crypto::kKeyBytes ||
      keys.question_key().size() != 32 || keys.couple_id().size() != 16 || keys.person_key().size() != 32 ||
      keys.partner().sign_key().size() != 32 || keys.partner().kx_key().size() != 32 ||
      !Holds({keys.my_devices().begin(), keys.my_devices().end()}, linker_key))
    return MakeError(ErrorKind::kVerification,
                     "the keys from your other device are incomplete; update duet there and link again");
  for (const auto& key : keys.couple_keys())
    if (key.size() != crypto::kKeyBytes)
      return MakeError(ErrorKind::kVerification, "the keys from your other device are damaged; link again");
  for (const auto& key : keys.own_keys())
    if (key.size() != crypto::kKeyBytes)
      return MakeError(ErrorKind::kVerification, "the keys from your other device are damaged; link again");
  model::v1::DeviceList mine, theirs;
  for (const auto& d : keys.my_devices()) *mine.add_devices() = d;
  // This device last, so "mine" lists the first device first.
  *mine.add_devices() = Identity(device_key(), keys_.exchange.public_key, Meta(kDeviceLabel).value_or(name()));
  for (const auto& d : keys.partner_devices()) *theirs.add_devices() = d;
  crypto::SymmetricKey own;
  own.Assign(keys.own_key());
  crypto::SymmetricKey current;
  current.Assign(keys.couple_keys(keys.couple_keys_size() - 1));
  std::vector<std::pair<std::string, std::string>> meta = {
      {kCoupleId, keys.couple_id()},
      {kPersonMe, keys.person_key()},
      {kName, keys.name()},
      {kPartnerName, keys.partner().name()},
      {kPartnerSignKey, keys.partner().sign_key()},
      {kPartnerKxKey, keys.partner().kx_key()},
      {kMyDevices, mine.SerializeAsString()},
      {kPartnerDevices, theirs.SerializeAsString()},
      {kPartnerOwnKeyIds, keys.partner_own_key_ids()},
      {kQuestionKey, crypto::SecretboxSeal(keys_.local_key, keys.question_key())}};
  if (!keys.verified_safety_number().empty()) meta.emplace_back(kVerifiedSafetyNumber, keys.verified_safety_number());
  for (const auto& key : keys.couple_keys()) {
    crypto::SymmetricKey k;
    k.Assign(key);
    meta.emplace_back(kArchivedKeyPrefix + crypto::Hex(KeyId(k)), crypto::SecretboxSeal(keys_.local_key, k.view()));
  }
  // Everything in the database first, the current key in the key file
  // last: a crash between leaves a device that fetches the keys again.
  DUET_RETURN_IF_ERROR(store_->InTransaction([&]() -> Status {
    DUET_RETURN_IF_ERROR(store_->SetMetas(meta));
    for (const auto& key : keys.own_keys()) {
      crypto::SymmetricKey k;
      k.Assign(key);
      DUET_RETURN_IF_ERROR(KeepOwnKey(k, /*current=*/false));
    }
    return KeepOwnKey(own, /*current=*/true);
  }));
  CrashPoint("link-adopted");
  DeviceKeys updated = keys_;
  updated.couple_key = current;
  DUET_RETURN_IF_ERROR(SaveKeyFile(updated));
  keys_ = std::move(updated);
  person_me_ = keys.person_key();
  ForgetDeviceLists();
  return SetPendingLink(std::nullopt);
}

Result<std::string> Device::RevokeDevice(const std::string& key) {
  if (archive()) return MakeError(ErrorKind::kInvalidInput, "this home is an archive; it revokes nothing");
  if (unpaired_at()) return MakeError(ErrorKind::kInvalidInput, "your pairing has ended; there is nothing to revoke");
  if (revoked_at()) return MakeError(ErrorKind::kInvalidInput, "this device was revoked itself; it revokes nothing");
  if (key == device_key())
    return MakeError(ErrorKind::kInvalidInput,
                     "a device cannot revoke itself: revoke it from another of your devices, or `duet wipe` it");
  const auto mine = Devices(true);
  const auto target = std::find_if(mine.begin(), mine.end(), [&](const auto& d) { return d.sign_key() == key; });
  if (target == mine.end())
    return MakeError(ErrorKind::kNotFound, "no device of yours has that id; `duet device list` shows them");
  if (Revoked(*target)) return MakeError(ErrorKind::kInvalidInput, "that device is revoked already");
  const crypto::SymmetricKey fresh = crypto::RandomKey();
  model::v1::RecordBody body;
  auto* revoked = body.mutable_device_revoked();
  revoked->set_sign_key(key);
  revoked->set_own_key_id(KeyId(fresh));
  for (const auto& d : mine) {
    if (d.sign_key() == key || d.sign_key() == device_key() || Revoked(d)) continue;
    auto sealed = crypto::SealToPublicKey(d.kx_key(), fresh.view());
    if (!sealed) return MakeError(ErrorKind::kVerification, "device '" + d.label() + "' has an unusable key");
    auto* entry = revoked->add_own_key_for();
    entry->set_device_key(d.sign_key());
    entry->set_sealed_key(*sealed);
  }
  std::string id;
  DUET_RETURN_IF_ERROR(store_->InTransaction([&]() -> Status {
    // The old own key stays (archived) for the notes it sealed.
    DUET_RETURN_IF_ERROR(KeepOwnKey(fresh, /*current=*/true));
    auto added = AddRecord(body, /*shared=*/true);
    if (!added.ok()) return added.error();
    id = added.value();
    DUET_RETURN_IF_ERROR(MarkDeviceRevoked(/*mine=*/true, key, id));
    return store_->SetMetas({{kRevokesOwed, Meta(kRevokesOwed).value_or("") + key}, {kRekeyOwed, "1"}});
  }));
  CrashPoint("revoke-recorded");
  // The new epoch; a crash before it is queued is finished by the next open.
  auto rekeyed = Rekey();
  if (!rekeyed.ok()) return rekeyed.error();
  return id;
}

Status Device::FinishRevocation() {
  if (Meta(kRekeyOwed).value_or("") != "1") return Status::Ok();
  auto rekeyed = Rekey();
  return rekeyed.ok() ? Status::Ok() : rekeyed.error();
}

Status Device::MarkDeviceRevoked(bool mine, const std::string& key, const std::string& record_id) {
  ForgetDeviceLists();
  const char* meta_key = mine ? kMyDevices : kPartnerDevices;
  model::v1::DeviceList list;
  if (auto stored = Meta(meta_key)) list.ParseFromString(*stored);
  bool listed = false;
  for (auto& d : *list.mutable_devices())
    if (d.sign_key() == key) {
      listed = true;
      if (d.revoked_by().empty()) d.set_revoked_by(record_id);
    }
  if (!listed) {  // a first device: kept in the list from now on, marked
    const auto all = Devices(mine);
    const auto first = std::find_if(all.begin(), all.end(), [&](const auto& d) { return d.sign_key() == key; });
    if (first == all.end()) return Status::Ok();
    auto* added = list.add_devices();
    *added = *first;
    added->set_revoked_by(record_id);
  }
  Status saved = store_->SetMeta(meta_key, list.SerializeAsString());
  ForgetDeviceLists();
  return saved;
}

Status Device::ApplyDeviceRevoked(const model::v1::RecordBody& body, const std::string& author_device,
                                  const std::string& record_id) {
  if (!body.has_device_revoked()) return Status::Ok();
  const auto& revoked = body.device_revoked();
  const std::string target = revoked.sign_key();
  const bool by_me = Holds(Devices(true), author_device);
  const auto same_side = Devices(by_me);
  if (target == author_device || !Holds(same_side, author_device) || !Holds(same_side, target)) return Status::Ok();
  if (!by_me) {  // even when known already: a linked device learns the id here
    const std::string ids = Meta(kPartnerOwnKeyIds).value_or("");
    if (!NamesKeyId(ids, revoked.own_key_id()))
      DUET_RETURN_IF_ERROR(store_->SetMeta(kPartnerOwnKeyIds, ids + revoked.own_key_id()));
  }
  for (const auto& d : same_side)
    if (d.sign_key() == target && Revoked(d)) return Status::Ok();  // applied already
  DUET_RETURN_IF_ERROR(MarkDeviceRevoked(by_me, target, record_id));
  if (!by_me) return Status::Ok();
  if (target == device_key()) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    return MarkRevoked(now);
  }
  for (const auto& entry : revoked.own_key_for()) {
    if (entry.device_key() != device_key()) continue;
    auto fresh = crypto::OpenSealedKey(keys_.exchange, entry.sealed_key());
    if (!fresh || KeyId(*fresh) != revoked.own_key_id())
      return MakeError(ErrorKind::kVerification, "the new own key from your other device did not open");
    return KeepOwnKey(*fresh, /*current=*/true);
  }
  // Not sealed for this device: its kept notes stop travelling (the old
  // own key is one the revoked device holds) until it is linked anew.
  return store_->SetMeta(kOwnKey, "");
}

std::optional<std::uint64_t> Device::RevokedSince(const std::string& key) {
  for (bool mine : {true, false})
    for (const auto& d : Devices(mine)) {
      if (d.sign_key() != key || !Revoked(d)) continue;
      auto seq = store_->RelaySeqOf(d.revoked_by());
      if (seq.ok() && seq.value()) return seq.value();
    }
  return std::nullopt;
}

std::vector<std::string> Device::RevokesOwed() {
  const std::string owed = Meta(kRevokesOwed).value_or("");
  std::vector<std::string> out;
  for (std::size_t at = 0; at + 32 <= owed.size(); at += 32) out.push_back(owed.substr(at, 32));
  return out;
}

Status Device::RevokeDone(const std::string& key) {
  std::string left;
  for (const auto& owed : RevokesOwed())
    if (owed != key) left += owed;
  return store_->SetMeta(kRevokesOwed, left);
}

std::optional<std::int64_t> Device::revoked_at() {
  auto text = Meta(kRevokedAt);
  if (!text || text->empty()) return std::nullopt;
  return std::strtoll(text->c_str(), nullptr, 10);
}

Status Device::MarkRevoked(std::int64_t at) {
  if (revoked_at()) return Status::Ok();  // the first word of it counts
  return store_->SetMeta(kRevokedAt, std::to_string(at));
}

std::optional<Device::PendingLink> Device::pending_link() {
  const std::string stored = Meta(kPendingLink).value_or("");
  if (stored.size() < 2) return std::nullopt;
  auto secret = crypto::SecretboxOpenKey(keys_.local_key, stored.substr(1));
  if (!secret) return std::nullopt;
  return PendingLink{*secret, stored[0] == 'j' ? PairingRole::kJoiner : PairingRole::kCreator, stored[0] == 'y'};
}

Status Device::SetPendingLink(const std::optional<PendingLink>& link, const std::string& linker,
                              const std::string& label) {
  if (!link) return store_->SetMetas({{kPendingLink, ""}, {kLinker, ""}});
  // 'j' joining; 'c' linking, fingerprint to compare; 'y' linking, agreed up front.
  std::string pending(1, link->role == PairingRole::kJoiner ? 'j' : link->confirmed ? 'y' : 'c');
  pending.append(crypto::SecretboxSeal(keys_.local_key, link->secret.view()));
  std::vector<std::pair<std::string, std::string>> meta = {{kPendingLink, pending}, {kLinker, linker}};
  if (!label.empty()) meta.emplace_back(kDeviceLabel, label);
  return store_->SetMetas(meta);
}

std::string Device::linker_key() { return Meta(kLinker).value_or(""); }

std::string Device::label() {
  if (auto label = Meta(kDeviceLabel); label && !label->empty()) return *label;
  return kFirstDeviceLabel;
}

}  // namespace duet::client
