#include <archive/log/policy.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace avow::log {
namespace {

namespace fs = std::filesystem;

crypto::PrivateKey key_of(std::uint8_t n) {
  auto key = crypto::PrivateKey::from_seed(Bytes(32, n));
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(*key);
}

const std::string k_origin = "example.com/log";

std::string log_vkey(const crypto::PrivateKey& key, const std::string& name = k_origin) {
  return vkey(name, key.public_key());
}
std::string witness_vkey(const std::string& name, const crypto::PrivateKey& key) {
  return vkey(name, key.public_key(), k_sig_cosignature_v1);
}

std::string checkpoint_of(std::uint64_t size, const std::string& origin = k_origin) {
  return checkpoint_text(Checkpoint{origin, size, leaf_hash(fmt::format("root {}", size)), {}});
}

// Sign `text` by the log, then append a cosignature by each of `witnesses` (key name, key).
std::string signed_checkpoint(const std::string& text, const crypto::PrivateKey& log_key,
                              const std::vector<std::pair<std::string, const crypto::PrivateKey*>>& witnesses,
                              const std::string& log_name = k_origin) {
  Note note{text, {}};
  note.signatures.push_back(*note_signature(text, log_name, log_key));
  std::uint64_t time = 1'700'000'000;
  for (const auto& [name, key] : witnesses) note.signatures.push_back(*cosign(text, name, *key, time++));
  auto out = format_note(note);
  if (!out) throw std::runtime_error(out.error().message);
  return *out;
}

// Insert raw signature lines right after the blank line of `note`.
std::string with_lines(const std::string& note, const std::string& lines) {
  const std::size_t split = note.rfind("\n\n");
  return note.substr(0, split + 2) + lines + note.substr(split + 2);
}

std::string error_of(const Expected<Checkpoint>& c) { return c ? "(verified)" : c.error().message; }

class LogPolicy : public ::testing::Test {
protected:
  crypto::PrivateKey m_log = key_of(1);
  crypto::PrivateKey m_w1 = key_of(11);
  crypto::PrivateKey m_w2 = key_of(12);
  crypto::PrivateKey m_w3 = key_of(13);

