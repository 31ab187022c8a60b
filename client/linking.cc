#include "client/linking.h"

#include <thread>

#include "client/pairing.h"
#include "client/relay_session.h"

namespace duet::client {
namespace {

model::v1::PairingIdentity IdentityNamed(Device& device, const std::string& name) {
  model::v1::PairingIdentity identity;
  identity.set_name(name);
  identity.set_sign_key(device.device_key());
  identity.set_kx_key(device.keys().exchange.public_key);
  return identity;
}

Error NewCodeNeeded(const std::string& why) {
  return MakeError(ErrorKind::kRefused,
                   why + "; make a new one on your other device (duet device link) and run duet device join again");
}

// The relay's answer to FetchInvite for this link, as an error a person can act on.
Result<v1::InviteOffer> FetchOffer(RelaySession& session, const InviteKeys& keys) {
  v1::Frame fetch;
  fetch.mutable_fetch_invite()->set_invite_id(keys.invite_id);
  RelayRefusal refusal;
  auto offer = session.Call(std::move(fetch), &refusal);
  if (!offer.ok()) {
    switch (refusal.code) {
      case v1::ERROR_CODE_INVITE_NOT_FOUND:
        return NewCodeNeeded("the relay at " + session.endpoint().ToString() + " does not know this link code");
      case v1::ERROR_CODE_INVITE_USED:
        return NewCodeNeeded("this link code was used by another device already");
      case v1::ERROR_CODE_INVITE_REPLACED:
        return NewCodeNeeded("this link code was replaced by a newer one");
      case v1::ERROR_CODE_INVITE_EXPIRED:
        return NewCodeNeeded("this link code has expired");
      default:
        return offer.error();
    }
  }
  if (!offer->has_invite_offer())
    return MakeError(ErrorKind::kProtocol, "relay answered FetchInvite with something else");
  return offer->invite_offer();
}

}  // namespace

Result<LinkCode> StartLink(Device& device, std::uint32_t ttl_seconds, bool confirmed,
                           std::chrono::milliseconds timeout) {
  if (device.archive())
    return MakeError(ErrorKind::kInvalidInput, "this home is an archive restored with `duet import`; it links nothing");
  if (device.unpaired_at())
    return MakeError(ErrorKind::kInvalidInput, "your pairing has ended, so no device can join it");
  if (!device.paired())
    return MakeError(ErrorKind::kInvalidInput,
                     "only a paired device can link another: pair first (duet invite / duet join)");
  auto session = OpenRelay(device, timeout);
  if (!session.ok()) return session.error();
  const crypto::SymmetricKey secret = crypto::RandomKey();
  const InviteKeys keys = DeriveLinkKeys(secret);
  v1::Frame request;
  auto* create = request.mutable_create_invite();
  create->set_invite_id(keys.invite_id);
  create->set_couple_id(*device.couple_id());
  create->set_sealed_offer(SealIdentity(keys, PairingRole::kCreator, IdentityNamed(device, device.name())));
  create->set_ttl_seconds(ttl_seconds);
  create->set_replace_open(true);  // one code at a time: an older one stops working
  create->set_link_device(true);
  auto reply = session.value()->Call(std::move(request));
  if (!reply.ok()) return reply.error();
  if (!reply->has_invite_created())
    return MakeError(ErrorKind::kProtocol, "relay answered CreateInvite with something else");
  DUET_RETURN_IF_ERROR(device.SetPendingLink(Device::PendingLink{secret, PairingRole::kCreator, confirmed}));
  InviteCode code{secret, session.value()->relay_key(), net::EndpointsToString(device.relays())};
  return LinkCode{FormatLinkCode(code), reply->invite_created().expires_at()};
}

Result<std::optional<model::v1::PairingIdentity>> ContinueLink(Device& device, RelaySession& session,
                                                               SyncReport& report, const ConfirmDevice& confirm) {
  using Linked = std::optional<model::v1::PairingIdentity>;
  // A link that cannot go on is dropped, said once: it never fails every sync.
  auto give_up = [&](const std::string& why) -> Result<Linked> {
    DUET_RETURN_IF_ERROR(device.SetPendingLink(std::nullopt));
    report.warnings.push_back("the device link was given up: " + why + "; make a new code with: duet device link");
    return Linked();
  };
  const auto link = device.pending_link();
  if (!link || link->role != PairingRole::kCreator) return Linked();
  const InviteKeys keys = DeriveLinkKeys(link->secret);
  v1::Frame check;
  check.mutable_check_invite()->set_invite_id(keys.invite_id);
  RelayRefusal refusal;
  auto state = session.Call(std::move(check), &refusal);
  if (!state.ok()) {
    if (refusal.code == v1::ERROR_CODE_INVITE_EXPIRED || refusal.code == v1::ERROR_CODE_INVITE_NOT_FOUND) {
      DUET_RETURN_IF_ERROR(device.SetPendingLink(std::nullopt));
      report.warnings.push_back("your device link code expired before a device used it; make a new one with: "
                                "duet device link");
      return Linked();
    }
    return state.error();
  }
  if (!state->has_invite_state())
    return MakeError(ErrorKind::kProtocol, "relay answered CheckInvite with something else");
  if (!state->invite_state().answered()) return Linked();
  auto added = OpenIdentity(keys, PairingRole::kJoiner, state->invite_state().sealed_answer());
  if (!added.ok()) return give_up("the answer did not verify");
  if (added->sign_key() == device.device_key()) return give_up("this device answered its own code");
  const std::string who = "'" + added->name() + "' (fingerprint " + DeviceFingerprint(added->sign_key()) + ")";
  if (!link->confirmed) {
    if (!confirm) {
      report.warnings.push_back("a device, " + who + ", answered your link code: run `duet device link` to "
                                "compare its fingerprint and hand it the keys");
      return Linked();
    }
    if (!confirm(added.value())) {
      // Not the person's: the relay shuts it out before it reads anything.
      v1::Frame revoke;
      revoke.mutable_revoke_device()->set_device_key(added->sign_key());
      auto shut = session.Call(std::move(revoke));
      if (!shut.ok()) return shut.error();
      DUET_RETURN_IF_ERROR(device.SetPendingLink(std::nullopt));
      report.warnings.push_back("did not link " + who + ": the relay no longer lets it in");
      return Linked();
    }
  }
  if (Status added_here = device.AddLinkedDevice(added.value()); !added_here.ok()) {
    const ErrorKind kind = added_here.error().kind;
    if (kind == ErrorKind::kIo || kind == ErrorKind::kDamaged || kind == ErrorKind::kInternal)
      return added_here.error();
    return give_up(added_here.error().message);
  }
  // The couple hears of the new device before it can write anything.
  auto synced = SyncOver(device, session);
  if (!synced.ok()) return synced.error();
  report.warnings.insert(report.warnings.end(), synced->warnings.begin(), synced->warnings.end());
  auto queued = device.store().Outbox();
  if (!queued.ok()) return queued.error();
  if (!queued->empty()) {
    report.held_back = synced->held_back;
    return Linked();  // the next sync hands the keys over
  }
  auto sealed = device.SealLinkKeys(added.value(), keys.invite_id);
  if (!sealed.ok()) return give_up(sealed.error().message);
  v1::Frame complete;
  complete.mutable_complete_link()->set_invite_id(keys.invite_id);
  complete.mutable_complete_link()->set_sealed_keys(std::move(sealed).value());
  auto done = session.Call(std::move(complete));
  if (!done.ok()) return done.error();
  if (!done->has_link_completed())
    return MakeError(ErrorKind::kProtocol, "relay answered CompleteLink with something else");
  DUET_RETURN_IF_ERROR(device.SetPendingLink(std::nullopt));
  return Linked(std::move(added).value());
}

Result<bool> FetchLinkKeys(Device& device, RelaySession& session) {
  const auto link = device.pending_link();
  if (!link || link->role != PairingRole::kJoiner) return device.paired();
  const InviteKeys keys = DeriveLinkKeys(link->secret);
  auto offer = FetchOffer(session, keys);
  if (!offer.ok()) return offer.error();
  if (offer->sealed_keys().empty()) return false;
  DUET_RETURN_IF_ERROR(device.AdoptLinkKeys(offer->sealed_keys(), keys.invite_id, device.linker_key()));
  return true;
}

Result<JoinedDevice> JoinAsDevice(Device& device, const std::string& code_text, const std::string& label,
                                  std::chrono::milliseconds wait, std::chrono::milliseconds timeout) {
  auto code = ParseLinkCode(code_text);
  if (!code.ok()) return code.error();
  auto relays = net::ParseEndpoints(code->relay_address);
  if (!relays.ok())
    return MakeError(ErrorKind::kInvalidInput, "malformed link code: its relay address is not valid");
  if (device.archive())
    return MakeError(ErrorKind::kInvalidInput, "this home is an archive restored with `duet import`; it joins nothing");
  if (device.paired() || device.unpaired_at())
    return MakeError(ErrorKind::kInvalidInput,
                     "this device has a pairing of its own; a device joins from a fresh home (duet init in "
                     "another --home)");
  if (device.pending_invite())
    return MakeError(ErrorKind::kInvalidInput,
                     "this device has an open invite of its own; a device joins from a fresh home (duet init in "
                     "another --home)");
  auto session = RelaySession::OpenAny(device, relays.value(), code->relay_key, timeout);
  if (!session.ok()) return session.error();
  const InviteKeys keys = DeriveLinkKeys(code->secret);
  auto offer = FetchOffer(*session.value(), keys);
  if (!offer.ok()) return offer.error();
  auto linker = OpenIdentity(keys, PairingRole::kCreator, offer->sealed_offer());
  if (!linker.ok()) return linker.error();
  if (linker->sign_key() == device.device_key())
    return MakeError(ErrorKind::kInvalidInput, "this code is for another device; use it there");

  v1::Frame answer;
  answer.mutable_answer_invite()->set_invite_id(keys.invite_id);
  answer.mutable_answer_invite()->set_sealed_answer(
      SealIdentity(keys, PairingRole::kJoiner, IdentityNamed(device, label)));
  RelayRefusal refusal;
  auto joined = session.value()->Call(std::move(answer), &refusal);
  if (!joined.ok()) {
    if (refusal.code == v1::ERROR_CODE_INVITE_USED) return NewCodeNeeded("this link code was used already");
    if (refusal.code == v1::ERROR_CODE_INVITE_REPLACED) return NewCodeNeeded("this link code was replaced");
    if (refusal.code == v1::ERROR_CODE_UNPAIRED)
      return MakeError(ErrorKind::kRefused, "the pairing this code links into has ended");
    if (refusal.code == v1::ERROR_CODE_QUOTA_EXCEEDED)
      return MakeError(ErrorKind::kRefused, joined.error().message + "; remove one with duet device revoke first");
    return joined.error();
  }
  if (!joined->has_paired() || joined->paired().couple_id().size() != 16)
    return MakeError(ErrorKind::kProtocol, "relay confirmed the link for no couple");
  DUET_RETURN_IF_ERROR(device.PinRelay(relays.value(), code->relay_key));
  DUET_RETURN_IF_ERROR(
      device.SetPendingLink(Device::PendingLink{code->secret, PairingRole::kJoiner}, linker->sign_key(), label));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto linked = FetchLinkKeys(device, *session.value());
    if (!linked.ok()) return linked.error();
    if (linked.value()) break;
    if (std::chrono::steady_clock::now() + std::chrono::seconds(1) > deadline)
      return JoinedDevice{linker->name(), false};
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  // The history, now that the keys are here.
  auto synced = SyncOver(device, *session.value());
  if (!synced.ok()) return synced.error();
  return JoinedDevice{device.name(), true};
}

}  // namespace duet::client
