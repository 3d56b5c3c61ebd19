// End-to-end: help, version and usage errors. Every command and subcommand is found by walking the same command
// tree avow is built from (tool/app.hpp), so a new command without an example in its help fails here.

#include <tests/support/support.hpp>
#include <tool/app.hpp>

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace avow::test {
namespace {

std::vector<std::vector<std::string>> all_command_paths() {
  CLI::App app;
  tool::Globals g;
  tool::build_app(app, g);
  std::vector<std::vector<std::string>> out;
  std::function<void(const CLI::App&, std::vector<std::string>)> walk = [&](const CLI::App& a,
                                                                               std::vector<std::string> path) {
    out.push_back(path);
    for (const auto* sub : tool::subcommands_of(a)) {
      auto p = path;
      p.push_back(sub->get_name());
      walk(*sub, p);
    }
  };
  walk(app, {});
  return out;
}

RunResult avow(std::vector<std::string> args) {
  args.insert(args.begin(), avow_bin());
  return run_process(args);
}

std::string joined(const std::vector<std::string>& words) {
  std::string s = "avow";
  for (const auto& w : words) s += " " + w;
  return s;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

TEST(CliHelp, EveryCommandAndSubcommandHelpHasAnExample) {
  const auto paths = all_command_paths();
  // The tree really is walked: the root, 16 commands and the two subcommands of key at least.
  ASSERT_GE(paths.size(), 19u);
  EXPECT_NE(std::find(paths.begin(), paths.end(), std::vector<std::string>{"key", "generate"}), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), std::vector<std::string>{"version"}), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), std::vector<std::string>{"help"}), paths.end());
  const std::regex example_line(R"(^Examples?:)");
  for (const auto& path : paths) {
    auto args = path;
    args.push_back("--help");
    const auto r = avow(args);
    EXPECT_EQ(r.exit_code, 0) << joined(path) << ": " << r.err;
    EXPECT_EQ(r.err, "") << joined(path);
    std::istringstream lines(r.out);
    std::string line, example;
    while (std::getline(lines, line))
      if (std::regex_search(line, example_line)) example = line;
    EXPECT_NE(example, "") << joined(path) << " --help has no Example line:\n" << r.out;
    // `avow help CMD` prints the same help.
    auto help_args = path;
    help_args.insert(help_args.begin(), "help");
    const auto h = avow(help_args);
    EXPECT_EQ(h.exit_code, 0) << joined(help_args) << ": " << h.err;
    EXPECT_EQ(h.out, r.out) << joined(help_args);
  }
}

TEST(CliHelp, FirstLinesAndManifestMembers) {
  EXPECT_EQ(first_line(avow({"--help"}).out), "avow: a tamper-evident, append-only archive of public statements.");
  EXPECT_EQ(first_line(avow({"key", "--help"}).out), "Manage keys.");
  EXPECT_EQ(first_line(avow({"key", "generate", "--help"}).out),
            "Create an Ed25519 key pair; the private key is written 0600.");
  const auto key = avow({"key", "--help"}).out;
  EXPECT_NE(key.find("Examples:\n  avow key generate --encrypt\n  avow -C archive key list"), std::string::npos) << key;

  const auto archive = avow({"archive", "--help"}).out;
  EXPECT_NE(archive.find("Manifest (--batch): one JSON object per line"), std::string::npos) << archive;
  EXPECT_NE(archive.find("a path is relative to the manifest's folder"), std::string::npos) << archive;
  EXPECT_NE(archive.find("Any other string member goes to meta."), std::string::npos) << archive;
  for (const std::string member : {"text or path", "source,", "publisher,", "published,", "tz,", "title,", "lang,",
                                   "encoding,", "supersedes,", "meta (an object of strings)", "date_order."})
    EXPECT_NE(archive.find(member), std::string::npos) << "archive --help does not name the manifest member " << member;
}

