// duet help [COMMAND...]: the help of a command, as `duet COMMAND --help`
// prints it; and the nearest command to a mistyped one.
#include <algorithm>
#include <sstream>

#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

// Edits (insert, delete, substitute, swap two neighbours) from a to b.
std::size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

int RunHelp(const CLI::App& root, const std::vector<std::string>& path) {
  const CLI::App* command = &root;
  std::string typed = "duet";
  for (const auto& word : path) {
    const CLI::App* next = nullptr;
    for (const auto* sub : command->get_subcommands({}))
      if (sub->get_name() == word) next = sub;
    if (next == nullptr) {
      const std::string nearest = NearestCommand(*command, word);
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            "`" + typed + "` has no command '" + word + "'" +
                                (nearest.empty() ? "" : "; did you mean `" + typed + " " + nearest + "`?") +
                                " `" + typed + " --help` lists them"));
    }
    command = next;
    typed += " " + word;
  }
  // Through the formatter: App::help() would show the `help` command itself,
  // since it is the one selected.
  std::fputs(command->get_formatter()->make_help(command, typed, CLI::AppFormatMode::Normal).c_str(),
             stdout);
  return 0;
}

}  // namespace

std::string NearestCommand(const CLI::App& parent, const std::string& typed) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, typed.size() / 3) + 1;
  for (const auto* sub : parent.get_subcommands({})) {
    const std::size_t distance = EditDistance(typed, sub->get_name());
    if (distance < best_distance) {
      best = sub->get_name();
      best_distance = distance;
    }
  }
  return best;
}

namespace {

// The long options `command` takes, its own and those of the commands above
// it (--home, --json and --tz follow any command).
std::vector<std::string> LongOptions(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::App* app = &command; app != nullptr; app = app->get_parent())
    for (const auto* option : app->get_options())
      for (const auto& name : option->get_lnames()) names.push_back("--" + name);
  return names;
}

std::string NearestOption(const CLI::App& command, const std::string& typed) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, typed.size() / 3) + 1;
  for (const auto& name : LongOptions(command)) {
    const std::size_t distance = EditDistance(typed, name);
    if (distance < best_distance) {
      best = name;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace

std::string InDuetVoice(const std::string& message, const CLI::App& command) {
  // Plain string matching on CLI11's few message shapes (std::regex here
  // trips GCC 12's -Wmaybe-uninitialized in the sanitizer build).
  auto starts = [&](const std::string& prefix) { return message.rfind(prefix, 0) == 0; };
  const auto colon = message.find(": ");
  if (starts("--") && colon != std::string::npos) {
    const std::string option = message.substr(0, colon);
    const std::string rest = message.substr(colon + 2);
    const std::string value_prefix = "Value ";
    const auto range = rest.find(" not in range ");
    const auto to = rest.find(" to ", range == std::string::npos ? 0 : range);
    if (rest.rfind(value_prefix, 0) == 0 && range != std::string::npos && to != std::string::npos)
      return option + ": '" + rest.substr(value_prefix.size(), range - value_prefix.size()) +
             "' is not a number from " + rest.substr(range + 14, to - range - 14) + " to " + rest.substr(to + 4);
    const auto set = rest.find(" not in {");
    if (set != std::string::npos && !rest.empty() && rest.back() == '}') {
      std::string choices = rest.substr(set + 9, rest.size() - set - 10);
      std::replace(choices.begin(), choices.end(), ',', '/');
      return option + ": '" + rest.substr(0, set) + "' is not one of " + choices;
    }
    return message;
  }
  for (const std::string prefix : {"The following argument was not expected: ",
                                   "The following arguments were not expected: "}) {
    if (!starts(prefix)) continue;
    std::istringstream words(message.substr(prefix.size()));
    std::string word, said;
    while (words >> word) {
      std::string part;
      if (word.rfind("-", 0) == 0) {
        const std::string nearest = NearestOption(command, word);
        part = "unknown option " + word + (nearest.empty() ? "" : " (did you mean " + nearest + "?)");
      } else {
        part = "'" + word + "' was not expected";
      }
      said += (said.empty() ? "" : "; ") + part;
    }
    return said;
  }
  return message;
}

void SetupHelp(CLI::App& root, Cli& cli) {
  auto path = std::make_shared<std::vector<std::string>>();
  auto* sub = root.add_subcommand("help", "show the help of a command: duet help talk propose");
  sub->add_option("command", *path, "the command, and its subcommand if any");
  sub->callback([&root, &cli, path] { cli.run = [&root, path] { return RunHelp(root, *path); }; });
}

}  // namespace duet::client::cli