  std::string two_of_three() const {
    return fmt::format("log {}\nwitness A {}\nwitness B {}\nwitness C {}\ngroup abc 2 A B C\nquorum abc\n",
                       log_vkey(m_log), witness_vkey("w1.example", m_w1), witness_vkey("w2.example", m_w2),
                       witness_vkey("w3.example", m_w3));
  }
};

TEST_F(LogPolicy, ParsesTheSpecExampleWithUrlsCommentsAndBlanks) {
  std::string text = fmt::format(
      "# trust policy\n"
      "log {} https://log.example/\n"
      "\n"
      "  \t# indented comment\n"
      "witness X1 {}\n"
      "witness X2\t{}   https://x2.example/w\n"
      "witness X3 {}\n"
      "group X-witnesses 2 X1 X2 X3\n"
      "\n"
      "witness Y1 {}\n"
      "witness Y2 {}\n"
      "witness Y3 {}\n"
      "group Y-witnesses any Y1 Y2 Y3\n"
      "   \t \n"
      "group X-and-Y all X-witnesses Y-witnesses  \n"
      "quorum X-and-Y",
      log_vkey(m_log), witness_vkey("x1", key_of(21)), witness_vkey("x2", key_of(22)), witness_vkey("x3", key_of(23)),
      witness_vkey("y1", key_of(31)), witness_vkey("y2", key_of(32)), witness_vkey("y3", key_of(33)));
  auto p = parse_policy(text);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  ASSERT_EQ(p->logs.size(), 1u);
  EXPECT_EQ(p->logs[0].verifier.name, k_origin);
  EXPECT_EQ(p->logs[0].verifier.key, m_log.public_key());
  EXPECT_EQ(p->logs[0].url, "https://log.example/");
  ASSERT_EQ(p->witnesses.size(), 6u);
  EXPECT_EQ(p->witnesses.at("X2").verifier.name, "x2");
  EXPECT_EQ(p->witnesses.at("X2").verifier.type, k_sig_cosignature_v1);
  EXPECT_EQ(p->witnesses.at("X2").url, "https://x2.example/w");
  EXPECT_EQ(p->witnesses.at("X1").url, "");
  ASSERT_EQ(p->groups.size(), 3u);
  EXPECT_EQ(p->groups[0].name, "X-witnesses");
  EXPECT_EQ(p->groups[0].threshold, 2u);
  EXPECT_EQ(p->groups[0].members, (std::vector<std::string>{"X1", "X2", "X3"}));
  EXPECT_EQ(p->groups[1].threshold, 1u);
  EXPECT_EQ(p->groups[2].threshold, 2u);
  EXPECT_EQ(p->groups[2].members, (std::vector<std::string>{"X-witnesses", "Y-witnesses"}));
  EXPECT_EQ(p->quorum, "X-and-Y");

  const std::string formatted = format_policy(*p);
  EXPECT_EQ(formatted,
            fmt::format("log {} https://log.example/\n"
                        "witness X1 {}\nwitness X2 {} https://x2.example/w\nwitness X3 {}\n"
                        "witness Y1 {}\nwitness Y2 {}\nwitness Y3 {}\n"
                        "group X-witnesses 2 X1 X2 X3\ngroup Y-witnesses any Y1 Y2 Y3\n"
                        "group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n",
                        log_vkey(m_log), witness_vkey("x1", key_of(21)), witness_vkey("x2", key_of(22)),
                        witness_vkey("x3", key_of(23)), witness_vkey("y1", key_of(31)), witness_vkey("y2", key_of(32)),
                        witness_vkey("y3", key_of(33))));
  auto again = parse_policy(formatted);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(format_policy(*again), formatted);
}

TEST_F(LogPolicy, MinimalPolicies) {
  auto none = parse_policy("quorum none\n");
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_TRUE(none->logs.empty());
  EXPECT_EQ(none->quorum, "none");
  EXPECT_EQ(format_policy(*none), "quorum none\n");

  auto single = parse_policy(fmt::format("witness W {}\nquorum W\n", witness_vkey("w", m_w1)));
  ASSERT_TRUE(single.has_value()) << single.error().message;
  EXPECT_EQ(single->quorum, "W");

  // Non-ASCII names are opaque bytes; 1-member groups.
  auto utf8 = parse_policy(fmt::format("witness \xc3\xa9t\xc3\xa9 {}\ngroup g all \xc3\xa9t\xc3\xa9\nquorum g\n",
                                       witness_vkey("w", m_w1)));
  ASSERT_TRUE(utf8.has_value()) << utf8.error().message;
  EXPECT_EQ(utf8->groups[0].threshold, 1u);
  EXPECT_EQ(format_policy(*utf8).substr(format_policy(*utf8).find("group")), "group g all \xc3\xa9t\xc3\xa9\nquorum g\n");
}

TEST_F(LogPolicy, EachSyntaxErrorIsReportedWithItsLine) {
  const std::string lv = log_vkey(m_log);
  const std::string w1 = witness_vkey("w1", m_w1);
  const std::string w2 = witness_vkey("w2", m_w2);
  const std::string head = fmt::format("witness A {}\nwitness B {}\n", w1, w2); // lines 1-2
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "policy has no quorum line"},
      {"# only a comment\n", "policy has no quorum line"},
      {head, "policy has no quorum line"},
      {"quorum none\r\n", "policy line 1: control character 0x0d"},
      {"quorum none\n\x7f\n", "policy line 2: control character 0x7f"},
      {"\x01quorum none\n", "policy line 1: control character 0x01"},
      {"quorum none\nlogs x\n", "policy line 2: unknown keyword 'logs'"},
      {"Quorum none\n", "policy line 1: unknown keyword 'Quorum'"},
      {"log\nquorum none\n", "policy line 1: expected 'log <vkey> [<url>]'"},
      {fmt::format("log {} url extra\nquorum none\n", lv), "policy line 1: expected 'log <vkey> [<url>]'"},
      {"log notakey\nquorum none\n", "policy line 1: invalid log key: "},
      {fmt::format("log {}\nquorum none\n", w1), "policy line 1: log key is not an ed25519 (type 0x01) key"},
      {fmt::format("log {}\nlog {}\nquorum none\n", lv, log_vkey(m_log, "other.example/log")),
       "policy line 2: duplicate log key (already used by 'example.com/log')"},
      {"witness A\nquorum none\n", "policy line 1: expected 'witness <name> <vkey> [<url>]'"},
      {fmt::format("witness A {} u x\nquorum none\n", w1), "policy line 1: expected 'witness <name> <vkey> [<url>]'"},
      {fmt::format("witness A {}\nquorum none\n", lv),
       "policy line 1: witness key is not a cosignature/v1 (type 0x04) key"},
      {"witness A bad+key\nquorum none\n", "policy line 1: invalid witness key: "},
      {fmt::format("witness none {}\nquorum none\n", w1), "policy line 1: the name 'none' is reserved"},
      {head + fmt::format("witness A {}\n", witness_vkey("w3", m_w3)), "policy line 3: duplicate name 'A'"},
      {head + fmt::format("witness C {}\n", witness_vkey("other-name", m_w1)),
       "policy line 3: duplicate witness key (already used by 'A')"},
      {head + "group A any B\n", "policy line 3: duplicate name 'A'"},
      {head + "group g any A\ngroup g any B\n", "policy line 4: duplicate name 'g'"},
      {head + "group none any A\n", "policy line 3: the name 'none' is reserved"},
      {head + "group g any\n", "policy line 3: expected 'group <name> <k|any|all> <name>...'"},
      {head + "group g 2\n", "policy line 3: expected 'group <name> <k|any|all> <name>...'"},
      {head + "group g any A C\n", "policy line 3: undefined group member 'C'"},
      {head + "group g any A g\n", "policy line 3: undefined group member 'g'"},
      {head + "group g any A none\n", "policy line 3: 'none' cannot be a group member"},
      {head + "group g any A A\n", "policy line 3: group member 'A' is listed twice"},
      {head + "group g 0 A B\n", "policy line 3: group threshold '0' is not 'any', 'all' or a number from 1 to 2"},
      {head + "group g 3 A B\n", "policy line 3: group threshold '3' is not 'any', 'all' or a number from 1 to 2"},
      {head + "group g 01 A B\n", "policy line 3: group threshold '01' is not 'any', 'all' or a number from 1 to 2"},
      {head + "group g -1 A B\n", "policy line 3: group threshold '-1' is not 'any', 'all' or a number from 1 to 2"},
      {head + "group g +1 A B\n", "policy line 3: group threshold '+1' is not 'any', 'all' or a number from 1 to 2"},
      {head + "group g ALL A B\n", "policy line 3: group threshold 'ALL' is not 'any', 'all' or a number from 1 to 2"},
      {head + "group g 99999999999999999999 A B\n",
       "policy line 3: group threshold '99999999999999999999' is not 'any', 'all' or a number from 1 to 2"},
      {"quorum\n", "policy line 1: expected 'quorum <name>'"},
      {"quorum a b\n", "policy line 1: expected 'quorum <name>'"},
      {"quorum X\n", "policy line 1: undefined quorum 'X'"},
      {"quorum none\nquorum none\n", "policy line 2: second quorum line"},
      // A group or quorum may only name what is defined on an earlier line: no forward references, no cycles.
      {"quorum A\n" + head, "policy line 1: undefined quorum 'A'"},
      {head + "group g any A h\ngroup h any B g\nquorum g\n", "policy line 3: undefined group member 'h'"},
  };
  for (const auto& [text, want] : cases) {
    auto p = parse_policy(text);
    ASSERT_FALSE(p.has_value()) << text;
    EXPECT_EQ(p.error().code, ErrorCode::invalid_input);
    if (want.ends_with(": "))
      EXPECT_TRUE(p.error().message.starts_with(want)) << p.error().message;
    else
      EXPECT_EQ(p.error().message, want) << text;
  }
}

