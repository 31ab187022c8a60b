// duet export [--out FILE]: everything this device can read, as one JSON
// document (docs/export.md): who the two partners are, and every record it
// holds, opened, with the whole record body in protobuf's JSON mapping, so
// nothing is lost. Reflections that have opened carry what they say.
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "client/model/deletion.h"
#include "client/model/validate.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

constexpr int kExportVersion = 1;

nlohmann::json RecordJson(const model::OpenedRecord& r, const Device& d, const model::CoupleState& state) {
  // The whole body. A reflection key is content too: it opens only the
  // reflection whose words are in this document anyway, and `duet import`
  // needs it to open that reflection again. Device and couple keys are
  // never exported.
  std::string body;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(r.body, &body, options);
  nlohmann::json out = {
      {"id", crypto::Hex(r.record_id)},
      {"author", r.author_key == d.my_key() ? "me" : "partner"},
      {"shared", r.shared},
      {"relay_seq", r.relay_seq ? nlohmann::json(*r.relay_seq) : nlohmann::json()},
      {"written", r.body.created_at_ms() / 1000},
      {"kind", model::RecordKindName(r.body)},
      {"shown", r.verdict.valid()},
      {"not_shown_because", r.verdict.valid() ? nlohmann::json() : nlohmann::json(r.verdict.problem)},
      {"newer", r.verdict.validity == model::Validity::kNewer},
      {"body", nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false)},
  };
  if (r.body.has_talk_reflection())
    for (const auto& talk : state.talks)
      for (const auto* reflection : {&talk.my_reflection, &talk.their_reflection})
        if (reflection->record_id == r.record_id && reflection->readable)
          out["opened"] = {{"felt", reflection->felt}, {"note", TextOrNull(reflection->note)}};
  return out;
}

int RunExport(const Cli& cli, const std::string& out_path) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  const auto partner = d.partner();
  // The person's own copy of everything: what waits to be opened too, whole.
  auto whole = LoadState(d, /*hold_back=*/false);
  if (!whole.ok()) return Fail(whole.error());
  // A record its author deleted that this device has not forgotten yet (it
  // does at the next sync) is not part of the couple's history any more.
  std::set<std::string> deleted;
  for (const auto& gone : model::Deletions(whole->records))
    if (gone.held) deleted.insert(gone.record_id);
  nlohmann::json records = nlohmann::json::array();
  for (const auto& r : whole->records)
    if (!deleted.count(r.record_id)) records.push_back(RecordJson(r, d, whole->state));
  nlohmann::json document = {
      {"format", "duet-export"},
      {"version", kExportVersion},
      {"exported_at", opened->now},
      {"me", {{"name", d.name()}, {"identity", crypto::Hex(d.my_key())}}},
      {"partner", partner ? nlohmann::json{{"name", partner->name}, {"identity", crypto::Hex(partner->sign_key)}}
                          : nlohmann::json()},
      {"relay", net::EndpointsToString(d.relays())},
      {"records", records},
  };
  if ((out_path.empty() || out_path == "-") && ::isatty(STDOUT_FILENO))
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "the export is everything in plain text: give --out FILE rather than a terminal"));
  std::string text = document.dump(2) + "\n";
  if (out_path.empty() || out_path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    crypto::WipeString(text);
    return 0;
  }
  Status written = WriteFileAtomically(out_path, text);
  crypto::WipeString(text);
  if (!written.ok()) return Fail(written.error());
  if (cli.json)
    PrintJson({{"file", out_path}, {"records", records.size()}});
  else
    std::printf("wrote %s to %s (mode 0600). It holds everything in plain text: keep it as safe as this "
                "device\n",
                Counted(records.size(), "record", "records").c_str(), out_path.c_str());
  return 0;
}

}  // namespace

void SetupExport(CLI::App& root, Cli& cli) {
  auto out = std::make_shared<std::string>();
  auto* sub = root.add_subcommand("export", "everything this device can read, as one JSON document");
  sub->add_option("--out", *out, "the file to write (default: standard output, never a terminal)");
  sub->callback([&cli, out] { cli.run = [&cli, out] { return RunExport(cli, *out); }; });
}

}  // namespace duet::client::cli
