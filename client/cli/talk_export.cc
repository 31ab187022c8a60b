// duet talk export [--out FILE] [--alarm 15] [--details]: agreed talks as
// iCalendar (RFC 5545), so any calendar can hold and announce them. A talk
// cancelled after it was agreed is exported as cancelled, so a calendar that
// imported it before can mark it so. By default an event says only "Talk
// with PARTNER": imported into a cloud calendar, a topic or a place would
// leak what duet keeps between the two of them; --details adds them.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "client/cli/talk.h"
#include "client/ical.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {


}  // namespace

int RunTalkExport(const Cli& cli, const TalkOptions& options) {
  const bool to_stdout = options.out.empty() || options.out == "-";
  if (cli.json && to_stdout)
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "talk export writes iCalendar, not JSON: add --out FILE (--json then says what it "
                          "wrote), or list the talks as JSON with `duet --json talk list`"));
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  auto loaded = LoadState(d);
  if (!loaded.ok()) return Fail(loaded.error());
  const std::string partner = d.partner() ? d.partner()->name : "your partner";
  const std::string me = d.name();
  const std::int64_t now = NowSeconds();
  if (options.details)
    Warn("the calendar file holds each talk's topic and place: a calendar in the cloud will see them");
  std::vector<CalendarEvent> events;
  for (const auto& talk : loaded->state.talks) {
    if (talk.chosen == 0) continue;  // never agreed
    CalendarEvent event;
    event.uid = crypto::Hex(talk.talk_id) + "@duet";
    event.start = talk.start();
    event.end = talk.end();
    event.stamp = now;
    event.summary = "Talk with " + partner;
    if (options.details) {
      if (!talk.topic.empty()) event.summary += ": " + talk.topic;
      event.location = talk.place;
    }
    event.description = "Agreed in duet; proposed by " + (talk.mine ? me : partner) + ", " +
                        std::to_string(talk.minutes) + " minutes. Start gently.";
    event.alarm_minutes = options.alarm;
    event.cancelled = talk.state == model::TalkState::kCancelled;
    event.sequence = event.cancelled ? 1 : 0;
    events.push_back(std::move(event));
  }
  const std::string text = WriteCalendar(events);
  if (to_stdout) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  auto written = WriteFileAtomically(options.out, text);
  if (!written.ok()) return Fail(written.error());
  if (cli.json)
    PrintJson({{"file", options.out}, {"events", events.size()}});
  else
    std::printf("wrote %s to %s; import it into your calendar\n", Counted(events.size(), "talk", "talks").c_str(),
                options.out.c_str());
  return 0;
}

}  // namespace duet::client::cli
