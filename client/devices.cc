// Several devices of one partner (docs/protocol.md §5.1): which devices are
// whose, the own key that carries kept notes between one's own devices, and
// the keys a linking device hands a new one.
#include <algorithm>

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

std::string LinkKeysSigned(const std::string& invite_id, const std::string& new_device, const std::string& body) {
  std::string message(kLinkKeysLabel);
  message += invite_id;
  message += new_device;
  message += body;
  return message;
}

void WipeKeys(model::v1::LinkKeys& keys) {
  for (auto& key : *keys.mutable_couple_keys()) crypto::WipeString(key);
  crypto::WipeString(*keys.mutable_own_key());
  crypto::WipeString(*keys.mutable_question_key());
}

}  // namespace

std::vector<model::v1::DeviceIdentity> Device::Devices(bool mine) {
  std::vector<model::v1::DeviceIdentity> out;
  model::v1::DeviceList listed;
  if (mine) {
    if (person_me_.empty()) out.push_back(Identity(device_key(), keys_.exchange.public_key, kFirstDeviceLabel));
    if (auto list = Meta(kMyDevices); list && listed.ParseFromString(*list))
      for (const auto& d : listed.devices()) out.push_back(d);
    return out;
  }
  auto p = partner();
  if (!p) return out;
  out.push_back(Identity(p->sign_key, p->kx_key, kFirstDeviceLabel));
  if (auto list = Meta(kPartnerDevices); list && listed.ParseFromString(*list))
    for (const auto& d : listed.devices()) out.push_back(d);
  return out;
}

std::string Device::PersonOf(const std::string& key) {
  if (Holds(Devices(true), key)) return my_key();
  if (Holds(Devices(false), key)) return partner()->sign_key;
  return std::string();
}

std::optional<crypto::SymmetricKey> Device::OwnKey() {
  auto sealed = Meta(kOwnKey);
  if (!sealed) return std::nullopt;
  return crypto::SecretboxOpenKey(keys_.local_key, *sealed);
}

v1::RecordEnvelope Device::SealKept(const model::v1::RecordBody& body, bool* travels, const std::string& record_id) {
  const auto couple = couple_id();
  const auto own = OwnKey();
  *travels = own && couple && !unpaired_at();
  if (*travels) return SealRecord(body, *own, keys_.identity, *couple, record_id);
  return SealRecord(body, keys_.local_key, keys_.identity, std::string(16, '\0'), record_id);
}

bool Device::IsPartnersOwnNote(const v1::RecordEnvelope& envelope) {
  const std::string ids = Meta(kPartnerOwnKeyIds).value_or("");
  bool named = false;
  for (std::size_t at = 0; at + 8 <= ids.size(); at += 8) named |= ids.compare(at, 8, envelope.key_id()) == 0;
  return named && proto::EnvelopeShapeError(envelope).empty() && envelope.couple_id() == couple_id() &&
         Holds(Devices(false), envelope.author_key()) &&
         crypto::Verify(envelope.author_key(), proto::EnvelopeSignedBytes(envelope), envelope.signature());
}

Status Device::ApplyDeviceLinked(const model::v1::RecordBody& body, const std::string& author_device) {
  if (!body.has_device_linked()) return Status::Ok();
  const auto& linked = body.device_linked();
  const bool by_me = Holds(Devices(true), author_device);
  if (!by_me && !Holds(Devices(false), author_device)) return Status::Ok();
  // A device belongs to one partner: naming one of the other's changes nothing.
  if (Holds(Devices(true), linked.sign_key()) || Holds(Devices(false), linked.sign_key())) {
    if (by_me) return Status::Ok();
  } else {
    model::v1::DeviceList list;
    if (auto stored = Meta(by_me ? kMyDevices : kPartnerDevices)) list.ParseFromString(*stored);
    *list.add_devices() = Identity(linked.sign_key(), linked.kx_key(), linked.label());
    DUET_RETURN_IF_ERROR(store_->SetMeta(by_me ? kMyDevices : kPartnerDevices, list.SerializeAsString()));
  }
  if (by_me) return Status::Ok();
  std::string ids = Meta(kPartnerOwnKeyIds).value_or("");
  for (std::size_t at = 0; at + 8 <= ids.size(); at += 8)
    if (ids.compare(at, 8, linked.own_key_id()) == 0) return Status::Ok();
  return store_->SetMeta(kPartnerOwnKeyIds, ids + linked.own_key_id());
}

