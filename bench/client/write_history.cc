// duet_write_history --home DIR --records N: writes N shared records into a
// paired device's replica as its person would over years of use (check-ins,
// talks proposed, thanks, readiness, boundaries), through the same
// Device::AddRecord that `duet checkin` uses, in one transaction. bench/run
// then pushes them with `duet sync` and measures the partner's first sync
// and the commands people run every day against that history.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "client/device.h"
#include "crypto/crypto.h"

namespace {

duet::model::v1::RecordBody Body(int i) {
  duet::model::v1::RecordBody body;
  switch (i % 8) {
    case 3:
      body.mutable_thanks()->set_text("thank you for the tea this morning");
      break;
    case 6:
      body.mutable_readiness()->set_state(duet::model::v1::READINESS_STATE_LATER);
      break;
    default:
      body.mutable_checkin()->set_mood(static_cast<std::uint32_t>(1 + i % 5));
      body.mutable_checkin()->set_note("a short note about the day, what went well and what did not");
      break;
  }
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Writes a long shared history into a paired duet home (for bench/run)"};
  std::string home;
  int records = 10000;
  app.add_option("--home", home, "the device's home (duet --home)")->required();
  app.add_option("--records", records, "how many records")->check(CLI::Range(1, 10'000'000));
  CLI11_PARSE(app, argc, argv);
  duet::crypto::Init();
  auto paths = duet::client::ResolveHome(home);
  if (!paths.ok()) {
    std::fprintf(stderr, "duet_write_history: %s\n", paths.error().message.c_str());
    return 1;
  }
  auto device = duet::client::Device::Open(paths.value());
  if (!device.ok()) {
    std::fprintf(stderr, "duet_write_history: %s\n", device.error().message.c_str());
    return 1;
  }
  auto& d = *device.value();
  auto written = d.store().InTransaction([&]() -> duet::Status {
    for (int i = 0; i < records; ++i) {
      auto id = d.AddRecord(Body(i), /*shared=*/true);
      if (!id.ok()) return id.error();
    }
    return duet::Status::Ok();
  });
  if (!written.ok()) {
    std::fprintf(stderr, "duet_write_history: %s\n", written.error().message.c_str());
    return 1;
  }
  return 0;
}
