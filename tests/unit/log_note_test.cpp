#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace avow::log {
namespace {

namespace fs = std::filesystem;

class LogNote : public ::testing::Test {
protected:
  void SetUp() override {
    const fs::path p = fs::path(AVOW_VECTORS_DIR) / "note" / "notes.json";
    ASSERT_TRUE(fs::exists(p)) << "vectors not found at " << p;
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto all = nlohmann::json::parse(ss.str());
    for (const auto& v : all["vectors"]) m_vectors[v["id"].get<std::string>()] = v;
    ASSERT_EQ(m_vectors.size(), 10u);
  }
  const nlohmann::json& vec(const std::string& id) { return m_vectors.at(id); }

  std::map<std::string, nlohmann::json> m_vectors;
};

Verifier must_parse_vkey(const nlohmann::json& j) {
  auto v = parse_vkey(j.get<std::string>());
  EXPECT_TRUE(v.has_value()) << j << ": " << (v ? "" : v.error().message);
  return v.value_or(Verifier{});
}

crypto::PrivateKey key_from_seed_hex(const std::string& hex) {
  auto seed = from_hex(hex);
  EXPECT_TRUE(seed.has_value());
  auto key = crypto::PrivateKey::from_seed(*seed);
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(*key);
}

std::string hex32(std::uint32_t v) { return fmt::format("{:08x}", v); }

TEST_F(LogNote, PeterNeumannSignIsByteExactAndVerifies) {
  const auto& v = vec("golang-sumdb-note-PeterNeumann");
  const Verifier verifier = must_parse_vkey(v["verifier_key"]);
  EXPECT_EQ(verifier.name, "PeterNeumann");
  EXPECT_EQ(hex32(verifier.id), v["key_id_hex"].get<std::string>());
  EXPECT_EQ(verifier.type, k_sig_ed25519);
  EXPECT_EQ(to_hex(verifier.key), v["public_key_hex"].get<std::string>());
  EXPECT_EQ(hex32(key_id("PeterNeumann", 0x01, verifier.key)), "c74f20a3");
  EXPECT_EQ(vkey("PeterNeumann", verifier.key), v["verifier_key"].get<std::string>());

  const auto key = key_from_seed_hex(v["seed_hex"].get<std::string>());
  EXPECT_EQ(key.public_key(), verifier.key);
  const std::string text = v["text"].get<std::string>();
  auto signed_note = sign_note(text, "PeterNeumann", key);
  ASSERT_TRUE(signed_note.has_value()) << signed_note.error().message;
  EXPECT_EQ(*signed_note, v["signed_note"].get<std::string>());

  auto note = parse_note(*signed_note);
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->text, text);
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].name, "PeterNeumann");
  EXPECT_EQ(hex32(note->signatures[0].id), "c74f20a3");
  EXPECT_EQ(to_hex(note->signatures[0].signature), v["signature_lines"][0]["ed25519_signature_hex"].get<std::string>());
  const std::vector<Verifier> known = {verifier};
  EXPECT_EQ(verify_note(*note, known).value(), std::vector<std::string>{"PeterNeumann"});
  EXPECT_EQ(format_note(*note).value(), *signed_note);
}

TEST_F(LogNote, MultipleSignatures) {
  const auto& v = vec("golang-sumdb-note-PeterNeumann-plus-EnochRoot");
  const Verifier enoch = must_parse_vkey(v["verifier_key"]);
  const Verifier peter = must_parse_vkey(v["other_verifier_keys"][0]);
  auto note = parse_note(v["signed_note"].get<std::string>());
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->text, v["text"].get<std::string>());
  ASSERT_EQ(note->signatures.size(), 2u);
  EXPECT_EQ(hex32(note->signatures[1].id), "af0cfe78");

  const std::vector<Verifier> only_peter = {peter};
  EXPECT_EQ(verify_note(*note, only_peter).value(), std::vector<std::string>{"PeterNeumann"});
  const std::vector<Verifier> both = {enoch, peter};
  EXPECT_EQ(verify_note(*note, both).value(), (std::vector<std::string>{"PeterNeumann", "EnochRoot"}));
  auto none = verify_note(*note, {});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(none.error().message, "note has no verifiable signature");
}