TEST_F(LogPolicy, QuorumNoneNeedsOnlyTheLogSignature) {
  auto policy = parse_policy(fmt::format("log {}\nquorum none\n", log_vkey(m_log)));
  ASSERT_TRUE(policy.has_value());
  const std::string note = signed_checkpoint(checkpoint_of(42), m_log, {});
  std::vector<std::string> cosigned{"stale"};
  auto c = verify_checkpoint_with_policy(note, *policy, &cosigned);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->origin, k_origin);
  EXPECT_EQ(c->size, 42u);
  EXPECT_EQ(c->root, leaf_hash("root 42"));
  EXPECT_TRUE(cosigned.empty());

  // Cosignatures by witnesses the policy does not know are ignored.
  const std::string cosigned_note = signed_checkpoint(checkpoint_of(42), m_log, {{"w1.example", &m_w1}});
  EXPECT_TRUE(verify_checkpoint_with_policy(cosigned_note, *policy).has_value());
}

TEST_F(LogPolicy, TwoOfThreeWitnesses) {
  auto policy = parse_policy(two_of_three());
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  const std::string text = checkpoint_of(1000);

  EXPECT_EQ(error_of(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {}), *policy)),
            "quorum not reached: 0 of 2 needed in group 'abc'; cosigned by none; missing A, B, C");
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {{"w2.example", &m_w2}}), *policy)),
            "quorum not reached: 1 of 2 needed in group 'abc'; cosigned by B; missing A, C");
  // The same witness twice still counts once.
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(
                signed_checkpoint(text, m_log, {{"w2.example", &m_w2}, {"w2.example", &m_w2}}), *policy)),
            "quorum not reached: 1 of 2 needed in group 'abc'; cosigned by B; missing A, C");

  std::vector<std::string> cosigned;
  auto ok = verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {{"w3.example", &m_w3}, {"w1.example", &m_w1}}),
                                          *policy, &cosigned);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->size, 1000u);
  EXPECT_EQ(cosigned, (std::vector<std::string>{"A", "C"}));

  ok = verify_checkpoint_with_policy(
      signed_checkpoint(text, m_log, {{"w1.example", &m_w1}, {"w2.example", &m_w2}, {"w3.example", &m_w3}}), *policy,
      &cosigned);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(cosigned, (std::vector<std::string>{"A", "B", "C"}));

  // A cosignature by a witness key under another key name is not the witness's.
  EXPECT_FALSE(verify_checkpoint_with_policy(
                   signed_checkpoint(text, m_log, {{"w1.example", &m_w1}, {"w2.other", &m_w2}}), *policy)
                   .has_value());
  // A type 0x01 signature by a witness key does not count as its cosignature.
  Note plain{text, {*note_signature(text, k_origin, m_log), *note_signature(text, "w1.example", m_w1),
                    *note_signature(text, "w2.example", m_w2)}};
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(*format_note(plain), *policy)),
            "quorum not reached: 0 of 2 needed in group 'abc'; cosigned by none; missing A, B, C");
}

