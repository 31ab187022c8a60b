// duet watch [--remind 15] [--no-notify]: stays connected to the relay,
// prints each partner record as it arrives, and reminds before an agreed
// talk (also through notify-send on a desktop). Inside agreed quiet hours
// news waits, unprinted, and is shown when they end: a boundary the two of
// them set holds for notifications too. Reconnects with backoff; SIGINT or
// SIGTERM stop it cleanly.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <set>
#include <thread>

#include "client/cli/talk.h"
#include "client/model/free_time.h"
#include "client/model/timeplan.h"
#include "client/relay_session.h"
#include "crypto/crypto.h"

extern char** environ;

namespace duet::client::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

constexpr auto kTick = std::chrono::milliseconds(500);
// Under the relay's idle timeout (300 s by default), with room to spare.
constexpr std::int64_t kPingEverySeconds = 60;
constexpr std::int64_t kMaxBackoffSeconds = 60;
constexpr char kRemindedMeta[] = "watch.reminded";

struct WatchOptions {
  int remind = 15;
  bool no_notify = false;
};

bool HasDesktop() {
  for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY"})
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return true;
  return false;
}

// notify-send, when there is a desktop to show it on and the tool is
// installed; a missing tool is not an error, the terminal line is enough.
void Notify(const std::string& text) {
  if (!HasDesktop()) return;
  // Notification daemons may read the body as markup; a partner's words
  // must stay words.
  std::string body;
  for (char c : text) {
    if (c == '&') body += "&amp;";
    else if (c == '<') body += "&lt;";
    else if (c == '>') body += "&gt;";
    else body.push_back(c);
  }
  const char* argv[] = {"notify-send", "--app-name=duet", "--", "duet", body.c_str(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "notify-send", nullptr, nullptr, const_cast<char* const*>(argv), environ) == 0)
    waitpid(pid, nullptr, 0);
}

class Watcher {
 public:
  Watcher(Device& device, const date::time_zone* zone, WatchOptions options)
      : d_(device), zone_(zone), options_(options) {}

  int Run() {
    auto loaded = LoadState(d_);
    if (!loaded.ok()) return Fail(loaded.error());
    for (const auto& r : loaded->records) seen_.insert(r.record_id);
    if (auto said = d_.store().GetMeta(kRemindedMeta); said.ok() && said.value()) {
      std::string list = *said.value();
      for (std::size_t at = 0; at + 16 <= list.size(); at += 16) reminded_.insert(list.substr(at, 16));
    }
    std::printf("watching for %s's news; reminders %d min before a talk; Ctrl-C stops\n",
                PartnerLabel(d_).c_str(), options_.remind);
    state_ = std::move(loaded->state);
    Remind();
    while (!g_stop && !ended_) {
      Step();
      ShowWhatWaited();
      Remind();
    }
    if (!ended_) std::printf("stopped\n");
    return 0;
  }

 private:
  // One turn of the loop: connect when due, or wait a tick for news.
  void Step() {
    if (!session_ && NowSeconds() >= retry_at_) {
      auto opened = OpenRelay(d_, std::chrono::seconds(5));
      if (!opened.ok()) {
        // Jittered (half to one and a half times the backoff): the devices of
        // a relay that went away do not all come back in the same second.
        const std::int64_t wait = backoff_ / 2 + crypto::RandomBelow(static_cast<std::uint32_t>(backoff_) + 1);
        std::printf("relay unreachable (%s); trying again in %llds\n", opened.error().message.c_str(),
                    static_cast<long long>(wait));
        retry_at_ = NowSeconds() + wait;
        backoff_ = std::min(backoff_ * 2, kMaxBackoffSeconds);
        return;
      }
      session_ = std::move(opened).value();
      std::printf("connected to the relay %s\n", session_->endpoint().ToString().c_str());
      backoff_ = 1;
      if (!SyncAndShow()) return;
    }
    if (!session_) {
      std::this_thread::sleep_for(kTick);
    } else if (session_->WaitForData(kTick)) {
      auto delivered = session_->TakeDelivered();
      if (!delivered.ok()) return Lost(delivered.error());
      SyncAndShow();
    } else if (NowSeconds() - last_contact_ >= kPingEverySeconds) {
      v1::Frame ping;
      ping.mutable_ping();
      auto pong = session_->Call(std::move(ping));
      if (!pong.ok()) return Lost(pong.error());
      last_contact_ = NowSeconds();
    }
  }

  void Lost(const Error& error) {
    std::printf("lost the relay (%s); reconnecting\n", error.message.c_str());
    session_.reset();
  }

