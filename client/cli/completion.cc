// duet completion bash|zsh: a completion script for every command,
// subcommand and option, written from the same command table the parser
// uses, so it never lists a command that is gone or misses a new one.
#include <functional>

#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

struct CommandWords {
  std::string path;                // "", "/talk", "/talk/propose"
  std::vector<std::string> words;  // its subcommands, then its options
};

std::vector<std::string> OptionNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    for (const auto& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

// Every command with what may follow it; the root's options (--home,
// --json, --tz) may follow any command too.
std::vector<CommandWords> Walk(const CLI::App& root) {
  std::vector<CommandWords> all;
  const auto global = OptionNames(root);
  std::function<void(const CLI::App&, const std::string&)> visit = [&](const CLI::App& app,
                                                                       const std::string& path) {
    CommandWords entry{path, {}};
    for (const auto* sub : app.get_subcommands({})) entry.words.push_back(sub->get_name());
    for (const auto& name : OptionNames(app)) entry.words.push_back(name);
    if (&app != &root)
      for (const auto& name : global)
        if (name != "--help" && name != "-h" && name != "--help-all" && name != "--version")
          entry.words.push_back(name);
    all.push_back(entry);
    for (const auto* sub : app.get_subcommands({})) visit(*sub, path + "/" + sub->get_name());
  };
  visit(root, "");
  return all;
}

std::string Joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// What differs between the shells; the walk is the same. Both read the
// words typed so far: a word that names a subcommand of the path so far
// extends the path; then the path picks the words to offer.
struct Shell {
  const char* head;        // up to the case over "$path/WORD"
  const char* list_open;   // how a list of words to offer begins ...
  const char* list_close;  // ... and ends
  const char* tail;        // from offering the list on
};

constexpr Shell kBash = {
    "# bash completion for duet; written by `duet completion bash`\n"
    "_duet() {\n"
    "  local cur=${COMP_WORDS[COMP_CWORD]} path=\"\" i words\n"
    "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "    case \"$path/${COMP_WORDS[i]}\" in\n",
    "words=\"", "\"",
    "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
    "}\n"
    "complete -F _duet duet\n"};

constexpr Shell kZsh = {
    "#compdef duet\n"
    "# zsh completion for duet; written by `duet completion zsh`\n"
    "_duet() {\n"
    "  local path=\"\" word\n"
    "  local -a next\n"
    "  for word in ${words[2,CURRENT-1]}; do\n"
    "    case \"$path/$word\" in\n",
    "next=(", ")",
    "  compadd -- $next\n"
    "}\n"
    "_duet \"$@\"\n"};

std::string Script(const CLI::App& root, const Shell& shell) {
  const auto commands = Walk(root);
  std::string out = shell.head;
  for (const auto& c : commands)
    if (!c.path.empty()) out += "      \"" + c.path + "\") path=\"" + c.path + "\" ;;\n";
  out += "    esac\n  done\n  case \"$path\" in\n";
  for (const auto& c : commands)
    out += "    \"" + c.path + "\") " + shell.list_open + Joined(c.words) + shell.list_close + " ;;\n";
  return out + "  esac\n" + shell.tail;
}

}  // namespace

void SetupCompletion(CLI::App& root, Cli& cli) {
  auto shell = std::make_shared<std::string>();
  auto* sub = root.add_subcommand(
      "completion", "print a completion script: duet completion bash > /etc/bash_completion.d/duet");
  sub->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  sub->callback([&root, &cli, shell] {
    cli.run = [&root, shell] {
      std::fputs(Script(root, *shell == "bash" ? kBash : kZsh).c_str(), stdout);
      return 0;
    };
  });
}

}  // namespace duet::client::cli
