// End-to-end: the tamper suite. Each row takes a fresh copy (`cp -a`) of one archive of four entries in four signed
// commits, made once per process by avow itself (entry 0 the init key.add; 1 and 2 plain statements; 3 a statement
// with an ISO-8859-1 original, whose files the last commit adds, so a row that amends that commit changes no file an
// earlier commit holds), tampers with it the way an
// attacker would, with stock git plumbing (hash-object, update-index, write-tree, commit-tree, update-ref) and, where a
// signature would otherwise give the tampering away, re-signed with the archive's own keys (the attacker holds them:
// the test reads the private keys the archive's XDG config names), and asserts that `verify --json` exits 1 and
// reports exactly the expected problems: kind, entry and path, and the commit or a part of the sentence where the row
// says so. Nothing else may be reported, so a row also fails when the re-signing was not good enough to hide the
// tampering behind a louder problem (e.g. commit_unsigned).
//
// Signing: commits carry an SSHSIG made over the commit object by the library's signer (crypto::sshsig_sign) and put
// in a gpgsig header by hand, then stored with `git hash-object -t commit`; stock `ssh-keygen -Y sign` (OpenSSH 9.2)
// cannot load the PKCS#8 Ed25519 key files avow writes. Stock `git verify-commit` accepts the forged signatures
// (ForgedCommitSignaturesAreGoodForStockGit), so they are real. Checkpoints are signed notes made with log::sign_note,
// records DSSE envelopes made with record::sign, tiles and bundles made with log::plan_append.
//
// The local `.git/avow/seen-checkpoint` is deleted before each tampering (the verifier is a fresh clone that saw
// nothing), except in the rows about it.

#include <tests/support/support.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/json/jcs.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/log/tiles.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/layout.hpp>
#include <archive/record/record.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/time.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <sstream>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

const std::string k_origin = "test.avow.example/tamper";

// One problem verify must report. Unset members are not compared; kind, entry and path always are (an unset entry
// or path must be absent from the problem).
struct Want {
  std::string kind;
  std::optional<std::uint64_t> entry;
  std::optional<std::string> path;
  std::optional<std::string> commit;       // full hex commit id, when the row knows it
  std::optional<std::string> message_part; // a part of the sentence
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// One edit of a tree: put a blob (mode 100644, or `mode`), put an existing object id, or remove the path.
struct Edit {
  enum class Kind { put, put_oid, remove } kind = Kind::put;
  std::string path;
  std::string data; // blob bytes (put) or object id (put_oid)
  std::string mode = "100644";
};
Edit put(std::string path, std::string data, std::string mode = "100644") {
  return {Edit::Kind::put, std::move(path), std::move(data), std::move(mode)};
}
Edit put_oid(std::string path, std::string oid, std::string mode) {
  return {Edit::Kind::put_oid, std::move(path), std::move(oid), std::move(mode)};
}
Edit remove(std::string path) { return {Edit::Kind::remove, std::move(path), {}, {}}; }

enum class Sign { log_key, none, other_key, archivist_key, garbled };

// The four-entry archive every row starts from, made once per process (see the file comment).
struct Template {
  TempArchive a{k_origin};
  std::vector<std::string> commits; // C1..C4: the commits of sizes 1..4, oldest first
  std::vector<std::string> ids;     // record ids of entries 1..3 (index 0 unused)
  std::string text1, text2, text3, original3;

  Template() {
    archive("First statement.\n", "https://example.org/a", {});
    archive("Second statement.\n", "https://example.org/b", {});
    archive("Caf\xE9 \xE0 la une.\r\n", "https://example.org/c", {"--encoding", "ISO-8859-1"});
    std::istringstream list(a.git({"rev-list", "--reverse", "main"}).out);
    for (std::string c; std::getline(list, c);) commits.push_back(c);
    if (commits.size() != 4) throw std::runtime_error("expected 4 commits");
    for (int i = 1; i <= 3; ++i) {
      const auto rec = a.avow({"show", ids[static_cast<std::size_t>(i)], "--json"}).json()["record"];
      const std::string sha = rec["text"]["sha256"];
      (i == 1 ? text1 : i == 2 ? text2 : text3) = record::text_path(sha);
      if (i == 3) original3 = record::original_path(rec["original"]["sha256"].get<std::string>());
    }
    const auto r = a.avow({"verify", "--json"});
    if (r.exit_code != 0) throw std::runtime_error("the fixture does not verify: " + r.out);
  }

private:
  void archive(const std::string& bytes, const std::string& source, std::vector<std::string> extra) {
    const auto f = a.file("in" + std::to_string(ids.size() + 1) + ".txt", bytes);
    std::vector<std::string> args{"archive", f, "--source", source};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = a.avow(args);
    if (r.exit_code != 0) throw std::runtime_error("archive failed: " + r.err);
    if (ids.empty()) ids.push_back({});
    ids.push_back(trim(r.out));
  }
};

const Template& shared_template() {
  static const Template t;
  return t;
}

// A copy of the template archive in a temporary folder (`cp -a`), with the template's key folder (its .git/config
// names the key files there, which nothing writes); the subset of TempArchive's interface the rows use.
class Copy {
public:
  explicit Copy(const TempArchive& from) : m_dir(m_tmp / "archive"), m_config(from.config_home()) {
    auto r = run_process({"cp", "-a", from.dir().string(), m_dir.string()});
    if (r.exit_code != 0) throw std::runtime_error("cp failed: " + r.err);
  }
  std::map<std::string, std::string> env() const {
    return {{"XDG_CONFIG_HOME", m_config.string()}, {"HOME", m_tmp.path().string()}, {"GIT_CONFIG_NOSYSTEM", "1"}};
  }
  RunResult avow(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{avow_bin(), "-C", m_dir.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {}, env());
  }
  RunResult avow_raw(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{avow_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {}, env());
  }
  RunResult git(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"git", "-C", m_dir.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {}, env());
  }
  std::string git_show(const std::string& path) const {
    auto r = git({"cat-file", "blob", "refs/heads/main:" + path});
    if (r.exit_code != 0) throw std::runtime_error("git cat-file failed for " + path + ": " + r.err);
    return r.out;
  }
  std::string file(const std::string& name, const std::string& data) const {
    write_file(m_tmp / name, data);
    return (m_tmp / name).string();
  }
  const TempDir& tmp() const { return m_tmp; }
  const fs::path& dir() const { return m_dir; }

private:
  TempDir m_tmp;
  fs::path m_dir;
  fs::path m_config;
};

