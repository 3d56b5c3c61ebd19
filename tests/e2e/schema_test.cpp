// End-to-end: every record avow writes validates against the published JSON Schemas (schema/record.schema.json for
// statements, schema/key-event.schema.json for key events) under a real, independent validator (Python jsonschema,
// Draft 2020-12). Payloads are taken from the log's entry bundles with stock git, not through avow.

#include <tests/support/checkers.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

// Every payload of the log, in order, read from the entry bundles of the current checkpoint's size.
std::vector<std::string> log_payloads(const TempArchive& a) {
  std::istringstream cp(a.git_show("log/checkpoint"));
  std::string origin, size_line;
  std::getline(cp, origin);
  std::getline(cp, size_line);
  const std::uint64_t size = std::stoull(size_line);
  std::vector<std::string> out;
  for (std::uint64_t b = 0; b * 256 < size; ++b) {
    const std::uint64_t w = std::min<std::uint64_t>(256, size - b * 256);
    const auto path = "log/tile/entries/" + tile_index(b) + (w == 256 ? "" : ".p/" + std::to_string(w));
    for (const auto& e : split_bundle(a.git_show(path)))
      out.push_back(b64_decode(nlohmann::json::parse(e)["payload"].get<std::string>()));
  }
  if (out.size() != size) throw std::runtime_error("log holds fewer entries than its checkpoint says");
  return out;
}

// Validates a JSON array of payload strings; prints one JSON object: counts per kind, the errors, which optional
// features the statements exercised, and how many deliberately broken copies the schemas rejected.
const char* k_validate_py = R"PY(
import copy, json, sys
from jsonschema import Draft202012Validator
schema_dir, payload_file = sys.argv[1], sys.argv[2]
schemas = {}
for name in ("record", "key-event"):
    with open("%s/%s.schema.json" % (schema_dir, name)) as f:
        s = json.load(f)
    Draft202012Validator.check_schema(s)
    schemas[name] = Draft202012Validator(s, format_checker=Draft202012Validator.FORMAT_CHECKER)
def validator(rec):
    return schemas["record" if rec.get("kind") == "statement" else "key-event"]
with open(payload_file) as f:
    payloads = json.load(f)
counts, errors, features = {}, [], set()
first = {}
for i, text in enumerate(payloads):
    rec = json.loads(text)
    kind = rec.get("kind")
    counts[kind] = counts.get(kind, 0) + 1
    first.setdefault(kind, rec)
    for e in validator(rec).iter_errors(rec):
        errors.append("entry %d: %s at %s" % (i, e.message, "/".join(map(str, e.absolute_path))))
    if kind == "statement":
        for k in ("original", "title", "supersedes", "meta"):
            if k in rec: features.add(k)
        if "lang" in rec["text"]: features.add("text.lang")
        if "publisher" in rec["source"]: features.add("source.publisher")
        for k in rec.get("published", {}): features.add("published." + k)
def mutants():
    st, ke = first["statement"], first["key.add"]
    def m(rec, f):
        r = copy.deepcopy(rec); f(r); return r
    for f in (lambda r: r.__setitem__("extra", "x"),
              lambda r: r.pop("captured"),
              lambda r: r["text"].__setitem__("bytes", 0),
              lambda r: r["text"].__setitem__("bytes", 1.5),
              lambda r: r["text"].__setitem__("sha256", r["text"]["sha256"].upper()),
              lambda r: r["text"].__setitem__("sha256", r["text"]["sha256"] + "\n"),
              lambda r: r.__setitem__("title", "two\nlines"),
              lambda r: r.__setitem__("captured", "2019-02-30T25:00:00Z"),
              lambda r: r.__setitem__("kind", "key.add"),
              lambda r: r["source"].__setitem__("extra", "x")):
        yield "record", m(st, f)
    for f in (lambda r: r.__setitem__("reason", "not allowed on key.add"),
              lambda r: r["key"].__setitem__("role", "admin"),
              lambda r: r["key"].__setitem__("public_key", "AAAA"),
              lambda r: r.pop("archivist")):
        yield "key-event", m(ke, f)
total = rejected = 0
for name, r in mutants():
    total += 1
    if not schemas[name].is_valid(r):
        rejected += 1
print(json.dumps({"counts": counts, "errors": errors, "features": sorted(features),
                  "mutants": total, "rejected": rejected}))
)PY";

class Schema : public ::testing::Test {
protected:
  TempArchive a;

  std::string file(const std::string& name, const std::string& data) { return a.file(name, data); }
  std::string archive(const std::vector<std::string>& args, const std::string& stdin_data = {}) {
    auto r = a.avow(args, stdin_data);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, 64);
  }
};

