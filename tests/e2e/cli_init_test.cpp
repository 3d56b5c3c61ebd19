// End-to-end: `avow init`, `avow key` and `avow show`.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& p) {
  struct stat st{};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<fs::path> pem_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".pem") out.push_back(e.path());
  return out;
}

TEST(CliInit, CreatesArchiveKeysAndFirstEntry) {
  TempArchive a("example.org/statements");
  // Two private keys, 0600, in the key folder; none in the archive.
  const auto keys = pem_files(a.config_home() / "avow" / "keys");
  ASSERT_EQ(keys.size(), 2u);
  for (const auto& k : keys) {
    EXPECT_EQ(mode_of(k), 0600u) << k;
    EXPECT_NE(read_file(k).find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  }
  auto grep = a.git({"grep", "-l", "PRIVATE KEY", "main"});
  EXPECT_EQ(grep.exit_code, 1) << grep.out; // nothing found
  const auto files = a.git({"ls-tree", "-r", "--name-only", "main"}).out;
  EXPECT_NE(files.find("avow.json\n"), std::string::npos);
  EXPECT_NE(files.find("keys/allowed_signers\n"), std::string::npos);
  EXPECT_NE(files.find("log/checkpoint\n"), std::string::npos);
  EXPECT_NE(files.find("log/tile/0/000.p/1\n"), std::string::npos);
  EXPECT_NE(files.find("log/tile/entries/000.p/1\n"), std::string::npos);
  const auto config = nlohmann::json::parse(a.git_show("avow.json"));
  EXPECT_EQ(config["origin"], "example.org/statements");
  EXPECT_EQ(config["format"], "avow.archive/1");
  const std::string log_id = config["log_key"]["id"];
  EXPECT_NE(files.find("keys/" + log_id + ".pem\n"), std::string::npos);
  const std::string vkey = config["log_key"]["vkey"];
  EXPECT_TRUE(vkey.starts_with("example.org/statements+")) << vkey;
  const auto cp = a.git_show("log/checkpoint");
  EXPECT_TRUE(cp.starts_with("example.org/statements\n1\n")) << cp;
  EXPECT_NE(cp.find("\n\n\xE2\x80\x94 example.org/statements "), std::string::npos) << cp;
  // The archive has no working tree: everything is in .git, and git agrees it is bare.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(a.dir())) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{".git"});
  EXPECT_EQ(a.git({"rev-parse", "--is-bare-repository"}).out, "true\n");

  auto list = a.avow({"key", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto j = list.json();
  ASSERT_EQ(j["archive"].size(), 2u);
  EXPECT_EQ(j["archive"][0]["role"], "log");
  EXPECT_EQ(j["archive"][0]["id"], log_id);
  EXPECT_EQ(j["archive"][1]["role"], "archivist");
  EXPECT_EQ(j["archive"][1]["added_at"], 0);
  EXPECT_EQ(j["local"].size(), 2u);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST(CliInit, RefusesExistingArchiveNonEmptyFolderAndBadOrigin) {
  TempArchive a;
  const std::string before = a.state();
  auto again = a.avow_raw({"init", a.dir().string(), "--origin", "x.example/y"});
  EXPECT_EQ(again.exit_code, 4) << again.err;
  EXPECT_NE(again.err.find("already a git repository"), std::string::npos) << again.err;
  EXPECT_EQ(a.state(), before);

  const auto busy = a.tmp() / "busy";
  write_file(busy / "file.txt", "x");
  auto r = a.avow_raw({"init", busy.string(), "--origin", "x.example/y"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(busy / ".git"));

  auto bad = a.avow_raw({"init", (a.tmp() / "n").string(), "--origin", "has space"});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_FALSE(fs::exists(a.tmp() / "n"));
  EXPECT_EQ(a.avow_raw({"init", (a.tmp() / "m").string()}).exit_code, 2); // --origin is required
}

// The origin is a C2SP signed-note key name and a schema-less URL: a scheme, a space, a '+' or nothing is refused
// with exit 3 and one line saying why (for a scheme, the schema-less form to use), and nothing is created.
TEST(CliInit, RefusesOriginWithSchemeSpacePlusOrNothing) {
  TempDir t;
  const std::map<std::string, std::string> env = {{"XDG_CONFIG_HOME", (t / "cfg").string()}};
  const auto init = [&](const std::string& origin) {
    return run_process({avow_bin(), "init", (t / "a").string(), "--origin", origin}, {}, env);
  };
  auto https = init("https://example.org/archive");
  EXPECT_EQ(https.exit_code, 3) << https.err;
  EXPECT_EQ(https.err, "avow: error: invalid origin 'https://example.org/archive': want a schema-less URL without "
                       "'https://', such as 'example.org/archive'\n");
  EXPECT_EQ(https.out, "");
  EXPECT_FALSE(fs::exists(t / "a"));
  EXPECT_FALSE(fs::exists(t / "cfg" / "avow" / "keys")) << "no key may be generated for a refused origin";

  for (const std::string origin : {"example.org/a b", "example.org+x", "", "example.org/\t", "bücher.example/a"}) {
    auto r = init(origin);
    EXPECT_EQ(r.exit_code, 3) << "origin '" << origin << "': " << r.err;
    EXPECT_TRUE(r.err.starts_with("avow: error: invalid origin '")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(t / "a")) << origin;
  }

  auto ok = init("example.org:8443/archive");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(CliInit, GivenKeysAndEncryptedKey) {
  TempDir t;
  const std::map<std::string, std::string> env = {{"XDG_CONFIG_HOME", (t / "cfg").string()},
                                                  {"AVOW_PASSPHRASE", "correct horse battery staple"}};
  const auto run = [&](const std::vector<std::string>& args, std::map<std::string, std::string> extra = {}) {
    std::vector<std::string> argv{avow_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto e = env;
    for (auto& [k, v] : extra) e[k] = v;
    return run_process(argv, {}, e);
  };
  auto gen = run({"key", "generate", "--encrypt", "-o", (t / "me.pem").string(), "--json"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const std::string my_id = gen.json()["id"];
  EXPECT_EQ(gen.json()["encrypted"], true);
  EXPECT_EQ(mode_of(t / "me.pem"), 0600u);
  EXPECT_NE(read_file(t / "me.pem").find("-----BEGIN ENCRYPTED PRIVATE KEY-----"), std::string::npos);
  // openssl reads it with the passphrase.
  auto ossl = run_process({"openssl", "pkey", "-in", (t / "me.pem").string(), "-passin",
                           "pass:correct horse battery staple", "-noout"});
  EXPECT_EQ(ossl.exit_code, 0) << ossl.err;

  auto init = run({"--key", (t / "me.pem").string(), "init", (t / "a").string(), "--origin", "x.example/a", "--json"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(init.json()["archivist_key"]["id"], my_id);
  EXPECT_EQ(init.json()["archivist_key"]["generated"], false);
  EXPECT_EQ(init.json()["log_key"]["generated"], true);

  write_file(t / "s.txt", "Statement.\n");
  auto ok = run({"-C", (t / "a").string(), "archive", (t / "s.txt").string(), "--source", "https://e.org/"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto wrong = run({"-C", (t / "a").string(), "archive", (t / "s.txt").string(), "--source", "https://e.org/"},
                   {{"AVOW_PASSPHRASE", "wrong"}});
  EXPECT_EQ(wrong.exit_code, 5) << wrong.err;
  EXPECT_EQ(wrong.err.find("correct horse"), std::string::npos);
}

TEST(CliShow, UnknownAndMalformedIds) {
  TempArchive a;
  const auto id = a.archive_text("Shown statement.\n");
  auto ok = a.avow({"show", id.substr(0, 8)});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(ok.out.starts_with("record     " + id + "\nindex      1\nkind       statement\nsignature  valid")) << ok.out;
  auto text = a.avow({"show", id.substr(0, 12), "--text"});
  EXPECT_NE(text.out.find("\n\nShown statement.\n"), std::string::npos) << text.out;
  auto none = a.avow({"show", "0123456789abcdef"});
  EXPECT_EQ(none.exit_code, 1) << none.err;
  EXPECT_NE(none.err.find("no record"), std::string::npos);
  auto bad = a.avow({"show", "xyz"});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  auto short_prefix = a.avow({"show", id.substr(0, 7)});
  EXPECT_EQ(short_prefix.exit_code, 3) << short_prefix.err;
}

} // namespace
} // namespace avow::test
