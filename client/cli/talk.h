// duet talk: the subcommands share their options and a few ways of showing
// talks; private to client/cli/.
#pragma once

#include <string>
#include <vector>

#include "client/cli/cli.h"

namespace duet::client::cli {

struct TalkOptions {
  std::string id;
  std::vector<std::string> at;
  int minutes = 0;  // 0: the default (20, or the countered talk's length)
  std::string place;
  std::string topic;
  std::string note;
  int option = 0;
  int days = 7;
  int felt = 0;
  std::string out;
  int alarm = 15;
  bool details = false;  // talk export: the topic and place too
  bool anyway = false;  // propose even though the partner said "not now"
};

int RunTalkPropose(const Cli& cli, const TalkOptions& options);
int RunTalkCounter(const Cli& cli, const TalkOptions& options);
int RunTalkAccept(const Cli& cli, const TalkOptions& options);
int RunTalkDecline(const Cli& cli, const TalkOptions& options);
int RunTalkCancel(const Cli& cli, const TalkOptions& options);
int RunTalkSuggest(const Cli& cli, const TalkOptions& options);
int RunTalkList(const Cli& cli);
int RunTalkReflect(const Cli& cli, const TalkOptions& options);
int RunTalkExport(const Cli& cli, const TalkOptions& options);

// "Wed 2026-12-02 19:30-19:50" in `zone` (the end's date too when it differs).
std::string FormatSpan(std::int64_t start, std::int64_t end, const date::time_zone* zone);
// The talk `typed` names, among all talks.
Result<const model::TalkView*> FindTalk(const model::CoupleState& state, const std::string& typed);

}  // namespace duet::client::cli