class Forger {
public:
  Copy a{shared_template().a};
  std::vector<std::string> commits = shared_template().commits;
  std::vector<std::string> ids = shared_template().ids;
  std::string text1 = shared_template().text1, text2 = shared_template().text2, text3 = shared_template().text3,
              original3 = shared_template().original3;

  Forger() { forget_seen(); }

  void forget_seen() const { fs::remove(a.dir() / ".git" / "avow" / "seen-checkpoint"); }

  std::string config(const std::string& name) const { return trim(a.git({"config", name}).out); }
  crypto::PrivateKey key(const std::string& file) const {
    auto k = crypto::read_private_key(file, [] { return std::nullopt; });
    if (!k) throw std::runtime_error(k.error().message);
    return std::move(*k);
  }
  crypto::PrivateKey log_key() const { return key(config("avow.logkey")); }
  crypto::PrivateKey archivist_key() const { return key(config("avow.key")); }
  // A fresh key pair the archive has never heard of; returns the private key file.
  std::string new_key(const std::string& name) const {
    const std::string priv = (a.tmp() / (name + ".pem")).string();
    auto g = a.avow_raw({"key", "generate", "-o", priv});
    if (g.exit_code != 0) throw std::runtime_error("key generate: " + g.err);
    return priv;
  }

  // Run stock git in the archive with a private index file; throws on failure, returns stdout without the last LF.
  std::string git(const std::vector<std::string>& args, const std::string& stdin_data = {}) const {
    auto env = a.env();
    env["GIT_INDEX_FILE"] = (a.tmp() / "forger.index").string();
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "avow";
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "avow@localhost";
    std::vector<std::string> argv{"git", "-C", a.dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, stdin_data, env);
    if (r.exit_code != 0) throw std::runtime_error("git " + args.at(0) + " failed: " + r.err);
    return trim(r.out);
  }
  std::string tip() const { return git({"rev-parse", "refs/heads/main"}); }
  std::string show(const std::string& rev, const std::string& path) const {
    return a.git({"cat-file", "blob", rev + ":" + path}).out;
  }
  std::string message_of(const std::string& commit) const {
    const std::string raw = a.git({"cat-file", "commit", commit}).out;
    return raw.substr(raw.find("\n\n") + 2);
  }
  std::vector<std::string> paths(const std::string& rev, const std::string& under) const {
    std::istringstream in(git({"ls-tree", "-r", "--name-only", rev, "--", under}));
    std::vector<std::string> out;
    for (std::string p; std::getline(in, p);) out.push_back(p);
    return out;
  }

  // The tree of `base` with `edits` applied.
  std::string tree(const std::string& base, const std::vector<Edit>& edits) const {
    git({"read-tree", base});
    for (const auto& e : edits) {
      switch (e.kind) {
      case Edit::Kind::put: {
        const std::string blob = git({"hash-object", "-w", "--stdin"}, e.data);
        git({"update-index", "--add", "--cacheinfo", e.mode + "," + blob + "," + e.path});
        break;
      }
      case Edit::Kind::put_oid:
        git({"update-index", "--add", "--cacheinfo", e.mode + "," + e.data + "," + e.path});
        break;
      case Edit::Kind::remove:
        git({"update-index", "--index-info"}, "0 " + std::string(40, '0') + "\t" + e.path + "\n");
        break;
      }
    }
    return git({"write-tree"});
  }

  // A commit of `tree` with `parents` and `message`, signed as `how` says (SSHSIG in a gpgsig header, as git lays it
  // out); returns its id.
  std::string commit(const std::string& tree, const std::vector<std::string>& parents, const std::string& message,
                     Sign how = Sign::log_key) const {
    std::vector<std::string> args{"commit-tree", tree};
    for (const auto& p : parents) args.insert(args.end(), {"-p", p});
    const auto msg = a.file("forger.msg", message);
    args.insert(args.end(), {"-F", msg});
    const std::string unsigned_id = git(args);
    if (how == Sign::none) return unsigned_id;
    const std::string raw = a.git({"cat-file", "commit", unsigned_id}).out;
    const crypto::PrivateKey signer = how == Sign::log_key         ? log_key()
                                      : how == Sign::archivist_key ? archivist_key()
                                      : how == Sign::garbled       ? log_key()
                                                                   : key(new_key("stranger"));
    auto armored = crypto::sshsig_sign(signer, "git", as_bytes(raw));
    if (!armored) throw std::runtime_error(armored.error().message);
    std::string sig = trim(*armored);
    if (how == Sign::garbled) { // one base64 character of the signature changed: still well formed
      const auto at = sig.rfind("\n-----END") - 5;
      sig[at] = sig[at] == 'A' ? 'B' : 'A';
    }
    std::string header;
    for (std::size_t pos = 0; pos <= sig.size();) {
      auto eol = sig.find('\n', pos);
      if (eol == std::string::npos) eol = sig.size();
      header += (pos == 0 ? "gpgsig " : " ") + sig.substr(pos, eol - pos) + "\n";
      pos = eol + 1;
    }
    const auto end = raw.find("\n\n");
    const std::string signed_raw = raw.substr(0, end + 1) + header + raw.substr(end + 1);
    return git({"hash-object", "-t", "commit", "-w", "--stdin"}, signed_raw);
  }
  void set_main(const std::string& commit) const { git({"update-ref", "refs/heads/main", commit}); }

  // Replace the tip commit by one with the same parent and message and the tip's tree with `edits`; returns it.
  std::string amend(const std::vector<Edit>& edits, Sign how = Sign::log_key,
                    std::optional<std::string> message = std::nullopt) const {
    const std::string t = tip();
    const std::string c = commit(tree(t, edits), {git({"rev-parse", t + "^"})}, message.value_or(message_of(t)), how);
    set_main(c);
    return c;
  }
  // A new commit on top of the tip with the tip's tree and `edits`; returns it.
  std::string add_commit(const std::vector<Edit>& edits, const std::string& message, Sign how = Sign::log_key) const {
    const std::string t = tip();
    const std::string c = commit(tree(t, edits), {t}, message, how);
    set_main(c);
    return c;
  }
  // Rewrite every commit of main with `edits` applied to its tree, each re-signed by the log key, same messages.
  void rewrite_history(const std::vector<Edit>& edits) {
    std::optional<std::string> parent;
    std::vector<std::string> rewritten;
    for (const auto& c : commits) {
      std::vector<std::string> parents;
      if (parent) parents.push_back(*parent);
      parent = commit(tree(c, edits), parents, message_of(c));
      rewritten.push_back(*parent);
    }
    set_main(*parent);
    commits = rewritten;
  }

