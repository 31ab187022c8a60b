// Device: this installation of duet, opened from its home. It owns the key
// file (keyfile.h) and the local replica (storage/replica_store.h), and is the
// one place that turns a record body into a sealed, stored record and back.
//
// Home: --home DIR (or DUET_HOME) holds both files; otherwise the keys go to
// $XDG_CONFIG_HOME/duet and the replica to $XDG_DATA_HOME/duet. A Device is
// used by one thread. Methods return errors as values.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/keyfile.h"
#include "client/model/chain.h"
#include "client/model/fold.h"
#include "client/pairing.h"
#include "client/sealing.h"
#include "opened_cache.pb.h"
#include "net/net.h"
#include "storage/replica_store.h"

namespace duet::client {

struct HomePaths {
  std::string key_dir;
  std::string data_dir;
  std::string key_file;
  std::string database;
};
Result<HomePaths> ResolveHome(const std::string& home_flag);
// Deletes a device (`duet wipe`): overwrites the key file with random bytes
// and flushes it before unlinking it, then deletes the database and its
// logs, and the folders if nothing else is in them. Needs no passphrase.
Status WipeHome(const HomePaths& home);

struct Partner {
  std::string name;
  std::string sign_key;
  std::string kx_key;
};

class Device {
 public:
  // `passphrase`: when set, the key file is sealed with it (argon2id).
  // `relays`: the relay's addresses (several processes may serve it).
  static Result<std::unique_ptr<Device>> Create(const HomePaths& home, const std::string& name,
                                                const std::vector<net::Endpoint>& relays,
                                                const std::optional<std::string>& relay_key,
                                                const std::optional<std::string>& passphrase = {});
  // A locked key file opens with `remembered` (`duet unlock`) when it
  // fits, else with `passphrase`.
  static Result<std::unique_ptr<Device>> Open(const HomePaths& home,
                                              const PassphraseSource& passphrase = {},
                                              const RememberedKeySource& remembered = {});

  bool locked() const { return keys_.lock.has_value(); }
  const HomePaths& home() const { return home_; }
  // Seals the key file with a passphrase from now on.
  Status Lock(const std::string& passphrase);
  // Seals a locked key file with a new passphrase, or with none (nullopt):
  // the file is then readable without one.
  Status ChangePassphrase(const std::optional<std::string>& passphrase);

  const DeviceKeys& keys() const { return keys_; }
  // This device's own signing key; my_key() names the person.
  const std::string& device_key() const { return keys_.identity.public_key; }
  storage::ReplicaStore& store() { return *store_; }
  // Whose records are "mine": the person's first device (this one, unless
  // it was linked to another, protocol.md §5.1), or in a restored archive
  // the identity of the device that exported it. Opened records name their
  // author by this person key; `device_key` names the device.
  const std::string& my_key() const {
    return !archived_me_.empty() ? archived_me_ : !person_me_.empty() ? person_me_ : keys_.identity.public_key;
  }
  // A home restored from an export (`duet import`): read-only, it writes no
  // record and syncs nothing.
  bool archive() const { return !archived_me_.empty(); }
  struct Restored {
    std::string record_id;
    std::string author_key;
    bool shared = false;
    std::optional<std::uint64_t> relay_seq;
    model::v1::ArchivedBody content;
  };
  // Makes this fresh device the archive of an export: who "me" (`me_key`)
  // and the partner were, and every record, sealed under the local key, in
  // one transaction.
  Status Restore(const std::string& me_key, const std::optional<Partner>& partner,
                 const std::vector<Restored>& records);

  std::string name();
  // The relay's addresses: one, or several relays that share one store.
  std::vector<net::Endpoint> relays();
  std::optional<std::string> pinned_relay_key();
  // Pins `relay_key` for the relay at `relays`, forgetting any next key.
  Status PinRelay(const std::vector<net::Endpoint>& relays, const std::string& relay_key);
  // The key the relay announced it will move to (docs/protocol.md §3.1),
  // accepted beside the pinned one; "" forgets it.
  std::optional<std::string> next_relay_key();
  Status SetNextRelayKey(const std::string& key);
  // An invite-only relay's one-time token (duet init --relay-token), sent
  // with this device's invites until it is paired.
  std::optional<std::string> relay_token();
  Status SetRelayToken(const std::string& token);
  std::optional<std::string> couple_id();
  std::optional<Partner> partner();
  // Has a couple and its key; true also once the couple ended (unpaired_at),
  // so what was shared stays readable.
  bool paired() { return couple_id().has_value() && keys_.couple_key.has_value(); }
  // When either partner ended the pairing (`duet unpair`), as the relay
  // said; nothing new is shared from then on.
  std::optional<std::int64_t> unpaired_at();
  Status MarkUnpaired(std::int64_t ended_at);
  // An Unpair sent whose answer has not arrived (yet): when the relay no
  // longer knows this device, the pairing ended at about `ended_at`.
  std::optional<std::int64_t> unpairing();
  Status MarkUnpairing(std::int64_t ended_at);
  // The safety number of this device and the partner (empty when unpaired),
  // and whether the two of them compared it in person. A comparison counts
  // only for the keys it was made with.
  std::string safety_number();
  bool safety_number_verified();
  Status MarkSafetyNumberVerified();