TEST_F(LogPolicy, NestedGroupsAndSingleWitnessQuorum) {
  const auto x1 = key_of(21), x2 = key_of(22), y1 = key_of(31), y2 = key_of(32);
  auto policy = parse_policy(fmt::format("log {}\nwitness X1 {}\nwitness X2 {}\nwitness Y1 {}\nwitness Y2 {}\n"
                                         "group X all X1 X2\ngroup Y any Y1 Y2\ngroup XY all X Y\nquorum XY\n",
                                         log_vkey(m_log), witness_vkey("x1", x1), witness_vkey("x2", x2),
                                         witness_vkey("y1", y1), witness_vkey("y2", y2)));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  const std::string text = checkpoint_of(7);
  EXPECT_TRUE(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {{"x1", &x1}, {"x2", &x2}, {"y2", &y2}}),
                                            *policy)
                  .has_value());
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(
                signed_checkpoint(text, m_log, {{"x1", &x1}, {"y1", &y1}, {"y2", &y2}}), *policy)),
            "quorum not reached: 1 of 2 needed in group 'XY'; cosigned by X1, Y1, Y2; missing X2");
  EXPECT_FALSE(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {{"x1", &x1}, {"x2", &x2}}), *policy)
                   .has_value());

  auto single = parse_policy(fmt::format("log {}\nwitness W {}\nquorum W\n", log_vkey(m_log), witness_vkey("w", m_w1)));
  ASSERT_TRUE(single.has_value());
  EXPECT_TRUE(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {{"w", &m_w1}}), *single).has_value());
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {}), *single)),
            "quorum not reached: witness 'W' did not cosign");
}