TEST_F(Schema, EveryWrittenRecordValidates) {
  if (run_process({"/usr/bin/python3", "-c", "from jsonschema import Draft202012Validator"}).exit_code != 0)
    GTEST_SKIP() << "/usr/bin/python3 cannot import jsonschema (apt install python3-jsonschema); schema check skipped";

  // Arabic, captured in windows-1256 with CRLF, IRI source, Arabic publisher and title.
  archive({"archive", file("ar.txt", "\xC7\xE1\xD3\xE1\xC7\xE3 \xDA\xE1\xEC\xDF\xE3\r\n"), "--encoding",
           "windows-1256", "--lang", "ar", "--source",
           "http://www.spa.gov.sa/\xD8\xA7\xD9\x84\xD8\xA3\xD8\xAE\xD8\xA8\xD8\xA7\xD8\xB1/1", "--publisher",
           "\xD9\x88\xD9\x83\xD8\xA7\xD9\x84\xD8\xA9 \xD8\xA7\xD9\x84\xD8\xA3\xD9\x86\xD8\xA8\xD8\xA7\xD8\xA1",
           "--title", "\xD8\xA8\xD9\x8A\xD8\xA7\xD9\x86"});
  // Published with a zone, title, lang, meta.
  const auto first = archive({"archive", file("en.txt", "Press release\n\nThe \xE2\x80\x9C" "coalition\xE2\x80\x9D condemned it.\n"),
                              "--source", "https://example.org/press/2019/03/29", "--publisher", "Coalition (example)",
                              "--published", "Friday, 29 March 2019 18:36", "--tz", "Europe/Istanbul", "--title",
                              "Statement \xE2\x80\x94 \xE2\x80\x9C" "as planned\xE2\x80\x9D", "--lang", "en", "--meta",
                              "dataset=press-2019", "--meta", "id=PR-0329"});
  ASSERT_EQ(first.size(), 64u);
  // A corrected version superseding it, with an RFC 3339 offset.
  archive({"archive", file("en2.txt", "Press release (corrected)\n"), "--source", "https://example.org/press/2019/03/29",
           "--published", "2019-03-29T18:36:00+03:00", "--supersedes", first});
  // Standard input, with an unparseable dateline kept as written.
  archive({"archive", "-", "--source", "urn:example:stdin", "--published", "the day after the flood"},
          "From standard input.\n");
  // A batch: human dates, extra fields kept in meta, a file path, a BOM + CRLF original, a supersedes, empty title.
  file("b.txt", "Second, from a file.\n");
  std::string manifest;
  for (const nlohmann::json& line : std::vector<nlohmann::json>{
           {{"id", "reuters-1"}, {"text", "Wire story.\n"}, {"title", ""}, {"source", "urn:dataset:demo:1"},
            {"publisher", "Reuters"}, {"published", "26-FEB-1987 15:01:01.79"}, {"lang", "en"}, {"dataset", "demo"}},
           {{"path", "b.txt"}, {"source", "urn:dataset:demo:2"}, {"published", "20080916"}},
           {{"text", "\xEF\xBB\xBF\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7  \r\n\r\n"}, {"source", "http://example.sa/\xD8\xA3"},
            {"published", "2015-08-01 10:00:00"}, {"tz", "Asia/Riyadh"}, {"lang", "ar"}, {"title", "\xD8\xB9\xD9\x86\xD9\x88\xD8\xA7\xD9\x86"}},
           {{"text", "Batch correction.\n"}, {"source", "https://example.org/press/2019/03/29"}, {"supersedes", first},
            {"meta", {{"note", "corrects the first release"}}}},
           // A Hijri date (22 Rajab 1440 AH), marked with published.calendar.
           {{"text", "Hijri.\n"}, {"source", "urn:example:hijri"},
            {"published", "22 \xD8\xB1\xD8\xAC\xD8\xA8 1440 \xD9\x87\xD9\x80"}, {"date_order", "dmy"}},
       })
    manifest += line.dump() + "\n";
  auto r = a.avow({"archive", "--batch", file("m.jsonl", manifest), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.json()["records"].size(), 5u);
  ASSERT_EQ(a.avow({"verify"}).exit_code, 0);

  const auto payloads = log_payloads(a);
  ASSERT_EQ(payloads.size(), 10u); // key.add + 9 statements
  const auto payload_file = a.tmp() / "payloads.json";
  write_file(payload_file, nlohmann::json(payloads).dump());
  const auto script = a.tmp() / "validate.py";
  write_file(script, k_validate_py);
  const auto v = run_process({"/usr/bin/python3", script.string(), std::string(AVOW_SOURCE_DIR) + "/schema",
                              payload_file.string()});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["errors"], nlohmann::json::array()) << j["errors"].dump(2);
  EXPECT_EQ(j["counts"], nlohmann::json({{"key.add", 1}, {"statement", 9}}));
  // The set really exercised every optional member of a statement.
  EXPECT_EQ(j["features"], nlohmann::json({"meta", "original", "published.as_written", "published.calendar",
                                           "published.local", "published.tz", "published.utc", "source.publisher", "supersedes",
                                           "text.lang", "title"}));
  // The validator is not vacuous: each deliberately broken copy is rejected.
  EXPECT_EQ(j["mutants"], 14);
  EXPECT_EQ(j["rejected"], 14);
}

TEST_F(Schema, ShippedExamplesValidate) {
  if (run_process({"/usr/bin/python3", "-c", "from jsonschema import Draft202012Validator"}).exit_code != 0)
    GTEST_SKIP() << "/usr/bin/python3 cannot import jsonschema (apt install python3-jsonschema); schema check skipped";
  std::vector<std::string> payloads;
  for (const auto& e : fs::directory_iterator(fs::path(AVOW_SOURCE_DIR) / "schema" / "examples"))
    if (e.path().extension() == ".json") payloads.push_back(read_file(e.path()));
  ASSERT_FALSE(payloads.empty());
  // Add the key event avow init wrote, so the script has one of each kind.
  payloads.push_back(log_payloads(a).at(0));
  const auto payload_file = a.tmp() / "payloads.json";
  write_file(payload_file, nlohmann::json(payloads).dump());
  const auto script = a.tmp() / "validate.py";
  write_file(script, k_validate_py);
  const auto v = run_process({"/usr/bin/python3", script.string(), std::string(AVOW_SOURCE_DIR) + "/schema",
                              payload_file.string()});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["errors"], nlohmann::json::array()) << j["errors"].dump(2);
  EXPECT_EQ(j["counts"]["statement"], payloads.size() - 1);
  EXPECT_EQ(j["counts"]["key.add"], 1);
}

} // namespace
} // namespace avow::test
