// duet import FILE: restores an export (docs/export.md) into a fresh home,
// as a read-only archive. The whole file is checked before anything is
// written; a problem is one line naming the record, and the home is left
// as it was.
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <set>
#include <sstream>

#include "client/cli/cli.h"
#include "client/model/validate.h"
#include "crypto/crypto.h"
#include "net/net.h"

namespace duet::client::cli {
namespace {

// Far above a lifetime of check-ins, far below what would hurt to read.
constexpr std::uintmax_t kMaxImportBytes = 256u << 20;

struct Archive {
  std::string me_name;
  std::string me_key;
  std::optional<Partner> partner;
  std::vector<net::Endpoint> relay;
  std::vector<Device::Restored> records;
};

Error Bad(const std::string& where, const std::string& what) {
  return MakeError(ErrorKind::kInvalidInput, where + ": " + what + "; nothing was imported");
}

// An identity as the export writes it: 64 hex digits.
std::optional<std::string> IdentityKey(const nlohmann::json& value) {
  if (!value.is_string()) return std::nullopt;
  auto key = crypto::FromHex(value.get<std::string>());
  if (!key || key->size() != 32) return std::nullopt;
  return key;
}

Result<Device::Restored> ReadRecord(const nlohmann::json& r, const std::string& where, const Archive& archive) {
  if (!r.is_object()) return Bad(where, "is not an object");
  Device::Restored out;
  const auto id = r.contains("id") && r["id"].is_string() ? crypto::FromHex(r["id"].get<std::string>()) : std::nullopt;
  if (!id || id->size() != 16) return Bad(where, "its id is not 32 hex digits");
  out.record_id = *id;
  const std::string author = r.value("author", "");
  if (author == "me") out.author_key = archive.me_key;
  else if (author == "partner" && archive.partner) out.author_key = archive.partner->sign_key;
  else return Bad(where, "its author is neither \"me\" nor \"partner\" (with a partner named)");
  if (!r.contains("shared") || !r["shared"].is_boolean()) return Bad(where, "\"shared\" is not true or false");
  out.shared = r["shared"].get<bool>();
  if (r.contains("relay_seq") && !r["relay_seq"].is_null()) {
    if (!r["relay_seq"].is_number_unsigned()) return Bad(where, "\"relay_seq\" is not a number");
    out.relay_seq = r["relay_seq"].get<std::uint64_t>();
  }
  if (!r.contains("body") || !r["body"].is_object()) return Bad(where, "it has no body");
  google::protobuf::util::JsonParseOptions options;
  const auto parsed = google::protobuf::util::JsonStringToMessage(r["body"].dump(), out.content.mutable_body(), options);
  if (!parsed.ok()) return Bad(where, "its body is not a duet record (" + std::string(parsed.message()) + ")");
  out.content.set_shown(r.value("shown", true));
  out.content.set_newer(r.value("newer", false));
  // A record shown where it was exported keeps the rules here too: the
  // fold's safety rests on them.
  if (out.content.shown()) {
    const model::Verdict verdict = model::ValidateBody(out.content.body());
    if (!verdict.valid()) return Bad(where, "it says it was shown, but " + verdict.problem);
  } else {
    if (!r.contains("not_shown_because") || !r["not_shown_because"].is_string())
      return Bad(where, "it is not shown, but says not why");
    out.content.set_not_shown_because(r["not_shown_because"].get<std::string>());
  }
  return out;
}

Result<Archive> ReadArchive(const nlohmann::json& doc) {
  if (!doc.is_object() || doc.value("format", "") != "duet-export")
    return Bad("the file", "it is not a duet export (its \"format\" is not \"duet-export\")");
  if (!doc.contains("version") || doc["version"] != 1)
    return Bad("the file", "it is an export of version " + (doc.contains("version") ? doc["version"].dump() : "?") +
                               "; this duet reads version 1");
  Archive archive;
  const auto& me = doc.value("me", nlohmann::json());
  if (!me.is_object() || !me.contains("name") || !me["name"].is_string()) return Bad("\"me\"", "it has no name");
  archive.me_name = me["name"].get<std::string>();
  if (auto problem = NameProblem(archive.me_name); !problem.empty()) return Bad("\"me\"", "the name " + problem);
  auto me_key = IdentityKey(me.value("identity", nlohmann::json()));
  if (!me_key) return Bad("\"me\"", "its identity is not 64 hex digits");
  archive.me_key = *me_key;
  const auto& partner = doc.value("partner", nlohmann::json());
  if (!partner.is_null()) {
    if (!partner.is_object() || !partner.contains("name") || !partner["name"].is_string())
      return Bad("\"partner\"", "it has no name");
    auto key = IdentityKey(partner.value("identity", nlohmann::json()));
    if (!key || *key == archive.me_key) return Bad("\"partner\"", "its identity is not 64 hex digits of its own");
    const std::string name = partner["name"].get<std::string>();
    if (auto problem = NameProblem(name); !problem.empty()) return Bad("\"partner\"", "the name " + problem);
    archive.partner = Partner{name, *key, ""};
  }
  auto relay = net::ParseEndpoints(doc.value("relay", ""));
  if (!relay.ok()) return Bad("\"relay\"", "it is not HOST:PORT (or a list of them, with commas)");
  archive.relay = relay.value();
  if (!doc.contains("records") || !doc["records"].is_array()) return Bad("the file", "it has no list of records");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < doc["records"].size(); ++i) {
    auto record = ReadRecord(doc["records"][i], "record " + std::to_string(i + 1), archive);
    if (!record.ok()) return record.error();
    if (!ids.insert(record->record_id).second)
      return Bad("record " + std::to_string(i + 1), "its id is also another record's");
    archive.records.push_back(std::move(record).value());
  }
  return archive;
}

Result<nlohmann::json> ReadExportFile(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return MakeError(ErrorKind::kNotFound, "cannot read " + path + ": " + ec.message());
  if (size > kMaxImportBytes)
    return MakeError(ErrorKind::kInvalidInput, path + " is larger than any duet export (256 MiB); nothing was imported");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return MakeError(ErrorKind::kIo, "cannot read " + path);
  std::string bytes = text.str();
  auto doc = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  crypto::WipeString(bytes);
  if (doc.is_discarded()) return Bad(path, "it is not JSON (is it the file `duet export` wrote?)");
  return doc;
}

int RunImport(const Cli& cli, const std::string& path) {
  auto doc = ReadExportFile(path);
  if (!doc.ok()) return Fail(doc.error());
  // A field of another type than the export writes (a number for a name)
  // makes the JSON library throw: it is the file's fault, said as such.
  Result<Archive> archive = MakeError(ErrorKind::kInvalidInput, "");
  try {
    archive = ReadArchive(doc.value());
  } catch (const nlohmann::json::exception& e) {
    archive = Bad("the file", std::string("a field holds another type than an export writes (") + e.what() + ")");
  }
  if (!archive.ok()) return Fail(archive.error());
  auto home = ResolveHome(cli.home);
  if (!home.ok()) return Fail(home.error());
  auto device = Device::Create(home.value(), archive->me_name, archive->relay, std::nullopt);
  if (!device.ok()) return Fail(device.error());
  if (Status restored = device.value()->Restore(archive->me_key, archive->partner, archive->records);
      !restored.ok()) {
    device.value().reset();
    (void)WipeHome(home.value());  // a half-made archive would look whole
    return Fail(MakeError(restored.error().kind, restored.error().message + "; nothing was imported"));
  }
  const std::string pair = ForTerminal(archive->me_name) +
                           (archive->partner ? " & " + ForTerminal(archive->partner->name) : std::string());
  if (cli.json) {
    PrintJson({{"home", home->data_dir}, {"records", archive->records.size()}, {"archive", true}});
    return 0;
  }
  std::printf("restored %s of %s into %s: an archive to read, which syncs nothing and writes nothing "
              "(duet lock seals it with a passphrase)\n",
              Counted(archive->records.size(), "record", "records").c_str(), pair.c_str(), home->data_dir.c_str());
  return 0;
}

}  // namespace

void SetupImport(CLI::App& root, Cli& cli) {
  auto path = std::make_shared<std::string>();
  auto* sub = root.add_subcommand("import", "restore a `duet export` file into a fresh home, as an archive to read");
  sub->add_option("file", *path, "the file `duet export --out` wrote")->required();
  sub->callback([&cli, path] { cli.run = [&cli, path] { return RunImport(cli, *path); }; });
}

}  // namespace duet::client::cli