TEST_F(LogPolicy, QuorumFailureNamesOnlyTheWitnessesTheQuorumNeeds) {
  // Z is a witness of the policy but not of the quorum group: it is neither missing nor counted.
  const auto z = key_of(41);
  auto policy = parse_policy(fmt::format("log {}\nwitness A {}\nwitness B {}\nwitness Z {}\ngroup g all A B\nquorum g\n",
                                         log_vkey(m_log), witness_vkey("w1.example", m_w1),
                                         witness_vkey("w2.example", m_w2), witness_vkey("z", z)));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  const std::string text = checkpoint_of(9);
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {{"z", &z}, {"w2.example", &m_w2}}),
                                                   *policy)),
            "quorum not reached: 1 of 2 needed in group 'g'; cosigned by B; missing A");
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {{"z", &z}}), *policy)),
            "quorum not reached: 0 of 2 needed in group 'g'; cosigned by none; missing A, B");
}

TEST_F(LogPolicy, UnknownSignatureLinesAreIgnoredEvenMany) {
  auto policy = parse_policy(two_of_three());
  ASSERT_TRUE(policy.has_value());
  const std::string text = checkpoint_of(5);
  const std::string note = signed_checkpoint(text, m_log, {{"w1.example", &m_w1}, {"w2.example", &m_w2}});
  // 40 signature lines by unknown keys (> 16), some with the log's or a witness's name but another id.
  std::string junk;
  for (int i = 0; i < 40; ++i) {
    const std::string name = i % 3 == 0 ? k_origin : i % 3 == 1 ? "w3.example" : fmt::format("unknown{}", i);
    Bytes sig(4 + 64 + (i % 2) * 8, std::uint8_t(i));
    junk += fmt::format("\u2014 {} {}\n", name, base64_encode(sig));
  }
  auto c = verify_checkpoint_with_policy(with_lines(note, junk), *policy);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->size, 5u);
  // Past the note parser's limit the note is rejected as malformed, never a crash.
  std::string flood;
  for (std::size_t i = 0; i < k_max_note_signatures; ++i) flood += fmt::format("\u2014 u{} AAAAAAAA\n", i);
  EXPECT_EQ(verify_checkpoint_with_policy(with_lines(note, flood), *policy).error().code, ErrorCode::invalid_input);
}

TEST_F(LogPolicy, WrongOrBadLogSignatureIsRejected) {
  auto policy = parse_policy(fmt::format("log {}\nquorum none\n", log_vkey(m_log)));
  ASSERT_TRUE(policy.has_value());
  const std::string text = checkpoint_of(9);
  const auto other = key_of(2);
  // Signed by another key under the log's name: unknown id, so there is no log signature.
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(signed_checkpoint(text, other, {}), *policy)),
            "checkpoint has no signature by log 'example.com/log'");
  // The right key id with a signature that does not verify.
  Note forged{text, {*note_signature(text, k_origin, m_log)}};
  forged.signatures[0].signature[10] ^= 1;
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(*format_note(forged), *policy)),
            "signature by log 'example.com/log' does not verify");
  // ... even next to a good one.
  Note both{text, {*note_signature(text, k_origin, m_log), forged.signatures[0]}};
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(*format_note(both), *policy)),
            "signature by log 'example.com/log' does not verify");
  // The signature is good but the text was changed.
  std::string note = signed_checkpoint(text, m_log, {});
  note[note.find("\n9\n") + 1] = '8';
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(note, *policy)), "signature by log 'example.com/log' does not verify");
  // A checkpoint of another origin, even signed by the same key.
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(
                signed_checkpoint(checkpoint_of(9, "other.example/log"), m_log, {}, "other.example/log"), *policy)),
            "checkpoint origin 'other.example/log' is not a log of the policy");
  // A policy without logs proves nothing.
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(signed_checkpoint(text, m_log, {}), *parse_policy("quorum none\n"))),
            "checkpoint origin 'example.com/log' is not a log of the policy");
  // Not a note, not a checkpoint.
  EXPECT_EQ(verify_checkpoint_with_policy("hello\n", *policy).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(verify_checkpoint_with_policy(*sign_note("just text\n", k_origin, m_log), *policy).error().code,
            ErrorCode::invalid_input);
}