  // The envelopes of the log at the tip.
  std::vector<std::string> entries() const { return log_entries(a.dir()); }
  // The payload of envelope `jcs`.
  static std::string payload_of(const std::string& jcs) {
    auto env = record::parse(jcs);
    if (!env) throw std::runtime_error(env.error().message);
    return env->payload;
  }
  // A DSSE envelope (JCS) over `payload`, signed by `signer`.
  static std::string envelope(const std::string& payload, const crypto::Signer& signer) {
    auto env = record::sign(payload, signer);
    if (!env) throw std::runtime_error(env.error().message);
    auto jcs = record::serialize(*env);
    if (!jcs) throw std::runtime_error(jcs.error().message);
    return *jcs;
  }
  // The payload of a statement like entry `like` (nlohmann's dump sorts members and escapes nothing it need not,
  // which is JCS for these ASCII values), changed by `edit`.
  std::string statement_payload(std::size_t like, const std::function<void(nlohmann::json&)>& edit) const {
    auto j = nlohmann::json::parse(payload_of(entries().at(like)));
    edit(j);
    return j.dump();
  }

  // The files of a log of exactly `envelopes` (tiles, bundles, log/keys, checkpoint signed by the log key, with the
  // key state the key events among them make), as edits that replace every file under log/tile/ of `base`.
  std::vector<Edit> relog(const std::string& base, const std::vector<std::string>& envelopes,
                          std::optional<std::uint64_t> claimed_size = std::nullopt) const {
    std::vector<Edit> edits;
    for (const auto& p : paths(base, "log/tile")) edits.push_back(remove(p));
    const log::TileReader none = [](const std::string& path) -> Expected<Bytes> {
      return fail(ErrorCode::not_found, "no tile {}", path);
    };
    auto plan = log::plan_append(0, envelopes, none);
    if (!plan) throw std::runtime_error(plan.error().message);
    for (const auto& w : plan->writes) edits.push_back(put("log/" + w.path, to_string(w.data)));
    const crypto::PrivateKey lk = log_key();
    record::KeyState keys = record::initial_key_state(lk.public_key());
    for (std::size_t k = 0; k < envelopes.size(); ++k) {
      auto env = record::parse(envelopes[k]);
      auto value = json::parse_canonical(env->payload);
      if (!value) continue;
      if (auto event = record::key_event_from_json(*value))
        (void)record::apply(keys, *event, env->signatures[0].keyid, k);
    }
    log::Checkpoint cp{k_origin, claimed_size.value_or(plan->new_size), plan->root, {record::key_state_extension(keys)}};
    edits.push_back(put(std::string(record::k_key_state_path), record::key_state_json(keys)));
    edits.push_back(put(std::string(record::k_checkpoint_path), signed_checkpoint(cp)));
    return edits;
  }
  std::string signed_checkpoint(const log::Checkpoint& cp) const {
    auto note = log::sign_note(log::checkpoint_text(cp), k_origin, log_key());
    if (!note) throw std::runtime_error(note.error().message);
    return *note;
  }
  // The checkpoint at the tip, parsed.
  log::Checkpoint checkpoint() const {
    auto note = log::parse_note(a.git_show("log/checkpoint"));
    auto cp = log::parse_checkpoint_text(note->text);
    if (!cp) throw std::runtime_error(cp.error().message);
    return *cp;
  }
  // A granted RFC 3161 response over `body` from a throw-away TSA (tests/support/make_tsa.sh, `openssl ts -reply`).
  std::string timestamp_token(const std::string& body) const {
    const fs::path dir = a.tmp() / "tsa";
    const std::string support = std::string(AVOW_SOURCE_DIR) + "/tests/support";
    const auto run = [&](const std::vector<std::string>& argv) {
      auto r = run_process(argv, {}, {}, dir.parent_path());
      if (r.exit_code != 0) throw std::runtime_error(argv.at(0) + " failed: " + r.err);
    };
    run({"bash", support + "/make_tsa.sh", dir.string()});
    const std::string data = a.file("tsa-body", body);
    run({"openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", (dir / "q.tsq").string()});
    run({"openssl", "ts", "-reply", "-config", (dir / "ts.cnf").string(), "-queryfile", (dir / "q.tsq").string(),
         "-out", (dir / "r.tsr").string()});
    return read_file(dir / "r.tsr");
  }
  static std::string body_of(const std::string& note) { return note.substr(0, note.find("\n\n") + 1); }
  static std::string message(std::uint64_t size) {
    return "avow: archive 1 statement\n\nAvow-Tree-Size: " + std::to_string(size) + "\n";
  }
};

// Flip one bit of byte `at` (negative: from the end).
std::string flip(std::string data, long at) {
  const std::size_t i = at < 0 ? data.size() - static_cast<std::size_t>(-at) : static_cast<std::size_t>(at);
  data.at(i) = static_cast<char>(data.at(i) ^ 0x01);
  return data;
}