  // Remembers an invite this device created, until the partner answers it.
  Status SetPendingInvite(const crypto::SymmetricKey& secret);
  Status ClearPendingInvite();
  const std::optional<crypto::SymmetricKey>& pending_invite() const { return keys_.invite_secret; }
  // Stores the couple key and the partner; the device is paired from then on.
  Status CompletePairing(const crypto::SymmetricKey& couple_key, const std::string& couple_id,
                         const Partner& partner);

  // --- several devices of one partner (protocol.md §5.1; client/devices.cc)
  // Every device of mine (`mine`) or of the partner, the first one first.
  std::vector<model::v1::DeviceIdentity> Devices(bool mine);
  // While one lives, Devices() reads the lists once and keeps them (until
  // this device changes them): a sync asks for each record it pulls.
  class DeviceListsKept {
   public:
    explicit DeviceListsKept(Device& device) : device_(device) { ++device_.keeping_devices_; }
    ~DeviceListsKept() {
      if (--device_.keeping_devices_ == 0) device_.ForgetDeviceLists();
    }
    DeviceListsKept(const DeviceListsKept&) = delete;
    DeviceListsKept& operator=(const DeviceListsKept&) = delete;

   private:
    Device& device_;
  };
  // The person (my_key() or the partner's first key) a device belongs to,
  // or "" for a device of neither.
  std::string PersonOf(const std::string& device_key);
  // The key that seals kept notes between my own devices, once one was linked.
  std::optional<crypto::SymmetricKey> OwnKey();
  // Every own key this device has held: their ids (8 bytes each). A record
  // sealed under any of them is a kept note.
  std::string OwnKeyIds();
  // A record of the partner's sealed under their own key: theirs to keep,
  // not for this device, and not an alteration (its signature verifies).
  bool IsPartnersOwnNote(const v1::RecordEnvelope& envelope);
  // Applies a verified DeviceLinked record: its device is the author's from
  // now on. Idempotent; a record naming a device of the other partner
  // changes nothing.
  Status ApplyDeviceLinked(const model::v1::RecordBody& body, const std::string& author_device);
  // On the linking device: writes the DeviceLinked record for `added` (and,
  // at the first link, makes the own key and seals the kept notes under it
  // so they travel), in one transaction. Nothing when it is known already.
  Status AddLinkedDevice(const model::v1::PairingIdentity& added);
  // What the new device `added` needs, signed for the invite `invite_id`
  // and sealed to its X25519 key.
  Result<std::string> SealLinkKeys(const model::v1::PairingIdentity& added, const std::string& invite_id);
  // On the new device: opens what `linker` sealed to it, checks the
  // signature, and becomes a device of the same partner.
  Status AdoptLinkKeys(const std::string& sealed, const std::string& invite_id, const std::string& linker_key);
  // A link this device takes part in, until it is complete: its secret and
  // whether this device made the code (kCreator) or uses it (kJoiner).
  struct PendingLink {
    crypto::SymmetricKey secret;
    PairingRole role = PairingRole::kCreator;
    // The person agreed up front (--yes) to hand the keys to whichever
    // device answers; otherwise they compare its fingerprint first.
    bool confirmed = false;
  };
  // Revokes another device of mine (protocol.md §5.1): a DeviceRevoked
  // record with a new own key for my other devices, then a new couple-key
  // epoch sealed for every device but the revoked one; the relay is told
  // by the next sync once both are acknowledged. Returns the record's id.
  Result<std::string> RevokeDevice(const std::string& device_key);
  // Applies a verified DeviceRevoked record `record_id`. Idempotent; one
  // naming a device of the other partner, or its own author, changes nothing.
  Status ApplyDeviceRevoked(const model::v1::RecordBody& body, const std::string& author_device,
                            const std::string& record_id);
  // From which relay sequence number on a device's records are refused:
  // the place of the record that revoked it, once known.
  std::optional<std::uint64_t> RevokedSince(const std::string& device_key);
  // Devices revoked here that the relay has not confirmed yet.
  std::vector<std::string> RevokesOwed();
  Status RevokeDone(const std::string& device_key);
  // Another device of mine revoked this one: when (as the relay said, or
  // as its record said); it writes nothing from then on.
  std::optional<std::int64_t> revoked_at();
  Status MarkRevoked(std::int64_t at);
  // Finishes a revocation interrupted before its new epoch was queued.
  Status FinishRevocation();
  static bool Revoked(const model::v1::DeviceIdentity& d) { return !d.revoked_by().empty(); }