TEST_F(LogPolicy, BadCosignatureByAKnownWitnessIsRejected) {
  auto policy = parse_policy(two_of_three());
  ASSERT_TRUE(policy.has_value());
  const std::string text = checkpoint_of(77);
  Note note{text, {*note_signature(text, k_origin, m_log), *cosign(text, "w1.example", m_w1, 1),
                   *cosign(text, "w2.example", m_w2, 2), *cosign(text, "w3.example", m_w3, 3)}};
  note.signatures[3].signature[3] ^= 1; // the timestamp of C's cosignature
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(*format_note(note), *policy)),
            "cosignature by witness 'C' does not verify");
  note.signatures[3].signature.resize(64); // wrong length
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(*format_note(note), *policy)),
            "cosignature by witness 'C' does not verify");
}

class LogPolicyVectors : public ::testing::Test {
protected:
  void SetUp() override {
    const fs::path p = fs::path(AVOW_VECTORS_DIR) / "note" / "notes.json";
    ASSERT_TRUE(fs::exists(p)) << "vectors not found at " << p;
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto all = nlohmann::json::parse(ss.str());
    for (const auto& v : all["vectors"]) m_vectors[v["id"].get<std::string>()] = v;
  }
  std::map<std::string, nlohmann::json> m_vectors;
};

TEST_F(LogPolicyVectors, RealSumGolangOrgCheckpointNeedsKeyNameEqualToOrigin) {
  const auto& v = m_vectors.at("sumdb-checkpoint-plus-witness-sigs");
  const std::string note = v["signed_note"].get<std::string>();
  auto policy = parse_policy(fmt::format("log {}\nquorum none\n", v["verifier_key"].get<std::string>()));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  // tlog-policy: the log's key name MUST be its origin. sum.golang.org predates that rule (origin
  // "go.sum database tree", key name "sum.golang.org"), so the policy does not cover it.
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(note, *policy)),
            "checkpoint origin 'go.sum database tree' is not a log of the policy");
  // The same note does verify with the plain signed-note rules, so the rejection is the policy's.
  std::vector<std::string> names;
  auto c = open_checkpoint(note, "go.sum database tree", std::vector<Verifier>{policy->logs[0].verifier}, &names);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->size, 6476701u);
  EXPECT_EQ(names, (std::vector<std::string>{"sum.golang.org"}));
}

TEST_F(LogPolicyVectors, DerivedCosignatureSatisfiesAWitnessQuorum) {
  const auto& v = m_vectors.at("derived-cosignature-v1-rfc8032-test1-key");
  const std::string published = v["signed_note"].get<std::string>();
  const std::string text = published.substr(0, published.rfind("\n\n") + 1);
  const std::string cosig_line = published.substr(published.rfind("\n\n") + 2);
  // The published note has no log signature (its log key is not public): add one by a test log key
  // under the checkpoint's origin, keep the published cosignature line verbatim.
  const auto log_key = key_of(1);
  const std::string origin = "example.com/behind-the-sofa";
  const std::string note = *sign_note(text, origin, log_key) + cosig_line;
  auto policy = parse_policy(fmt::format("log {}\nwitness w1 {}\nquorum w1\n", vkey(origin, log_key.public_key()),
                                         v["verifier_key"].get<std::string>()));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  std::vector<std::string> cosigned;
  auto c = verify_checkpoint_with_policy(note, *policy, &cosigned);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->size, 20852163u);
  EXPECT_EQ(cosigned, (std::vector<std::string>{"w1"}));
  // Without the cosignature line the quorum fails.
  EXPECT_EQ(error_of(verify_checkpoint_with_policy(*sign_note(text, origin, log_key), *policy)),
            "quorum not reached: witness 'w1' did not cosign");
}

} // namespace
} // namespace avow::log
