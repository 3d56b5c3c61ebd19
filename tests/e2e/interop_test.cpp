// End-to-end interoperability: an archive written by avow is checked with independent tools only (stock git,
// OpenSSL's command line, ssh-keygen, and a Python script using hashlib). No avow code is used for any check, so
// a bug shared by avow's writer and its own verifier cannot hide here.

#include <tests/support/checkers.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

constexpr int k_batch_size = 600;
constexpr std::uint64_t k_tree_size = 1 + k_batch_size + 1; // init's key.add, the batch, one single statement
constexpr std::string_view k_payload_type = "application/vnd.avow.record+json";
const std::string k_origin = "interop.avow.example/log";

// ---- small independent helpers (deliberately not avow's) ----

std::string to_hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string from_hex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// SHA-256 hex of `data` by `openssl dgst`.
std::string openssl_sha256(const TempDir& tmp, const std::string& data) {
  const auto f = tmp / "sha-input.bin";
  write_file(f, data);
  const auto r = run_process({"openssl", "dgst", "-sha256", "-r", f.string()});
  if (r.exit_code != 0) throw std::runtime_error("openssl dgst failed: " + r.err);
  return r.out.substr(0, 64);
}

// SHA-256 hex of `data` by coreutils sha256sum (a second, unrelated implementation).
std::string sha256sum(const std::string& data) {
  const auto r = run_process({"sha256sum", "-"}, data);
  if (r.exit_code != 0) throw std::runtime_error("sha256sum failed: " + r.err);
  return r.out.substr(0, 64);
}

// Ed25519 verification with `openssl pkeyutl -rawin`; returns the process result.
RunResult openssl_verify(const TempDir& tmp, const fs::path& pubkey_pem, const std::string& message,
                         const std::string& signature) {
  const auto msg = tmp / "msg.bin";
  const auto sig = tmp / "sig.bin";
  write_file(msg, message);
  write_file(sig, signature);
  return run_process({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pubkey_pem.string(), "-rawin", "-in",
                      msg.string(), "-sigfile", sig.string()});
}

// Raw 32-byte public key from an SPKI PEM, via `openssl pkey -pubin -outform DER` (44 bytes, key is the tail).
std::string raw_public_key(const fs::path& pem) {
  const auto r = run_process({"openssl", "pkey", "-pubin", "-in", pem.string(), "-outform", "DER"});
  if (r.exit_code != 0) throw std::runtime_error("openssl pkey failed: " + r.err);
  if (r.out.size() != 44 || r.out.substr(0, 12) != from_hex("302a300506032b6570032100"))
    throw std::runtime_error("not an Ed25519 SPKI: " + pem.string());
  return r.out.substr(12);
}

std::string pae(std::string_view type, const std::string& body) {
  return "DSSEv1 " + std::to_string(type.size()) + " " + std::string(type) + " " + std::to_string(body.size()) + " " +
         body;
}

// The RFC 6962 / tlog-tiles checker, in Python with hashlib only. Usage: script REPO [PREFIX_SIZE...].
// Prints "size N", "root B64", "prefix N B64" per argument, then "tile PATH HEX" for every tile and bundle the
// log of the checkpoint's size must have (bundles as their exact bytes, rebuilt from the decoded entries).
const char* k_merkle_py = R"PY(
import base64, hashlib, subprocess, sys
repo = sys.argv[1]
def blob(path):
    return subprocess.run(["git", "-C", repo, "cat-file", "blob", "main:" + path],
                          check=True, capture_output=True).stdout
def idx(n):
    s = "%03d" % (n % 1000)
    n //= 1000
    while n > 0:
        s = "x%03d/" % (n % 1000) + s
        n //= 1000
    return s
def tile_name(kind, index, width):
    return "log/tile/%s/%s%s" % (kind, idx(index), "" if width == 256 else ".p/%d" % width)