// Every usage error: "avow: error: <message>" then a hint naming the help to read, nothing on stdout, exit 2.
void expect_usage_error(const std::vector<std::string>& args, const std::string& message, const std::string& help_of) {
  const auto r = avow(args);
  EXPECT_EQ(r.exit_code, 2) << joined(args) << ": " << r.err;
  EXPECT_EQ(r.out, "") << joined(args);
  EXPECT_EQ(r.err, "avow: error: " + message + "\navow: hint: run '" + help_of + " --help' for usage\n") << joined(args);
}

TEST(CliHelp, UsageErrorsHaveThePrefixAHintAndExit2) {
  expect_usage_error({"frobnicate"}, "unknown command 'frobnicate'", "avow");
  expect_usage_error({"verfy"}, "unknown command 'verfy': did you mean 'verify'?", "avow");
  expect_usage_error({"--json", "-q", "frobnicate"}, "unknown command 'frobnicate'", "avow");
  expect_usage_error({"-C", "somewhere", "histroy"}, "unknown command 'histroy': did you mean 'history'?", "avow");
  expect_usage_error({"key"}, "'avow key' needs a subcommand", "avow key");
  expect_usage_error({"key", "lst"}, "unknown subcommand 'lst' of 'avow key': did you mean 'list'?", "avow key");
  expect_usage_error({"init", "x"}, "--origin is required", "avow init");
  expect_usage_error({"help", "frobnicate"}, "unknown command 'frobnicate'", "avow");

  // CLI11's own messages get the same shape, with the hint of the command being parsed.
  const auto r = avow({"verify", "--no-such-option"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.starts_with("avow: error: ")) << r.err;
  EXPECT_NE(r.err.find("--no-such-option"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.ends_with("\navow: hint: run 'avow verify --help' for usage\n")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
}

TEST(CliHelp, NoCommandPrintsAShortUsageAndExits2) {
  const auto r = avow({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.starts_with("usage: avow [-C DIR] [--json] [-q] COMMAND [ARGS...]\ncommands: init, archive, "))
      << r.err;
  EXPECT_NE(r.err.find("\navow: error: no command given\n"), std::string::npos) << r.err;
  EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 4) << "short, not the whole help:\n" << r.err;
  // Global options alone are no command either.
  const auto q = avow({"-q"});
  EXPECT_EQ(q.exit_code, 2);
  EXPECT_EQ(q.err, "avow: error: no command given\navow: hint: run 'avow --help' for usage\n");
}

TEST(CliHelp, VersionNamesRevisionAndLibraries) {
  const auto v = avow({"--version"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.err, "");
  const std::regex shape("avow 0\\.1\\.0 \\(git ([0-9a-f]{7,40}(-dirty)?|unknown)\\)\n"
                         "OpenSSL  OpenSSL 3\\.[0-9]+\\.[0-9]+[^\n]*\n"
                         "libgit2  1\\.[0-9]+\\.[0-9]+\n"
                         "ICU      [0-9]+\\.[0-9.]+ \\(Unicode [0-9]+\\.[0-9.]+\\)\n"
                         "SQLite   3\\.[0-9]+\\.[0-9]+\n");
  EXPECT_TRUE(std::regex_match(v.out, shape)) << v.out;
  const auto sub = avow({"version"});
  EXPECT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(sub.out, v.out);

  const auto j = avow({"version", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto doc = j.json();
  EXPECT_EQ(doc["version"], "0.1.0");
  EXPECT_EQ(doc["libraries"].size(), 4u);
  EXPECT_TRUE(v.out.find("(git " + doc["revision"].get<std::string>() + ")") != std::string::npos) << v.out;
  EXPECT_TRUE(v.out.find("SQLite   " + doc["libraries"]["SQLite"].get<std::string>() + "\n") != std::string::npos);

  // The run-time SQLite is the one the sqlite3 shell reports when it links the same library.
  const auto shell = run_process({"sqlite3", "--version"});
  if (shell.exit_code == 0) {
    EXPECT_TRUE(shell.out.starts_with(doc["libraries"]["SQLite"].get<std::string>() + " ")) << shell.out;
  }
}

} // namespace
} // namespace avow::test