struct Row {
  std::string name;
  std::function<std::vector<Want>(Forger&)> tamper; // tampers, returns the problems verify must report
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

std::string key_of(const nlohmann::json& p) {
  return p["kind"].get<std::string>() + " entry=" + (p.contains("entry") ? std::to_string(p["entry"].get<long>()) : "-") +
         " path=" + (p.contains("path") ? p["path"].get<std::string>() : "-");
}
std::string key_of(const Want& w) {
  return w.kind + " entry=" + (w.entry ? std::to_string(*w.entry) : "-") + " path=" + w.path.value_or("-");
}

class Tamper : public ::testing::TestWithParam<Row> {};

TEST_P(Tamper, VerifyNamesTheProblem) {
  Forger f;
  const std::vector<Want> want = GetParam().tamper(f);
  const auto r = f.a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  const auto j = r.json();
  EXPECT_EQ(j["ok"], false);
  std::vector<std::string> got_keys, want_keys;
  for (const auto& p : j["problems"]) got_keys.push_back(key_of(p));
  for (const auto& w : want) want_keys.push_back(key_of(w));
  std::sort(got_keys.begin(), got_keys.end());
  std::sort(want_keys.begin(), want_keys.end());
  EXPECT_EQ(got_keys, want_keys) << r.out;
  for (const auto& w : want) {
    bool found = false;
    for (const auto& p : j["problems"]) {
      if (key_of(p) != key_of(w)) continue;
      if (w.commit && p.value("commit", "") != *w.commit) continue;
      if (w.message_part && p["message"].get<std::string>().find(*w.message_part) == std::string::npos) continue;
      found = true;
    }
    EXPECT_TRUE(found) << "no problem " << key_of(w) << (w.commit ? " commit " + *w.commit : "")
                       << (w.message_part ? " saying '" + *w.message_part + "'" : "") << "\n" << r.out;
  }
  // The text report names the first problem the same way.
  const auto text = f.a.avow({"verify"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("problem: " + want.front().kind), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("NOT verified"), std::string::npos) << text.out;
}

const std::string cp_path = "log/checkpoint";
const std::string tile4 = "log/tile/0/000.p/4";
const std::string bundle4 = "log/tile/entries/000.p/4";

std::vector<Row> rows() {
  std::vector<Row> r;
  // --- texts and originals ---
  r.push_back({"TextByteFlipped", [](Forger& f) -> std::vector<Want> {
    f.amend({put(f.text3, flip(f.a.git_show(f.text3), 2))});
    return {{"text_mismatch", 3, f.text3, {}, "does not hash to its name"}};
  }});
  r.push_back({"TextReplacedByAnotherCanonicalText", [](Forger& f) -> std::vector<Want> {
    f.amend({put(f.text3, "Caf\xC3\xA9 \xC3\xA0 la deux.\n")});
    return {{"text_mismatch", 3, f.text3, {}, {}}};
  }});
  r.push_back({"TextMadeNonCanonicalUnderItsNewName", [](Forger& f) -> std::vector<Want> {
    // The forger cannot make a non-canonical text hash to a name a record holds; a text file that is not canonical
    // but hashes to its name is only reachable through a record, so here the record is forged too (log key held).
    const std::string bad = "trailing blanks   \n";
    const std::string sha = to_hex(crypto::sha256(bad));
    const std::string payload = f.statement_payload(1, [&](nlohmann::json& j) {
      j["text"]["sha256"] = sha;
      j["text"]["bytes"] = bad.size();
      j["source"]["uri"] = "https://example.org/d";
    });
    append_raw_entries(f.a.dir(), {Forger::envelope(payload, f.archivist_key())},
                       RawAppend{std::nullopt, true, {{record::text_path(sha), bad}}});
    return {{"text_not_canonical", 4, record::text_path(sha), {}, {}}};
  }});
  r.push_back({"TextRemoved", [](Forger& f) -> std::vector<Want> {
    f.amend({remove(f.text3)});
    return {{"text_missing", 3, f.text3, {}, {}}};
  }});
  r.push_back({"OriginalSwappedForAnotherEncodingOfTheSameText", [](Forger& f) -> std::vector<Want> {
    // The UTF-8 bytes of the same statement canonicalize to the same text, but are not the bytes captured.
    f.amend({put(f.original3, "Caf\xC3\xA9 \xC3\xA0 la une.\r\n")});
    return {{"original_mismatch", 3, f.original3, {}, "does not hash to its name"}};
  }});
  r.push_back({"OriginalRemoved", [](Forger& f) -> std::vector<Want> {
    f.amend({remove(f.original3)});
    return {{"original_missing", 3, f.original3, {}, {}}};
  }});
  // --- entries, tiles, checkpoints ---
  r.push_back({"EntryBundleEditedAndRecordResigned", [](Forger& f) -> std::vector<Want> {
    // Entry 3 gets a title, re-signed by its archivist: the signature is good, the leaf is not the logged one.
    auto entries = f.entries();
    entries[3] = Forger::envelope(f.statement_payload(3, [](nlohmann::json& j) { j["title"] = "Forged title"; }),
                                  f.archivist_key());
    auto bundle = log::encode_entry_bundle(entries);
    f.amend({put(bundle4, to_string(*bundle))});
    return {{"tile_mismatch", {}, tile4, {}, {}}, {"root_mismatch", {}, cp_path, f.tip(), {}}};
  }});
  r.push_back({"EntryBundleByteFlipped", [](Forger& f) -> std::vector<Want> {
    // The first base64 character of entry 3's signature changed: still valid base64 (a flipped bit near the end
    // could break the padding bits, which entry_invalid would report instead), no longer the signature.
    std::string bundle = f.a.git_show(bundle4);
    const auto at = bundle.rfind("\"sig\":\"") + 7;
    bundle[at] = bundle[at] == 'A' ? 'B' : 'A';
    f.amend({put(bundle4, bundle)});
    return {{"tile_mismatch", {}, tile4, {}, {}}, {"root_mismatch", {}, cp_path, {}, {}},
            {"signature_invalid", 3, {}, {}, "does not verify"}};
  }});
  r.push_back({"OldEntryRewrittenAndWholeLogResigned", [](Forger& f) -> std::vector<Want> {
    // Holding every key: entry 1 gets another title, re-signed, tiles and checkpoint rebuilt and signed. The
    // checkpoints of sizes 2 and 3 in history no longer match the prefixes.
    auto entries = f.entries();
    entries[1] = Forger::envelope(f.statement_payload(1, [](nlohmann::json& j) { j["title"] = "Forged"; }),
                                  f.archivist_key());
    f.amend(f.relog(f.tip(), entries));
    return {{"fork", {}, cp_path, f.commits[1], {}}, {"fork", {}, cp_path, f.commits[2], {}}};
  }});
  r.push_back({"EntryBundleRemoved", [](Forger& f) -> std::vector<Want> {
    f.amend({remove(bundle4)});
    return {{"entry_bundle_invalid", {}, {}, {}, {}}};
  }});
  r.push_back({"KeyStateEditedAndCheckpointResigned", [](Forger& f) -> std::vector<Want> {
    // log/keys without the archivist (only the genesis log key), and a checkpoint whose avow-keys line matches it.
    const record::KeyState genesis = record::initial_key_state(f.log_key().public_key());
    auto cp = f.checkpoint();
    cp.extensions = {record::key_state_extension(genesis)};
    const std::string c = f.amend({put("log/keys", record::key_state_json(genesis)), put(cp_path, f.signed_checkpoint(cp))});
    return {{"key_state_mismatch", {}, cp_path, c, "does not match the key state recomputed from the first 4 entries"},
            {"key_state_mismatch", {}, "log/keys", c, "is not the key state recomputed"}};
  }});
  r.push_back({"HashTileByteFlipped", [](Forger& f) -> std::vector<Want> {
    f.amend({put(tile4, flip(f.a.git_show(tile4), 40))});
    return {{"tile_mismatch", {}, tile4, {}, "does not match the hashes of the entries"}};
  }});
  r.push_back({"HashTileOfTheWrongWidth", [](Forger& f) -> std::vector<Want> {
    // The tile of width 4 renamed to width 3 (its last hash dropped), the real one removed.
    const std::string t = f.a.git_show(tile4);
    f.amend({remove(tile4), put("log/tile/0/000.p/3", t.substr(0, 96))});
    return {{"tile_missing", {}, tile4, {}, {}}, {"stray_file", {}, "log/tile/0/000.p/3", {}, {}}};
  }});
  r.push_back({"CheckpointRootEditedAndResigned", [](Forger& f) -> std::vector<Want> {
    auto cp = f.checkpoint();
    cp.root[0] ^= 1;
    f.amend({put(cp_path, f.signed_checkpoint(cp))});
    return {{"root_mismatch", {}, cp_path, f.tip(), "does not match the root recomputed"}};
  }});
  r.push_back({"CheckpointSizeEditedAndResigned", [](Forger& f) -> std::vector<Want> {
    auto cp = f.checkpoint();
    cp.size = 5;
    f.amend({put(cp_path, f.signed_checkpoint(cp))}, Sign::log_key, Forger::message(5));
    return {{"entry_bundle_invalid", {}, {}, {}, {}}};
  }});
  r.push_back({"CheckpointSignatureByteFlipped", [](Forger& f) -> std::vector<Want> {
    const std::string note = f.a.git_show(cp_path);
    std::string changed = note; // a base64 character of the signature replaced by another: still a well formed note
    const std::size_t at = changed.size() - 10;
    changed[at] = changed[at] == 'A' ? 'B' : 'A';
    f.amend({put(cp_path, changed)});
    return {{"checkpoint_invalid", {}, cp_path, f.tip(), "not signed by the log key in force"},
            {"checkpoint_invalid", {}, cp_path, f.tip(), "the latest checkpoint cannot be checked"}};
  }});
  r.push_back({"CheckpointSignedByAnotherKey", [](Forger& f) -> std::vector<Want> {
    const auto stranger = f.key(f.new_key("stranger"));
    auto note = log::sign_note(log::checkpoint_text(f.checkpoint()), k_origin, stranger);
    f.amend({put(cp_path, *note)});
    return {{"checkpoint_invalid", {}, cp_path, f.tip(), "not signed by the log key in force"},
            {"checkpoint_invalid", {}, cp_path, f.tip(), "the latest checkpoint cannot be checked"}};
  }});
  r.push_back({"CheckpointReplacedByAnOlderOne", [](Forger& f) -> std::vector<Want> {
    // A later commit carries the (validly signed) checkpoint of size 3 again, as if entry 3 had never been logged.
    const std::string c = f.add_commit({put(cp_path, f.show(f.commits[2], cp_path))}, Forger::message(3));
    return {{"log_truncated", {}, cp_path, c, "has a checkpoint of size 3 after one of size 4"},
            {"entry_bundle_invalid", {}, {}, {}, {}}};
  }});
  r.push_back({"AvowTreeSizeTrailerWrong", [](Forger& f) -> std::vector<Want> {
    const std::string c = f.amend({}, Sign::log_key, Forger::message(3));
    return {{"commit_message_mismatch", {}, {}, c, "does not name the tree size of its checkpoint (4)"}};
  }});
  r.push_back({"TimestampTokenOfAnotherCheckpoint", [](Forger& f) -> std::vector<Want> {
    // A good token over the checkpoint of size 3, filed as the token of size 4.
    const std::string token = f.timestamp_token(Forger::body_of(f.show(f.commits[2], cp_path)));
    f.amend({put("log/timestamps/4.tsr", token)});
    return {{"timestamp_mismatch", {}, "log/timestamps/4.tsr", {}, {}}};
  }});
  r.push_back({"TimestampTokenGarbled", [](Forger& f) -> std::vector<Want> {
    const std::string token = f.timestamp_token(Forger::body_of(f.a.git_show(cp_path)));
    f.amend({put("log/timestamps/4.tsr", token.substr(0, token.size() / 2))});
    return {{"timestamp_invalid", {}, "log/timestamps/4.tsr", {}, {}}};
  }});
  r.push_back({"RecordCapturedAfterItsTimestamp", [](Forger& f) -> std::vector<Want> {
    // Holding every key, the forger dates entry 3 a day later than it was captured and re-signs the log; a token
    // over the checkpoint (genTime now) shows the record existed before the capture it claims.
    auto entries = f.entries();
    entries[3] = Forger::envelope(f.statement_payload(3, [](nlohmann::json& j) {
      j["captured"] = format_rfc3339_utc(now_seconds() + std::chrono::hours(24));
    }), f.archivist_key());
    auto edits = f.relog(f.tip(), entries);
    const auto cp = std::find_if(edits.begin(), edits.end(), [](const Edit& e) { return e.path == cp_path; });
    edits.push_back(put("log/timestamps/4.tsr", f.timestamp_token(Forger::body_of(cp->data))));
    f.amend(edits);
    return {{"captured_after_timestamp", 3, "log/timestamps/4.tsr", {}, "more than 10 minutes earlier"}};
  }});
  r.push_back({"KeyEventReordered", [](Forger& f) -> std::vector<Want> {
    // The key.add of the archivist moved after its first statement, the log re-signed: the statement now comes
    // before its key was trusted, and every older checkpoint disagrees.
    auto entries = f.entries();
    std::swap(entries[0], entries[1]);
    f.amend(f.relog(f.tip(), entries));
    std::vector<Want> want{{"signature_untrusted", 0, {}, {}, "which is not added at this point of the log"}};
    for (std::size_t c = 0; c < 3; ++c) { // the checkpoints and key states of C1..C3 are not those of the new prefixes
      want.push_back({"fork", {}, cp_path, f.commits[c], {}});
      want.push_back({"key_state_mismatch", {}, cp_path, f.commits[c], "avow-keys line"});
      want.push_back({"key_state_mismatch", {}, "log/keys", f.commits[c], {}});
    }
    return want;
  }});
  // --- the order and the set of entries ---
  r.push_back({"EntryRemovedAndLogResigned", [](Forger& f) -> std::vector<Want> {
    auto entries = f.entries();
    entries.erase(entries.begin() + 2);
    f.amend(f.relog(f.tip(), entries), Sign::log_key, Forger::message(3));
    // The amended tip rewrites the tiles of size 3 its parent holds.
    return {{"fork", {}, cp_path, f.commits[2], "is not a prefix of the final log"},
            {"history_not_append_only", {}, "log/tile/0/000.p/3", f.tip(), "changes 'log/tile/0/000.p/3'"},
            {"history_not_append_only", {}, "log/tile/entries/000.p/3", f.tip(), {}},
            {"stray_file", {}, f.text2, {}, {}}};
  }});
  r.push_back({"TwoEntriesSwappedAndLogResigned", [](Forger& f) -> std::vector<Want> {
    auto entries = f.entries();
    std::swap(entries[2], entries[3]);
    f.amend(f.relog(f.tip(), entries));
    return {{"fork", {}, cp_path, f.commits[2], {}}};
  }});
  r.push_back({"DuplicateEntry", [](Forger& f) -> std::vector<Want> {
    append_raw_entries(f.a.dir(), {f.entries()[1]});
    return {{"duplicate_record", 4, {}, {}, "repeats record " + f.ids[1].substr(0, 16) + " of entry 1"}};
  }});
  r.push_back({"HistoryResetAndRegrown", [](Forger& f) -> std::vector<Want> {
    // This copy saw the checkpoint of size 4; the history is reset to size 2 and regrown to 4 with other entries.
    f.a.avow({"verify"}); // writes the seen checkpoint again
    const auto old = f.entries();
    const std::string old_tip = f.tip();
    const std::string other = "Another third statement.\n";
    const std::string sha = to_hex(crypto::sha256(other));
    const auto e2 = Forger::envelope(f.statement_payload(2, [&](nlohmann::json& j) {
      j["text"]["sha256"] = sha;
      j["text"]["bytes"] = other.size();
    }), f.archivist_key());
    f.set_main(f.commits[1]);
    append_raw_entries(f.a.dir(), {e2, old[3]},
                       RawAppend{std::nullopt, true,
                                 {{record::text_path(sha), other},
                                  {f.text3, f.show(old_tip, f.text3)},
                                  {f.original3, f.show(old_tip, f.original3)}}});
    return {{"fork", {}, ".git/avow/seen-checkpoint", {}, "this copy saw a signed checkpoint of size 4"}};
  }});
  // --- files of the tree ---
  r.push_back({"StrayFile", [](Forger& f) -> std::vector<Want> {
    f.amend({put("notes.txt", "hello\n")});
    return {{"stray_file", {}, "notes.txt", {}, "is not part of the archive"}};
  }});
  r.push_back({"StrayFileInTheLog", [](Forger& f) -> std::vector<Want> {
    f.amend({put("log/timestamps/4.txt", "not a token\n")});
    return {{"stray_file", {}, "log/timestamps/4.txt", {}, {}}};
  }});
  r.push_back({"KeyFileReplacedThroughoutHistory", [](Forger& f) -> std::vector<Want> {
    const std::string id = crypto::key_id(f.archivist_key().public_key());
    const auto other = f.key(f.new_key("other"));
    const std::string path = record::key_path(id);
    f.rewrite_history({put(path, crypto::public_key_pem(other.public_key()))});
    return {{"key_file_mismatch", {}, path, {}, "does not hold key " + id.substr(0, 16)}};
  }});
  r.push_back({"KeyFileReplacedInALaterCommit", [](Forger& f) -> std::vector<Want> {
    const std::string path = record::key_path(crypto::key_id(f.log_key().public_key()));
    const std::string pem = f.a.git_show(path);
    // The same key, other line breaks: still a PEM of the right key, not the bytes avow writes.
    std::string rewrapped = pem;
    rewrapped.insert(rewrapped.find('\n', 30) - 10, "\n");
    const std::string c = f.add_commit({put(path, rewrapped)}, Forger::message(4));
    return {{"history_not_append_only", {}, path, c, "changes '" + path + "'"},
            {"key_file_mismatch", {}, path, {}, {}}};
  }});
  r.push_back({"AllowedSignersEditedThroughoutHistory", [](Forger& f) -> std::vector<Want> {
    const auto stranger = f.key(f.new_key("stranger"));
    const std::string extra = k_origin + " namespaces=\"git\" " + crypto::openssh_public_key(stranger.public_key()) + "\n";
    f.rewrite_history({put("keys/allowed_signers", f.a.git_show("keys/allowed_signers") + extra)});
    return {{"allowed_signers_mismatch", {}, "keys/allowed_signers", {}, {}}};
  }});
  r.push_back({"AllowedSignersEditedInALaterCommit", [](Forger& f) -> std::vector<Want> {
    const std::string c = f.add_commit({put("keys/allowed_signers", "")}, Forger::message(4));
    return {{"history_not_append_only", {}, "keys/allowed_signers", c, "rotates no log key"},
            {"allowed_signers_mismatch", {}, "keys/allowed_signers", {}, {}}};
  }});
  r.push_back({"AvowJsonEditedThroughoutHistory", [](Forger& f) -> std::vector<Want> {
    // A damaged config in every commit: nothing can be checked without the log key it names.
    f.rewrite_history({put("avow.json", "{\"format\":\"avow.archive/1\"}\n")});
    return {{"config_invalid", {}, "avow.json", {}, {}}};
  }});
  r.push_back({"ExecutableFileMode", [](Forger& f) -> std::vector<Want> {
    f.amend({put(f.text3, f.a.git_show(f.text3), "100755")});
    return {{"stray_file", {}, f.text3, {}, "is not a regular file"}};
  }});
  r.push_back({"SymlinkInPlaceOfAText", [](Forger& f) -> std::vector<Want> {
    f.amend({put(f.text3, "../../../" + f.text1, "120000")});
    // git reads the link target as the blob's bytes, and they are not the text.
    return {{"stray_file", {}, f.text3, {}, "is not a regular file"}, {"text_mismatch", 3, f.text3, {}, {}}};
  }});
  r.push_back({"SubmoduleInTheTree", [](Forger& f) -> std::vector<Want> {
    f.amend({put_oid("vendor", f.commits[0], "160000")});
    return {{"stray_file", {}, "vendor", {}, "is not a regular file"}};
  }});
  // --- commits ---
  r.push_back({"CommitUnsigned", [](Forger& f) -> std::vector<Want> {
    const std::string c = f.amend({}, Sign::none);
    return {{"commit_unsigned", {}, {}, c, "is not signed"}};
  }});
  r.push_back({"CommitSignedByAnUnknownKey", [](Forger& f) -> std::vector<Want> {
    const std::string c = f.amend({}, Sign::other_key);
    return {{"commit_signature_invalid", {}, {}, c, "not the log key in force"}};
  }});
  r.push_back({"CommitSignedByTheArchivistKey", [](Forger& f) -> std::vector<Want> {
    const std::string c = f.amend({}, Sign::archivist_key);
    return {{"commit_signature_invalid", {}, {}, c, "not the log key in force"}};
  }});
  r.push_back({"CommitSignatureGarbled", [](Forger& f) -> std::vector<Want> {
    const std::string c = f.amend({}, Sign::garbled);
    return {{"commit_signature_invalid", {}, {}, c, "does not verify"}};
  }});
  r.push_back({"MergeCommit", [](Forger& f) -> std::vector<Want> {
    // A signed merge of the tip and a side commit on C3 (same tree as the tip): main is no longer a line.
    const std::string side = f.commit(f.tree(f.tip(), {}), {f.commits[2]}, Forger::message(4));
    const std::string t = f.tip();
    const std::string m = f.commit(f.tree(t, {}), {t, side}, Forger::message(4));
    f.set_main(m);
    return {{"history_not_linear", {}, {}, m, "has 2 parents"}};
  }});
  // --- records signed with real keys ---
  r.push_back({"RecordSignedByAKeyNeverAdded", [](Forger& f) -> std::vector<Want> {
    const auto stranger = f.key(f.new_key("stranger"));
    const std::string id = crypto::key_id(stranger.public_key());
    const std::string payload =
        f.statement_payload(2, [&](nlohmann::json& j) { j["archivist"] = id; j["title"] = "Signed by a stranger"; });
    append_raw_entries(f.a.dir(), {Forger::envelope(payload, stranger)});
    return {{"signature_untrusted", 4, {}, {}, "which is not added at this point of the log"}};
  }});
  r.push_back({"RecordSignedByTheLogKey", [](Forger& f) -> std::vector<Want> {
    const auto lk = f.log_key();
    const std::string payload = f.statement_payload(2, [&](nlohmann::json& j) {
      j["archivist"] = crypto::key_id(lk.public_key());
      j["title"] = "Signed by the log key";
    });
    append_raw_entries(f.a.dir(), {Forger::envelope(payload, lk)});
    return {{"signature_untrusted", 4, {}, {}, "a log key, not an archivist key"}};
  }});
  r.push_back({"RecordNamingAnotherArchivist", [](Forger& f) -> std::vector<Want> {
    const std::string payload = f.statement_payload(2, [&](nlohmann::json& j) {
      j["archivist"] = std::string(64, 'a');
      j["title"] = "Names another archivist";
    });
    append_raw_entries(f.a.dir(), {Forger::envelope(payload, f.archivist_key())});
    return {{"signature_untrusted", 4, {}, {}, "record names archivist aaaaaaaaaaaaaaaa"}};
  }});
  r.push_back({"KeyEventSignedByTheArchivist", [](Forger& f) -> std::vector<Want> {
    // An archivist adds a key of its own: only the log key may.
    const auto stranger = f.key(f.new_key("stranger"));
    const auto ak = f.archivist_key();
    record::KeyEvent ev;
    ev.kind = "key.add";
    ev.archivist = crypto::key_id(ak.public_key());
    ev.key_id = crypto::key_id(stranger.public_key());
    ev.public_key = stranger.public_key();
    ev.role = std::string(record::k_role_archivist);
    ev.captured = format_rfc3339_utc(now_seconds());
    auto payload = record::payload(ev);
    append_raw_entries(f.a.dir(), {Forger::envelope(*payload, ak)},
                       RawAppend{std::nullopt, true,
                                 {{record::key_path(ev.key_id), crypto::public_key_pem(stranger.public_key())}}});
    return {{"signature_untrusted", 4, {}, {}, "not by the log key in force"},
            {"stray_file", {}, record::key_path(ev.key_id), {}, {}}};
  }});
  r.push_back({"SchemaInvalidRecordWithAValidSignature", [](Forger& f) -> std::vector<Want> {
    const std::string payload = f.statement_payload(2, [](nlohmann::json& j) { j["colour"] = "red"; });
    append_raw_entries(f.a.dir(), {Forger::envelope(payload, f.archivist_key())});
    return {{"record_invalid", 4, {}, {}, {}}};
  }});
  r.push_back({"NonCanonicalPayloadWithAValidSignature", [](Forger& f) -> std::vector<Want> {
    auto j = nlohmann::json::parse(Forger::payload_of(f.entries()[2]));
    j["title"] = "Pretty printed";
    append_raw_entries(f.a.dir(), {Forger::envelope(j.dump(1), f.archivist_key())});
    return {{"record_invalid", 4, {}, {}, "payload"}};
  }});
  r.push_back({"NonCanonicalEnvelope", [](Forger& f) -> std::vector<Want> {
    // The same good signature, the envelope's members in another order.
    const std::string payload = f.statement_payload(2, [](nlohmann::json& j) { j["title"] = "Reordered envelope"; });
    auto env = record::sign(payload, f.archivist_key());
    const std::string jcs = *record::serialize(*env);
    const auto sigs = jcs.find(",\"signatures\"");
    const std::string reordered = "{" + jcs.substr(sigs + 1, jcs.size() - sigs - 2) + "," + jcs.substr(1, sigs - 1) + "}";
    append_raw_entries(f.a.dir(), {reordered});
    return {{"entry_invalid", 4, {}, {}, {}}};
  }});
  r.push_back({"SupersedesPointingForward", [](Forger& f) -> std::vector<Want> {
    // Entry 4 supersedes entry 5, logged after it.
    const std::string p5 = f.statement_payload(2, [](nlohmann::json& j) { j["title"] = "Later"; });
    const std::string p4 = f.statement_payload(2, [&](nlohmann::json& j) {
      j["title"] = "Earlier";
      j["supersedes"] = record::record_id(p5);
    });
    append_raw_entries(f.a.dir(), {Forger::envelope(p4, f.archivist_key()), Forger::envelope(p5, f.archivist_key())});
    return {{"supersedes_unknown", 4, {}, {}, "which is not an earlier statement"}};
  }});
  r.push_back({"SupersedesPointingAtAKeyEvent", [](Forger& f) -> std::vector<Want> {
    const std::string p = f.statement_payload(2, [&](nlohmann::json& j) {
      j["title"] = "Supersedes a key event";
      j["supersedes"] = record::record_id(Forger::payload_of(f.entries()[0]));
    });
    append_raw_entries(f.a.dir(), {Forger::envelope(p, f.archivist_key())});
    return {{"supersedes_unknown", 4, {}, {}, {}}};
  }});
  r.push_back({"SupersedesPointingToAnotherSource", [](Forger& f) -> std::vector<Want> {
    // A statement of /b claims to be the next version of entry 1, a statement of /a (the writer refuses this link).
    const std::string p = f.statement_payload(2, [&](nlohmann::json& j) {
      j["title"] = "Claims to be the next version of entry 1";
      j["supersedes"] = f.ids[1];
    });
    append_raw_entries(f.a.dir(), {Forger::envelope(p, f.archivist_key())});
    return {{"supersedes_other_source", 4, {}, {}, "supersedes " + f.ids[1].substr(0, 16) + " of entry 1, a statement "
                                                      "of another source"}};
  }});
  return r;
}

INSTANTIATE_TEST_SUITE_P(Suite, Tamper, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& row) { return row.param.name; });

// The same link arriving by `pull` (the incremental check): entry 4 (of /b) supersedes entry 1 (of /a), a statement
// the copy already holds (checked through its index); entry 5 (of /a) supersedes entry 4, a statement of the same pull.
TEST(TamperPull, SupersedesOfAnotherSourceIsRefused) {
  Forger f;
  const fs::path copy = f.a.tmp().path() / "copy";
  ASSERT_EQ(f.a.avow_raw({"clone", f.a.dir().string(), copy.string()}).exit_code, 0);
  const std::string p4 = f.statement_payload(2, [&](nlohmann::json& j) {
    j["title"] = "Claims to be the next version of entry 1";
    j["supersedes"] = f.ids[1];
  });
  const std::string p5 = f.statement_payload(1, [&](nlohmann::json& j) {
    j["title"] = "Claims to be the next version of entry 4";
    j["supersedes"] = record::record_id(p4);
  });
  append_raw_entries(f.a.dir(), {Forger::envelope(p4, f.archivist_key()), Forger::envelope(p5, f.archivist_key())});
  const auto r = f.a.avow_raw({"-C", copy.string(), "pull", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "refused");
  std::set<std::pair<std::string, std::uint64_t>> got;
  for (const auto& p : j["problems"]) got.emplace(p["kind"], p.value("entry", std::uint64_t{999}));
  EXPECT_EQ(got, (std::set<std::pair<std::string, std::uint64_t>>{{"supersedes_other_source", 4},
                                                                  {"supersedes_other_source", 5}}))
      << j.dump();
}

// audit checks what was added since the last commit this build verified here without problems (.git/avow/verified),
// and that check still names what is wrong in the new commits; anything that breaks the chain to that commit brings
// back the whole check.
TEST(TamperAudit, ChecksOnlyWhatWasAddedSinceTheLastCleanCheckAndStillFindsIt) {
  Forger f;
  const fs::path marker = f.a.dir() / ".git" / "avow" / "verified";
  const auto scope = [&](const RunResult& r) { return r.json()["check"]; };
  // No marker yet (the template's verify wrote one: forget it): the whole archive; then the marker names the tip.
  fs::remove(marker);
  auto r = f.a.avow({"audit", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(scope(r), nlohmann::json::parse(R"({"scope":"whole","since_commit":null,"from_entry":0,"commits":null})"));
  const std::string c4 = f.tip();
  EXPECT_NE(read_file(marker).find("commit " + c4 + "\n"), std::string::npos) << read_file(marker);
  // Nothing added: nothing to check.
  r = f.a.avow({"audit"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("check: nothing added since commit " + c4.substr(0, 12)), std::string::npos) << r.out;
  // A clean statement: only entry 4 is checked, and the marker moves on.
  ASSERT_EQ(f.a.avow({"archive", f.a.file("more.txt", "Fourth statement.\n"), "--source", "https://example.org/d"})
                .exit_code,
            0);
  r = f.a.avow({"audit"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\ncheck of entries 4..4 and the 1 commit since commit " + c4.substr(0, 12) +
                       " (verified on this machine; audit --full checks everything): no problems found\n"),
            std::string::npos)
      << r.out;
  const std::string c5 = f.tip();
  r = f.a.avow({"audit", "--json"});
  EXPECT_EQ(scope(r), (nlohmann::json{{"scope", "since"}, {"since_commit", c5}, {"from_entry", 5}, {"commits", 0}}));
  EXPECT_NE(read_file(marker).find("commit " + c5 + "\n"), std::string::npos);
  // A stray file in a commit signed by the log key, after the marker: found by the check of what was added.
  const std::string bad = f.add_commit({put("notes.txt", "x\n")}, f.message_of(c5));
  f.set_main(bad);
  r = f.a.avow({"audit", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(scope(r), (nlohmann::json{{"scope", "since"}, {"since_commit", c5}, {"from_entry", 5}, {"commits", 1}}));
  EXPECT_NE(f.a.avow({"audit"}).out.find("\ncheck of the 1 commit since commit " + c5.substr(0, 12) +
                                          ", with no new entry (verified on this machine; audit --full checks "
                                          "everything): 1 problem\n"),
            std::string::npos)
      << f.a.avow({"audit"}).out;
  std::set<std::string> kinds;
  const auto found = r.json();
  for (const auto& p : found["problems"]) kinds.insert(p["kind"]);
  EXPECT_EQ(kinds, std::set<std::string>{"stray_file"}) << r.out;
  EXPECT_NE(read_file(marker).find("commit " + c5 + "\n"), std::string::npos) << "a failed check moved the marker";
  // --full checks the whole archive, and finds it too.
  r = f.a.avow({"audit", "--full", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(scope(r)["scope"], "whole");
  // The history rewritten under the marker (the tip amended, so the marker's commit is gone from main): the whole
  // archive is checked.
  f.set_main(c5);
  const std::string amended = f.amend({put("notes.txt", "x\n")});
  ASSERT_EQ(f.tip(), amended);
  r = f.a.avow({"audit", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(scope(r)["scope"], "whole") << r.out;
  f.set_main(c5);
  // A marker of another build of avow, or garbled, is not taken.
  const std::string good = read_file(marker);
  for (const std::string& other : {good.substr(0, good.rfind("by avow ")) + "by avow 0.0.9 0123456789ab\n",
                                   std::string("avow-verified/1\ncommit ") + std::string(40, 'z') + "\n",
                                   std::string("")}) {
    write_file(marker, other);
    r = f.a.avow({"audit", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(scope(r)["scope"], "whole") << other;
  }
  // verify writes it too.
  fs::remove(marker);
  ASSERT_EQ(f.a.avow({"verify", "--quick"}).exit_code, 0);
  EXPECT_EQ(read_file(marker), good);
}

// The fixture itself verifies, and the forger's signatures are real: stock git accepts a commit it re-signed.
TEST(TamperFixture, ForgedCommitSignaturesAreGoodForStockGit) {
  Forger f;
  const std::string c = f.amend({put("notes.txt", "x\n")});
  const std::string allowed = f.a.file("allowed_signers", f.a.git_show("keys/allowed_signers"));
  auto r = f.a.git({"-c", "gpg.ssh.allowedSignersFile=" + allowed, "verify-commit", c});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Good \"git\" signature for " + k_origin), std::string::npos) << r.err;
  const std::string stranger = f.amend({}, Sign::other_key);
  EXPECT_NE(f.a.git({"-c", "gpg.ssh.allowedSignersFile=" + allowed, "verify-commit", stranger}).exit_code, 0);
}

} // namespace
} // namespace avow::test
