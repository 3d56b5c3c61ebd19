#include <archive/json/jcs.hpp>
#include <archive/crypto/ed25519.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/record.hpp>
#include <archive/util/bytes.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

// Validates schema/record.schema.json with a real JSON Schema 2020-12 validator (Debian's python3-jsonschema at
// /usr/bin/python3), against the examples and against records written by to_json/payload, and checks that the
// validator rejects what from_json rejects.
namespace avow::record {
namespace {

namespace fs = std::filesystem;

const fs::path k_schema_dir = fs::path(AVOW_SOURCE_DIR) / "schema";
constexpr const char* k_python = "/usr/bin/python3";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

bool python_has_jsonschema() {
  const std::string cmd = std::string(k_python) + " -c 'import jsonschema; jsonschema.Draft202012Validator' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

class TempDir {
public:
  TempDir() {
    std::random_device rd;
    m_path = fs::temp_directory_path() / fmt::format("avow-schema-test-{:08x}", rd());
    fs::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    if (!::testing::Test::HasFailure()) fs::remove_all(m_path, ec);
    else std::fprintf(stderr, "kept %s\n", m_path.c_str());
  }
  const fs::path& path() const { return m_path; }

private:
  fs::path m_path;
};

// Run the validator over `files`; return file name -> "valid" / "invalid: <first error>".
std::map<std::string, std::string> run_validator(const fs::path& dir, const std::vector<fs::path>& files,
                                                 std::string_view schema = "record.schema.json") {
  const fs::path script = dir / "validate.py";
  write_all(script, R"(import json, sys, jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        instance = json.load(f)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    name = path.rsplit("/", 1)[-1]
    print(name, "valid" if not errors else "invalid: " + errors[0].message.replace("\n", " ")[:200])
)");
  std::string cmd = fmt::format("{} '{}' '{}'", k_python, script.string(), (k_schema_dir / schema).string());
  for (const auto& f : files) cmd += fmt::format(" '{}'", f.string());
  cmd += " 2>&1";
  std::map<std::string, std::string> result;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return result;
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << out;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    const auto space = line.find(' ');
    if (space != std::string::npos) result[line.substr(0, space)] = line.substr(space + 1);
  }
  return result;
}

Statement base() {
  Statement s;
  s.text = {"d839eab0aabbbc85bfd08f4bcd417a7e1ad388277399768b8d57e8f1c1627554", 97, "en"};
  s.source = {"https://www.example.org/press/1", "Ministry of Examples"};
  s.captured = "2019-03-30T08:00:00Z";
  s.archivist = "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd";
  return s;
}

std::map<std::string, Statement> good_statements() {
  std::map<std::string, Statement> out;
  out["gen-minimal.json"] = base();
  Statement full = base();
  full.original = OriginalRef{"042409cc84a2b495a0692f05f5796976ed105bb78e49ca26488f9e3bd1935c64", 102, "UTF-8"};
  full.title = "A title with \xE2\x80\x9Cquotes\xE2\x80\x9D and\ta tab";
  full.published = Published{"Friday, 29 March 2019 18:36", "2019-03-29T15:36:00Z", "2019-03-29T18:36:00", "Europe/Istanbul"};
  full.supersedes = "d19d8670a76d3946e3f37eeff61c968306524d39a0160d9948d4ed5887fa01ad";
  full.meta = {{"dataset", "reuters-21578"}, {"id", "12"}, {"\xF0\x9F\x98\x82", "multi\nline\nvalue"}};
  out["gen-full.json"] = full;
  Statement arabic = base();
  arabic.text.lang = "ar";
  arabic.original = OriginalRef{"ac3391e0bed1594c8626cc0609aadcc4168a51142a06ef5c2f46a50626bca600", 60, "windows-1256"};
  arabic.title = "\xD8\xA8\xD9\x8A\xD8\xA7\xD9\x86 \xD8\xB5\xD8\xAD\xD9\x81\xD9\x8A";
  arabic.source = {"https://www.example.org/ar/\xD8\xA3\xD8\xAE\xD8\xA8\xD8\xA7\xD8\xB1", "\xD9\x88\xD8\xB2\xD8\xA7\xD8\xB1\xD8\xA9"};
  arabic.published = Published{"20080916", std::nullopt, "2008-09-16", "Asia/Riyadh"};
  out["gen-arabic.json"] = arabic;
  Statement fraction = base();
  fraction.published = Published{"26-FEB-1987 15:01:01.79", "1987-02-26T15:01:01.79Z", std::nullopt, "+00:00"};
  fraction.title = std::string(1024, 'T');
  out["gen-fraction.json"] = fraction;
  Statement hijri = base();
  hijri.published = Published{"22 \xD8\xB1\xD8\xAC\xD8\xA8 1440", std::nullopt, "2019-03-29", std::nullopt, "islamic-umalqura"};
  out["gen-hijri.json"] = hijri;
  Statement warc = out["gen-full.json"];
  warc.original->type = "application/warc";
  out["gen-warc.json"] = warc;
  return out;
}

// Records that from_json must refuse and the schema must refuse too.
std::map<std::string, json::Value> bad_records() {
  const json::Value good = *to_json(good_statements()["gen-full.json"]);
  std::map<std::string, json::Value> out;
  const auto add = [&](const std::string& name, auto change) {
    json::Value v = good;
    change(v);
    out[name] = std::move(v);
  };
  add("bad-extra-top.json", [](auto& v) { v["comment"] = "x"; });
  add("bad-extra-nested.json", [](auto& v) { v["text"]["encoding"] = "x"; });
  add("bad-bytes-string.json", [](auto& v) { v["text"]["bytes"] = "97"; });
  add("bad-bytes-float.json", [](auto& v) { v["original"]["bytes"] = 102.5; });
  add("bad-bytes-zero.json", [](auto& v) { v["text"]["bytes"] = 0; });
  add("bad-title-number.json", [](auto& v) { v["title"] = 1; });
  add("bad-title-newline.json", [](auto& v) { v["title"] = "two\nlines"; });
  add("bad-title-trailing-newline.json", [](auto& v) { v["title"] = "title\n"; });
  add("bad-title-long.json", [](auto& v) { v["title"] = std::string(1025, 'T'); });
  add("bad-hex-upper.json", [](auto& v) { v["archivist"] = std::string(64, 'A'); });
  add("bad-hex-trailing-newline.json", [](auto& v) { v["text"]["sha256"] = std::string(64, 'a') + "\n"; });
  add("bad-missing-captured.json", [](auto& v) { v.erase("captured"); });
  add("bad-missing-uri.json", [](auto& v) { v["source"].erase("uri"); });
  add("bad-captured-offset.json", [](auto& v) { v["captured"] = "2019-03-30T11:00:00+03:00"; });
  add("bad-captured-fraction.json", [](auto& v) { v["captured"] = "2019-03-30T08:00:00.5Z"; });
  add("bad-kind.json", [](auto& v) { v["kind"] = "key.add"; });
  add("bad-format.json", [](auto& v) { v["format"] = "avow.record/2"; });
  add("bad-meta-empty.json", [](auto& v) { v["meta"] = json::Value::object(); });
  add("bad-meta-number.json", [](auto& v) { v["meta"]["n"] = 1; });
  add("bad-uri-no-scheme.json", [](auto& v) { v["source"]["uri"] = "www.example.org/x"; });
  add("bad-uri-space.json", [](auto& v) { v["source"]["uri"] = "https://example.org/a b"; });
  add("bad-lang.json", [](auto& v) { v["text"]["lang"] = "english language"; });
  add("bad-utc.json", [](auto& v) { v["published"]["utc"] = "2019-03-29T15:36:00"; });
  add("bad-local.json", [](auto& v) { v["published"]["local"] = "2019-03-29T15:36:00Z"; });
  add("bad-encoding.json", [](auto& v) { v["original"]["encoding"] = "utf 8"; });
  add("bad-original-type.json", [](auto& v) { v["original"]["type"] = "text/html"; });
  add("bad-original-type-number.json", [](auto& v) { v["original"]["type"] = 1; });
  add("bad-calendar-gregory.json", [](auto& v) { v["published"]["calendar"] = "gregory"; });
  add("bad-calendar-upper.json", [](auto& v) { v["published"]["calendar"] = "Islamic-Umalqura"; });
  add("bad-calendar-number.json", [](auto& v) { v["published"]["calendar"] = 1; });
  add("bad-calendar-without-local.json", [](auto& v) {
    v["published"]["calendar"] = "islamic-umalqura";
    v["published"].erase("local");
  });
  add("bad-publisher-empty.json", [](auto& v) { v["source"]["publisher"] = ""; });
  add("bad-text-array.json", [](auto& v) { v["text"] = json::Value::array(); });
  return out;
}

TEST(RecordSchema, ExamplesAreValidRecords) {
  std::vector<fs::path> examples;
  for (const auto& entry : fs::directory_iterator(k_schema_dir / "examples"))
    if (entry.path().extension() == ".json") examples.push_back(entry.path());
  ASSERT_GE(examples.size(), 2u);
  bool english = false, arabic = false;
  for (const auto& path : examples) {
    SCOPED_TRACE(path.string());
    auto v = json::parse_strict(read_all(path));
    ASSERT_TRUE(v.has_value()) << v.error().message;
    auto s = from_json(*v);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    auto p = payload(*s);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(*p, *json::canonicalize(*v));
    if (s->text.lang == "en" && s->original && s->title && s->published && s->supersedes && !s->meta.empty() &&
        s->source.publisher && s->published->utc && s->published->local && s->published->tz)
      english = true;
    if (s->text.lang == "ar" && s->original && s->original->encoding == "windows-1256") arabic = true;
  }
  EXPECT_TRUE(english) << "want an English example with every field";
  EXPECT_TRUE(arabic) << "want an Arabic example with original and encoding";
}

TEST(RecordSchema, ValidatorAcceptsExamplesAndWrittenRecordsAndRejectsBadOnes) {
  if (!python_has_jsonschema())
    GTEST_SKIP() << k_python << " cannot import jsonschema (Debian package python3-jsonschema); schema not checked";
  TempDir dir;
  std::map<std::string, bool> expect_valid;
  std::vector<fs::path> files;

  for (const auto& entry : fs::directory_iterator(k_schema_dir / "examples")) {
    if (entry.path().extension() != ".json") continue;
    files.push_back(entry.path());
    expect_valid[entry.path().filename().string()] = true;
  }
  for (const auto& [name, s] : good_statements()) {
    auto p = payload(s);
    ASSERT_TRUE(p.has_value()) << name << ": " << p.error().message;
    write_all(dir.path() / name, *p);
    files.push_back(dir.path() / name);
    expect_valid[name] = true;
  }
  for (const auto& [name, v] : bad_records()) {
    EXPECT_FALSE(from_json(v).has_value()) << name << " is accepted by from_json";
    write_all(dir.path() / name, v.dump());
    files.push_back(dir.path() / name);
    expect_valid[name] = false;
  }

  const auto results = run_validator(dir.path(), files);
  ASSERT_EQ(results.size(), expect_valid.size());
  for (const auto& [name, valid] : expect_valid) {
    const auto it = results.find(name);
    ASSERT_NE(it, results.end()) << name;
    if (valid)
      EXPECT_EQ(it->second, "valid") << name;
    else
      EXPECT_NE(it->second, "valid") << name << " passes the schema";
  }
}

TEST(RecordSchema, KeyEventsValidateAgainstTheirSchema) {
  if (!python_has_jsonschema())
    GTEST_SKIP() << k_python << " cannot import jsonschema (Debian package python3-jsonschema); schema not checked";
  TempDir dir;
  auto key = crypto::PrivateKey::from_seed(*from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key.has_value());
  KeyEvent add{"key.add", crypto::key_id(key->public_key()), key->public_key(), std::string(k_role_archivist),
               "2019-03-30T08:00:00Z", std::string(64, 'a'), std::nullopt};
  KeyEvent revoke = add;
  revoke.kind = "key.revoke";
  revoke.reason = "laptop stolen";
  std::map<std::string, bool> expect_valid;
  std::vector<fs::path> files;
  const auto put = [&](const std::string& name, const json::Value& v, bool valid) {
    write_all(dir.path() / name, v.dump());
    files.push_back(dir.path() / name);
    expect_valid[name] = valid;
  };
  KeyEvent named = add;
  named.name = "Alice Example";
  named.role = "witness";
  KeyEvent rotation = add;
  rotation.role = "log";
  for (const auto& [name, e] : {std::pair{"key-add.json", add}, std::pair{"key-revoke.json", revoke},
                                std::pair{"key-add-named-witness.json", named}, std::pair{"key-rotate.json", rotation}}) {
    auto p = payload(e);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    put(name, *json::parse_canonical(*p), true);
  }
  json::Value good = *to_json(add);
  json::Value extra = good;
  extra["title"] = "x";
  put("bad-key-extra.json", extra, false);
  json::Value reason_on_add = good;
  reason_on_add["reason"] = "x";
  put("bad-key-add-reason.json", reason_on_add, false);
  json::Value short_key = good;
  short_key["key"]["public_key"] = "AAAA";
  put("bad-key-short.json", short_key, false);
  json::Value revoke_log = *to_json(revoke);
  revoke_log["key"]["role"] = "log";
  put("bad-key-revoke-log.json", revoke_log, false);
  json::Value empty_name = good;
  empty_name["key"]["name"] = "";
  put("bad-key-empty-name.json", empty_name, false);
  json::Value two_lines = good;
  two_lines["key"]["name"] = "a\nb";
  put("bad-key-name-lines.json", two_lines, false);
  json::Value statement = *to_json(base());
  put("bad-key-statement.json", statement, false);

  const auto results = run_validator(dir.path(), files, "key-event.schema.json");
  ASSERT_EQ(results.size(), expect_valid.size());
  for (const auto& [name, valid] : expect_valid) {
    const auto it = results.find(name);
    ASSERT_NE(it, results.end()) << name;
    if (valid)
      EXPECT_EQ(it->second, "valid") << name;
    else
      EXPECT_NE(it->second, "valid") << name << " passes the schema";
  }
}

} // namespace
} // namespace avow::record
