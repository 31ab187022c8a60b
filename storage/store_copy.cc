// `duetd store copy`: a relay's whole store moved between its two
// implementations (an SQLite file into PostgreSQL, or back), so its couples
// keep their pairing and history and only the relay's address changes.
#include "storage/relay_store.h"

namespace duet::storage {

const std::vector<StoreTable>& StoreTables() {
  using K = StoreColumn::Kind;
  static const std::vector<StoreTable> tables = {
      {"couples", {{"couple_id", K::kBlob}, {"created_at", K::kInt}, {"records", K::kInt}, {"bytes", K::kInt},
                   {"ended_at", K::kInt}}},
      {"devices", {{"device_key", K::kBlob}, {"couple_id", K::kBlob}, {"partner", K::kInt}}},
      {"invites", {{"invite_id", K::kBlob}, {"couple_id", K::kBlob}, {"creator_key", K::kBlob},
                   {"sealed_offer", K::kBlob}, {"expires_at", K::kInt}, {"answerer_key", K::kBlob},
                   {"sealed_answer", K::kBlob}, {"creator_address", K::kText}, {"replaced", K::kBool},
                   {"link", K::kBool}, {"sealed_keys", K::kBlob}}},
      {"records", {{"couple_id", K::kBlob}, {"seq", K::kInt}, {"record_id", K::kBlob}, {"author_key", K::kBlob},
                   {"envelope", K::kBlob}}},
      {"relay_tokens", {{"token_hash", K::kBlob}, {"created_at", K::kInt}, {"spent_by", K::kBlob}}},
      {"relay_meta", {{"key", K::kText}, {"value", K::kInt}}},
      {"revoked_devices", {{"device_key", K::kBlob}, {"couple_id", K::kBlob}, {"revoked_at", K::kInt}}},
  };
  return tables;
}

namespace {

Status Copy(RelayStore& from, RelayStore& to) {
  for (const auto& table : StoreTables()) {
    auto held = to.CountRows(table);
    if (!held.ok()) return held.error();
    if (held.value() != 0)
      return MakeError(ErrorKind::kAlreadyExists, std::string("the destination already holds ") + table.name +
                                                      ": copy into an empty store only");
  }
  for (const auto& table : StoreTables())
    DUET_RETURN_IF_ERROR(
        from.ReadRows(table, [&](const std::vector<StoreCell>& cells) { return to.WriteRow(table, cells); }));
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::pair<std::string, std::uint64_t>>> CopyRelayStore(RelayStore& from, RelayStore& to) {
  // The source is read as of one moment, even while relays still write to
  // it (what they write after that moment is not copied: stop them first,
  // as docs/ops.md says).
  DUET_RETURN_IF_ERROR(from.BeginSnapshot());
  if (Status begun = to.Begin(); !begun.ok()) {
    from.Rollback();
    return begun.error();
  }
  Status copied = Copy(from, to);
  std::vector<std::pair<std::string, std::uint64_t>> counts;
  for (const auto& table : StoreTables()) {
    if (!copied.ok()) break;
    auto read = from.CountRows(table);
    auto written = to.CountRows(table);
    if (!read.ok() || !written.ok()) {
      copied = !read.ok() ? read.error() : written.error();
    } else if (read.value() != written.value()) {
      copied = MakeError(ErrorKind::kInternal, std::string("the copy of ") + table.name + " holds " +
                                                   std::to_string(written.value()) + " rows, not " +
                                                   std::to_string(read.value()));
    } else {
      counts.emplace_back(table.name, read.value());
    }
  }
  if (copied.ok()) copied = to.Commit();
  else to.Rollback();
  from.Rollback();  // it only read
  if (!copied.ok()) return copied.error();
  return counts;
}

}  // namespace duet::storage