TEST_F(LogNote, MalformedNotesAreRejected) {
  const auto& v = vec("golang-sumdb-note-malformed");
  const Verifier peter = must_parse_vkey(v["verifier_key"]);
  int count = 0;
  for (const auto& [name, text] : v["malformed_notes"].items()) {
    auto note = parse_note(text.get<std::string>());
    EXPECT_FALSE(note.has_value()) << name;
    if (!note) {
      EXPECT_EQ(note.error().code, ErrorCode::invalid_input) << name;
    }
    ++count;
  }
  EXPECT_EQ(count, 6);
  // The Go list also has a leading 0xff byte (not UTF-8).
  EXPECT_FALSE(parse_note("\xff" + v["malformed_notes"]["leading_0x01_byte"].get<std::string>().substr(1)).has_value());

  // A known key whose signature fails rejects the note.
  auto bad = parse_note(v["also_rejected"]["signature_with_ABCD_inserted_at_char_60_of_sig_line"].get<std::string>());
  ASSERT_TRUE(bad.has_value());
  const std::vector<Verifier> known = {peter};
  auto r = verify_note(*bad, known);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "signature by 'PeterNeumann' does not verify");
}

TEST_F(LogNote, BadVerifierKeysAreRejected) {
  const auto& v = vec("golang-sumdb-note-bad-vkeys");
  for (const auto& [key, why] : v["bad_verifier_keys"].items()) EXPECT_FALSE(parse_vkey(key).has_value()) << why;
  const std::string good = v["good_verifier_key"].get<std::string>();
  ASSERT_TRUE(parse_vkey(good).has_value());
  int substrings = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (std::size_t n = 0; i + n <= good.size(); ++n) {
      if (n == good.size()) continue;
      EXPECT_FALSE(parse_vkey(good.substr(i, n)).has_value()) << good.substr(i, n);
      ++substrings;
    }
  }
  EXPECT_GT(substrings, 2000);
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bumped = good;
    bumped[i] = char(bumped[i] + 1);
    EXPECT_FALSE(parse_vkey(bumped).has_value()) << bumped;
  }
  EXPECT_FALSE(parse_vkey("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").has_value());
  EXPECT_FALSE(parse_vkey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").has_value());
}

TEST_F(LogNote, C2spExampleVerifies) {
  const auto& v = vec("c2sp-signed-note-example");
  const Verifier verifier = must_parse_vkey(v["verifier_key"]);
  EXPECT_EQ(to_hex(verifier.key), v["public_key_hex"].get<std::string>());
  auto note = parse_note(v["signed_note"].get<std::string>());
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->text, "This is an example message.\n");
  const std::vector<Verifier> known = {verifier};
  EXPECT_EQ(verify_note(*note, known).value(), std::vector<std::string>{"example.com/foo"});
}

TEST_F(LogNote, QuasimodoSplitsAtTheLastBlankLine) {
  const auto& v = vec("c2sp-signed-note-intro-parse-only");
  auto note = parse_note(v["signed_note"].get<std::string>());
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->text, v["text"].get<std::string>());
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].name, "quasimodo.example/salvatore");
  EXPECT_EQ(hex32(note->signatures[0].id), "367ba04b");
  EXPECT_EQ(note->signatures[0].signature.size(), 64u);
  EXPECT_EQ(verify_note(*note, {}).error().message, "note has no verifiable signature");
}

