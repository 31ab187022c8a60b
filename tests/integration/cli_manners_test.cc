// The command line's manners (issue #12): help for any command, a
// suggestion for a mistyped one, and completion scripts made from the same
// command table the parser uses.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/couple_fixture.h"

namespace duet::testing {
namespace {

class CliManners : public ::testing::Test {
 protected:
  RunResult Duet(std::vector<std::string> args) {
    args.insert(args.begin(), DUET_PATH);
    return RunProgram(args, dir_.path());
  }
  // What bash offers after `line` (the last word is being completed).
  std::string BashCompletes(const std::string& words) {
    const std::string script = dir_.File("duet.bash");
    std::ofstream(script) << Duet({"completion", "bash"}).out;
    auto r = RunProgram({"/bin/bash", "-c",
                         "source " + script + "; COMP_WORDS=(" + words +
                             "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _duet; echo \"${COMPREPLY[*]}\""},
                        dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return FirstLine(r.out);
  }
  TempDir dir_;
};

TEST_F(CliManners, HelpNamesACommandAndItsSubcommand) {
  auto r = Duet({"help", "talk", "propose"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, Duet({"talk", "propose", "--help"}).out);
  EXPECT_NE(r.out.find("--at"), std::string::npos) << r.out;
  auto top = Duet({"help"});
  ASSERT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("checkin"), std::string::npos);
}

TEST_F(CliManners, AMistypedCommandGetsTheNearestOne) {
  auto r = Duet({"chekin", "--mood", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("unknown command 'chekin'; did you mean `duet checkin`?"), std::string::npos) << r.err;
  auto far = Duet({"xyzzy"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << "nothing is near: " << far.err;
  auto help = Duet({"help", "talk", "propse"});
  EXPECT_EQ(help.exit_code, 2);
  EXPECT_EQ(LineCount(help.err), 1) << help.err;
  EXPECT_NE(help.err.find("did you mean `duet talk propose`?"), std::string::npos) << help.err;
}

TEST_F(CliManners, ParseErrorsAreSaidInDuetsWordsAndPointToTheCommandsHelp) {
  auto say = [&](std::vector<std::string> args) {
    auto r = Duet(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    return r.err;
  };
  EXPECT_EQ(say({"checkin", "--mood", "abc"}),
            "duet: --mood: 'abc' is not a number from 1 to 5; `duet checkin --help` says more\n");
  EXPECT_EQ(say({"checkin", "--mood", "3", "--need", "hugs"}),
            "duet: --need: 'hugs' is not one of listen/support/space/advice; `duet checkin --help` says more\n");
  EXPECT_EQ(say({"--jsn", "status"}),
            "duet: unknown option --jsn (did you mean --json?); `duet status --help` says more\n");
  EXPECT_NE(say({"talk", "propose", "--at", "2030-01-01 19:00", "--minuts", "20"})
                .find("unknown option --minuts (did you mean --minutes?)"),
            std::string::npos);
  EXPECT_NE(say({"checkin"}).find("--mood is required; `duet checkin --help` says more"), std::string::npos);
}

TEST_F(CliManners, BashCompletesCommandsSubcommandsAndOptions) {
  EXPECT_EQ(BashCompletes("duet che"), "checkin checkins");
  EXPECT_EQ(BashCompletes("duet talk pro"), "propose");
  EXPECT_EQ(BashCompletes("duet --json talk acc"), "accept");
  EXPECT_EQ(BashCompletes("duet checkin --m"), "--mood");
  EXPECT_EQ(BashCompletes("duet boundary propose --k"), "--kind");
  EXPECT_EQ(BashCompletes("duet checkin --js"), "--json") << "global options follow any command";
}

TEST_F(CliManners, ZshCompletionIsAScriptZshReads) {
  auto script = Duet({"completion", "zsh"});
  ASSERT_EQ(script.exit_code, 0);
  EXPECT_EQ(script.out.rfind("#compdef duet\n", 0), 0u);
  EXPECT_NE(script.out.find("\"/talk/propose\")"), std::string::npos);
  if (!std::filesystem::exists("/bin/zsh")) GTEST_SKIP() << "zsh is not installed; checked the text only";
  std::ofstream(dir_.File("_duet")) << script.out;
  auto r = RunProgram({"/bin/zsh", "-n", dir_.File("_duet")}, dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // With compadd standing in for zsh's own, what it would offer after
  // `duet talk ` (zsh filters by the typed prefix itself).
  auto offered = RunProgram({"/bin/zsh", "-c",
                             "compadd() { shift; print -r -- \"$*\"; }; words=(duet talk pro); "
                             "CURRENT=3; source " + dir_.File("_duet")},
                            dir_.path());
  ASSERT_EQ(offered.exit_code, 0) << offered.err;
  EXPECT_NE(offered.out.find("propose"), std::string::npos) << offered.out;
  EXPECT_NE(offered.out.find("accept"), std::string::npos) << offered.out;
  EXPECT_EQ(offered.out.find("checkin"), std::string::npos) << "only what follows `talk`: " << offered.out;
}

TEST_F(CliManners, CompletionWantsAShellItKnows) {
  auto r = Duet({"completion", "fish"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
}

class JsonManners : public CoupleTest {};

TEST_F(JsonManners, EveryJsonOutputIsOneValidDocumentOnStdoutAndErrorsGoToStderr) {
  Pair();
  Ok(Duet("a", {"checkin", "--mood", "4", "--note", "a \"quoted\"\nnote"}));
  Ok(Duet("b", {"sync"}));
  const std::vector<std::vector<std::string>> reads = {
      {"status"}, {"checkins"}, {"partner"}, {"relay"},       {"talk", "list"},
      {"boundary", "list"}, {"availability", "list"}, {"history"}, {"prompt"}, {"sync"}};
  for (const auto& who : {"a", "b"}) {
    for (auto args : reads) {
      args.insert(args.begin(), "--json");
      auto r = Duet(who, args);
      std::string shown;
      for (const auto& a : args) shown += a + " ";
      EXPECT_EQ(r.exit_code, 0) << shown << r.err;
      EXPECT_TRUE(r.err.empty()) << shown << r.err;
      EXPECT_FALSE(nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false).is_discarded())
          << shown << r.out;
    }
  }
  // A refusal with --json: nothing on stdout, one line on stderr.
  auto bad = Duet("a", {"--json", "checkin", "--mood", "9"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(bad.out.empty()) << bad.out;
  EXPECT_EQ(LineCount(bad.err), 1) << bad.err;
}

}  // namespace
}  // namespace duet::testing

namespace duet::testing {
namespace {

// The subcommands `duet [WORDS] --help` lists.
std::set<std::string> Subcommands(const std::vector<std::string>& words, const std::string& scratch) {
  std::vector<std::string> argv = {DUET_PATH};
  argv.insert(argv.end(), words.begin(), words.end());
  argv.push_back("--help");
  const std::string help = RunProgram(argv, scratch).out;
  std::set<std::string> names;
  const auto at = help.find("\nSubcommands:\n");
  if (at == std::string::npos) return names;
  std::istringstream lines(help.substr(at + 14));
  for (std::string line; std::getline(lines, line) && line.rfind("  ", 0) == 0;)
    names.insert(line.substr(2, line.find(' ', 2) - 2));
  return names;
}

// Issue #13, "done when": the README's command list and the commands agree.
TEST(ReadmeCommands, EveryCommandIsListedAndEveryListedCommandExists) {
  TempDir dir;
  std::ifstream readme(README_PATH);
  ASSERT_TRUE(readme) << README_PATH;
  std::vector<std::vector<std::string>> listed;  // the words after "duet", in code blocks
  bool in_code = false;
  for (std::string line; std::getline(readme, line);) {
    if (line.rfind("```", 0) == 0) in_code = !in_code;
    if (!in_code || line.rfind("duet ", 0) != 0) continue;
    std::istringstream words(line.substr(5));
    std::vector<std::string> command;
    for (std::string w; words >> w && !w.empty() && std::islower(static_cast<unsigned char>(w[0]));)
      command.push_back(w);
    if (!command.empty()) listed.push_back(command);
  }
  ASSERT_GT(listed.size(), 20u);
  const auto top = Subcommands({}, dir.path());
  ASSERT_GT(top.size(), 20u);
  std::set<std::string> in_readme;
  for (const auto& command : listed) {
    SCOPED_TRACE("README: duet " + command[0]);
    EXPECT_TRUE(top.count(command[0])) << "the README names a command duet does not have";
    in_readme.insert(command[0]);
    const auto second = Subcommands({command[0]}, dir.path());
    if (command.size() > 1 && !second.empty() && command[1].find('|') == std::string::npos) {
      EXPECT_TRUE(second.count(command[1])) << "duet " << command[0] << " has no " << command[1];
    }
  }
  for (const auto& name : top) EXPECT_TRUE(in_readme.count(name)) << "the README does not list duet " << name;
}

}  // namespace
}  // namespace duet::testing