  // Syncs over the open session and prints what the partner sent.
  bool SyncAndShow() {
    auto report = SyncOver(d_, *session_);
    if (!report.ok()) {
      Lost(report.error());
      return false;
    }
    last_contact_ = NowSeconds();
    for (const auto& warning : report->warnings) Warn(ForTerminal(warning));
    if (report->unpaired_at) {
      std::printf("%s\n", UnpairedLine(d_, zone_, *report->unpaired_at).c_str());
      ended_ = true;
      session_.reset();
      return false;
    }
    if (report->held_back) Warn(ForTerminal(*report->held_back));
    auto loaded = LoadState(d_);
    if (!loaded.ok()) return true;
    state_ = loaded->state;
    const std::string partner = PartnerLabel(d_);
    const auto quiet_until = model::QuietUntil(state_, NowSeconds());
    const bool waited_already = !waiting_.empty();
    for (const model::OpenedRecord* r : model::FoldOrder(loaded->records)) {
      if (!seen_.insert(r->record_id).second || r->author_key == d_.my_key() || !Newsworthy(*r)) continue;
      const std::string line = model::FormatLocalClock(NowSeconds(), zone_) + "  " +
                               DescribeRecord(*r, loaded->state, partner, zone_);
      if (quiet_until) waiting_.push_back(line);
      else std::printf("%s\n", line.c_str());
    }
    // Once, and nothing of what or whose: that something waits.
    if (quiet_until && !waited_already && !waiting_.empty())
      std::printf("quiet hours until %s: news waits until then\n",
                  model::FormatLocalClock(*quiet_until, zone_).c_str());
    return true;
  }

  // What arrived in quiet hours, once they are over.
  void ShowWhatWaited() {
    if (waiting_.empty() || model::QuietUntil(state_, NowSeconds())) return;
    std::printf("quiet hours are over; while they lasted:\n");
    for (const auto& line : waiting_) std::printf("%s\n", line.c_str());
    waiting_.clear();
  }

  // From the state of the last sync: a reminder needs the clock, not the
  // database.
  void Remind() {
    const std::int64_t now = NowSeconds();
    const std::int64_t ahead = std::int64_t{options_.remind} * 60;
    for (const auto& talk : state_.talks) {
      if (talk.state != model::TalkState::kAgreed || now >= talk.start() ||
          now < talk.start() - ahead)
        continue;
      const std::string key = crypto::Hex(talk.talk_id).substr(0, 16);
      if (!reminded_.insert(key).second) continue;
      const std::int64_t minutes = (talk.start() - now + 59) / 60;
      std::string text = "talk with " + PartnerLabel(d_) + " in " + std::to_string(minutes) +
                         " min, at " + model::FormatLocalClock(talk.start(), zone_);
      if (!talk.place.empty()) text += ", " + ForTerminal(talk.place);
      if (!talk.topic.empty()) text += " (about: " + ForTerminal(talk.topic) + ")";
      if (!options_.no_notify) Notify(text);
      std::printf("reminder: %s\n", text.c_str());
      std::string list;
      for (const auto& k : reminded_) list += k;
      // Said once, even across restarts of watch.
      (void)d_.store().SetMeta(kRemindedMeta, list);
    }
  }

  Device& d_;
  const date::time_zone* zone_;
  WatchOptions options_;
  std::unique_ptr<RelaySession> session_;
  model::CoupleState state_;
  std::set<std::string> seen_;
  std::set<std::string> reminded_;
  std::vector<std::string> waiting_;  // news that came in quiet hours
  std::int64_t last_contact_ = 0;
  std::int64_t retry_at_ = 0;
  std::int64_t backoff_ = 1;  // seconds until the next try; doubles up to a minute
  bool ended_ = false;        // the pairing ended: nothing more to watch
};

int RunWatch(const Cli& cli, const WatchOptions& options) {
  auto zone = CliZone(cli);
  if (!zone.ok()) return Fail(zone.error());
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  if (!PairedNow(*device.value()))
    return Fail(NotPairedYet(*device.value(), "there is nothing to watch"));
  // Line by line, also into a pipe: someone (or something) is reading along.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return Watcher(*device.value(), zone.value(), options).Run();
}

}  // namespace

void SetupWatch(CLI::App& root, Cli& cli) {
  auto options = std::make_shared<WatchOptions>();
  auto* sub = root.add_subcommand("watch", "stay connected: show news as it comes, remind before talks");
  sub->add_option("--remind", options->remind, "minutes before a talk to remind (default 15)")
      ->check(CLI::Range(1, 1440));
  sub->add_flag("--no-notify", options->no_notify, "no desktop notifications, just the terminal");
  sub->callback([&cli, options] { cli.run = [&cli, options] { return RunWatch(cli, *options); }; });
}

}  // namespace duet::client::cli