TEST_F(LogNote, SumdbCheckpointVerifies) {
  const auto& v = vec("sumdb-checkpoint-real");
  const std::vector<Verifier> known = {must_parse_vkey(v["verifier_key"])};
  const std::string note = v["signed_note"].get<std::string>();
  std::vector<std::string> names;
  auto cp = open_checkpoint(note, "go.sum database tree", known, &names);
  ASSERT_TRUE(cp.has_value()) << cp.error().message;
  EXPECT_EQ(names, std::vector<std::string>{"sum.golang.org"});
  EXPECT_EQ(cp->origin, "go.sum database tree");
  EXPECT_EQ(cp->size, 6476701u);
  EXPECT_EQ(to_hex(cp->root), v["checkpoint"]["root_hash_hex"].get<std::string>());
  EXPECT_TRUE(cp->extensions.empty());
  EXPECT_EQ(checkpoint_text(*cp), v["text"].get<std::string>());
  EXPECT_FALSE(open_checkpoint(note, "Go rocks but I might have the wrong ID", known).has_value());
}

TEST_F(LogNote, SumdbCheckpointWithWitnessSignatures) {
  const auto& v = vec("sumdb-checkpoint-plus-witness-sigs");
  std::vector<Verifier> all = {must_parse_vkey(v["verifier_key"])};
  for (const auto& k : v["other_verifier_keys"]) all.push_back(must_parse_vkey(k));
  auto note = parse_note(v["signed_note"].get<std::string>());
  ASSERT_TRUE(note.has_value());
  ASSERT_EQ(note->signatures.size(), 4u);
  EXPECT_EQ(verify_note(*note, all).value(),
            (std::vector<std::string>{"sum.golang.org", "monkeys", "bananas", "witness"}));
  EXPECT_EQ(verify_note(*note, std::span(all).first(1)).value(), std::vector<std::string>{"sum.golang.org"});
  // Each line verifies with its own key alone.
  for (std::size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(verify_note(*note, std::span(all).subspan(i, 1)).value(), std::vector<std::string>{all[i].name});
}

TEST_F(LogNote, C2spCosignatureExampleParses) {
  const auto& v = vec("c2sp-tlog-cosignature-example-parse-only");
  auto note = parse_note(v["signed_note"].get<std::string>());
  ASSERT_TRUE(note.has_value());
  ASSERT_EQ(note->signatures.size(), 2u);
  EXPECT_EQ(note->signatures[0].signature.size(), 64u);
  const auto& cosig = note->signatures[1];
  EXPECT_EQ(cosig.name, "witness.example.com/w1");
  EXPECT_EQ(hex32(cosig.id), "8d66cf3f");
  ASSERT_EQ(cosig.signature.size(), 72u);
  std::uint64_t ts = 0;
  for (int i = 0; i < 8; ++i) ts = (ts << 8) | cosig.signature[i];
  EXPECT_EQ(ts, 1679315147u);
  EXPECT_EQ(to_hex(ByteView(cosig.signature).subspan(8)),
            v["signature_lines"][1]["ed25519_signature_hex"].get<std::string>());
  EXPECT_EQ(cosignature_message(note->text, ts), v["cosigned_message"].get<std::string>());
  auto cp = parse_checkpoint_text(note->text);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(to_hex(cp->root), v["checkpoint"]["root_hash_hex"].get<std::string>());
}

TEST_F(LogNote, DerivedCosignatureVerifiesAndIsReproduced) {
  const auto& v = vec("derived-cosignature-v1-rfc8032-test1-key");
  const Verifier verifier = must_parse_vkey(v["verifier_key"]);
  EXPECT_EQ(verifier.type, k_sig_cosignature_v1);
  EXPECT_EQ(hex32(verifier.id), "7e6f4aaa");
  EXPECT_EQ(to_hex(verifier.key), v["public_key_hex"].get<std::string>());
  EXPECT_EQ(vkey(verifier.name, verifier.key, k_sig_cosignature_v1), v["verifier_key"].get<std::string>());

  const std::string signed_note = v["signed_note"].get<std::string>();
  auto note = parse_note(signed_note);
  ASSERT_TRUE(note.has_value());
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(verify_cosignature(note->text, note->signatures[0], verifier).value(), 1679315147u);
  const std::vector<Verifier> known = {verifier};
  EXPECT_EQ(verify_note(*note, known).value(), std::vector<std::string>{"witness.example.com/w1"});

  const auto key = key_from_seed_hex(v["signer_seed_hex"].get<std::string>());
  auto mine = cosign(v["text"].get<std::string>(), "witness.example.com/w1", key, 1679315147);
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(*mine, note->signatures[0]);
  EXPECT_EQ(format_note(Note{v["text"].get<std::string>(), {*mine}}).value(), signed_note);

  // The bare signature does not verify as a plain type 0x01 note signature.
  const ByteView sig64 = ByteView(note->signatures[0].signature).subspan(8);
  EXPECT_FALSE(crypto::verify(verifier.key, as_bytes(note->text), sig64));
  // A changed timestamp does not verify.
  NoteSignature changed = note->signatures[0];
  changed.signature[7] ^= 1;
  EXPECT_EQ(verify_cosignature(note->text, changed, verifier).error().message,
            "cosignature by 'witness.example.com/w1' does not verify");
  Note tampered = *note;
  tampered.signatures[0] = changed;
  EXPECT_EQ(verify_note(tampered, known).error().message, "signature by 'witness.example.com/w1' does not verify");
  // A type 0x01 verifier for the same key has another id: the cosignature is simply unknown to it.
  Verifier plain = verifier;
  plain.type = k_sig_ed25519;
  plain.id = key_id(plain.name, k_sig_ed25519, plain.key);
  EXPECT_FALSE(verify_cosignature(note->text, note->signatures[0], plain).has_value());
  const std::vector<Verifier> plain_known = {plain};
  EXPECT_EQ(verify_note(*note, plain_known).error().message, "note has no verifiable signature");
}

TEST_F(LogNote, CheckpointExampleFromStandardsNotes) {
  const auto key = key_from_seed_hex(vec("golang-sumdb-note-PeterNeumann")["seed_hex"].get<std::string>());
  const Checkpoint cp{"example.com/archive", 0, empty_root(), {}};
  const std::string text = checkpoint_text(cp);
  EXPECT_EQ(text, "example.com/archive\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
  EXPECT_EQ(sign_note(text, "PeterNeumann", key).value(),
            "example.com/archive\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
            "\xE2\x80\x94 PeterNeumann "
            "x08go+vy+ZlxvPhu3u9tNv6g8rT3Ur96PzuaqYgeEgeNgGuHU/BaYy4aIIUMaelHPqcM8CnDWTDxouWLQSqEKYWrNQU=\n");
}

TEST(LogCheckpoint, RoundTripAndStrictParsing) {
  Checkpoint cp{"example.com/log", 18446744073709551615u, leaf_hash(std::string_view("x")), {"ext one", "two"}};
  const std::string text = checkpoint_text(cp);
  EXPECT_EQ(parse_checkpoint_text(text).value(), cp);
  const std::string root = base64_encode(cp.root);
  const std::string bad[] = {
      "",
      "o\n1\n" + root,                       // no final newline
      "o\n1\n",                              // two lines
      "\n1\n" + root + "\n",                 // empty origin
      "o\n01\n" + root + "\n",               // leading zero
      "o\n-1\n" + root + "\n",               // sign
      "o\n+1\n" + root + "\n",               // sign
      "o\n 1\n" + root + "\n",               // space
      "o\n\n" + root + "\n",                 // empty size
      "o\n18446744073709551616\n" + root + "\n", // overflow
      "o\n1\n" + root.substr(0, 40) + "\n",  // truncated base64
      "o\n1\n" + base64_encode(Bytes(31)) + "\n", // 31-byte root
      "o\n1\n" + root + "\n\n",              // empty extension line
      "o\n1\n" + root + "\next\n\n",         // empty extension line
      "o\r\n1\n" + root + "\n",              // control character
      "o\xff\n1\n" + root + "\n",            // not UTF-8
  };
  for (std::size_t i = 0; i < std::size(bad); ++i) EXPECT_FALSE(parse_checkpoint_text(bad[i]).has_value()) << i;
  auto zero = parse_checkpoint_text("o\n0\n" + root + "\n");
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->size, 0u);
  EXPECT_THROW(checkpoint_text(Checkpoint{"", 0, {}, {}}), std::invalid_argument);
  EXPECT_THROW(checkpoint_text(Checkpoint{"o", 0, {}, {""}}), std::invalid_argument);
  // A checkpoint note with a control character is refused by the note parser.
  EXPECT_FALSE(parse_note("o\r\n1\n" + root + "\n\n\xE2\x80\x94 o AAAAAAA=\n").has_value());
}

TEST(LogNoteRules, SignRejectsBadTextAndNames) {
  auto key = crypto::PrivateKey::generate();
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(sign_note("", "k", *key).has_value());
  EXPECT_FALSE(sign_note("no newline", "k", *key).has_value());
  EXPECT_FALSE(sign_note("tab\there\n", "k", *key).has_value());
  EXPECT_FALSE(sign_note("bad \xC0\xAF utf8\n", "k", *key).has_value());
  EXPECT_FALSE(sign_note("ok\n", "", *key).has_value());
  EXPECT_FALSE(sign_note("ok\n", "a+b", *key).has_value());
  EXPECT_FALSE(sign_note("ok\n", "a b", *key).has_value());
  EXPECT_FALSE(sign_note("ok\n", "a\xE3\x80\x80" "b", *key).has_value()); // U+3000 ideographic space
  auto ok = sign_note("multi\n\nline\n", "example.com/k", *key);
  ASSERT_TRUE(ok.has_value());
  auto note = parse_note(*ok);
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->text, "multi\n\nline\n");
  const std::vector<Verifier> known = {parse_vkey(vkey("example.com/k", key->public_key())).value()};
  EXPECT_EQ(verify_note(*note, known).value(), std::vector<std::string>{"example.com/k"});
  // The text is covered: changing it breaks the known signature.
  note->text = "multi\n\nLine\n";
  EXPECT_EQ(verify_note(*note, known).error().message, "signature by 'example.com/k' does not verify");
}

