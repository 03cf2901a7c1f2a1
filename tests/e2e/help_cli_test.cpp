// Every subcommand's --help, as a user reads it: defaults as typed (0.95, not
// 0.94999999999999996), at least one example, the exit codes, and 100 columns. The subcommands are
// read from `flakescope --help`, so a new one is checked without editing this test.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace flakescope::e2e {
namespace {

std::vector<std::string> subcommands() {
  const CliResult r = run_cli({"--help"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<std::string> names;
  std::istringstream in(r.out);
  bool in_commands = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "commands:") {
      in_commands = true;
    } else if (in_commands && line.rfind("  ", 0) == 0) {
      names.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (in_commands) {
      break;
    }
  }
  return names;
}

TEST(HelpCli, TopLevelHelpListsEverySubcommand) {
  const std::vector<std::string> names = subcommands();
  for (const char* expected :
       {"list", "probe", "audit", "tolerance", "gate", "report", "merge", "fix"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
}

TEST(HelpCli, EverySubcommandHelpHasTypedDefaultsAnExampleAndTheExitCodes) {
  const std::regex float_artefact("[0-9]\\.[0-9]{9,}");
  for (const std::string& name : subcommands()) {
    SCOPED_TRACE("flakescope " + name + " --help");
    const CliResult r = run_cli({name, "--help"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    std::smatch m;
    EXPECT_FALSE(std::regex_search(r.out, m, float_artefact)) << "'" << m.str() << "' in\n"
                                                              << r.out;
    const auto examples = r.out.find("\nExamples:\n");
    ASSERT_NE(examples, std::string::npos) << r.out;
    const auto codes = r.out.find("\nExit codes:\n");
    ASSERT_NE(codes, std::string::npos) << r.out;
    EXPECT_NE(r.out.substr(examples, codes - examples).find("\n  flakescope " + name + " "),
              std::string::npos)
        << "an example runs the subcommand:\n"
        << r.out.substr(examples);
    const std::string tail = r.out.substr(codes);
    for (const char* code : {"\n  0 ", "\n  2 ", "\n  3 "})
      EXPECT_NE(tail.find(code), std::string::npos) << code << " in\n" << tail;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
  }
}

TEST(HelpCli, DefaultsArePrintedAsTyped) {
  for (const char* name : {"probe", "audit", "tolerance"}) {
    const CliResult r = run_cli({name, "--help"});
    EXPECT_NE(r.out.find("--confidence arg (=0.95)"), std::string::npos) << name << "\n" << r.out;
    EXPECT_NE(r.out.find("--target arg (=1e-4)"), std::string::npos) << name << "\n" << r.out;
  }
}

TEST(HelpCli, ExitCodeOneIsListedOnlyWhereTheCommandUsesIt) {
  for (const char* name : {"probe", "audit", "gate", "merge"})
    EXPECT_NE(run_cli({name, "--help"}).out.find("\n  1 "), std::string::npos) << name;
  for (const char* name : {"list", "report", "tolerance", "fix"})
    EXPECT_EQ(run_cli({name, "--help"}).out.find("\n  1 "), std::string::npos) << name;
  for (const char* name : {"probe", "audit"})
    EXPECT_NE(run_cli({name, "--help"}).out.find("\n  130 "), std::string::npos) << name;
}

}  // namespace
}  // namespace flakescope::e2e