cp = blob("log/checkpoint").decode()
size = int(cp.split("\n")[1])
entries = []
for b in range((size + 255) // 256):
    w = min(256, size - 256 * b)
    data = blob(tile_name("entries", b, w))
    i = 0
    got = []
    while i < len(data):
        n = int.from_bytes(data[i:i + 2], "big")
        i += 2
        assert n > 0 and i + n <= len(data), "bad entry length"
        got.append(data[i:i + n])
        i += n
    assert len(got) == w, "bundle %d holds %d entries, want %d" % (b, len(got), w)
    entries += got
assert len(entries) == size
H = lambda b: hashlib.sha256(b).digest()
leaves = [H(b"\x00" + e) for e in entries]
def mth(hs):
    if len(hs) == 1:
        return hs[0]
    k = 1
    while k * 2 < len(hs):
        k *= 2
    return H(b"\x01" + mth(hs[:k]) + mth(hs[k:]))
print("size %d" % size)
print("root " + base64.b64encode(mth(leaves)).decode())
for a in sys.argv[2:]:
    print("prefix %s %s" % (a, base64.b64encode(mth(leaves[:int(a)])).decode()))
level, L = leaves, 0
while level:
    for t in range((len(level) + 255) // 256):
        hs = level[256 * t: 256 * t + 256]
        print("tile %s %s" % (tile_name(str(L), t, len(hs)), b"".join(hs).hex()))
    full = [level[256 * t: 256 * t + 256] for t in range(len(level) // 256)]
    nxt = []
    for group in full:
        while len(group) > 1:
            group = [H(b"\x01" + group[i] + group[i + 1]) for i in range(0, len(group), 2)]
        nxt.append(group[0])
    level, L = nxt, L + 1
for b in range((size + 255) // 256):
    es = entries[256 * b: 256 * b + 256]
    print("tile %s %s" % (tile_name("entries", b, len(es)), b"".join(len(e).to_bytes(2, "big") + e for e in es).hex()))
)PY";

// One archive for the whole suite: init (entry 0, key.add), a batch of 600 statements (entries 1..600, one commit),
// then one single statement (entry 601, one commit): 3 commits, tree size 602, two full entry bundles.
class Interop : public ::testing::Test {
protected:
  static inline std::unique_ptr<TempArchive> s_archive;
  static inline nlohmann::json s_batch;  // avow archive --batch --json output
  static inline nlohmann::json s_single; // avow archive --json output of the last statement

  static void SetUpTestSuite() {
    s_archive = std::make_unique<TempArchive>(k_origin);
    std::string manifest;
    for (int i = 0; i < k_batch_size; ++i) {
      nlohmann::json line = {{"text", "Statement number " + std::to_string(i) + " of the interop batch.\n"},
                             {"source", "https://interop.example.org/s/" + std::to_string(i)},
                             {"publisher", "Interop Ministry"},
                             {"published", "2019-03-29T18:36:00+03:00"},
                             {"id", "interop-" + std::to_string(i)}};
      manifest += line.dump() + "\n";
    }
    const auto m = s_archive->tmp() / "manifest.jsonl";
    write_file(m, manifest);
    auto r = s_archive->avow({"archive", "--batch", m.string(), "--json"});
    if (r.exit_code != 0) throw std::runtime_error("batch archive failed: " + r.err);
    s_batch = r.json();
    const auto f = s_archive->tmp() / "single.txt";
    write_file(f, "\xD8\xA8\xD9\x8A\xD8\xA7\xD9\x86 \xE2\x80\x94 a single statement after the batch.\n");
    r = s_archive->avow({"archive", f.string(), "--source", "https://interop.example.org/single", "--lang", "ar",
                         "--json"});
    if (r.exit_code != 0) throw std::runtime_error("single archive failed: " + r.err);
    s_single = r.json();
  }
  static void TearDownTestSuite() { s_archive.reset(); }

  const TempArchive& a() const { return *s_archive; }
  TempDir tmp; // scratch files of one test

  // All entries of the log, read from the entry bundles with stock git.
  std::vector<std::string> all_entries() const {
    std::vector<std::string> out;
    for (std::uint64_t b = 0; b * 256 < k_tree_size; ++b) {
      const std::uint64_t w = std::min<std::uint64_t>(256, k_tree_size - b * 256);
      char name[32];
      std::snprintf(name, sizeof name, "%03llu", static_cast<unsigned long long>(b));
      const std::string path = "log/tile/entries/" + std::string(name) + (w == 256 ? "" : ".p/" + std::to_string(w));
      const auto e = split_bundle(a().git_show(path));
      EXPECT_EQ(e.size(), w) << path;
      out.insert(out.end(), e.begin(), e.end());
    }
    return out;
  }
};

TEST_F(Interop, ArchiveHasTheExpectedShape) {
  ASSERT_EQ(s_batch["records"].size(), static_cast<std::size_t>(k_batch_size));
  EXPECT_EQ(s_batch["tree_size"], k_tree_size - 1);
  EXPECT_EQ(s_single["tree_size"], k_tree_size);
  EXPECT_EQ(s_single["records"][0]["index"], k_tree_size - 1);
  const auto tiles = lines_of(a().git({"ls-tree", "-r", "--name-only", "main", "log/"}).out);
  const std::vector<std::string> want = {"log/checkpoint",          "log/keys",                "log/tile/0/000",
                                         "log/tile/0/001",
                                         "log/tile/0/002.p/90",     "log/tile/1/000.p/2",      "log/tile/entries/000",
                                         "log/tile/entries/001",    "log/tile/entries/002.p/90"};
  EXPECT_EQ(tiles, want);
  EXPECT_EQ(trim(a().git({"rev-list", "--count", "main"}).out), "3");
}

// 1a. DSSE envelopes verify with OpenSSL given only the public key files of keys/, and record ids are SHA-256 of
// the payload bytes.
TEST_F(Interop, DsseEnvelopesVerifyWithOpenssl) {
  const auto entries = all_entries();
  ASSERT_EQ(entries.size(), k_tree_size);
  const nlohmann::json config = nlohmann::json::parse(a().git_show("avow.json"));
  const std::string log_key_id = config["log_key"]["id"];

  // Every key file: key id = SHA-256 of the raw public key.
  std::map<std::string, fs::path> pem_of;
  for (const auto& path : lines_of(a().git({"ls-tree", "-r", "--name-only", "main", "keys/"}).out)) {
    if (path == "keys/allowed_signers") continue;
    ASSERT_TRUE(path.ends_with(".pem")) << path;
    const std::string id = path.substr(5, path.size() - 9);
    const auto file = tmp / (id + ".pem");
    write_file(file, a().git_show(path));
    EXPECT_EQ(openssl_sha256(tmp, raw_public_key(file)), id) << path;
    pem_of[id] = file;
  }
  ASSERT_EQ(pem_of.size(), 2u); // the log key and the archivist key

  // Index -> record id as printed by avow.
  std::map<std::uint64_t, std::string> printed_id;
  for (const auto& r : s_batch["records"]) printed_id[r["index"].get<std::uint64_t>()] = r["id"];
  printed_id[k_tree_size - 1] = s_single["records"][0]["id"];
  ASSERT_EQ(printed_id.size(), k_tree_size - 1);

  std::string archivist_id;
  const std::vector<std::size_t> sample = {0, 1, 2, 255, 256, 300, 511, 512, 600, 601};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto env = nlohmann::json::parse(entries[i]);
    ASSERT_EQ(env.size(), 3u) << i;
    ASSERT_EQ(env["payloadType"], k_payload_type) << i;
    ASSERT_EQ(env["signatures"].size(), 1u) << i;
    // The leaf data is the JCS form of the envelope: for this ASCII-only object, nlohmann's sorted compact dump.
    EXPECT_EQ(env.dump(), entries[i]) << "entry " << i << " is not in canonical form";
    const std::string payload = b64_decode(env["payload"]);
    const std::string sig = b64_decode(env["signatures"][0]["sig"]);
    const std::string keyid = env["signatures"][0]["keyid"];
    ASSERT_EQ(sig.size(), 64u) << i;
    ASSERT_TRUE(pem_of.contains(keyid)) << "entry " << i << " signed by unknown key " << keyid;
    const auto record = nlohmann::json::parse(payload);
    if (i == 0) {
      EXPECT_EQ(record["kind"], "key.add");
      EXPECT_EQ(keyid, log_key_id); // key events are signed by the log key
      archivist_id = record["key"]["id"];
    } else {
      EXPECT_EQ(record["kind"], "statement") << i;
      EXPECT_EQ(keyid, archivist_id) << i;
      EXPECT_EQ(record["archivist"], archivist_id) << i;
      EXPECT_EQ(sha256sum(payload), printed_id.at(i)) << "record id of entry " << i;
    }
    if (std::find(sample.begin(), sample.end(), i) == sample.end()) continue;
    const std::string message = pae(k_payload_type, payload);
    const auto ok = openssl_verify(tmp, pem_of[keyid], message, sig);
    EXPECT_EQ(ok.exit_code, 0) << "entry " << i << ": " << ok.out << ok.err;
    EXPECT_EQ(ok.out, "Signature Verified Successfully\n") << i;
    // Any flipped byte of the PAE, and the wrong key, must fail.
    for (std::size_t at : {std::size_t{0}, std::size_t{7}, message.size() / 2, message.size() - 1}) {
      std::string bad = message;
      bad[at] = static_cast<char>(bad[at] ^ 0x01);
      const auto r = openssl_verify(tmp, pem_of[keyid], bad, sig);
      EXPECT_NE(r.exit_code, 0) << "entry " << i << " verified with PAE byte " << at << " flipped";
      EXPECT_NE(r.out, "Signature Verified Successfully\n");
    }
    const std::string other = keyid == log_key_id ? archivist_id : log_key_id;
    EXPECT_NE(openssl_verify(tmp, pem_of[other], message, sig).exit_code, 0) << i;
    // The signature is over the PAE, not over the bare payload.
    EXPECT_NE(openssl_verify(tmp, pem_of[keyid], payload, sig).exit_code, 0) << i;
  }
  EXPECT_EQ(archivist_id.size(), 64u);

  // The last statement's text is stored at texts/<h0h1>/<h2h3>/<h> and hashes to text.sha256.
  const auto last = nlohmann::json::parse(b64_decode(nlohmann::json::parse(entries.back())["payload"]));
  const std::string th = last["text"]["sha256"];
  const std::string text = a().git_show("texts/" + th.substr(0, 2) + "/" + th.substr(2, 2) + "/" + th);
  EXPECT_EQ(text, "\xD8\xA8\xD9\x8A\xD8\xA7\xD9\x86 \xE2\x80\x94 a single statement after the batch.\n");
  EXPECT_EQ(sha256sum(text), th);
  EXPECT_EQ(last["text"]["bytes"], text.size());
}

// 1b. The checkpoint root (and the root of every older checkpoint) equals an independent RFC 6962 computation, and
// every hash tile and entry bundle holds exactly the bytes it must.
TEST_F(Interop, CheckpointRootAndTilesMatchIndependentRfc6962) {
  const auto script = tmp / "merkle.py";
  write_file(script, k_merkle_py);
  // The checkpoint of every commit, oldest first.
  auto commits = lines_of(a().git({"rev-list", "--reverse", "main"}).out);
  ASSERT_EQ(commits.size(), 3u);
  std::vector<std::pair<std::string, std::string>> checkpoints; // size, root
  for (const auto& c : commits) {
    const auto cp = lines_of(a().git({"cat-file", "blob", c + ":log/checkpoint"}).out);
    ASSERT_GE(cp.size(), 3u);
    EXPECT_EQ(cp[0], k_origin);
    checkpoints.emplace_back(cp[1], cp[2]);
  }
  EXPECT_EQ(checkpoints[0].first, "1");
  EXPECT_EQ(checkpoints[1].first, std::to_string(k_tree_size - 1));
  EXPECT_EQ(checkpoints[2].first, std::to_string(k_tree_size));

  std::vector<std::string> argv{"/usr/bin/python3", script.string(), a().dir().string()};
  for (const auto& [size, root] : checkpoints) argv.push_back(size);
  const auto r = run_process(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines_of(r.out);
  ASSERT_GE(out.size(), 2 + checkpoints.size());
  EXPECT_EQ(out[0], "size " + std::to_string(k_tree_size));
  EXPECT_EQ(out[1], "root " + checkpoints.back().second);
  for (std::size_t i = 0; i < checkpoints.size(); ++i)
    EXPECT_EQ(out[2 + i], "prefix " + checkpoints[i].first + " " + checkpoints[i].second) << "checkpoint " << i;

  std::set<std::string> expected_paths{"log/checkpoint", "log/keys"}; // log/keys: the key state (FORMAT.md §11.1)
  std::size_t tiles = 0;
  for (std::size_t i = 2 + checkpoints.size(); i < out.size(); ++i) {
    ASSERT_TRUE(out[i].starts_with("tile ")) << out[i];
    const auto sp = out[i].find(' ', 5);
    const std::string path = out[i].substr(5, sp - 5);
    const std::string hex = out[i].substr(sp + 1);
    EXPECT_EQ(to_hex(a().git_show(path)), hex) << path << " does not hold the bytes RFC 6962 gives";
    expected_paths.insert(path);
    ++tiles;
  }
  EXPECT_EQ(tiles, 7u); // 3 level-0 tiles, 1 level-1 tile, 3 entry bundles
  const auto in_git = lines_of(a().git({"ls-tree", "-r", "--name-only", "main", "log/"}).out);
  EXPECT_EQ(std::set<std::string>(in_git.begin(), in_git.end()), expected_paths) << "stray or missing tile";
}

// 1c. The checkpoint is a C2SP signed note whose Ed25519 signature verifies with OpenSSL under the vkey of avow.json.
TEST_F(Interop, CheckpointSignatureVerifiesWithOpenssl) {
  const nlohmann::json config = nlohmann::json::parse(a().git_show("avow.json"));
  const std::string vkey = config["log_key"]["vkey"];
  // vkey = <name>+<hex8>+<base64(0x01 || pk)>
  const auto p1 = vkey.find('+');
  const auto p2 = vkey.find('+', p1 + 1);
  ASSERT_NE(p2, std::string::npos) << vkey;
  const std::string name = vkey.substr(0, p1);
  const std::string hex8 = vkey.substr(p1 + 1, p2 - p1 - 1);
  const std::string key_bytes = b64_decode(vkey.substr(p2 + 1));
  EXPECT_EQ(name, k_origin);
  EXPECT_EQ(config["origin"], k_origin);
  ASSERT_EQ(key_bytes.size(), 33u);
  ASSERT_EQ(key_bytes[0], '\x01'); // Ed25519 signature type
  const std::string pk = key_bytes.substr(1);
  const std::string key_hash = openssl_sha256(tmp, name + "\n" + key_bytes).substr(0, 8);
  EXPECT_EQ(hex8, key_hash);
  // The log key id is SHA-256(pk), and keys/<id>.pem is exactly the SPKI PEM of pk.
  const std::string log_key_id = config["log_key"]["id"];
  EXPECT_EQ(sha256sum(pk), log_key_id);
  const std::string pem = "-----BEGIN PUBLIC KEY-----\n" + b64_encode(from_hex("302a300506032b6570032100") + pk) +
                          "\n-----END PUBLIC KEY-----\n";
  const auto pem_file = tmp / "log.pem";
  write_file(pem_file, pem);
  EXPECT_EQ(a().git_show("keys/" + log_key_id + ".pem"), pem);

  for (const auto& c : lines_of(a().git({"rev-list", "main"}).out)) {
    const std::string note = a().git({"cat-file", "blob", c + ":log/checkpoint"}).out;
    const auto blank = note.find("\n\n");
    ASSERT_NE(blank, std::string::npos) << note;
    const std::string body = note.substr(0, blank + 1);
    const auto sig_lines = lines_of(note.substr(blank + 2));
    ASSERT_EQ(sig_lines.size(), 1u) << note; // only the log signs (no witnesses here)
    const std::string prefix = "\xE2\x80\x94 " + name + " ";
    ASSERT_TRUE(sig_lines[0].starts_with(prefix)) << sig_lines[0];
    const std::string sig_blob = b64_decode(sig_lines[0].substr(prefix.size()));
    ASSERT_EQ(sig_blob.size(), 68u);
    EXPECT_EQ(to_hex(sig_blob.substr(0, 4)), key_hash);
    const std::string sig = sig_blob.substr(4);
    const auto ok = openssl_verify(tmp, pem_file, body, sig);
    EXPECT_EQ(ok.exit_code, 0) << c << ": " << ok.out << ok.err;
    EXPECT_EQ(ok.out, "Signature Verified Successfully\n");
    for (std::size_t at : {std::size_t{0}, body.size() - 2}) { // a byte of the origin, of the root
      std::string bad = body;
      bad[at] = static_cast<char>(bad[at] ^ 0x01);
      EXPECT_NE(openssl_verify(tmp, pem_file, bad, sig).exit_code, 0) << "flipped note byte " << at << " verified";
    }
    EXPECT_NE(openssl_verify(tmp, pem_file, body.substr(0, body.size() - 1), sig).exit_code, 0);
  }
}

// 1d. Stock git and ssh-keygen accept every commit signature; the repository is strictly valid and clean.
TEST_F(Interop, CommitsVerifyWithStockGitAndSshKeygen) {
  // The allowed-signers file as committed (an archive may have no checked-out working tree).
  const auto allowed_file = tmp / "allowed_signers";
  write_file(allowed_file, a().git_show("keys/allowed_signers"));
  const auto allowed = allowed_file.string();
  EXPECT_EQ(a().git_show("keys/allowed_signers").find(k_origin + " namespaces=\"git\" ssh-ed25519 "), 0u);
  const auto commits = lines_of(a().git({"rev-list", "main"}).out);
  ASSERT_EQ(commits.size(), 3u);
  for (const auto& c : commits) {
    const auto r = a().git({"-c", "gpg.ssh.allowedSignersFile=" + allowed, "verify-commit", c});
    EXPECT_EQ(r.exit_code, 0) << c << ": " << r.err;
    EXPECT_NE(r.err.find("Good \"git\" signature for " + k_origin + " with ED25519 key"), std::string::npos) << r.err;
  }

  // ssh-keygen -Y verify on the newest commit: split the gpgsig header from the signed payload ourselves.
  const std::string object = a().git({"cat-file", "commit", commits.front()}).out;
  std::string payload, signature;
  bool in_sig = false, seen_sig = false;
  for (const auto& line : lines_of(object)) {
    if (!seen_sig && line.starts_with("gpgsig ")) {
      in_sig = seen_sig = true;
      signature += line.substr(7) + "\n";
      continue;
    }
    if (in_sig && line.starts_with(" ")) {
      signature += line.substr(1) + "\n";
      continue;
    }
    in_sig = false;
    payload += line + "\n";
  }
  ASSERT_TRUE(seen_sig) << object;
  ASSERT_TRUE(signature.starts_with("-----BEGIN SSH SIGNATURE-----\n")) << signature;
  ASSERT_TRUE(signature.ends_with("-----END SSH SIGNATURE-----\n")) << signature;
  EXPECT_NE(payload.find("Avow-Tree-Size: " + std::to_string(k_tree_size)), std::string::npos) << payload;
  const auto sig_file = tmp / "commit.sig";
  write_file(sig_file, signature);
  const std::vector<std::string> verify = {"ssh-keygen", "-Y", "verify", "-f", allowed, "-I", k_origin,
                                           "-n",         "git", "-s",    sig_file.string()};
  const auto ok = run_process(verify, payload);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("Good \"git\" signature for " + k_origin), std::string::npos) << ok.out;
  // A changed payload, another namespace or another identity must fail.
  std::string bad = payload;
  bad[bad.find("Avow-Tree-Size: ") + 16] ^= 0x01;
  EXPECT_NE(run_process(verify, bad).exit_code, 0);
  auto other_ns = verify;
  other_ns[8] = "file";
  EXPECT_NE(run_process(other_ns, payload).exit_code, 0);
  auto other_id = verify;
  other_id[6] = "someone.else/log";
  EXPECT_NE(run_process(other_id, payload).exit_code, 0);

  const auto fsck = a().git({"fsck", "--strict"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
  // Nothing uncommitted: with a working tree, `git status` is clean; without one (core.bare), nothing but .git
  // lives in the archive folder.
  if (trim(a().git({"rev-parse", "--is-bare-repository"}).out) == "true") {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(a().dir())) names.push_back(e.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{".git"});
  } else {
    const auto status = a().git({"status", "--porcelain"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_EQ(status.out, "");
  }
  // Linear history: no merge commits.
  EXPECT_EQ(a().git({"rev-list", "--merges", "main"}).out, "");
}

} // namespace
} // namespace avow::test
