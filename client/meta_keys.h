// The names of the settings a device keeps in its replica's meta table:
// one list, shared by the files that make up Device (device.cc, devices.cc).
// Internal to client/.
#pragma once

#include <cstddef>
#include <string>

namespace duet::client::meta {

inline constexpr char kName[] = "device.name";
inline constexpr char kRelay[] = "relay.address";
inline constexpr char kRelayKey[] = "relay.key";
inline constexpr char kRelayToken[] = "relay.token";
// The key the relay announced it will move to (protocol.md §3.1); "" for none.
inline constexpr char kRelayNextKey[] = "relay.next_key";
inline constexpr char kCoupleId[] = "couple.id";
inline constexpr char kCoupleEndedAt[] = "couple.ended_at";
inline constexpr char kCoupleEnding[] = "couple.ending";
// The key that picks the question of the day, sealed under the local key:
// derived once from the first couple key, so a rekey does not change it.
inline constexpr char kQuestionKey[] = "question.key";
inline constexpr char kQuestionContext[] = "duet/v1/daily-question";
inline constexpr char kArchivedMe[] = "archive.me";
inline constexpr char kPersonMe[] = "person.me";
inline constexpr char kPartnerName[] = "partner.name";
inline constexpr char kPartnerSignKey[] = "partner.sign_key";
inline constexpr char kPartnerKxKey[] = "partner.kx_key";
inline constexpr char kVerifiedSafetyNumber[] = "partner.verified_safety_number";
inline constexpr char kChainSeq[] = "chain.seq";
inline constexpr char kChainHead[] = "chain.head";
inline constexpr char kPartnerHeadSeq[] = "partner.head_seq";
inline constexpr char kPartnerHeadHash[] = "partner.head_hash";
inline const std::string kArchivedKeyPrefix = "key.archived.";
// The key id of a `duet rekey` whose key is kept but not yet current.
inline constexpr char kRekeyPending[] = "rekey.pending";
// The cursor when the partner's head was last computed: the two go together
// into the next record, so an interrupted sync cannot make them disagree.
inline constexpr char kPartnerHeadCursor[] = "partner.head_cursor";
// Deleted records the relay has not confirmed purging: 32-byte entries, the
// deleted record's id then its Deletion's id.
inline constexpr char kPurgesOwed[] = "purge.owed";
inline constexpr std::size_t kPurgeEntryBytes = 32;

// Devices beyond the first one of each partner, as DeviceList protos. On a
// device linked to another, "mine" starts with that first device.
inline constexpr char kMyDevices[] = "devices.mine";
inline constexpr char kPartnerDevices[] = "devices.partner";
// This device's own label ("laptop"), given when it joined.
inline constexpr char kDeviceLabel[] = "device.label";
// The key of the device whose link code this one answered.
inline constexpr char kLinker[] = "link.linker";
// The own key, sealed under the local key; the partner's own key ids,
// 8 bytes each, which name records of theirs this device skips.
inline constexpr char kOwnKey[] = "own.key";
inline constexpr char kPartnerOwnKeyIds[] = "partner.own_key_ids";
// Every own key id this device has held (8 bytes each): what seals kept notes.
inline constexpr char kOwnKeyIds[] = "own.key_ids";
// A link under way: its role (1 byte: 'c' linking, 'y' linking agreed up
// front, 'j' joining) then its secret sealed
// under the local key.
inline constexpr char kPendingLink[] = "link.pending";
// When another device of this partner revoked this one (unix seconds).
inline constexpr char kRevokedAt[] = "device.revoked_at";
// Devices this one revoked whose relay has not confirmed it: 32-byte keys.
inline constexpr char kRevokesOwed[] = "revoke.owed";
// A revocation whose Rekey (the new epoch) is not queued yet: "1".
inline constexpr char kRekeyOwed[] = "revoke.rekey_owed";

}  // namespace duet::client::meta
