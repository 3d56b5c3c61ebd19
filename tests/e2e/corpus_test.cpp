// End-to-end on real statements: the shared corpus (English and Arabic news and official statements) is archived
// with --batch and verified. By default the first 1,000 items; the whole corpus when AVOW_FULL_CORPUS=1 (then wall
// times are printed). The set of stored texts and originals is checked against an independent canonicalization in
// Python (SPEC section 3), so a text stored under the wrong form or hash is caught.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_default_items = 1000;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Prints the paths texts/... and originals/... that archiving the first N items must create (sorted, one a line).
const char* k_canonical_py = R"PY(
import hashlib, json, sys, unicodedata
path, n = sys.argv[1], int(sys.argv[2])
texts, originals = set(), set()
def shard(prefix, h):
    return "%s/%s/%s/%s" % (prefix, h[:2], h[2:4], h)
with open(path, encoding="utf-8") as f:
    for i, line in enumerate(f):
        if i >= n:
            break
        t = json.loads(line)["text"]
        raw = t.encode("utf-8")
        c = t[1:] if t.startswith("\ufeff") else t
        c = c.replace("\r\n", "\n").replace("\r", "\n")
        c = unicodedata.normalize("NFC", c)
        lines = [l.rstrip(" \t") for l in c.split("\n")]
        while lines and lines[0] == "":
            lines.pop(0)
        while lines and lines[-1] == "":
            lines.pop()
        c = ("\n".join(lines) + "\n").encode("utf-8")
        texts.add(shard("texts", hashlib.sha256(c).hexdigest()))
        if c != raw:
            originals.add(shard("originals", hashlib.sha256(raw).hexdigest()))
for p in sorted(originals | texts):
    print(p)
)PY";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(Corpus, ArchiveAndVerify) {
  const fs::path corpus = fs::path(AVOW_SHARED_DIR) / "corpus" / "statements.jsonl";
  if (!fs::exists(corpus))
    GTEST_SKIP() << "corpus absent: " << corpus << " (set -DAVOW_SHARED_DIR=... to the shared folder)";
  const char* full_env = std::getenv("AVOW_FULL_CORPUS");
  const bool full = full_env && std::string(full_env) == "1";

  TempArchive a("corpus.avow.example/archive");
  // The manifest: the corpus lines as they are (they already use the manifest's field names).
  std::ifstream in(corpus, std::ios::binary);
  std::string manifest, first_line;
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (n == 0) first_line = line;
    manifest += line + "\n";
    if (++n == k_default_items && !full) break;
  }
  ASSERT_GT(n, 0u);
  if (!full) {
    ASSERT_EQ(n, k_default_items) << "corpus shorter than expected";
  }
  const auto manifest_path = a.tmp() / "manifest.jsonl";
  write_file(manifest_path, manifest);

  auto t0 = std::chrono::steady_clock::now();
  const auto r = a.avow({"archive", "--batch", manifest_path.string(), "--json"});
  const double archive_s = seconds_since(t0);
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  const auto j = r.json();
  ASSERT_EQ(j["records"].size(), n);
  EXPECT_EQ(j["tree_size"], n + 1);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(j["records"][i]["index"], i + 1);
    ASSERT_EQ(j["records"][i]["input"], manifest_path.string() + ":" + std::to_string(i + 1));
    ASSERT_EQ(j["records"][i]["id"].get<std::string>().size(), 64u);
  }
  EXPECT_EQ(a.git({"rev-list", "--count", "main"}).out, "2\n"); // init + one batch commit

  t0 = std::chrono::steady_clock::now();
  const auto v = a.avow({"verify", "--json"});
  const double verify_s = seconds_since(t0);
  ASSERT_EQ(v.exit_code, 0) << v.out.substr(0, 4000) << v.err;
  t0 = std::chrono::steady_clock::now();
  const auto q = a.avow({"verify", "--quick", "--json"});
  const double quick_s = seconds_since(t0);
  ASSERT_EQ(q.exit_code, 0) << q.out.substr(0, 4000) << q.err;

  // Texts and originals in the tree: exactly those an independent canonicalization predicts.
  const auto script = a.tmp() / "canonical.py";
  write_file(script, k_canonical_py);
  const auto py = run_process({"/usr/bin/python3", script.string(), corpus.string(), std::to_string(n)});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  const auto want = lines_of(py.out);
  const auto got = lines_of(a.git({"ls-tree", "-r", "--name-only", "main", "originals/", "texts/"}).out);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "stored texts/originals differ from the independent canonicalization";
  std::size_t want_texts = 0;
  for (const auto& p : want) want_texts += p.starts_with("texts/");

  const auto vj = v.json();
  EXPECT_EQ(vj["ok"], true);
  EXPECT_EQ(vj["problems"], nlohmann::json::array());
  EXPECT_EQ(vj["entries"], n + 1);
  EXPECT_EQ(vj["statements"], n);
  EXPECT_EQ(vj["texts"], want_texts);
  EXPECT_EQ(vj["tree_size"], n + 1);
  EXPECT_EQ(vj["commits"], 2);
  EXPECT_EQ(vj["quick"], false);
  const auto qj = q.json();
  EXPECT_EQ(qj["ok"], true);
  EXPECT_EQ(qj["quick"], true);
  EXPECT_EQ(qj["root"], vj["root"]);
  EXPECT_EQ(qj["entries"], n + 1);

  // The first item's record carries its manifest fields exactly.
  const auto item = nlohmann::json::parse(first_line);
  const auto shown = a.avow({"show", j["records"][0]["id"], "--json", "--text"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const auto rec = shown.json()["record"];
  EXPECT_EQ(rec["source"]["uri"], item["source"]);
  EXPECT_EQ(rec["source"]["publisher"], item["publisher"]);
  EXPECT_EQ(rec["published"]["as_written"], item["published"]);
  EXPECT_EQ(rec["text"]["lang"], item["lang"]);
  EXPECT_EQ(rec["meta"]["id"], item["id"]);
  EXPECT_EQ(rec["meta"]["dataset"], item["dataset"]);
  EXPECT_EQ(rec.contains("title"), !item["title"].get<std::string>().empty());

  if (full) {
    std::printf("corpus: %zu statements\n", n);
    std::printf("  archive --batch  %8.2f s  %10.0f statements/s\n", archive_s, n / archive_s);
    std::printf("  verify           %8.2f s  %10.0f entries/s\n", verify_s, (n + 1) / verify_s);
    std::printf("  verify --quick   %8.2f s  %10.0f entries/s\n", quick_s, (n + 1) / quick_s);
  }
}

} // namespace
} // namespace avow::test