  std::optional<PendingLink> pending_link();
  // `linker`: on the new device, the key of the device that made the code;
  // `label`: the new device's own label. nullopt ends the link.
  Status SetPendingLink(const std::optional<PendingLink>& link, const std::string& linker = {},
                        const std::string& label = {});
  std::string linker_key();
  // This device's label ("laptop"; "first device" for the one that paired).
  std::string label();

  // The key that picks the couple's question of the day (protocol §7.9):
  // derived from the couple key at pairing (so the relay learns nothing of
  // it, and a rekey changes nothing), kept sealed under the local key.
  std::optional<std::string> DailyQuestionKey();
  // Starts a new couple-key epoch: a Rekey record (sealed under the current
  // key) carries the new key sealed to the partner; this device uses the new
  // key from now on and keeps the old one for older records. The new key is
  // durably kept before the record exists; a crash at any step leaves both
  // devices able to read everything (docs/reliability.md).
  Result<std::string> Rekey();
  // Applies a partner's Rekey record: opens the key sent to this device and
  // uses it from now on. Idempotent.
  Status ApplyRekey(const model::v1::RecordBody& body, const std::string& author_key);

  // Seals and stores a new record. A shared record is sealed under the couple
  // key and queued for the relay; a private one under the local key, never sent.
  // A body that breaks the record rules (client/model/validate.h) is refused
  // with kInvalidInput before anything is written.
  Result<std::string> AddRecord(model::v1::RecordBody body, bool shared);
  // Deletes a record this device wrote (docs/protocol.md §7.8). A kept one
  // is forgotten; a shared one is forgotten too, and a Deletion record is
  // queued, with the relay's purge of the record owed until the relay
  // confirms it. One transaction: all of it or nothing. Returns the
  // Deletion's id (empty for a kept record).
  Result<std::string> Delete(const model::OpenedRecord& record);
  // What the relay still owes a purge for: (deleted record, its Deletion).
  std::vector<std::pair<std::string, std::string>> PendingPurges();
  // The relay confirmed these purges.
  Status PurgesDone(const std::vector<std::string>& record_ids);
  // Every record held, opened; records that no longer verify are skipped and
  // counted in `*unreadable`.
  Result<std::vector<model::OpenedRecord>> OpenRecords(int* unreadable);
  // Checks both authors' chains over every shared record held, and remembers
  // the partner's head for the next record this device writes.
  Result<model::ChainReport> CheckChains();
  // The same over records the caller opened already (all of them, as
  // OpenRecords gives them), so a command opens them once.
  Result<model::ChainReport> CheckChains(const std::vector<model::OpenedRecord>& records);
  // Checks a record that came from the relay; the error says why it is refused.
  // A record that authenticates but breaks the record rules is not refused:
  // it is the partner's, and its verdict says why it is not shown.
  Result<OpenedBody> VerifyIncoming(const v1::RecordEnvelope& envelope);

 private:
  Device(HomePaths home, DeviceKeys keys, std::unique_ptr<storage::ReplicaStore> store)
      : home_(std::move(home)), keys_(std::move(keys)), store_(std::move(store)) {}
  std::optional<std::string> Meta(const std::string& key);
  // OpenRecords' two sources: every stored record decrypted, or what a
  // previous command kept of that (false when it does not open or was made
  // with another couple key).
  Result<local::v1::OpenedRows> DecryptRows(const std::vector<std::string>& authors);
  bool OpenKeptRows(const std::string& sealed, const std::string& couple_key_id, local::v1::OpenedRows* rows);
  std::vector<std::string> CoupleAuthors();
  // The couple key named by `key_id`: the current one or an archived one.
  std::optional<crypto::SymmetricKey> KeyFor(const std::string& key_id);
  // Archives the current couple key and makes `key` current.
  Status SwitchCoupleKey(const crypto::SymmetricKey& key);
  // Makes the key of an interrupted Rekey() current; nothing when none is.
  Status FinishRekey();
  // Saves `updated` as the key file, unless another duet locked or unlocked
  // it since this one read it.
  Status SaveKeyFile(const DeviceKeys& updated);

  HomePaths home_;
  DeviceKeys keys_;
  std::string archived_me_;  // set in a restored archive
  std::string person_me_;    // my first device's key, on a device linked to it
  int keeping_devices_ = 0;  // DeviceListsKept alive
  std::optional<std::vector<model::v1::DeviceIdentity>> kept_devices_[2];  // mine, the partner's
  void ForgetDeviceLists() { kept_devices_[0].reset(); kept_devices_[1].reset(); }
  // Seals a kept check-in under the own key (or the local key before any
  // link); its row travels to the relay only under the own key.
  Status MarkDeviceRevoked(bool mine, const std::string& key, const std::string& record_id);
  // Keeps an own key (archived, and its id named); `current`: seal kept notes under it.
  Status KeepOwnKey(const crypto::SymmetricKey& key, bool current);
  v1::RecordEnvelope SealKept(const model::v1::RecordBody& body, bool* travels, const std::string& record_id = {});
  std::unique_ptr<storage::ReplicaStore> store_;
};

}  // namespace duet::client