Status Device::AddLinkedDevice(const model::v1::PairingIdentity& added) {
  if (Holds(Devices(true), added.sign_key())) return Status::Ok();
  if (Holds(Devices(false), added.sign_key()))
    return MakeError(ErrorKind::kInvalidInput, "that device is your partner's; a link code is for your own devices");
  return store_->InTransaction([&]() -> Status {
    std::optional<crypto::SymmetricKey> own = OwnKey();
    const bool first_link = !own;
    if (first_link) {
      own = crypto::RandomKey();
      DUET_RETURN_IF_ERROR(store_->SetMeta(kOwnKey, crypto::SecretboxSeal(keys_.local_key, own->view())));
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
  for (const auto& [name, sealed] : archived.value()) {
    auto key = crypto::SecretboxOpenKey(keys_.local_key, sealed);
    if (key && KeyId(*key) != current_id) keys.add_couple_keys(std::string(key->view()));
  }
  keys.add_couple_keys(std::string(keys_.couple_key->view()));
  keys.set_own_key(std::string(own->view()));
  keys.set_question_key(*question);
  keys.mutable_partner()->set_name(p->name);
  keys.mutable_partner()->set_sign_key(p->sign_key);
  keys.mutable_partner()->set_kx_key(p->kx_key);
  for (const auto& d : Devices(true))
    if (d.sign_key() != added.sign_key()) *keys.add_my_devices() = d;
  const auto theirs = Devices(false);
  for (std::size_t i = 1; i < theirs.size(); ++i) *keys.add_partner_devices() = theirs[i];
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
      {kOwnKey, crypto::SecretboxSeal(keys_.local_key, own.view())},
      {kQuestionKey, crypto::SecretboxSeal(keys_.local_key, keys.question_key())}};
  if (!keys.verified_safety_number().empty()) meta.emplace_back(kVerifiedSafetyNumber, keys.verified_safety_number());
  for (const auto& key : keys.couple_keys()) {
    crypto::SymmetricKey k;
    k.Assign(key);
    meta.emplace_back(kArchivedKeyPrefix + crypto::Hex(KeyId(k)), crypto::SecretboxSeal(keys_.local_key, k.view()));
  }
  // Everything in the database first, the current key in the key file
  // last: a crash between leaves a device that fetches the keys again.
  DUET_RETURN_IF_ERROR(store_->SetMetas(meta));
  CrashPoint("link-adopted");
  DeviceKeys updated = keys_;
  updated.couple_key = current;
  DUET_RETURN_IF_ERROR(SaveKeyFile(updated));
  keys_ = std::move(updated);
  person_me_ = keys.person_key();
  return SetPendingLink(std::nullopt);
}

std::optional<Device::PendingLink> Device::pending_link() {
  const std::string stored = Meta(kPendingLink).value_or("");
  if (stored.size() < 2) return std::nullopt;
  auto secret = crypto::SecretboxOpenKey(keys_.local_key, stored.substr(1));
  if (!secret) return std::nullopt;
  return PendingLink{*secret, stored[0] == 'j' ? PairingRole::kJoiner : PairingRole::kCreator};
}

Status Device::SetPendingLink(const std::optional<PendingLink>& link, const std::string& linker,
                              const std::string& label) {
  if (!link) return store_->SetMetas({{kPendingLink, ""}, {kLinker, ""}});
  std::string pending(1, link->role == PairingRole::kJoiner ? 'j' : 'c');
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
