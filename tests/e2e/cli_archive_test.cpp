// End-to-end: `avow archive` and its bad inputs, through the built binary.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace avow::test {
namespace {

const std::string k_statement = "Press release\n\nThe coalition condemned the shelling of residential areas.\n";

class CliArchive : public ::testing::Test {
protected:
  TempArchive a;

  // Assert that `args` fails with `code`, prints one error line containing `needle`, and changes nothing.
  void expect_refused(const std::vector<std::string>& args, int code, const std::string& needle,
                      const std::string& stdin_data = {}) {
    const std::string before = a.state();
    const auto r = a.avow(args, stdin_data);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_TRUE(r.err.starts_with("avow: error: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "want '" << needle << "' in: " << r.err;
    EXPECT_EQ(a.state(), before) << "the archive changed";
  }

  std::string file(const std::string& name, const std::string& data) { return a.file(name, data); }
};

TEST_F(CliArchive, IstanbulDatelineGetsUtcAndVerifies) {
  const auto f = file("pr.txt", k_statement);
  auto r = a.avow({"archive", f, "--source", "https://example.org/press/2019/03/29", "--publisher",
                   "Syrian opposition coalition (example)", "--published", "Friday, 29 March 2019 18:36", "--tz",
                   "Europe/Istanbul", "--title", "Statement"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.out.size(), 65u) << r.out; // 64 hex + LF
  const std::string id = r.out.substr(0, 64);
  auto show = a.avow({"show", id, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const auto j = show.json();
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["index"], 1); // entry 0 is the archivist key.add written by init
  EXPECT_EQ(j["signature"]["valid"], true);
  const auto& rec = j["record"];
  EXPECT_EQ(rec["published"]["as_written"], "Friday, 29 March 2019 18:36");
  EXPECT_EQ(rec["published"]["utc"], "2019-03-29T15:36:00Z");
  EXPECT_EQ(rec["published"]["tz"], "Europe/Istanbul");
  EXPECT_EQ(rec["source"]["publisher"], "Syrian opposition coalition (example)");
  EXPECT_EQ(rec["source"]["uri"], "https://example.org/press/2019/03/29");
  EXPECT_EQ(rec["kind"], "statement");
  EXPECT_EQ(rec["format"], "avow.record/1");
  EXPECT_EQ(rec["text"]["bytes"], k_statement.size());
  EXPECT_FALSE(rec.contains("original")); // already canonical
  auto v = a.avow({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_TRUE(v.out.starts_with("verified: ")) << v.out;
}

TEST_F(CliArchive, TextIsStoredCanonicalAndOriginalKeptWhenDifferent) {
  const std::string raw = "\xEF\xBB\xBFLine one  \r\ncaf\x65\xCC\x81\r\n\r\n";
  const auto f = file("crlf.txt", raw);
  auto r = a.avow({"archive", f, "--source", "https://example.org/a", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = r.json()["records"][0]["id"];
  const auto rec = a.avow({"show", id, "--json", "--text"}).json();
  EXPECT_EQ(rec["text"], "Line one\ncaf\xC3\xA9\n");
  const std::string sha = rec["record"]["text"]["sha256"];
  EXPECT_EQ(a.git_show("texts/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha), "Line one\ncaf\xC3\xA9\n");
  const std::string osha = rec["record"]["original"]["sha256"];
  EXPECT_EQ(rec["record"]["original"]["encoding"], "UTF-8");
  EXPECT_EQ(rec["record"]["original"]["bytes"], raw.size());
  EXPECT_EQ(a.git_show("originals/" + osha.substr(0, 2) + "/" + osha.substr(2, 2) + "/" + osha), raw);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliArchive, StdinAndSeveralFilesInOneCommit) {
  const auto f1 = file("one.txt", "First statement.\n");
  const auto f2 = file("two.txt", "Second statement.\n");
  const auto before = a.git({"rev-list", "--count", "main"}).out;
  auto r = a.avow({"archive", f1, "-", f2, "--source", "https://example.org/x", "--json"}, "From standard input.\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = r.json();
  ASSERT_EQ(j["records"].size(), 3u);
  EXPECT_EQ(j["records"][1]["input"], "-");
  EXPECT_EQ(j["tree_size"], 4);
  EXPECT_EQ(std::stoi(a.git({"rev-list", "--count", "main"}).out), std::stoi(before) + 1);
  const auto t = a.avow({"show", j["records"][1]["id"], "--text", "--json"}).json();
  EXPECT_EQ(t["text"], "From standard input.\n");
}

TEST_F(CliArchive, ArabicIriAndWindows1256) {
  // "ALEF LAM" in windows-1256 is C7 E1.
  const auto f = file("ar.txt", std::string("\xC7\xE1\xD3\xE1\xC7\xE3\r\n"));
  auto r = a.avow({"archive", f, "--encoding", "windows-1256", "--lang", "ar", "--source",
                   "http://www.spa.gov.sa/\xD8\xA7\xD9\x84\xD8\xA3\xD8\xAE\xD8\xA8\xD8\xA7\xD8\xB1/1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rec = a.avow({"show", r.json()["records"][0]["id"], "--text", "--json"}).json();
  EXPECT_EQ(rec["text"], "\xD8\xA7\xD9\x84\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85\n"); // السلام
  EXPECT_EQ(rec["record"]["original"]["encoding"], "windows-1256");
  EXPECT_EQ(rec["record"]["text"]["lang"], "ar");
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliArchive, UnparseableDateIsKeptWithWarningOrRefusedWhenStrict) {
  const auto f = file("d.txt", k_statement);
  auto r = a.avow({"archive", f, "--source", "https://example.org/d", "--published", "the day after the flood"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("avow: warning: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kept as written"), std::string::npos) << r.err;
  const auto rec = a.avow({"show", r.out.substr(0, 64), "--json"}).json()["record"];
  EXPECT_EQ(rec["published"], nlohmann::json({{"as_written", "the day after the flood"}}));
  expect_refused({"archive", f, "--source", "https://example.org/d", "--published", "the day after the flood",
                  "--strict-dates"},
                 3, "not a date");
}

TEST_F(CliArchive, BadInputIsRefusedWithExitCodeAndNoChange) {
  const auto good = file("good.txt", k_statement);
  expect_refused({"archive", (a.tmp() / "missing.txt").string(), "--source", "https://e.org/"}, 3, "no such file");
  expect_refused({"archive", a.tmp().path().string(), "--source", "https://e.org/"}, 3, "is a directory");
  expect_refused({"archive", file("empty.txt", ""), "--source", "https://e.org/"}, 3, "empty");
  expect_refused({"archive", file("blank.txt", "  \n\t\n\r\n"), "--source", "https://e.org/"}, 3, "empty");
  expect_refused({"archive", file("bad.txt", std::string("abc\xC3\x28zz")), "--source", "https://e.org/"}, 3,
                 "offset 3");
  expect_refused({"archive", file("overlong.txt", std::string("ab\xC0\x80")), "--source", "https://e.org/"}, 3,
                 "offset 2");
  expect_refused({"archive", file("nul.txt", std::string("ab\0cd", 5)), "--source", "https://e.org/"}, 3,
                 "offset 2");
  expect_refused({"archive", good, "--source", "https://e.org/", "--title", "two\nlines"}, 3, "title");
  expect_refused({"archive", good, "--source", "https://e.org/", "--publisher", "bell\x07"}, 3, "publisher");
  expect_refused({"archive", good, "--source", "example.org/no-scheme"}, 3, "scheme");
  expect_refused({"archive", good}, 3, "--source");
  expect_refused({"archive", good, "--source", "https://e.org/", "--tz", "Mars/Olympus", "--published", "2019-03-29 10:00"},
                 3, "Mars/Olympus");
  expect_refused({"archive", good, "--source", "https://e.org/", "--supersedes", std::string(64, 'a')}, 3,
                 "supersedes");
}

TEST_F(CliArchive, SupersedesMustNameAStatementOfTheSameSource) {
  auto r = a.avow({"archive", file("a.txt", "First, from a.\n"), "--source", "https://e.org/a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string of_a = r.out.substr(0, 64);
  const auto b = file("b.txt", "Not a version of a.\n");
  expect_refused({"archive", b, "--source", "https://e.org/b", "--supersedes", of_a}, 3,
                 "'" + b + "': supersedes " + of_a +
                     ", a statement of another source (https://e.org/a); a new version must have the same source");
  // In a batch (an earlier line of the batch is covered by archive_append_test).
  const auto m = file("m.jsonl", R"({"text":"Fourth.\n","source":"https://e.org/d","supersedes":")" + of_a + "\"}\n");
  expect_refused({"archive", "--batch", m}, 3, "m.jsonl:1': supersedes " + of_a + ", a statement of another source (https://e.org/a)");
  // The same source is fine, and verify accepts it.
  r = a.avow({"archive", file("a2.txt", "Second, from a.\n"), "--source", "https://e.org/a", "--supersedes", of_a});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliArchive, HugeStatementIsRefusedBeyondTheLimit) {
  // 200 MB sparse file: refused from its size, without reading it.
  const auto p = a.tmp() / "huge.txt";
  { std::ofstream f(p); }
  std::filesystem::resize_file(p, 200ull * 1024 * 1024);
  expect_refused({"archive", p.string(), "--source", "https://e.org/"}, 3, "over the limit");
}

TEST_F(CliArchive, PrivateKeyReadableByOthersIsExitFive) {
  const auto key = a.tmp() / "loose.pem";
  auto g = a.avow_raw({"key", "generate", "-o", key.string()});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  struct stat st{};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::chmod(key.c_str(), 0644);
  expect_refused({"--key", key.string(), "archive", file("k.txt", k_statement), "--source", "https://e.org/"}, 5,
                 "too open");
}

TEST_F(CliArchive, UntrustedKeyIsExitFive) {
  const auto key = a.tmp() / "other.pem";
  ASSERT_EQ(a.avow_raw({"key", "generate", "-o", key.string()}).exit_code, 0);
  expect_refused({"--key", key.string(), "archive", file("k.txt", k_statement), "--source", "https://e.org/"}, 5,
                 "not trusted");
}

TEST_F(CliArchive, LogKeyCannotSignStatements) {
  const std::string log_key = a.git({"config", "--get", "avow.logkey"}).out;
  ASSERT_FALSE(log_key.empty());
  expect_refused({"--key", log_key.substr(0, log_key.size() - 1), "archive", file("lk.txt", k_statement), "--source",
                  "https://e.org/"},
                 5, "not statements");
}

TEST_F(CliArchive, NotAnArchiveIsExitFour) {
  TempDir plain;
  const auto f = file("n.txt", k_statement);
  auto r = run_process({avow_bin(), "-C", plain.path().string(), "archive", f, "--source", "https://e.org/"}, {}, a.env());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("not an avow archive"), std::string::npos) << r.err;
  auto v = run_process({avow_bin(), "-C", plain.path().string(), "verify"}, {}, a.env());
  EXPECT_EQ(v.exit_code, 4) << v.err;
}

TEST_F(CliArchive, SecondWriterWaitsForTheLockThenExitsFour) {
  const auto f = file("l.txt", k_statement);
  // Hold the writer lock with util-linux flock(1), as another avow process would.
  const auto lock = a.dir() / ".git" / "avow" / "lock";
  std::filesystem::create_directories(lock.parent_path());
  auto holder = run_process({"sh", "-c", "flock -x '" + lock.string() + "' sleep 4 >/dev/null 2>&1 & echo started"});
  ASSERT_EQ(holder.exit_code, 0);
  ::usleep(300 * 1000);
  expect_refused({"archive", f, "--source", "https://e.org/", "--lock-timeout", "0.5"}, 4, "locked");
}

TEST_F(CliArchive, BatchManifestIsOneCommitAndAllOrNothing) {
  const std::string manifest =
      R"({"id":"a-1","text":"First.\n","source":"https://e.org/1","publisher":"P","published":"2015-08-01 10:00:00","lang":"en","dataset":"demo","title":""})"
      "\n"
      R"({"path":"b.txt","source":"urn:dataset:demo:2","published":"20080916"})"
      "\n";
  file("b.txt", "Second, from a file.\n");
  const auto m = file("m.jsonl", manifest);
  const auto count = [&] { return std::stoi(a.git({"rev-list", "--count", "main"}).out); };
  const int before = count();
  auto r = a.avow({"archive", "--batch", m, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count(), before + 1);
  const auto j = r.json();
  ASSERT_EQ(j["records"].size(), 2u);
  const auto rec = a.avow({"show", j["records"][0]["id"], "--json"}).json()["record"];
  EXPECT_EQ(rec["meta"], nlohmann::json({{"dataset", "demo"}, {"id", "a-1"}}));
  EXPECT_FALSE(rec.contains("title"));
  EXPECT_EQ(rec["published"]["local"], "2015-08-01T10:00:00");
  EXPECT_FALSE(rec["published"].contains("utc"));
  const auto rec2 = a.avow({"show", j["records"][1]["id"], "--json"}).json()["record"];
  EXPECT_EQ(rec2["published"]["local"], "2008-09-16");

  // One bad line (third) and nothing from the manifest is committed.
  const auto bad = file("bad.jsonl", manifest + R"({"text":"x\n","source":"no scheme here"})" "\n");
  expect_refused({"archive", "--batch", bad}, 3, "bad.jsonl:3");
  const auto dup = file("dup.jsonl", R"({"text":"x\n","source":"https://e.org/","source":"https://e.org/2"})" "\n");
  expect_refused({"archive", "--batch", dup}, 3, "dup.jsonl:1");
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliArchive, UsageErrorsAreExitTwo) {
  EXPECT_EQ(a.avow({"archive", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(a.avow_raw({}).exit_code, 2);
  auto help = a.avow_raw({"archive", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Example"), std::string::npos);
}


// Dates as people write them: read by ICU names and the date order, so `log --since/--until` and `audit` months find
// them; a Hijri date is marked; an ambiguous numeric date read by a default order is warned about.
TEST_F(CliArchive, DatesAsPeopleWriteThemAreReadFilteredAndCounted) {
  const auto archive = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> args{"archive", file(name, "Statement " + name + ".\n"), "--source", "https://e.org/" + name};
    args.insert(args.end(), extra.begin(), extra.end());
    return a.avow(args);
  };
  const auto published = [&](const std::string& out) {
    return a.avow({"show", out.substr(0, 64), "--json"}).json()["record"]["published"];
  };
  auto r1 = archive("dmy.txt", {"--lang", "ar", "--published", "29/03/2019"});
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  EXPECT_EQ(r1.err, "");
  EXPECT_EQ(published(r1.out), nlohmann::json({{"as_written", "29/03/2019"}, {"local", "2019-03-29"}}));

  auto r2 = archive("digits.txt", {"--lang", "ar", "--published", "٢٩ مارس ٢٠١٩ ١٨:٣٦", "--tz", "Asia/Riyadh"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(r2.err, "");
  EXPECT_EQ(published(r2.out), nlohmann::json({{"as_written", "٢٩ مارس ٢٠١٩ ١٨:٣٦"},
                                               {"local", "2019-03-29T18:36:00"},
                                               {"tz", "Asia/Riyadh"},
                                               {"utc", "2019-03-29T15:36:00Z"}}));

  auto r3 = archive("hijri.txt", {"--lang", "ar", "--published", "22 رجب 1440 هـ"});
  ASSERT_EQ(r3.exit_code, 0) << r3.err;
  EXPECT_EQ(published(r3.out), nlohmann::json({{"as_written", "22 رجب 1440 هـ"},
                                               {"calendar", "islamic-umalqura"},
                                               {"local", "2019-03-29"}}));
  // The index and log carry the calendar too (CSV column published.calendar, JSON published_calendar).
  auto hijri_log = a.avow({"log", "--source", "https://e.org/hijri.txt", "--json"});
  ASSERT_EQ(hijri_log.exit_code, 0) << hijri_log.err;
  EXPECT_EQ(hijri_log.json()[0]["published_calendar"], "islamic-umalqura");
  auto dmy_log = a.avow({"log", "--source", "https://e.org/dmy.txt", "--json"});
  ASSERT_EQ(dmy_log.exit_code, 0) << dmy_log.err;
  EXPECT_FALSE(dmy_log.json()[0].contains("published_calendar"));

  // Ambiguous under the order of --lang en-US: read month first, and said so.
  const auto f4 = file("ambiguous.txt", "Statement four.\n");
  auto r4 = a.avow({"archive", f4, "--source", "https://e.org/4", "--lang", "en-US", "--published", "04/03/2019"});
  ASSERT_EQ(r4.exit_code, 0) << r4.err;
  EXPECT_EQ(r4.err, "avow: warning: " + f4 + ": published '04/03/2019' is ambiguous: read as 2019-04-03 "
                    "(month-day-year, the order from language 'en-US'); give --date-order to read it otherwise\n");
  EXPECT_EQ(published(r4.out)["local"], "2019-04-03");
  // An explicit order is not warned about and wins over the language.
  auto r5 = archive("explicit.txt", {"--lang", "en-US", "--published", "04/03/2019 6:36 pm", "--date-order", "dmy"});
  ASSERT_EQ(r5.exit_code, 0) << r5.err;
  EXPECT_EQ(r5.err, "");
  EXPECT_EQ(published(r5.out)["local"], "2019-03-04T18:36:00");

  const auto indexes = [&](const std::vector<std::string>& filter) {
    std::vector<std::string> args{"log", "--json", "--oldest-first"};
    args.insert(args.end(), filter.begin(), filter.end());
    auto r = a.avow(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::uint64_t> out;
    for (const auto& row : r.json()) out.push_back(row["index"]);
    return out;
  };
  EXPECT_EQ(indexes({"--since", "2019-03-29", "--until", "2019-03-29"}), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(indexes({"--since", "2019-03-29T15:00:00Z", "--until", "2019-03-29T16:00:00Z"}),
            (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(indexes({"--since", "2019-04-01"}), (std::vector<std::uint64_t>{4}));
  const auto months = a.avow({"audit", "--json"}).json()["months"];
  EXPECT_EQ(months, nlohmann::json::parse(R"([{"key":"2019-03","count":4},{"key":"2019-04","count":1}])")) << months;

  // A bad order is a usage error on the command line and invalid input in a manifest; neither writes anything.
  const std::string before = a.state();
  auto bad = archive("bad.txt", {"--published", "04/03/2019", "--date-order", "myd"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_EQ(a.state(), before);
  const auto m = file("m.jsonl", R"({"text":"Six.\n","source":"https://e.org/6","published":"04/03/2019","date_order":"mdy"})"
                                 "\n"
                                 R"({"text":"Seven.\n","source":"https://e.org/7","published":"04/03/2019","date_order":"dmy"})"
                                 "\n");
  auto batch = a.avow({"archive", "--batch", m, "--json"});
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_EQ(batch.err, "");
  EXPECT_EQ(published(batch.json()["records"][0]["id"].get<std::string>())["local"], "2019-04-03");
  EXPECT_EQ(published(batch.json()["records"][1]["id"].get<std::string>())["local"], "2019-03-04");
  const auto bad_m = file("bad.jsonl", R"({"text":"Eight.\n","source":"https://e.org/8","published":"04/03/2019","date_order":"ydm"})"
                                       "\n");
  expect_refused({"archive", "--batch", bad_m}, 3, "bad.jsonl:1: date_order must be dmy, mdy or ymd");

  // The process locale gives the default when there is no --lang: en_US reads month first.
  auto env = a.env();
  env["LC_ALL"] = "en_US.UTF-8";
  const auto f9 = file("locale.txt", "Statement nine.\n");
  auto r9 = run_process({avow_bin(), "-C", a.dir().string(), "archive", f9, "--source", "https://e.org/9", "--published",
                         "04/03/2019"},
                        {}, env);
  ASSERT_EQ(r9.exit_code, 0) << r9.err;
  EXPECT_NE(r9.err.find("read as 2019-04-03 (month-day-year, the order from locale en_US)"), std::string::npos) << r9.err;
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

} // namespace
} // namespace avow::test