TEST(LogNoteRules, SignatureCountLimit) {
  auto key = crypto::PrivateKey::generate();
  ASSERT_TRUE(key.has_value());
  auto sig = note_signature("t\n", "k", *key);
  ASSERT_TRUE(sig.has_value());
  Note note{"t\n", std::vector<NoteSignature>(k_max_note_signatures, *sig)};
  const std::string max = format_note(note).value();
  EXPECT_TRUE(parse_note(max).has_value());
  note.signatures.push_back(*sig);
  EXPECT_FALSE(parse_note(format_note(note).value()).has_value());
  // Signatures of fewer than 5 decoded bytes, bad base64 and a missing name are malformed.
  EXPECT_FALSE(parse_note("t\n\n\xE2\x80\x94 k AAAA\n").has_value());
  EXPECT_FALSE(parse_note("t\n\n\xE2\x80\x94 k AAAAAA=\n").has_value());
  EXPECT_FALSE(parse_note("t\n\n\xE2\x80\x94 k \n").has_value());
  EXPECT_FALSE(parse_note("t\n\n\xE2\x80\x94  AAAAAAA=\n").has_value());
  EXPECT_FALSE(parse_note("t\n\n- k AAAAAAA=\n").has_value());
  EXPECT_TRUE(parse_note("t\n\n\xE2\x80\x94 k AAAAAAA=\n").has_value());
}

} // namespace
} // namespace avow::log
